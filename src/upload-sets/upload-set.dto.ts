import { ApiProperty, ApiPropertyOptional, PartialType } from '@nestjs/swagger';
import { Transform } from 'class-transformer';
import { IsBoolean, IsIn, IsInt, IsNotEmpty, IsNumber, IsObject, IsOptional, IsString, Matches, Max, MaxLength, Min } from 'class-validator';
import { LICENSE_PATTERN } from '../config/app-config.js';
import { Visibility, VISIBILITIES } from '../auth/visibility.js';
import { LinkDto, PageQueryDto } from '../common/pagination.js';
import { SORT_METHODS, type SortMethod } from '../pictures/sequence-dispatch.js';
import type { UploadSet } from './upload-set.entity.js';

const DURATION_RE = /^P(?:(\d+(?:\.\d+)?)W)?(?:(\d+(?:\.\d+)?)D)?(?:T(?:(\d+(?:\.\d+)?)H)?(?:(\d+(?:\.\d+)?)M)?(?:(\d+(?:\.\d+)?)S)?)?$/i;

/** Seconds from an ISO 8601 duration without years or months (`PT5M`, `P1DT2H`); null when not one. */
export function parseIsoDuration(value: string): number | null {
  const m = DURATION_RE.exec(value.trim());
  if (!m || value.trim().toUpperCase() === 'P' || /T$/i.test(value.trim())) return null;
  const [, w, d, h, mi, s] = m.map((v) => (v === undefined ? 0 : Number(v)));
  return w! * 604800 + d! * 86400 + h! * 3600 + mi! * 60 + s!;
}

/** `split_time` may be seconds or an ISO 8601 duration; anything else stays as is and fails validation. */
const toSeconds = ({ value }: { value: unknown }) => {
  if (typeof value !== 'string') return value;
  if (/^\d+(\.\d+)?$/.test(value.trim())) return Number(value);
  return parseIsoDuration(value) ?? value;
};

export class CreateUploadSetDto {
  @ApiProperty({ example: 'Walk along the Tiber, 22 October', maxLength: 500 })
  @IsString()
  @IsNotEmpty()
  @MaxLength(500)
  title: string;

  @ApiPropertyOptional({ minimum: 1, maximum: 100000, description: 'The set completes itself once this many files were received' })
  @IsOptional()
  @IsInt()
  @Min(1)
  @Max(100000)
  estimated_nb_files?: number;

  @ApiPropertyOptional({ enum: SORT_METHODS, default: 'time-asc' })
  @IsOptional()
  @IsIn(SORT_METHODS)
  sort_method?: SortMethod;

  @ApiPropertyOptional({ description: 'Split a sequence where neighbours are more than this many metres apart (instance default 100)', minimum: 0, maximum: 1000000 })
  @IsOptional()
  @IsNumber({ allowNaN: false, allowInfinity: false })
  @Min(0)
  @Max(1000000)
  split_distance?: number;

  @ApiPropertyOptional({
    oneOf: [{ type: 'number' }, { type: 'string', example: 'PT5M' }],
    description: 'Split where neighbours are more than this apart in time: seconds, or an ISO 8601 duration (instance default 5 min)',
  })
  @IsOptional()
  @Transform(toSeconds)
  @IsNumber({ allowNaN: false, allowInfinity: false }, { message: 'split_time must be a number of seconds or an ISO 8601 duration such as PT5M' })
  @Min(0)
  @Max(365 * 86400)
  split_time?: number;

  @ApiPropertyOptional({ description: 'Make one sequence of the whole set (no split_distance / split_time then)' })
  @IsOptional()
  @IsBoolean()
  no_split?: boolean;

  @ApiPropertyOptional({ description: 'Pictures closer than this many metres may be duplicates (instance default 1)', minimum: 0, maximum: 100 })
  @IsOptional()
  @IsNumber({ allowNaN: false, allowInfinity: false })
  @Min(0)
  @Max(100)
  duplicate_distance?: number;

  @ApiPropertyOptional({ description: '…when their headings differ by at most this many degrees (instance default 60)', minimum: 0, maximum: 180 })
  @IsOptional()
  @IsNumber({ allowNaN: false, allowInfinity: false })
  @Min(0)
  @Max(180)
  duplicate_rotation?: number;

  @ApiPropertyOptional({ description: 'Keep every picture (no duplicate_distance / duplicate_rotation then)' })
  @IsOptional()
  @IsBoolean()
  no_deduplication?: boolean;

  @ApiPropertyOptional({
    description: 'Camera direction relative to the path, in degrees (0 forward, 90 right, -90 left), for pictures without a recorded heading',
    minimum: -360,
    maximum: 360,
  })
  @IsOptional()
  @IsNumber({ allowNaN: false, allowInfinity: false })
  @Min(-360)
  @Max(360)
  relative_heading?: number;

  @ApiPropertyOptional({ enum: VISIBILITIES, description: "Defaults to the user's default visibility" })
  @IsOptional()
  @IsIn(VISIBILITIES)
  visibility?: Visibility;

  @ApiPropertyOptional({
    example: 'CC-BY-SA-4.0',
    description: "License of its sequences: an SPDX identifier, `other` or `proprietary`. Defaults to the instance's content license",
  })
  @IsOptional()
  @IsString()
  @Matches(LICENSE_PATTERN, { message: 'license must be an SPDX identifier (e.g. CC-BY-SA-4.0), other or proprietary' })
  license?: string;

  @ApiPropertyOptional({ type: 'object', additionalProperties: true, description: 'Free metadata of the uploading client' })
  @IsOptional()
  @IsObject()
  metadata?: Record<string, unknown>;
}

export class UpdateUploadSetDto extends PartialType(CreateUploadSetDto) {}

export class UploadSetListQueryDto extends PageQueryDto {
  @ApiPropertyOptional({ description: 'Only completed (true) or open (false) sets' })
  @IsOptional()
  @Transform(({ value }) => (value === 'true' ? true : value === 'false' ? false : value))
  @IsBoolean()
  completed?: boolean;

  @ApiPropertyOptional({ description: 'Only dispatched (true) or not yet dispatched (false) sets' })
  @IsOptional()
  @Transform(({ value }) => (value === 'true' ? true : value === 'false' ? false : value))
  @IsBoolean()
  dispatched?: boolean;
}

export class ItemsStatusDto {
  @ApiProperty({ description: 'Pictures processed and ready' }) prepared: number;
  @ApiProperty({ description: 'Pictures being processed right now' }) preparing: number;
  @ApiProperty({ description: 'Pictures that failed processing for good (a server-side problem; see the files list)' }) broken: number;
  @ApiProperty({ description: 'Pictures waiting to be processed (or to be retried)' }) not_processed: number;
  @ApiPropertyOptional({ description: 'Files rejected (a problem with the file: see the files list)' }) rejected?: number;
}

export class TemporalExtentDto {
  @ApiProperty({
    type: 'array',
    items: { type: 'array', items: { type: 'string', format: 'date-time', nullable: true } },
    example: [['2008-10-22T14:27:07Z', '2008-10-22T14:28:17Z']],
  })
  interval: (string | null)[][];
}

export class ExtentDto {
  @ApiProperty({ type: TemporalExtentDto }) temporal: TemporalExtentDto;
}

export class ProcessingErrorDto {
  @ApiProperty({ format: 'uuid' }) picture_id: string;
  @ApiProperty() file_name: string;
  @ApiProperty({ description: '`pending` (a retry is coming) or `broken` (no more attempts)' }) status: string;
  @ApiProperty() attempts: number;
  @ApiProperty() last_error: string;
  @ApiProperty({ type: String, format: 'date-time' }) at: string;
}

export class AssociatedCollectionDto {
  @ApiProperty({ format: 'uuid' }) id: string;
  @ApiProperty() title: string;
  @ApiProperty({ description: 'Pictures dispatched to this sequence' }) nb_items: number;
  @ApiProperty({ description: 'The sequence: `preparing`, `ready` or `broken`' }) status: string;
  @ApiProperty({ description: 'Finalised, and none of its pictures is waiting or running' }) ready: boolean;
  @ApiProperty({ type: ItemsStatusDto }) items_status: ItemsStatusDto;
  @ApiProperty({ type: ExtentDto }) extent: ExtentDto;
  @ApiProperty({ type: [LinkDto] }) links: LinkDto[];
}

export class UploadSetDto {
  @ApiProperty({ format: 'uuid' }) id: string;
  @ApiProperty() title: string;
  @ApiProperty({ format: 'uuid' }) owner_id: string;
  @ApiProperty({ type: String, format: 'date-time' }) created_at: string;
  @ApiProperty({ type: String, format: 'date-time' }) updated_at: string;
  @ApiProperty({ description: 'No more files are accepted; dispatch into sequences follows' }) completed: boolean;
  @ApiProperty({ type: String, format: 'date-time', nullable: true }) completed_at: string | null;
  @ApiProperty({ description: 'Its pictures are in sequences (with the current parameters)' }) dispatched: boolean;
  @ApiProperty({ description: 'Dispatched, and every associated sequence is ready' }) ready: boolean;
  @ApiProperty({ type: Number, nullable: true }) estimated_nb_files: number | null;
  @ApiProperty({ enum: SORT_METHODS }) sort_method: SortMethod;
  @ApiProperty() no_split: boolean;
  @ApiProperty({ type: Number, nullable: true, description: 'Metres' }) split_distance: number | null;
  @ApiProperty({ type: Number, nullable: true, description: 'Seconds' }) split_time: number | null;
  @ApiProperty() no_deduplication: boolean;
  @ApiProperty({ type: Number, nullable: true, description: 'Metres' }) duplicate_distance: number | null;
  @ApiProperty({ type: Number, nullable: true, description: 'Degrees' }) duplicate_rotation: number | null;
  @ApiProperty({ description: 'Degrees' }) relative_heading: number;
  @ApiProperty({ enum: VISIBILITIES }) visibility: Visibility;
  @ApiProperty({ type: String, nullable: true, description: "License of its sequences; null: the instance's content license" }) license: string | null;
  @ApiProperty({ type: 'object', additionalProperties: true }) metadata: Record<string, unknown>;
  @ApiProperty({ description: 'Pictures accepted (rejected files excluded)' }) nb_items: number;
  @ApiProperty({ type: ItemsStatusDto }) items_status: ItemsStatusDto;
  @ApiProperty({ type: [AssociatedCollectionDto] }) associated_collections: AssociatedCollectionDto[];
  @ApiPropertyOptional({ type: [ProcessingErrorDto], description: 'The latest processing errors of its pictures (at most 20; only on a single set)' })
  processing_errors?: ProcessingErrorDto[];
  @ApiProperty({ type: [LinkDto] }) links: LinkDto[];
}

export class UploadSetPageDto {
  @ApiProperty({ type: [UploadSetDto] }) items: UploadSetDto[];
  @ApiProperty() total: number;
  @ApiProperty() page: number;
  @ApiProperty() limit: number;
  @ApiProperty({ type: [LinkDto] }) links: LinkDto[];
}

/** Status figures computed beside the row. */
export interface UploadSetStatusView {
  itemsStatus: Required<ItemsStatusDto>;
  nbItems: number;
  collections: AssociatedCollectionDto[];
}

export function isDispatched(s: Pick<UploadSet, 'dispatchGeneration' | 'dispatchedGeneration'>): boolean {
  return s.dispatchGeneration > 0 && s.dispatchedGeneration === s.dispatchGeneration;
}

export function toUploadSetDto(s: UploadSet, view: UploadSetStatusView, apiBase: string): UploadSetDto {
  const dispatched = isDispatched(s);
  const finalized = s.finalizedRound >= s.finalizeRound;
  return {
    id: s.id,
    title: s.title,
    owner_id: s.ownerId,
    created_at: s.createdAt.toISOString(),
    updated_at: s.updatedAt.toISOString(),
    completed: s.status === 'completed',
    completed_at: s.completedAt ? s.completedAt.toISOString() : null,
    dispatched,
    ready: dispatched && finalized && view.collections.every((c) => c.ready),
    estimated_nb_files: s.estimatedNbFiles,
    sort_method: s.sortMethod,
    no_split: s.noSplit,
    split_distance: s.splitDistance,
    split_time: s.splitTime,
    no_deduplication: s.noDeduplication,
    duplicate_distance: s.duplicateDistance,
    duplicate_rotation: s.duplicateRotation,
    relative_heading: s.relativeHeading,
    visibility: s.visibility,
    license: s.license,
    metadata: s.metadata,
    nb_items: view.nbItems,
    items_status: view.itemsStatus,
    associated_collections: view.collections,
    links: [
      { rel: 'self', href: `${apiBase}/upload_sets/${s.id}`, type: 'application/json' },
      { rel: 'files', href: `${apiBase}/upload_sets/${s.id}/files`, type: 'application/json' },
    ],
  };
}
