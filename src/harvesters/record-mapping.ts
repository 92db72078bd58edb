import { createHash } from 'node:crypto';
import type { Geometry } from '../database/geometry.js';
import type { RemoteLink, RemoteRecord } from './harvester-type.js';

/** The item kind and collection kind of harvested content. */
export const HARVESTED_KIND = 'harvested';

/** Links of a remote record replaced by the local item's own. */
const LOCAL_RELS = new Set(['self', 'root', 'parent', 'collection', 'items']);

const GEOMETRY_TYPES = new Set(['Point', 'LineString', 'Polygon', 'MultiPoint', 'MultiLineString', 'MultiPolygon', 'GeometryCollection']);

/** A problem with a remote record that makes it a failed record (stage `map`). */
export class MappingError extends Error {}

/** JSON with object keys sorted at every depth: equal content gives equal text. */
export function canonicalJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map((v) => canonicalJson(v === undefined ? null : v)).join(',')}]`;
  if (value && typeof value === 'object') {
    const entries = Object.entries(value as Record<string, unknown>)
      .filter(([, v]) => v !== undefined)
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${canonicalJson(v)}`).join(',')}}`;
  }
  return JSON.stringify(value ?? null);
}

/** SHA-256 of a record's canonical JSON. */
export function contentHash(record: RemoteRecord): string {
  const content = record.content ?? {
    geometry: record.geometry,
    properties: record.properties,
    assets: record.assets ?? {},
    links: record.links ?? [],
    stac_extensions: record.stac_extensions ?? [],
  };
  return createHash('sha256').update(canonicalJson(content)).digest('hex');
}

function checkPosition(position: unknown, path: string): void {
  if (!Array.isArray(position) || position.length < 2 || position.length > 4 || !position.every((n) => typeof n === 'number' && Number.isFinite(n))) {
    throw new MappingError(`${path} is not a position [lon, lat]`);
  }
  const [lon, lat] = position as number[];
  if (Math.abs(lon) > 540 || Math.abs(lat) > 90) throw new MappingError(`${path} [${lon}, ${lat}] is outside longitude/latitude ranges`);
}

function checkPositions(value: unknown, depth: number, path: string, minLength = 1): void {
  if (!Array.isArray(value)) throw new MappingError(`${path} is not an array`);
  if (depth === 0) return checkPosition(value, path);
  if (value.length < minLength) throw new MappingError(`${path} has ${value.length} positions, fewer than ${minLength}`);
  value.forEach((v, i) => checkPositions(v, depth - 1, `${path}[${i}]`, depth === 2 && minLength === 4 ? 4 : 1));
}

/** A GeoJSON geometry PostGIS will accept (types, nesting, finite coordinates, closed rings), or a MappingError. */
export function checkGeometry(value: unknown, path = 'geometry', depth = 0): Geometry {
  if (!value || typeof value !== 'object' || Array.isArray(value)) throw new MappingError(`${path} is not a GeoJSON geometry`);
  const geometry = value as Geometry;
  if (!GEOMETRY_TYPES.has(geometry.type)) throw new MappingError(`${path} has an unknown type ${JSON.stringify(geometry.type)}`);
  const c = geometry.coordinates;
  switch (geometry.type) {
    case 'Point':
      checkPosition(c, `${path}.coordinates`);
      break;
    case 'MultiPoint':
      checkPositions(c, 1, `${path}.coordinates`);
      break;
    case 'LineString':
      checkPositions(c, 1, `${path}.coordinates`, 2);
      break;
    case 'MultiLineString':
      checkPositions(c, 2, `${path}.coordinates`);
      break;
    case 'Polygon':
      checkRings(c, `${path}.coordinates`);
      break;
    case 'MultiPolygon':
      if (!Array.isArray(c) || !c.length) throw new MappingError(`${path}.coordinates has no polygon`);
      c.forEach((p, i) => checkRings(p, `${path}.coordinates[${i}]`));
      break;
    case 'GeometryCollection':
      if (depth > 2 || !Array.isArray(geometry.geometries)) throw new MappingError(`${path}.geometries is not a list of geometries`);
      geometry.geometries.forEach((g, i) => checkGeometry(g, `${path}.geometries[${i}]`, depth + 1));
      break;
  }
  return geometry;
}

function checkRings(value: unknown, path: string): void {
  if (!Array.isArray(value) || !value.length) throw new MappingError(`${path} has no ring`);
  value.forEach((ring, i) => {
    checkPositions(ring, 1, `${path}[${i}]`, 4);
    const first = (ring as number[][])[0];
    const last = (ring as number[][])[(ring as number[][]).length - 1];
    if (first[0] !== last[0] || first[1] !== last[1]) throw new MappingError(`${path}[${i}] is not closed`);
  });
}

/** A date-time string of the record, or null; garbage is a MappingError. */
export function parseDatetime(value: unknown, field: string): Date | null {
  if (value === null || value === undefined || value === '') return null;
  if (typeof value !== 'string') throw new MappingError(`${field} is not a date-time string`);
  const time = Date.parse(value);
  if (Number.isNaN(time)) throw new MappingError(`${field} ${JSON.stringify(value.slice(0, 60))} is not a date-time`);
  const date = new Date(time);
  if (date.getUTCFullYear() < 1 || date.getUTCFullYear() > 9999) throw new MappingError(`${field} ${value.slice(0, 60)} is out of range`);
  return date;
}

function absolute(href: unknown, base: string | null, what: string): string {
  if (typeof href !== 'string' || !href) throw new MappingError(`${what} has no href`);
  try {
    const url = base ? new URL(href, base) : new URL(href);
    if (!['http:', 'https:', 's3:', 'gs:', 'ftp:'].includes(url.protocol)) throw new MappingError(`${what} href ${JSON.stringify(href.slice(0, 100))} is not a web address`);
    return url.toString();
  } catch (error) {
    if (error instanceof MappingError) throw error;
    throw new MappingError(`${what} href ${JSON.stringify(href.slice(0, 100))} is not an absolute URL`);
  }
}

/** Assets with absolute hrefs (relative ones resolved against the record's address). */
export function absoluteAssets(assets: RemoteRecord['assets'], base: string | null): Record<string, Record<string, unknown>> {
  const out: Record<string, Record<string, unknown>> = {};
  for (const [key, asset] of Object.entries(assets ?? {})) {
    if (!asset || typeof asset !== 'object') throw new MappingError(`asset ${key} is not an object`);
    out[key] = { ...asset, href: absolute(asset.href, base, `asset ${key}`) };
  }
  return out;
}

/** The remote's links worth keeping (absolute), then a `via` link to the record at its source. */
export function itemLinks(record: RemoteRecord): RemoteLink[] {
  const links: RemoteLink[] = [];
  for (const link of record.links ?? []) {
    if (!link || typeof link.rel !== 'string' || LOCAL_RELS.has(link.rel) || link.rel === 'via') continue;
    try {
      links.push({ ...link, href: absolute(link.href, record.remoteUrl, `link ${link.rel}`) });
    } catch {
      // A link that cannot be made absolute is left out (it would point into this API).
    }
  }
  if (record.remoteUrl) links.push({ rel: 'via', href: record.remoteUrl, title: 'The record at its source' });
  return links;
}

/** Provenance properties of a harvested item. */
export interface Provenance {
  harvesterId: string;
  sessionId: string;
  remoteId: string;
  remoteUrl: string | null;
  remoteUpdated: string | null;
  contentHash: string;
}

/** The STAC fields of the local item: remote properties (datetime apart) plus provenance. */
export function itemFields(record: RemoteRecord, provenance: Provenance) {
  const geometry = record.geometry === null || record.geometry === undefined ? null : checkGeometry(record.geometry);
  const { datetime: rawDatetime, ...properties } = record.properties ?? {};
  const datetime = parseDatetime(rawDatetime, 'datetime');
  // Checked, kept as they are. A record with no time at all (metadata records often have none) is
  // kept too: STAC shows its local publication time as its datetime, as for any item without one.
  parseDatetime(properties.start_datetime, 'start_datetime');
  parseDatetime(properties.end_datetime, 'end_datetime');
  return {
    geometry,
    datetime,
    properties: <Record<string, unknown>>{
      ...properties,
      'harvest:harvester_id': provenance.harvesterId,
      'harvest:session_id': provenance.sessionId,
      'harvest:remote_id': provenance.remoteId,
      'harvest:remote_url': provenance.remoteUrl,
      'harvest:remote_updated': provenance.remoteUpdated,
      'harvest:content_hash': provenance.contentHash,
      'harvest:harvested_at': new Date().toISOString(),
    },
    assets: absoluteAssets(record.assets, record.remoteUrl),
    links: itemLinks(record),
    extensions: (record.stac_extensions ?? []).filter((e) => typeof e === 'string' && /^https?:\/\//.test(e)),
  };
}
