import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { IsIn, IsOptional, IsUUID } from 'class-validator';
import { LinkDto, PageQueryDto } from '../../common/pagination.js';
import type { DroneMedia } from '../drone-media.entity.js';

export class MediaListQueryDto extends PageQueryDto {
  @ApiPropertyOptional({ description: 'Only the media of this flight', format: 'uuid' })
  @IsOptional()
  @IsUUID()
  flight_id?: string;

  @ApiPropertyOptional({ enum: ['photo', 'video', 'other'] })
  @IsOptional()
  @IsIn(['photo', 'video', 'other'])
  kind?: 'photo' | 'video' | 'other';
}

export class GroundCoverageSummaryDto {
  @ApiProperty({ description: 'Some corner is above the horizon or beyond the maximum range: the footprint is clipped there' }) truncated: boolean;
  @ApiProperty({ description: 'Degrees from straight down' }) off_nadir: number;
  @ApiProperty({ description: 'Degrees from true north the camera faces' }) azimuth: number;
  @ApiProperty({ nullable: true, type: Number, description: 'Ground sampling distance, cm per pixel (near-nadir shots only)' }) gsd_cm: number | null;
}

export class DroneMediaDto {
  @ApiProperty({ format: 'uuid' }) id: string;
  @ApiProperty({ format: 'uuid' }) workspace_id: string;
  @ApiProperty({ format: 'uuid', nullable: true, type: String }) flight_id: string | null;
  @ApiProperty({ nullable: true, type: String, description: "The aircraft's serial number" }) drone_sn: string | null;
  @ApiProperty({ enum: ['photo', 'video', 'other'] }) kind: string;
  @ApiProperty({
    enum: ['received', 'processing', 'ready', 'rejected'],
    description:
      '`processing`: a photo in the picture pipeline; `ready`: stored (and a photo published); `rejected`: stored, but not published as a picture (`status_message` says why)',
  })
  status: string;
  @ApiProperty({ nullable: true, type: String }) status_message: string | null;
  @ApiProperty() name: string;
  @ApiProperty({ nullable: true, type: String }) path: string | null;
  @ApiProperty({ description: "The sender's fingerprint (unique in the workspace)" }) fingerprint: string;
  @ApiProperty({ nullable: true, type: String, description: "DJI's tiny fingerprint (`tinny_fingerprint`)" }) tiny_fingerprint: string | null;
  @ApiProperty({ nullable: true, type: Number }) size: number | null;
  @ApiProperty({ nullable: true, type: String, description: "Sightline's SHA-256 of the bytes" }) sha256: string | null;
  @ApiProperty({ nullable: true, type: String, format: 'date-time' }) captured_at: string | null;
  @ApiProperty({ format: 'date-time' }) created_at: string;
  @ApiProperty({ format: 'uuid', nullable: true, type: String, description: 'The picture (and STAC item) a photo became' }) picture_id: string | null;
  @ApiProperty({ type: GroundCoverageSummaryDto, nullable: true }) ground_coverage: GroundCoverageSummaryDto | null;
  @ApiProperty({ type: 'object', additionalProperties: true, description: 'Camera, DJI gimbal and aircraft values, what the sender said' }) metadata: Record<string, unknown>;
  @ApiProperty({ type: [LinkDto] }) links: LinkDto[];
}

export class DroneMediaPageDto {
  @ApiProperty({ type: [DroneMediaDto] }) items: DroneMediaDto[];
  @ApiProperty() total: number;
  @ApiProperty() page: number;
  @ApiProperty() limit: number;
  @ApiProperty({ type: [LinkDto] }) links: LinkDto[];
}

/** A media row as the API shows it; `api` is `${PUBLIC_URL}/api`. */
export function toMediaDto(m: DroneMedia, api: string): DroneMediaDto {
  const base = `${api}/drones/workspaces/${m.workspaceId}`;
  const coverage = (m.metadata as { coverage?: { truncated: boolean; off_nadir: number; azimuth: number; gsd: number | null } | null }).coverage;
  const links: LinkDto[] = [
    { rel: 'self', href: `${base}/media/${m.id}`, type: 'application/json' },
    {
      rel: 'enclosure',
      href: `${base}/media/${m.id}/file`,
      type: m.kind === 'photo' ? 'image/jpeg' : m.kind === 'video' ? 'video/mp4' : 'application/octet-stream',
      title: 'The file',
    },
  ];
  if (coverage) links.push({ rel: 'ground-coverage', href: `${base}/media/${m.id}/ground-coverage`, type: 'application/geo+json', title: 'Ground coverage' });
  if (m.flightId) links.push({ rel: 'flight', href: `${base}/flights/${m.flightId}`, type: 'application/json' });
  if (m.pictureId && m.status !== 'rejected')
    links.push({ rel: 'picture', href: `${api}/pictures/${m.pictureId}/status`, type: 'application/json', title: 'The picture it became' });
  return {
    id: m.id,
    workspace_id: m.workspaceId,
    flight_id: m.flightId,
    drone_sn: m.deviceSn,
    kind: m.kind,
    status: m.status,
    status_message: m.statusMessage,
    name: m.name,
    path: m.path,
    fingerprint: m.fingerprint,
    tiny_fingerprint: m.tinyFingerprint,
    size: m.size === null ? null : Number(m.size),
    sha256: m.sha256,
    captured_at: m.capturedAt ? new Date(m.capturedAt).toISOString() : null,
    created_at: new Date(m.createdAt).toISOString(),
    picture_id: m.pictureId,
    ground_coverage: coverage ? { truncated: coverage.truncated, off_nadir: coverage.off_nadir, azimuth: coverage.azimuth, gsd_cm: coverage.gsd } : null,
    metadata: m.metadata,
    links,
  };
}
