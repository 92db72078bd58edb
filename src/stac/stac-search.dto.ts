import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { Allow } from 'class-validator';
import { STAC_VERSION } from './conformance.js';
import { StacCollectionDto } from './stac-collection.dto.js';
import { StacItemDto, StacLinkDto } from './stac-item.dto.js';
import { DEFAULT_LIMIT, MAX_LIMIT } from './search-request.js';

/*
 * Request DTOs only declare (and document) the parameters: their values are read by
 * search-request.ts, which answers 400 naming the parameter and the problem.
 * Unknown parameters are refused by the global validation pipe.
 */

const LIMIT_DOC = { description: `Page size, at least 1; larger values are clamped to ${MAX_LIMIT}`, default: DEFAULT_LIMIT, example: 10 };
const BBOX_DOC = { description: 'west,south,east,north (or 6 numbers with heights), WGS 84; west > east crosses the antimeridian', example: '2.25,48.81,2.42,48.90' };
const DATETIME_DOC = {
  description: 'RFC 3339 instant, or interval `start/end` with `..` or an empty side for an open end',
  example: '2021-01-01T00:00:00Z/..',
};
const SORTBY_DOC = { description: 'Comma-separated fields, `-` for descending (`+` or nothing for ascending)', example: '-datetime,id' };
const FIELDS_DOC = { description: 'Comma-separated fields to include; `-field` excludes', example: 'id,properties.view:azimuth,-assets' };
const FILTER_DOC = { description: 'CQL2 filter (cql2-text by default in GET)', example: "view:azimuth BETWEEN 80 AND 100 AND datetime >= TIMESTAMP('2020-01-01T00:00:00Z')" };
const Q_DOC = { description: 'Free text: comma-separated terms, any of which may match (words of a term form a phrase)', example: 'rue,street' };
const TOKEN_DOC = { description: 'Paging cursor from a `next` or `prev` link' };

/** GET /collections/{id}/items. */
export class ItemsQueryDto {
  @ApiPropertyOptional(BBOX_DOC) @Allow() bbox?: string;
  @ApiPropertyOptional(DATETIME_DOC) @Allow() datetime?: string;
  @ApiPropertyOptional(LIMIT_DOC) @Allow() limit?: string;
  @ApiPropertyOptional(SORTBY_DOC) @Allow() sortby?: string;
  @ApiPropertyOptional(FIELDS_DOC) @Allow() fields?: string;
  @ApiPropertyOptional(FILTER_DOC) @Allow() filter?: string;
  @ApiPropertyOptional({ name: 'filter-lang', enum: ['cql2-text', 'cql2-json'] }) @Allow() 'filter-lang'?: string;
  @ApiPropertyOptional({ name: 'filter-crs', enum: ['http://www.opengis.net/def/crs/OGC/1.3/CRS84'] }) @Allow() 'filter-crs'?: string;
  @ApiPropertyOptional(Q_DOC) @Allow() q?: string;
  @ApiPropertyOptional(TOKEN_DOC) @Allow() token?: string;
}

/** GET /collections/{id}/items: also `collections`, which pystac-client sends naming that collection. */
export class CollectionItemsQueryDto extends ItemsQueryDto {
  @ApiPropertyOptional({ description: 'Accepted when it names this collection only (clients such as pystac-client send it); another collection is a 400' })
  @Allow()
  collections?: string;
}

/** GET /search. */
export class SearchQueryDto extends ItemsQueryDto {
  @ApiPropertyOptional({ description: 'Comma-separated collection ids' }) @Allow() collections?: string;
  @ApiPropertyOptional({ description: 'Comma-separated item ids' }) @Allow() ids?: string;
  @ApiPropertyOptional({ description: 'A GeoJSON geometry (JSON text); not together with bbox', example: '{"type":"Point","coordinates":[2.35,48.85]}' })
  @Allow()
  intersects?: string;
}

/** GET /collections (collection search). */
export class CollectionsQueryDto {
  @ApiPropertyOptional(BBOX_DOC) @Allow() bbox?: string;
  @ApiPropertyOptional(DATETIME_DOC) @Allow() datetime?: string;
  @ApiPropertyOptional({ ...LIMIT_DOC, description: `Page size, at least 1; larger values are clamped to ${MAX_LIMIT}` }) @Allow() limit?: string;
  @ApiPropertyOptional({ ...SORTBY_DOC, example: 'title' }) @Allow() sortby?: string;
  @ApiPropertyOptional({ ...FIELDS_DOC, example: 'id,title,-links' }) @Allow() fields?: string;
  @ApiPropertyOptional({ ...FILTER_DOC, example: "sightline:kind = 'sequence'" }) @Allow() filter?: string;
  @ApiPropertyOptional({ name: 'filter-lang', enum: ['cql2-text', 'cql2-json'] }) @Allow() 'filter-lang'?: string;
  @ApiPropertyOptional({ name: 'filter-crs', enum: ['http://www.opengis.net/def/crs/OGC/1.3/CRS84'] }) @Allow() 'filter-crs'?: string;
  @ApiPropertyOptional({ ...Q_DOC, description: 'Free text over title, description and keywords: comma-separated terms, any of which may match' }) @Allow() q?: string;
  @ApiPropertyOptional(TOKEN_DOC) @Allow() token?: string;
}

class SortByDto {
  @ApiProperty({ example: 'datetime' }) field: string;
  @ApiProperty({ enum: ['asc', 'desc'] }) direction: 'asc' | 'desc';
}

class FieldsDto {
  @ApiPropertyOptional({ type: [String] }) include?: string[];
  @ApiPropertyOptional({ type: [String] }) exclude?: string[];
}

/** POST /search. */
export class SearchBodyDto {
  @ApiPropertyOptional({ type: [String] }) @Allow() collections?: string[];
  @ApiPropertyOptional({ type: [String] }) @Allow() ids?: string[];
  @ApiPropertyOptional({ type: [Number], description: '[west, south, east, north] or 6 numbers', example: [2.25, 48.81, 2.42, 48.9] }) @Allow() bbox?: number[];
  @ApiPropertyOptional({ type: 'object', additionalProperties: true, description: 'GeoJSON geometry; not together with bbox' }) @Allow() intersects?: Record<string, unknown>;
  @ApiPropertyOptional(DATETIME_DOC) @Allow() datetime?: string;
  @ApiPropertyOptional({ ...LIMIT_DOC, type: Number }) @Allow() limit?: number;
  @ApiPropertyOptional({ type: [SortByDto] }) @Allow() sortby?: SortByDto[];
  @ApiPropertyOptional({ type: FieldsDto }) @Allow() fields?: FieldsDto;
  @ApiPropertyOptional({
    description: 'CQL2 JSON (default) or CQL2 text with filter-lang=cql2-text',
    oneOf: [{ type: 'object', additionalProperties: true }, { type: 'string' }],
    example: {
      op: 'and',
      args: [
        { op: '>=', args: [{ property: 'view:azimuth' }, 80] },
        { op: 's_intersects', args: [{ property: 'geometry' }, { type: 'Point', coordinates: [2.35, 48.85] }] },
      ],
    },
  })
  @Allow()
  filter?: unknown;
  @ApiPropertyOptional({ name: 'filter-lang', enum: ['cql2-json', 'cql2-text'] }) @Allow() 'filter-lang'?: string;
  @ApiPropertyOptional({ name: 'filter-crs', enum: ['http://www.opengis.net/def/crs/OGC/1.3/CRS84'] }) @Allow() 'filter-crs'?: string;
  @ApiPropertyOptional({ oneOf: [{ type: 'string' }, { type: 'array', items: { type: 'string' } }], description: 'Free-text terms, any of which may match' }) @Allow() q?:
    string | string[];
  @ApiPropertyOptional(TOKEN_DOC) @Allow() token?: string;
}

export class ItemCollectionDto {
  @ApiProperty({ example: 'FeatureCollection' }) type: 'FeatureCollection';
  @ApiProperty({ type: [StacItemDto] }) features: StacItemDto[];
  @ApiProperty({ type: [StacLinkDto], description: '`self`, `root`, and `next` / `prev` (with `method` and `body` for POST searches)' }) links: StacLinkDto[];
  @ApiProperty({ example: 10 }) numberReturned: number;
  @ApiProperty({ example: 1234, description: 'Exact up to 10000 matches; above, the planner’s estimate (see numberMatchedEstimated)' }) numberMatched: number;
  @ApiProperty({ description: 'True when numberMatched is an estimate' }) numberMatchedEstimated: boolean;
}

export class CollectionsDto {
  @ApiProperty({ type: [StacCollectionDto] }) collections: StacCollectionDto[];
  @ApiProperty({ type: [StacLinkDto] }) links: StacLinkDto[];
  @ApiProperty() numberReturned: number;
  @ApiProperty() numberMatched: number;
  @ApiProperty() numberMatchedEstimated: boolean;
}

export class LandingPageDto {
  @ApiProperty({ example: 'Catalog' }) type: 'Catalog';
  @ApiProperty({ example: STAC_VERSION }) stac_version: string;
  @ApiProperty({ example: 'sightline' }) id: string;
  @ApiProperty() title: string;
  @ApiProperty() description: string;
  @ApiProperty({ type: [String] }) conformsTo: string[];
  @ApiProperty({ type: [StacLinkDto] }) links: StacLinkDto[];
}

export class ConformanceDto {
  @ApiProperty({ type: [String] }) conformsTo: string[];
}

export class QueryablesDto {
  @ApiProperty({ example: 'https://json-schema.org/draft/2019-09/schema' }) $schema: string;
  @ApiProperty() $id: string;
  @ApiProperty({ example: 'object' }) type: 'object';
  @ApiProperty() title: string;
  @ApiProperty({ type: 'object', additionalProperties: true }) properties: Record<string, unknown>;
  @ApiProperty({ example: false, description: 'Only the listed names may be used in filter and sortby' }) additionalProperties: boolean;
}
