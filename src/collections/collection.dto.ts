import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { IsEnum, IsIn, IsNumber, IsOptional, IsString, IsUrl, IsUUID, Matches, Max, MaxLength, Min, MinLength, ValidateIf } from 'class-validator';
import { LICENSE_PATTERN } from '../config/app-config.js';
import { Visibility } from '../auth/visibility.js';
import { LinkDto } from '../common/pagination.js';
import type { Geometry } from '../database/geometry.js';
import type { Collection } from '../catalog/catalog.types.js';
import type { SortMethod } from '../catalog/catalog.service.js';

/**
 * `sortby` values of PATCH /collections/{id}: `+` ascending, `-` descending, by capture time
 * (`datetime`; `gpsdate` and `filedate` are accepted as in Panoramax, both meaning the capture
 * time) or by original file name.
 */
export const SORTBY_METHODS: Record<string, SortMethod> = {
  '+datetime': 'time_asc',
  '-datetime': 'time_desc',
  '+gpsdate': 'time_asc',
  '-gpsdate': 'time_desc',
  '+filedate': 'time_asc',
  '-filedate': 'time_desc',
  '+filename': 'filename_asc',
  '-filename': 'filename_desc',
};

const defined = (_: object, value: unknown) => value !== undefined;

export class PatchCollectionDto {
  @ApiPropertyOptional({ minLength: 1, maxLength: 500, example: 'Walk along the river' })
  @ValidateIf(defined)
  @IsString()
  @MinLength(1)
  @MaxLength(500)
  title?: string;

  @ApiPropertyOptional({ type: String, maxLength: 10000, nullable: true, description: 'null removes the description' })
  @IsOptional()
  @IsString()
  @MaxLength(10000)
  description?: string | null;

  @ApiPropertyOptional({ enum: Visibility, description: 'Who may see the collection; its items are visible only when both they and the collection are' })
  @ValidateIf(defined)
  @IsEnum(Visibility)
  visibility?: Visibility;

  @ApiPropertyOptional({
    type: Number,
    minimum: -180,
    maximum: 180,
    nullable: true,
    example: 90,
    description:
      'Sequences only. Heading of the camera relative to the direction of travel, in degrees (0 forward, 90 right, -90 left; ' +
      'from north for a lone picture). Setting it recomputes the heading of every picture; null forgets it and changes none.',
  })
  @IsOptional()
  @IsNumber({ allowNaN: false, allowInfinity: false })
  @Min(-180)
  @Max(180)
  relative_heading?: number | null;

  @ApiPropertyOptional({
    enum: Object.keys(SORTBY_METHODS),
    description:
      'Sequences only. Re-sorts the pictures (new ranks) by capture time or original file name, ascending (+) or descending (-), ' +
      'then recomputes the headings the server had derived from the path (headings from the camera or set by hand stay).',
  })
  @ValidateIf(defined)
  @IsIn(Object.keys(SORTBY_METHODS))
  sortby?: string;

  @ApiPropertyOptional({ example: 'CC-BY-4.0', description: 'License of the collection (and of its items that name none): an SPDX identifier, `other` or `proprietary`' })
  @ValidateIf(defined)
  @IsString()
  @Matches(LICENSE_PATTERN, { message: 'license must be an SPDX identifier (e.g. CC-BY-SA-4.0), other or proprietary' })
  license?: string;

  @ApiPropertyOptional({
    type: String,
    nullable: true,
    example: 'https://example.org/our-license.html',
    description: 'A page describing the license (needed to link `other` or `proprietary`); null removes it. A new `license` without it drops the old link.',
  })
  @IsOptional()
  @IsUrl({ require_tld: false, require_protocol: true, protocols: ['http', 'https'] })
  license_url?: string | null;
}

export class RecomputeCollectionsDto {
  @ApiPropertyOptional({ format: 'uuid', description: 'One collection; all when absent' })
  @IsOptional()
  @IsUUID()
  collection_id?: string;
}

export class CollectionExtentDto {
  @ApiProperty({ type: [Number], nullable: true, example: [2.33, 48.85, 2.36, 48.87], description: '[west, south, east, north], null without located items' })
  bbox: number[] | null;

  @ApiProperty({ type: [String], nullable: true, example: ['2024-05-01T10:00:00.000Z', '2024-05-01T10:20:00.000Z'] })
  interval: (string | null)[];
}

export class CollectionDto {
  @ApiProperty({ format: 'uuid' }) id: string;
  @ApiProperty({ enum: ['sequence', 'dataset', 'harvested'] }) kind: string;
  @ApiProperty() title: string;
  @ApiProperty({ type: String, nullable: true }) description: string | null;
  @ApiProperty({ enum: Visibility }) visibility: Visibility;
  @ApiProperty({ example: 'ready' }) status: string;
  @ApiProperty({ type: String, format: 'uuid', nullable: true }) owner_id: string | null;
  @ApiProperty({ example: 'CC-BY-SA-4.0' }) license: string;
  @ApiProperty({ type: [String] }) keywords: string[];
  @ApiProperty({ type: Number, nullable: true, description: 'Sequences: heading relative to the direction of travel' }) relative_heading: number | null;
  @ApiProperty({ type: String, nullable: true, enum: ['time_asc', 'time_desc', 'filename_asc', 'filename_desc'] }) sort_method: string | null;
  @ApiProperty({ description: 'Ready items' }) item_count: number;
  @ApiProperty({ type: CollectionExtentDto }) extent: CollectionExtentDto;
  @ApiProperty() created_at: string;
  @ApiProperty() updated_at: string;
  @ApiProperty({ type: [LinkDto], description: '`self`: the STAC collection' }) links: LinkDto[];
}

/** [west, south, east, north] of a GeoJSON geometry, or null. */
export function geometryBbox(geometry: Geometry | null | undefined): number[] | null {
  if (!geometry) return null;
  let w = Infinity;
  let s = Infinity;
  let e = -Infinity;
  let n = -Infinity;
  const visit = (c: unknown): void => {
    if (Array.isArray(c) && typeof c[0] === 'number') {
      w = Math.min(w, c[0]);
      e = Math.max(e, c[0]);
      s = Math.min(s, c[1] as number);
      n = Math.max(n, c[1] as number);
    } else if (Array.isArray(c)) c.forEach(visit);
  };
  visit(geometry.coordinates);
  for (const g of geometry.geometries ?? []) {
    const b = geometryBbox(g);
    if (b)
      visit([
        [b[0], b[1]],
        [b[2], b[3]],
      ]);
  }
  return Number.isFinite(w) ? [w, s, e, n] : null;
}

export function toCollectionDto(c: Collection, publicUrl: string): CollectionDto {
  const props = c.properties ?? {};
  return {
    id: c.id,
    kind: c.kind,
    title: c.title,
    description: c.description,
    visibility: c.visibility,
    status: c.status,
    owner_id: c.ownerId,
    license: c.license,
    keywords: c.keywords,
    relative_heading: typeof props.relative_heading === 'number' ? props.relative_heading : null,
    sort_method: typeof props.sort_method === 'string' ? props.sort_method : null,
    item_count: c.itemCount,
    extent: { bbox: geometryBbox(c.geom), interval: [c.datetimeStart?.toISOString() ?? null, c.datetimeEnd?.toISOString() ?? null] },
    created_at: c.createdAt.toISOString(),
    updated_at: c.updatedAt.toISOString(),
    links: [{ rel: 'self', href: `${publicUrl.replace(/\/$/, '')}/api/collections/${c.id}`, type: 'application/json', title: 'The STAC collection' }],
  };
}
