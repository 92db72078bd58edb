import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { Transform, Type } from 'class-transformer';
import {
  ArrayMaxSize,
  ArrayMinSize,
  IsArray,
  IsBoolean,
  IsEnum,
  IsIn,
  IsInt,
  IsNumber,
  IsOptional,
  IsString,
  IsUUID,
  Matches,
  Max,
  MaxLength,
  Min,
  MinLength,
  ValidateIf,
  ValidateNested,
} from 'class-validator';
import { LICENSE_PATTERN } from '../config/app-config.js';
import { Visibility } from '../auth/visibility.js';
import type { Item } from '../catalog/catalog.types.js';
import { LinkDto, PageQueryDto } from '../common/pagination.js';
import type { Dataset } from './dataset.entity.js';
import type { DatasetSort } from './datasets.repository.js';
import { datasetPaths, multihashSha256 } from './dataset-stac.js';
import { stacBbox } from './raster/footprint.js';

/** Multipart and query strings carry booleans as text. */
const toBoolean = ({ value }: { value: unknown }) => {
  if (typeof value === 'boolean' || value === undefined) return value;
  const v = String(value).trim().toLowerCase();
  if (['true', '1', 'yes', 'on'].includes(v)) return true;
  if (['false', '0', 'no', 'off', ''].includes(v)) return false;
  return value;
};

const COLLECTION_REF_DESCRIPTION =
  'Collection to put the dataset in: the id of a dataset collection you own, or a name (a collection of yours with that title, created when missing). ' +
  'Default: your "Datasets" collection.';

// --- requests -------------------------------------------------------------------------------

/** The text fields of the multipart upload (the file itself is the `file` part). */
export class UploadDatasetDto {
  @ApiPropertyOptional({ maxLength: 300, description: 'Default: the file name' })
  @IsOptional()
  @IsString()
  @MinLength(1)
  @MaxLength(300)
  title?: string;

  @ApiPropertyOptional({ maxLength: 10000 })
  @IsOptional()
  @IsString()
  @MaxLength(10000)
  description?: string;

  @ApiPropertyOptional({ description: COLLECTION_REF_DESCRIPTION, maxLength: 300 })
  @IsOptional()
  @IsString()
  @MinLength(1)
  @MaxLength(300)
  collection?: string;

  @ApiPropertyOptional({ enum: Visibility, description: 'Default: your default visibility' })
  @IsOptional()
  @IsEnum(Visibility)
  visibility?: Visibility;

  @ApiPropertyOptional({ example: 'CC-BY-4.0', description: "License of the dataset: an SPDX identifier, `other` or `proprietary`. Default: its collection's" })
  @IsOptional()
  @IsString()
  @Matches(LICENSE_PATTERN, { message: 'license must be an SPDX identifier (e.g. CC-BY-SA-4.0), other or proprietary' })
  license?: string;

  @ApiPropertyOptional({ type: Boolean, default: false, description: 'Register even if a dataset with the same SHA-256 exists (otherwise 409)' })
  @IsOptional()
  @Transform(toBoolean)
  @IsBoolean()
  allow_duplicate?: boolean;
}

export class RegisterPathDto {
  @ApiProperty({
    description:
      'A GeoTIFF under one of the server folders of DATASET_ROOTS: absolute, or relative to the first root that has it. ' +
      '`..` segments, paths outside the roots and symbolic links leading outside them are refused. The file stays where it is.',
    example: 'orthophotos/2024/site-a.tif',
  })
  @IsString()
  @MinLength(1)
  @MaxLength(4096)
  path: string;

  @ApiPropertyOptional({ maxLength: 300, description: 'Default: the file name' })
  @IsOptional()
  @IsString()
  @MinLength(1)
  @MaxLength(300)
  title?: string;

  @ApiPropertyOptional({ maxLength: 10000 })
  @IsOptional()
  @IsString()
  @MaxLength(10000)
  description?: string;

  @ApiPropertyOptional({ description: COLLECTION_REF_DESCRIPTION, maxLength: 300 })
  @IsOptional()
  @IsString()
  @MinLength(1)
  @MaxLength(300)
  collection?: string;

  @ApiPropertyOptional({ enum: Visibility })
  @IsOptional()
  @IsEnum(Visibility)
  visibility?: Visibility;

  @ApiPropertyOptional({ example: 'CC-BY-4.0', description: "License of the dataset: an SPDX identifier, `other` or `proprietary`. Default: its collection's" })
  @IsOptional()
  @IsString()
  @Matches(LICENSE_PATTERN, { message: 'license must be an SPDX identifier (e.g. CC-BY-SA-4.0), other or proprietary' })
  license?: string;

  @ApiPropertyOptional({ default: false, description: 'Register even if the same file or content is registered already' })
  @IsOptional()
  @IsBoolean()
  allow_duplicate?: boolean;
}

export class UpdateDatasetDto {
  @ApiPropertyOptional({ maxLength: 300 })
  @IsOptional()
  @IsString()
  @MinLength(1)
  @MaxLength(300)
  title?: string;

  @ApiPropertyOptional({ maxLength: 10000, nullable: true, type: String })
  @IsOptional()
  @ValidateIf((_, v) => v !== null)
  @IsString()
  @MaxLength(10000)
  description?: string | null;

  @ApiPropertyOptional({ enum: Visibility })
  @IsOptional()
  @IsEnum(Visibility)
  visibility?: Visibility;

  @ApiPropertyOptional({ example: 'CC-BY-4.0', description: "License of the dataset: an SPDX identifier, `other` or `proprietary`. Default: its collection's" })
  @IsOptional()
  @IsString()
  @Matches(LICENSE_PATTERN, { message: 'license must be an SPDX identifier (e.g. CC-BY-SA-4.0), other or proprietary' })
  license?: string;
}

export const DATASET_SORTS: DatasetSort[] = ['created', '-created', 'updated', '-updated', 'title', '-title', 'size', '-size', 'datetime', '-datetime'];

export class ListDatasetsQueryDto extends PageQueryDto {
  @ApiPropertyOptional({ description: 'Words found in the title, description or file name (case-insensitive)', maxLength: 200 })
  @IsOptional()
  @IsString()
  @MaxLength(200)
  q?: string;

  @ApiPropertyOptional({ description: 'west,south,east,north in WGS 84; west > east crosses the antimeridian', example: '-80,20,-70,30' })
  @IsOptional()
  @IsString()
  @Matches(/^\s*-?[\d.]+(e-?\d+)?\s*(,\s*-?[\d.]+(e-?\d+)?\s*){3}$/i, { message: 'bbox must be four comma-separated numbers: west,south,east,north' })
  bbox?: string;

  @ApiPropertyOptional({
    description:
      'RFC 3339 instant or interval (`start/end`, `../end`, `start/..`), on the raster date (its acquisition time from GDAL metadata or the TIFF DateTime tag, else its registration)',
    example: '2020-01-01T00:00:00Z/..',
  })
  @IsOptional()
  @IsString()
  @MaxLength(100)
  datetime?: string;

  @ApiPropertyOptional({ description: 'Coordinate reference system: `EPSG:32618` or `32618`', example: 'EPSG:32618' })
  @IsOptional()
  @IsString()
  @Matches(/^(EPSG:)?\d{4,6}$/i, { message: 'crs must be an EPSG code such as EPSG:32618' })
  crs?: string;

  @ApiPropertyOptional({ enum: ['pending', 'ready', 'broken'], description: 'Others than ready are listed for their owner (and admins) only' })
  @IsOptional()
  @IsIn(['pending', 'ready', 'broken'])
  status?: string;

  @ApiPropertyOptional({ format: 'uuid' })
  @IsOptional()
  @IsUUID()
  collection?: string;

  @ApiPropertyOptional({ description: '`me`, or a user id' })
  @IsOptional()
  @IsString()
  @Matches(/^(me|[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12})$/i, { message: 'owner must be "me" or a user id' })
  owner?: string;

  @ApiPropertyOptional({ enum: DATASET_SORTS, default: '-created' })
  @IsOptional()
  @IsIn(DATASET_SORTS)
  sort?: DatasetSort;
}

export class DuplicatesQueryDto extends PageQueryDto {}

export class DeleteDatasetQueryDto {
  @ApiPropertyOptional({ type: Boolean, default: false, description: 'Also delete a registered file from its folder (uploaded files are always removed)' })
  @IsOptional()
  @Transform(toBoolean)
  @IsBoolean()
  delete_file?: boolean;
}

export class ThumbnailQueryDto {
  @ApiPropertyOptional({ minimum: 16, maximum: 1024, default: 256, description: 'Longest side in pixels (never larger than the raster)' })
  @IsOptional()
  @Type(() => Number)
  @IsInt()
  @Min(16)
  @Max(1024)
  size?: number;
}

export class TileParamsDto {
  @ApiProperty({ format: 'uuid' })
  @IsUUID()
  id: string;

  @ApiProperty({ minimum: 0, maximum: 24 })
  @Type(() => Number)
  @IsInt()
  @Min(0)
  @Max(24)
  z: number;

  @ApiProperty({ minimum: 0 })
  @Type(() => Number)
  @IsInt()
  @Min(0)
  x: number;

  @ApiProperty({ minimum: 0 })
  @Type(() => Number)
  @IsInt()
  @Min(0)
  y: number;
}

export class TileQueryDto {
  @ApiPropertyOptional({ enum: ['nearest', 'bilinear'], default: 'bilinear', description: 'Palette images are always drawn with nearest' })
  @IsOptional()
  @IsIn(['nearest', 'bilinear'])
  resampling?: 'nearest' | 'bilinear';
}

export class SampleQueryDto {
  @ApiProperty({ minimum: -180, maximum: 180, example: -77.5 })
  @Type(() => Number)
  @IsNumber({ allowNaN: false, allowInfinity: false })
  @Min(-180)
  @Max(180)
  lon: number;

  @ApiProperty({ minimum: -90, maximum: 90, example: 24.5 })
  @Type(() => Number)
  @IsNumber({ allowNaN: false, allowInfinity: false })
  @Min(-90)
  @Max(90)
  lat: number;
}

export class SamplePointDto {
  @ApiProperty({ minimum: -180, maximum: 180 })
  @IsNumber({ allowNaN: false, allowInfinity: false })
  @Min(-180)
  @Max(180)
  lon: number;

  @ApiProperty({ minimum: -90, maximum: 90 })
  @IsNumber({ allowNaN: false, allowInfinity: false })
  @Min(-90)
  @Max(90)
  lat: number;
}

export const MAX_SAMPLE_POINTS = 1000;

export class SamplePointsDto {
  @ApiProperty({ type: [SamplePointDto], minItems: 1, maxItems: MAX_SAMPLE_POINTS })
  @IsArray()
  @ArrayMinSize(1)
  @ArrayMaxSize(MAX_SAMPLE_POINTS)
  @ValidateNested({ each: true })
  @Type(() => SamplePointDto)
  points: SamplePointDto[];
}

// --- responses ------------------------------------------------------------------------------

export class BandStatisticsDto {
  @ApiPropertyOptional() minimum?: number;
  @ApiPropertyOptional() maximum?: number;
  @ApiPropertyOptional() mean?: number;
  @ApiPropertyOptional() stddev?: number;
  @ApiProperty({ description: 'Share of valid (not nodata, not masked) pixels, 0–100' }) valid_percent: number;
}

export class DatasetBandDto {
  @ApiProperty({ description: '1-based band number' }) index: number;
  @ApiProperty({ example: 'uint8' }) data_type: string;
  @ApiProperty() bits_per_sample: number;
  @ApiProperty({ nullable: true, oneOf: [{ type: 'number' }, { type: 'string', enum: ['nan', 'inf', '-inf'] }], description: 'nodata value, null when none' })
  nodata: number | string | null;
  @ApiProperty({ enum: ['gray', 'red', 'green', 'blue', 'alpha', 'palette', 'undefined'] }) role: string;
  @ApiProperty({ type: BandStatisticsDto, nullable: true, description: 'From an overview when the file has one (see statistics_from)' })
  statistics: BandStatisticsDto | null;
}

export class DatasetOverviewDto {
  @ApiProperty() width: number;
  @ApiProperty() height: number;
}

export class DatasetDto {
  @ApiProperty({ format: 'uuid', description: 'Also the id of its STAC item' }) id: string;
  @ApiProperty() title: string;
  @ApiProperty({ nullable: true, type: String }) description: string | null;
  @ApiProperty({ enum: ['pending', 'ready', 'broken'] }) status: string;
  @ApiProperty({ nullable: true, type: String, description: 'Why the dataset is broken' }) error: string | null;
  @ApiProperty({ format: 'uuid' }) collection_id: string;
  @ApiProperty({ format: 'uuid', nullable: true, type: String }) owner_id: string | null;
  @ApiProperty({ enum: Visibility }) visibility: string;
  @ApiProperty({ enum: ['upload', 'path'] }) source: string;
  @ApiProperty() file_name: string;
  @ApiPropertyOptional({ description: 'Server path of a registered file (shown to admins only)' }) path?: string;
  @ApiProperty({ nullable: true, type: Number, description: 'Bytes' }) size: number | null;
  @ApiProperty({ nullable: true, type: String, description: 'Hex SHA-256 of the file' }) sha256: string | null;
  @ApiProperty({ nullable: true, type: String, description: 'The same as a multihash (STAC file:checksum)' }) checksum: string | null;
  @ApiProperty({ nullable: true, type: String, example: 'EPSG:32618' }) crs: string | null;
  @ApiProperty({ nullable: true, type: String, example: 'WGS 84 / UTM zone 18N' }) crs_name: string | null;
  @ApiProperty({ nullable: true, type: String }) proj4: string | null;
  @ApiProperty({ nullable: true, type: Number }) width: number | null;
  @ApiProperty({ nullable: true, type: Number }) height: number | null;
  @ApiProperty({ nullable: true, type: Number }) band_count: number | null;
  @ApiProperty({ type: [DatasetBandDto] }) bands: DatasetBandDto[];
  @ApiProperty({ nullable: true, type: [Number], description: 'Pixel size [x, y] in CRS units' }) resolution: number[] | null;
  @ApiProperty({ nullable: true, type: Number, description: 'Approximate pixel size in metres' }) resolution_m: number | null;
  @ApiProperty({ nullable: true, type: [Number], description: 'Affine geotransform [a, b, c, d, e, f] (x = a·col + b·row + c, y = d·col + e·row + f)' })
  transform: number[] | null;
  @ApiProperty({ nullable: true, type: [Number], description: '[minx, miny, maxx, maxy] in the raster CRS' }) native_bbox: number[] | null;
  @ApiProperty({ nullable: true, type: [Number], description: 'WGS 84 [west, south, east, north]; west > east when crossing the antimeridian' })
  bbox: number[] | null;
  @ApiProperty() is_cog: boolean;
  @ApiProperty({ type: [DatasetOverviewDto], description: 'Internal overviews, finest first' }) overviews: DatasetOverviewDto[];
  @ApiProperty({ description: 'The file carries an internal transparency mask' }) has_mask: boolean;
  @ApiProperty({ nullable: true, type: DatasetOverviewDto, description: 'Size of the image statistics were computed from' })
  statistics_from: DatasetOverviewDto | null;
  @ApiProperty({
    nullable: true,
    type: String,
    format: 'date-time',
    description: 'When the raster was acquired (GDAL metadata ACQUISITIONDATETIME or ACQUISITION_START_TIME, else the TIFF DateTime tag, read as UTC), else when it was registered',
  })
  datetime: string | null;
  @ApiProperty({ type: [String] }) warnings: string[];
  @ApiProperty({ format: 'date-time' }) created_at: string;
  @ApiProperty({ format: 'date-time' }) updated_at: string;
  @ApiProperty({ nullable: true, type: String, format: 'date-time' }) ingested_at: string | null;
  @ApiProperty({ nullable: true, type: Number, description: 'How long the last read of the file took, in milliseconds' }) ingest_ms: number | null;
  @ApiProperty({ type: [LinkDto], description: 'self, data, thumbnail, xyz (templated), extent, sample, collection' }) links: LinkDto[];
}

export class DatasetPageDto {
  @ApiProperty({ type: [DatasetDto] }) items: DatasetDto[];
  @ApiProperty() total: number;
  @ApiProperty() page: number;
  @ApiProperty() limit: number;
  @ApiProperty({ type: [LinkDto] }) links: LinkDto[];
}

export class DuplicateGroupDto {
  @ApiProperty() sha256: string;
  @ApiProperty() count: number;
  @ApiProperty({ type: [DatasetDto], description: 'Oldest first' }) datasets: DatasetDto[];
}

export class DuplicatesPageDto {
  @ApiProperty({ type: [DuplicateGroupDto] }) items: DuplicateGroupDto[];
  @ApiProperty() total: number;
  @ApiProperty() page: number;
  @ApiProperty() limit: number;
  @ApiProperty({ type: [LinkDto] }) links: LinkDto[];
}

export class SampleDto {
  @ApiProperty() lon: number;
  @ApiProperty() lat: number;
  @ApiProperty({ description: 'Whether the point falls on the raster (false: values is null)' }) inside: boolean;
  @ApiProperty({ nullable: true, type: Number, description: 'Pixel column (0-based) at full resolution' }) col: number | null;
  @ApiProperty({ nullable: true, type: Number, description: 'Pixel row (0-based)' }) row: number | null;
  @ApiProperty({ nullable: true, type: [Number], description: 'The point in the raster CRS [x, y]' }) coordinates: number[] | null;
  @ApiProperty({
    nullable: true,
    type: 'array',
    items: { type: 'number', nullable: true },
    description: 'One value per band; null for nodata, masked and transparent (alpha 0) pixels: the value under a transparent pixel is not data',
  })
  values: (number | null)[] | null;
}

export class SampleBandDto {
  @ApiProperty() index: number;
  @ApiProperty() data_type: string;
  @ApiProperty({ nullable: true, oneOf: [{ type: 'number' }, { type: 'string' }] }) nodata: number | string | null;
}

export class SamplesDto {
  @ApiProperty({ format: 'uuid' }) dataset_id: string;
  @ApiProperty({ type: [SampleBandDto] }) bands: SampleBandDto[];
  @ApiProperty({ type: [SampleDto] }) samples: SampleDto[];
}

// --- mapping --------------------------------------------------------------------------------

export interface DtoContext {
  /** Absolute URL of the API root, ending with `/api/`. */
  apiRoot: string;
  /** Show server paths (admins). */
  showPath: boolean;
}

export function toDatasetDto(dataset: Dataset, item: Item, ctx: DtoContext): DatasetDto {
  const info = dataset.raster;
  const paths = datasetPaths(dataset.id);
  const url = (p: string) => new URL(p, ctx.apiRoot).toString();
  const links: LinkDto[] = [{ rel: 'self', href: url(paths.self), type: 'application/json' }];
  if (dataset.status === 'ready') {
    links.push({ rel: 'data', href: url(paths.data), type: 'image/tiff; application=geotiff', title: dataset.fileName });
    links.push({ rel: 'thumbnail', href: url(paths.thumbnail), type: 'image/png' });
    if (info?.footprint) {
      // The template braces are kept literal (new URL would percent-encode them).
      links.push({ rel: 'xyz', href: `${ctx.apiRoot}${paths.tiles}`, type: 'image/png', title: 'XYZ tiles (Web Mercator)' });
      links.push({ rel: 'extent', href: url(paths.extent), type: 'application/geo+json' });
      links.push({ rel: 'sample', href: url(`${paths.self}/sample`), type: 'application/json' });
    }
  }
  links.push({ rel: 'collection', href: url(`collections/${item.collectionId}`), type: 'application/json' });
  const statsLevel = info ? info.levels[info.statisticsLevel] : undefined;
  return {
    id: dataset.id,
    title: dataset.title,
    description: dataset.description,
    status: dataset.status,
    error: dataset.error,
    collection_id: item.collectionId,
    owner_id: item.ownerId,
    visibility: item.visibility,
    source: dataset.source,
    file_name: dataset.fileName,
    ...(ctx.showPath && dataset.filePath ? { path: dataset.filePath } : {}),
    size: dataset.size,
    sha256: dataset.sha256,
    checksum: dataset.sha256 ? multihashSha256(dataset.sha256) : null,
    crs: dataset.crs,
    crs_name: info?.crs?.name ?? null,
    proj4: info?.crs?.proj4 ?? null,
    width: dataset.width,
    height: dataset.height,
    band_count: dataset.bandCount,
    bands: (info?.bands ?? []).map((b) => ({
      index: b.index,
      data_type: b.dataType,
      bits_per_sample: b.bitsPerSample,
      nodata: b.nodata,
      role: b.role,
      statistics: b.statistics,
    })),
    resolution: info?.resolution ?? null,
    resolution_m: info?.resolutionMeters ?? null,
    transform: info?.transform ?? null,
    native_bbox: info?.nativeBounds ?? null,
    bbox: info ? stacBbox(info.wgs84Bboxes) : null,
    is_cog: dataset.isCog,
    overviews: (info?.levels ?? []).slice(1).map((l) => ({ width: l.width, height: l.height })),
    has_mask: (info?.levels ?? []).some((l) => l.maskIfd !== null),
    statistics_from: statsLevel ? { width: statsLevel.width, height: statsLevel.height } : null,
    datetime: item.datetime ? item.datetime.toISOString() : null,
    warnings: info?.warnings ?? [],
    created_at: dataset.createdAt.toISOString(),
    updated_at: dataset.updatedAt.toISOString(),
    ingested_at: dataset.ingestedAt ? dataset.ingestedAt.toISOString() : null,
    ingest_ms: dataset.ingestMs,
    links,
  };
}
