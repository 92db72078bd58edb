import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { Transform } from 'class-transformer';
import { IsBoolean, IsISO8601, IsLatitude, IsLongitude, IsNumber, IsOptional } from 'class-validator';
import { LinkDto } from '../common/pagination.js';
import { PictureProcessingDto, toPictureProcessingDto } from '../pictures/picture.dto.js';
import type { Picture } from '../pictures/pictures.types.js';
import type { RejectionReason, RejectionSeverity, UploadFile } from './upload-file.entity.js';

const REASONS: RejectionReason[] = ['file_duplicate', 'invalid_file', 'invalid_metadata', 'capture_duplicate', 'other_error'];

const toBool = ({ value }: { value: unknown }) => {
  const v = String(value).trim().toLowerCase();
  return ['true', '1', 'yes', 'on'].includes(v) ? true : ['false', '0', 'no', 'off'].includes(v) ? false : value;
};
const toNumber = ({ value }: { value: unknown }) => (typeof value === 'string' && value.trim() !== '' && Number.isFinite(Number(value)) ? Number(value) : value);

/** The text fields of `POST /upload_sets/{id}/files` (multipart). */
export class UploadFileFieldsDto {
  @ApiPropertyOptional({ description: 'The picture is already blurred: it is not sent to the blur service' })
  @IsOptional()
  @Transform(toBool)
  @IsBoolean()
  is_blurred?: boolean;

  @ApiPropertyOptional({ format: 'date-time', description: 'Capture time to use instead of the EXIF one (RFC 3339; without an offset it is read as UTC)' })
  @IsOptional()
  @IsISO8601({ strict: true })
  override_capture_time?: string;

  @ApiPropertyOptional({ description: 'Longitude (WGS 84) to use instead of the EXIF one; needs override_latitude' })
  @IsOptional()
  @Transform(toNumber)
  @IsNumber()
  @IsLongitude()
  override_longitude?: number;

  @ApiPropertyOptional({ description: 'Latitude (WGS 84) to use instead of the EXIF one; needs override_longitude' })
  @IsOptional()
  @Transform(toNumber)
  @IsNumber()
  @IsLatitude()
  override_latitude?: number;
}

/** The multipart body, for OpenAPI. */
export class UploadFileBodyDto extends UploadFileFieldsDto {
  @ApiProperty({ type: 'string', format: 'binary', description: 'A JPEG picture with GPS position and capture time in its EXIF (or given by the override fields)' })
  file: unknown;
}

export class RejectionDto {
  @ApiProperty({ enum: REASONS }) reason: RejectionReason;
  @ApiProperty({ enum: ['error', 'warning', 'info'] }) severity: RejectionSeverity;
  @ApiProperty() message: string;
  @ApiPropertyOptional({
    type: 'object',
    additionalProperties: true,
    nullable: true,
    description: '`missing_fields` (invalid_metadata); `duplicate_of`, `distance`, `angle` (capture_duplicate); `existing_item` (file_duplicate)',
  })
  details: Record<string, unknown> | null;
}

export class UploadFileDto {
  @ApiProperty({ format: 'uuid' }) id: string;
  @ApiProperty() file_name: string;
  @ApiProperty({ enum: ['picture'] }) file_type: 'picture';
  @ApiProperty({ type: Number, nullable: true, description: 'Bytes received' }) size: number | null;
  @ApiProperty({ type: String, nullable: true, description: 'Hex SHA-256 of the bytes received' }) content_sha256: string | null;
  @ApiProperty({ type: String, format: 'uuid', nullable: true, description: 'The picture (and STAC item) this file became' }) picture_id: string | null;
  @ApiProperty({ type: String, format: 'date-time' }) inserted_at: string;
  @ApiPropertyOptional({ type: RejectionDto, nullable: true, description: 'Why the file was refused; absent when accepted' }) rejected: RejectionDto | null;
  @ApiPropertyOptional({ type: PictureProcessingDto, nullable: true, description: "The picture's processing: status, attempts, last error" })
  processing: PictureProcessingDto | null;
  @ApiProperty({ type: [LinkDto] }) links: LinkDto[];
}

export class UploadFileListDto {
  @ApiProperty({ format: 'uuid' }) upload_set_id: string;
  @ApiProperty({ type: [UploadFileDto] }) files: UploadFileDto[];
  @ApiProperty({ type: [LinkDto] }) links: LinkDto[];
}

const DEFAULT_MESSAGES: Record<RejectionReason, string> = {
  file_duplicate: 'The same file was already uploaded',
  invalid_file: 'The file is not a valid JPEG picture',
  invalid_metadata: 'The picture lacks metadata needed to place it (position or capture time)',
  capture_duplicate: 'The picture is too similar to another one of its sequence (nearby and looking the same way)',
  other_error: 'Something went wrong, not because of the picture itself',
};

export function rejectionOf(f: Pick<UploadFile, 'rejectionReason' | 'rejectionSeverity' | 'rejectionMessage' | 'rejectionDetails'>): RejectionDto | null {
  if (!f.rejectionReason) return null;
  return {
    reason: f.rejectionReason,
    severity: f.rejectionSeverity ?? 'error',
    message: f.rejectionMessage ?? DEFAULT_MESSAGES[f.rejectionReason],
    details: f.rejectionDetails,
  };
}

export function toUploadFileDto(f: UploadFile, picture: Picture | undefined, apiBase: string): UploadFileDto {
  return {
    id: f.id,
    file_name: f.fileName,
    file_type: 'picture',
    size: f.size,
    content_sha256: f.sha256,
    picture_id: f.pictureId,
    inserted_at: f.createdAt.toISOString(),
    rejected: rejectionOf(f),
    processing: picture ? toPictureProcessingDto(picture) : null,
    links: [{ rel: 'parent', href: `${apiBase}/upload_sets/${f.uploadSetId}`, type: 'application/json' }],
  };
}
