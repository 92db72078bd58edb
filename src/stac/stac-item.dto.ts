import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { STAC_VERSION } from './conformance.js';
import type { ItemRow } from '../catalog/catalog-search.service.js';
import { itemExtensions } from './stac-extensions.js';
import { GEOJSON_TYPE, JSON_TYPE, licenseLink, type StacLink, StacLinks, utcText } from './stac-links.js';
import type { FieldsSpec } from './search-request.js';

export class StacLinkDto {
  @ApiProperty({ example: 'self' }) rel: string;
  @ApiProperty({ example: 'https://example.org/api/collections/…' }) href: string;
  @ApiPropertyOptional({ example: 'application/json' }) type?: string;
  @ApiPropertyOptional() title?: string;
  @ApiPropertyOptional({ enum: ['GET', 'POST'], description: 'For search links: the HTTP method to use' }) method?: string;
  @ApiPropertyOptional({ type: 'object', additionalProperties: true, description: 'For POST paging links: the body to send' }) body?: Record<string, unknown>;
  @ApiPropertyOptional({ description: 'For POST paging links: whether to merge `body` into the previous request body' }) merge?: boolean;
}

/** A STAC Item (GeoJSON Feature). */
export class StacItemDto {
  @ApiProperty({ example: 'Feature' }) type: 'Feature';
  @ApiProperty({ example: STAC_VERSION }) stac_version: string;
  @ApiProperty({ type: [String], example: ['https://stac-extensions.github.io/view/v1.0.0/schema.json'] }) stac_extensions: string[];
  @ApiProperty({ format: 'uuid' }) id: string;
  @ApiProperty({ format: 'uuid' }) collection: string;
  @ApiProperty({ type: 'object', nullable: true, additionalProperties: true, description: 'GeoJSON geometry (WGS 84)' }) geometry: Record<string, unknown> | null;
  @ApiPropertyOptional({ type: [Number], example: [2.35, 48.85, 2.35, 48.85] }) bbox?: number[];
  @ApiProperty({
    type: 'object',
    additionalProperties: true,
    description: '`datetime`, `created`, `updated`, `license` and extension fields (`view:azimuth`, `pers:interior_orientation`, `proj:code`…)',
  })
  properties: Record<string, unknown>;
  @ApiProperty({ type: 'object', additionalProperties: true, description: 'Assets by key (`hd`, `sd`, `thumb` for pictures); hrefs are absolute' })
  assets: Record<string, Record<string, unknown>>;
  @ApiProperty({ type: [StacLinkDto] }) links: StacLinkDto[];
}

export type StacItem = StacItemDto & Record<string, unknown>;

/**
 * A title for an item its source gave none (a picture): its collection, its position there
 * (zero-padded, so that sorting by title keeps the order) and its time, e.g.
 * `Rue de la Paix · 07/30 · 2021-06-01 10:00:10 UTC`.
 */
export function derivedTitle(row: Pick<ItemRow, 'collection_title' | 'collection_item_count' | 'rank' | 'datetime' | 'id'>): string {
  const parts = [row.collection_title];
  if (row.rank !== null) {
    const width = String(Math.max(row.collection_item_count, row.rank)).length;
    parts.push(`${String(row.rank).padStart(width, '0')}/${String(Math.max(row.collection_item_count, row.rank)).padStart(width, '0')}`);
  }
  const time = utcText(row.datetime);
  parts.push(time ? `${time.slice(0, 10)} ${time.slice(11, 19)} UTC` : row.id);
  return parts.join(' · ');
}

/**
 * RFC 7946 §5.2: a geometry split at the antimeridian (a MultiPolygon with parts on both sides
 * touching ±180°) has a bbox whose west edge is greater than its east edge, e.g.
 * [174.57, -41.4, -178.14, -40.2], not [-180, …, 180, …]. Other geometries keep their envelope.
 */
export function antimeridianBbox(geometry: Record<string, unknown>, envelope: number[]): number[] {
  const [west, south, east, north] = envelope as [number, number, number, number];
  if (geometry.type !== 'MultiPolygon' || west > -180 || east < 180) return envelope;
  const parts = (geometry.coordinates as number[][][][]).map((polygon) => {
    const xs = polygon[0]!.map((p) => p[0]!);
    return { min: Math.min(...xs), max: Math.max(...xs) };
  });
  const eastern = parts.filter((p) => p.max >= 180);
  const western = parts.filter((p) => p.min <= -180);
  // Parts on both sides of the line, and nothing spanning the whole world.
  if (!eastern.length || !western.length || parts.some((p) => p.min <= -180 && p.max >= 180)) return envelope;
  const w = Math.min(...eastern.map((p) => p.min), ...parts.filter((p) => p.min > 0).map((p) => p.min));
  const e = Math.max(...western.map((p) => p.max), ...parts.filter((p) => p.max < 0).map((p) => p.max));
  return w > e ? [w, south, e, north] : envelope;
}

/** Renders an item row as a STAC Item. */
export function toStacItem(row: ItemRow, links: StacLinks): StacItem {
  const stored = row.properties ?? {};
  const assets: Record<string, Record<string, unknown>> = {};
  for (const [key, asset] of Object.entries(row.assets ?? {})) {
    assets[key] = asset && typeof asset === 'object' ? { ...asset, href: links.assetHref(asset.href) } : asset;
  }
  const ext = itemExtensions(stored, assets, row.stac_extensions);
  const properties: Record<string, unknown> = { ...ext.properties };
  // The view extension wants an azimuth in [0, 360]; a heading of -10 is 350.
  const azimuth = properties['view:azimuth'];
  if (typeof azimuth === 'number' && (azimuth < 0 || azimuth > 360)) properties['view:azimuth'] = ((azimuth % 360) + 360) % 360;
  const hasRange = typeof properties.start_datetime === 'string' && typeof properties.end_datetime === 'string';
  // A STAC item needs a datetime unless it has a range; fall back to its publication time.
  properties.datetime = utcText(row.datetime) ?? (hasRange ? null : utcText(row.created));
  properties.created = utcText(row.created);
  properties.updated = utcText(row.updated);
  if (typeof properties.license !== 'string') properties.license = row.collection_license;
  if (typeof properties.title !== 'string' || !properties.title.trim()) properties.title = derivedTitle(row);

  const self = links.item(row.collection_id, row.id);
  const itemLinks: StacLink[] = [
    { rel: 'self', href: self, type: GEOJSON_TYPE },
    { rel: 'parent', href: links.collection(row.collection_id), type: JSON_TYPE },
    { rel: 'collection', href: links.collection(row.collection_id), type: JSON_TYPE },
    links.rootLink(),
  ];
  if (row.prev_id) itemLinks.push({ rel: 'prev', href: links.item(row.collection_id, row.prev_id), type: GEOJSON_TYPE, title: 'Previous picture in the sequence' });
  if (row.next_id) itemLinks.push({ rel: 'next', href: links.item(row.collection_id, row.next_id), type: GEOJSON_TYPE, title: 'Next picture in the sequence' });
  // Links its source stored with the item (a dataset's XYZ tiles: web-map-links), hrefs relative to the API root.
  for (const l of row.links ?? []) {
    if (l && typeof l.rel === 'string' && typeof l.href === 'string') itemLinks.push({ ...l, href: links.assetHref(l.href) as string });
  }
  const license = licenseLink(String(properties.license), stored.license_url);
  if (license) itemLinks.push(license);
  delete properties.license_url;

  const item: StacItem = {
    type: 'Feature',
    stac_version: STAC_VERSION,
    stac_extensions: ext.stacExtensions,
    id: row.id,
    collection: row.collection_id,
    geometry: row.geometry,
    properties,
    assets: ext.assets,
    links: itemLinks,
  };
  // Rounded like the geometry (ST_AsGeoJSON, 9 decimals), so that the two agree.
  if (row.bbox && row.geometry) item.bbox = antimeridianBbox(row.geometry, row.bbox.map(Number)).map((v) => Math.round(v * 1e9) / 1e9);
  return item;
}

/** The default set kept by `fields` (Fields extension, rule 1): still a valid item. */
const DEFAULT_ITEM_FIELDS = ['type', 'stac_version', 'stac_extensions', 'id', 'collection', 'geometry', 'bbox', 'links', 'assets', 'properties.datetime'];
/** An item with a time range instead of a datetime keeps its range (rule 1). */
const DEFAULT_RANGE_FIELDS = ['properties.start_datetime', 'properties.end_datetime'];
export const DEFAULT_COLLECTION_FIELDS = ['type', 'stac_version', 'stac_extensions', 'id', 'title', 'description', 'license', 'extent', 'links'];

function getPath(obj: Record<string, unknown>, path: string[]): { found: boolean; value?: unknown } {
  let cur: unknown = obj;
  for (const part of path) {
    if (!cur || typeof cur !== 'object' || !(part in (cur as Record<string, unknown>))) return { found: false };
    cur = (cur as Record<string, unknown>)[part];
  }
  return { found: true, value: cur };
}

/** Splits `properties.eo:cloud_cover` into path parts (keys may contain dots after the first level only for properties/assets). */
function splitField(field: string): string[] {
  const [head, ...rest] = field.split('.');
  if ((head === 'properties' || head === 'assets') && rest.length) {
    const tail = rest.join('.');
    if (head === 'assets') {
      const [asset, ...more] = rest;
      return more.length ? [head, asset, more.join('.')] : [head, asset];
    }
    return [head, tail];
  }
  return field.split('.');
}

function copyField(doc: Record<string, unknown>, out: Record<string, unknown>, field: string): void {
  const path = splitField(field);
  const { found, value } = getPath(doc, path);
  if (!found) return;
  let cur = out;
  for (const part of path.slice(0, -1)) {
    if (!cur[part] || typeof cur[part] !== 'object') cur[part] = {};
    cur = cur[part] as Record<string, unknown>;
  }
  const last = path[path.length - 1];
  cur[last] = value && typeof value === 'object' && !Array.isArray(value) ? { ...(cur[last] as object), ...structuredClone(value) } : structuredClone(value);
}

function isBelow(path: string[], ancestor: string[]): boolean {
  return path.length > ancestor.length && ancestor.every((part, i) => path[i] === part);
}

/**
 * Fields extension (stac-api-extensions/fields, "Include/Exclude Semantics"): start from the
 * default set (or the whole document, `fromAll`), add `include`, then drop `exclude`, less
 * specific paths first. A field both included and excluded stays (rule 6); an included field
 * below an excluded one comes back alone (rule 5.1: `-properties,+properties.view:azimuth`
 * keeps `properties.view:azimuth` only). `stac_extensions` follows what is left.
 */
export function applyFields<T extends Record<string, unknown>>(doc: T, fields: FieldsSpec, defaults: string[]): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const field of [...(fields.fromAll ? Object.keys(doc) : defaults), ...fields.include]) copyField(doc, out, field);
  const included = fields.include.map((field) => ({ field, path: splitField(field) }));
  const excluded = fields.exclude
    .filter((field) => !fields.include.includes(field))
    .map(splitField)
    .sort((a, b) => a.length - b.length);
  for (const path of excluded) {
    const parent = getPath(out, path.slice(0, -1));
    if (parent.found && parent.value && typeof parent.value === 'object') delete (parent.value as Record<string, unknown>)[path[path.length - 1]];
    for (const inc of included) if (isBelow(inc.path, path)) copyField(doc, out, inc.field);
  }
  if (Array.isArray(out.stac_extensions)) {
    const props = (out.properties ?? {}) as Record<string, unknown>;
    const assets = (out.assets ?? {}) as Record<string, Record<string, unknown>>;
    const keys = new Set([...Object.keys(props), ...Object.values(assets).flatMap((a) => (a && typeof a === 'object' ? Object.keys(a) : [])), ...Object.keys(out)]);
    const summaries = out.summaries && typeof out.summaries === 'object' ? Object.keys(out.summaries) : [];
    for (const k of summaries) keys.add(k);
    const prefixes = new Set([...keys].map((k) => k.split(':')[0]));
    const familyPrefix: Record<string, string> = { view: 'view', 'perspective-imagery': 'pers', projection: 'proj', raster: 'raster', file: 'file', eo: 'eo' };
    out.stac_extensions = (out.stac_extensions as string[]).filter((url) => {
      const m = /^https:\/\/stac-extensions\.github\.io\/([^/]+)\//.exec(url);
      const prefix = m ? familyPrefix[m[1]] : undefined;
      return !prefix || prefixes.has(prefix);
    });
  }
  return out;
}

export function applyItemFields(item: StacItem, fields: FieldsSpec): Record<string, unknown> {
  return applyFields(item, fields, item.properties?.datetime === null ? [...DEFAULT_ITEM_FIELDS, ...DEFAULT_RANGE_FIELDS] : DEFAULT_ITEM_FIELDS);
}
