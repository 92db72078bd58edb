import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { Type } from 'class-transformer';
import { ArrayMaxSize, IsArray, IsIn, IsInt, IsISO8601, IsNumber, IsObject, IsOptional, IsString, IsUrl, Max, MaxLength, Min, MinLength, ValidateNested } from 'class-validator';
import type { CswRecordSummary } from './types/csw/csw-records.js';

// ---- request

export class CswBboxDto {
  @ApiProperty({ minimum: -180, maximum: 180, example: 4.5, description: 'West longitude (CRS84)' })
  @IsNumber({ allowNaN: false, allowInfinity: false })
  @Min(-180)
  @Max(180)
  minx: number;

  @ApiProperty({ minimum: -90, maximum: 90, example: 57.9, description: 'South latitude (CRS84)' })
  @IsNumber({ allowNaN: false, allowInfinity: false })
  @Min(-90)
  @Max(90)
  miny: number;

  @ApiProperty({ minimum: -180, maximum: 180, example: 31.2, description: 'East longitude (CRS84), not less than minx' })
  @IsNumber({ allowNaN: false, allowInfinity: false })
  @Min(-180)
  @Max(180)
  maxx: number;

  @ApiProperty({ minimum: -90, maximum: 90, example: 71.2, description: 'North latitude (CRS84), not less than miny' })
  @IsNumber({ allowNaN: false, allowInfinity: false })
  @Min(-90)
  @Max(90)
  maxy: number;
}

export class CswSearchRequestDto {
  @ApiProperty({ example: 'https://csw.example.org/csw', description: 'The CSW 2.0.2 endpoint (http or https; the harvesters’ deny list applies)' })
  @IsString()
  @MaxLength(2000)
  @IsUrl({ protocols: ['http', 'https'], require_protocol: true, require_tld: false })
  endpoint: string;

  @ApiPropertyOptional({
    type: [String],
    maxItems: 20,
    example: ['sea_water_temperature'],
    description: 'Each keyword must be among the record’s subjects (`dc:subject` like `%keyword%`); keywords are AND-combined with each other and with every other constraint',
  })
  @IsOptional()
  @IsArray()
  @ArrayMaxSize(20)
  @IsString({ each: true })
  @MinLength(1, { each: true })
  @MaxLength(200, { each: true })
  keywords?: string[];

  @ApiPropertyOptional({ format: 'date-time', example: '2020-01-01T00:00:00Z', description: 'The record’s temporal extent begins at or after it (`apiso:TempExtent_begin >=`)' })
  @IsOptional()
  @IsISO8601({ strict: true })
  start_datetime?: string;

  @ApiPropertyOptional({ format: 'date-time', example: '2024-12-31T23:59:59Z', description: 'The record’s temporal extent ends at or before it (`apiso:TempExtent_end <=`)' })
  @IsOptional()
  @IsISO8601({ strict: true })
  end_datetime?: string;

  @ApiPropertyOptional({ type: CswBboxDto, description: 'The record’s box intersects this CRS84 box (`ogc:BBOX` on `ows:BoundingBox`)' })
  @IsOptional()
  @IsObject()
  @ValidateNested()
  @Type(() => CswBboxDto)
  bbox?: CswBboxDto;

  @ApiPropertyOptional({ example: 'sea ice', description: 'Free text anywhere in the record (`csw:AnyText` like `%text%`)' })
  @IsOptional()
  @IsString()
  @MinLength(1)
  @MaxLength(200)
  anytext?: string;

  @ApiPropertyOptional({ minimum: 1, maximum: 100, default: 25, description: 'Records per page (GetRecords maxRecords)' })
  @IsOptional()
  @IsInt()
  @Min(1)
  @Max(100)
  limit?: number;

  @ApiPropertyOptional({ minimum: 0, default: 0, description: 'Records to skip (GetRecords startPosition is offset + 1)' })
  @IsOptional()
  @IsInt()
  @Min(0)
  @Max(1_000_000_000)
  offset?: number;

  @ApiPropertyOptional({ enum: ['dc', 'iso19139'], default: 'dc', description: 'Record schema asked of the server: Dublin Core (csw:Record) or ISO 19139 (gmd:MD_Metadata)' })
  @IsOptional()
  @IsIn(['dc', 'iso19139'])
  output_schema?: 'dc' | 'iso19139';
}

// ---- response

export class CswReferenceDto {
  @ApiProperty({ example: 'https://data.example.org/dem/tile_01.tif' })
  url: string;

  @ApiProperty({ type: String, nullable: true, example: 'WWW:DOWNLOAD-1.0-http--download', description: 'dct:references scheme, or the ISO online resource’s protocol' })
  scheme: string | null;

  @ApiProperty({ type: String, nullable: true, description: 'The online resource’s name (ISO), when given' })
  name: string | null;
}

export class CswSearchItemDto {
  @ApiProperty({ type: String, nullable: true, example: 'urn:uuid:784e2afd-a9fd-44a6-9a92-a3848371c8ec' })
  identifier: string | null;

  @ApiProperty({ type: String, nullable: true })
  title: string | null;

  @ApiProperty({ type: String, nullable: true })
  abstract: string | null;

  @ApiProperty({ type: [String] })
  subjects: string[];

  @ApiProperty({ type: String, nullable: true, description: 'dc:type or the ISO hierarchy level (dataset, service…)' })
  type: string | null;

  @ApiProperty({ type: String, nullable: true, description: 'dc:date or the ISO citation date, as the record gives it' })
  date: string | null;

  @ApiProperty({ type: String, nullable: true, description: 'dct:modified or the ISO dateStamp, as the record gives it' })
  modified: string | null;

  @ApiProperty({
    type: [Number],
    nullable: true,
    minItems: 4,
    maxItems: 4,
    example: [13.754, 60.042, 17.92, 68.41],
    description: 'CRS84 [minx, miny, maxx, maxy] (axes put in that order whatever the record’s CRS); null when the record has no box in longitude/latitude',
  })
  bbox: number[] | null;

  @ApiProperty({ type: [CswReferenceDto] })
  references: CswReferenceDto[];
}

export class CswSearchResponseDto {
  @ApiProperty({ example: 12, description: 'numberOfRecordsMatched' })
  total: number;

  @ApiProperty({ example: 5, description: 'Records in this answer' })
  returned: number;

  @ApiProperty({ example: 25 })
  limit: number;

  @ApiProperty({ example: 0 })
  offset: number;

  @ApiProperty({ type: Number, nullable: true, example: 25, description: 'The offset of the next page; null on the last page' })
  next_offset: number | null;

  @ApiProperty({ type: Number, nullable: true, example: null, description: 'The offset of the previous page; null on the first page' })
  prev_offset: number | null;

  @ApiProperty({ type: [String], example: ['dc:subject like "%ocean%"', 'apiso:TempExtent_begin >= 2020-01-01T00:00:00Z'], description: 'The constraints sent, AND-combined' })
  constraints_applied: string[];

  @ApiProperty({ type: [CswSearchItemDto] })
  items: CswSearchItemDto[];
}

export function toCswSearchItemDto(summary: CswRecordSummary): CswSearchItemDto {
  return {
    identifier: summary.identifier,
    title: summary.title,
    abstract: summary.abstract,
    subjects: summary.subjects,
    type: summary.type,
    date: summary.date,
    modified: summary.modified,
    bbox: summary.bbox ? [...summary.bbox] : null,
    references: summary.references.map((r) => ({ url: r.url, scheme: r.scheme, name: r.name })),
  };
}
