import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import type { Picture, PictureStatus } from './picture.entity.js';

/** Where a picture stands in the pipeline, for its owner. */
export class PictureProcessingDto {
  @ApiProperty({ enum: ['pending', 'processing', 'ready', 'broken', 'rejected', 'deleting'], description: '`pending` waits (or waits to retry), `processing` runs' })
  status: PictureStatus;

  @ApiProperty({ description: 'Processing runs started so far (a run interrupted by a crash counts)', example: 1 })
  attempts: number;

  @ApiProperty({ type: String, nullable: true, description: 'Error of the last failed run' })
  last_error: string | null;

  @ApiProperty({ type: String, format: 'date-time', nullable: true })
  processing_started_at: string | null;

  @ApiProperty({ type: String, format: 'date-time', nullable: true, description: 'When the picture became ready (or broken)' })
  processed_at: string | null;

  @ApiProperty({ description: 'The stored picture was blurred by this server (or declared blurred at upload)' })
  blurred: boolean;
}

export class PictureSourceDto {
  @ApiProperty({ example: 'upload-set', description: '`upload-set`, or another source of pictures' })
  kind: string;

  @ApiProperty({ type: String, format: 'uuid', nullable: true, description: 'The batch within the source (an upload set id…)' })
  id: string | null;
}

export class PictureStatusDto extends PictureProcessingDto {
  @ApiProperty({ format: 'uuid' })
  id: string;

  @ApiProperty({ type: String, format: 'uuid', nullable: true, description: 'The upload set it came with (null when it came from another source)' })
  upload_set_id: string | null;

  @ApiProperty({ type: () => PictureSourceDto, description: 'What brought the picture in' })
  source: PictureSourceDto;

  @ApiPropertyOptional({ type: String, format: 'uuid', nullable: true, description: 'The sequence (collection) it was dispatched to' })
  collection_id: string | null;

  @ApiPropertyOptional({ type: Number, nullable: true, description: 'Position in the sequence, from 1' })
  rank: number | null;

  @ApiProperty({ type: String, format: 'date-time' })
  captured_at: string;

  @ApiProperty({ enum: ['perspective', 'equirectangular'] })
  projection: string;
}

const iso = (d: Date | null) => (d ? new Date(d).toISOString() : null);

export function toPictureProcessingDto(p: Picture): PictureProcessingDto {
  return {
    status: p.status,
    attempts: p.attempts,
    last_error: p.lastError,
    processing_started_at: iso(p.processingStartedAt),
    processed_at: iso(p.processedAt),
    blurred: p.blurred || p.isBlurred,
  };
}

export function toPictureStatusDto(p: Picture): PictureStatusDto {
  return {
    id: p.id,
    upload_set_id: p.sourceKind === 'upload-set' ? p.sourceId : null,
    source: { kind: p.sourceKind, id: p.sourceId },
    collection_id: p.sequenceId,
    rank: p.rank,
    captured_at: new Date(p.capturedAt).toISOString(),
    projection: p.projection,
    ...toPictureProcessingDto(p),
  };
}
