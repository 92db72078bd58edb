import type { Geometry } from '../../../database/geometry.js';
import type { Listed, RemoteLink } from '../../harvester-type.js';
import { absoluteHref } from '../common/absolute-href.js';
import { checkedGeometry } from '../common/geometry-check.js';
import { htmlToText } from '../common/html-to-text.js';

/** A GeoNode resource as its API v2 lists it (GeoNode 3 layers/maps/documents, GeoNode 4 resources). */
export type GeoNodeResource = Record<string, unknown>;

/** Where a listed resource came from: the GeoNode's base URL, its API version and list endpoint. */
export interface GeoNodeSource {
  /** The GeoNode's address, with a trailing slash (`https://geonode.example.org/`). */
  base: string;
  /** The page the resource was listed on: relative addresses are resolved against it. */
  pageUrl: string;
  apiVersion: 3 | 4;
  /** The API path segment of the detail route (`layers`, `maps`, `documents`, `resources`). */
  endpoint: string;
}

const GEOTIFF = 'image/tiff; application=geotiff';
const LON_LAT_SRIDS = new Set(['EPSG:4326', '4326', 'CRS84', 'OGC:CRS84', 'URN:OGC:DEF:CRS:OGC:1.3:CRS84', 'URN:OGC:DEF:CRS:EPSG::4326']);
const WEB_MERCATOR_SRIDS = new Set(['EPSG:3857', '3857', 'EPSG:900913', '900913', 'EPSG:3785', 'EPSG:102100']);
const EARTH_RADIUS = 6378137;

// SPDX identifiers GeoNode instances use as license identifiers; anything else is `other`.
const SPDX = /^(CC0-1\.0|CC-BY(-SA|-NC|-ND|-NC-SA|-NC-ND)?-[1-4]\.0|ODbL-1\.0|ODC-By-1\.0|PDDL-1\.0|etalab-2\.0|OGL-UK-3\.0|MIT|Apache-2\.0)$/i;

const text = (value: unknown): string | null => (typeof value === 'string' && value.trim() ? value.trim() : null);

function isoDate(value: unknown): string | null {
  const t = text(value);
  if (!t) return null;
  const ms = Date.parse(t);
  return Number.isNaN(ms) ? null : new Date(ms).toISOString();
}

function identifier(value: unknown): string | null {
  if (typeof value === 'string') return text(value);
  if (value && typeof value === 'object') return text((value as { identifier?: unknown }).identifier);
  return null;
}

function normalisedSrid(value: unknown): string | null {
  if (typeof value === 'number') return `EPSG:${value}`;
  const t = text(value);
  return t ? t.toUpperCase() : null;
}

/** `SRID=4326;POLYGON((x y, …))` (GeoNode serializes some bbox fields as EWKT): the polygon, or null. */
function polygonFromEwkt(value: string): { srid: string | null; geometry: Geometry } | null {
  const m = /^\s*(?:SRID=(\d+);)?\s*POLYGON\s*\(\s*\((.*)\)\s*\)\s*$/i.exec(value);
  if (!m) return null;
  const ring = m[2].split(',').map((pair) => pair.trim().split(/\s+/).map(Number));
  if (ring.some((p) => p.length < 2 || p.some((n) => !Number.isFinite(n)))) return null;
  return { srid: m[1] ? `EPSG:${m[1]}` : null, geometry: { type: 'Polygon', coordinates: [ring] } };
}

function mapCoordinates(coordinates: unknown, fn: (p: number[]) => number[]): unknown {
  if (!Array.isArray(coordinates)) return coordinates;
  if (coordinates.length && typeof coordinates[0] === 'number') return fn(coordinates as number[]);
  return coordinates.map((c) => mapCoordinates(c, fn));
}

function fromWebMercator([x, y, ...rest]: number[]): number[] {
  const lon = (x / EARTH_RADIUS) * (180 / Math.PI);
  const lat = (2 * Math.atan(Math.exp(y / EARTH_RADIUS)) - Math.PI / 2) * (180 / Math.PI);
  return [Math.max(-180, Math.min(180, lon)), Math.max(-90, Math.min(90, lat)), ...rest];
}

/**
 * The resource's footprint in lon/lat: `ll_bbox_polygon` (GeoNode 4, already WGS 84), else
 * `bbox_polygon` when its `srid` is lon/lat (or Web Mercator, converted exactly), else the
 * `extent` box of the same CRSs. A footprint in another CRS with no lon/lat polygon gives null
 * geometry (the record stays searchable by text and time), never a guess.
 */
export function geonodeGeometry(resource: GeoNodeResource): { geometry: Geometry | null; note?: string } | { error: string } {
  const srid = normalisedSrid(resource.srid);
  const candidates: { value: unknown; srid: string | null; field: string }[] = [
    { value: resource.ll_bbox_polygon, srid: 'EPSG:4326', field: 'll_bbox_polygon' },
    { value: resource.bbox_polygon, srid, field: 'bbox_polygon' },
  ];
  const extent = resource.extent as { coords?: unknown; srid?: unknown } | undefined;
  if (extent && Array.isArray(extent.coords) && extent.coords.length === 4) {
    const [w, s, e, n] = extent.coords as number[];
    const box = [
      [w, s],
      [e, s],
      [e, n],
      [w, n],
      [w, s],
    ];
    candidates.push({ value: { type: 'Polygon', coordinates: [box] }, srid: normalisedSrid(extent.srid) ?? srid, field: 'extent' });
  }
  let note: string | undefined;
  for (const candidate of candidates) {
    let value = candidate.value;
    let crs = candidate.srid;
    if (value === null || value === undefined || value === '') continue;
    if (typeof value === 'string') {
      const parsed = polygonFromEwkt(value);
      if (!parsed) return { error: `${candidate.field} is neither GeoJSON nor an EWKT polygon: ${JSON.stringify(value.slice(0, 80))}` };
      value = parsed.geometry;
      crs = parsed.srid ?? crs;
    }
    if (crs === null || LON_LAT_SRIDS.has(crs)) {
      const checked = checkedGeometry(value);
      return 'error' in checked ? { error: `${candidate.field}: ${checked.error}` } : { geometry: checked.geometry };
    }
    if (WEB_MERCATOR_SRIDS.has(crs)) {
      const g = value as Geometry;
      const checked = checkedGeometry({ ...g, coordinates: mapCoordinates(g.coordinates, fromWebMercator) });
      return 'error' in checked ? { error: `${candidate.field} (${crs}): ${checked.error}` } : { geometry: checked.geometry };
    }
    note ??= `${candidate.field} is in ${crs}, not lon/lat: no footprint`;
  }
  return { geometry: null, note };
}

function mediaType(mime: string | null, extension: string | null, name: string | null): string | undefined {
  const ext = (extension ?? '').toLowerCase();
  const lower = (mime ?? '').toLowerCase();
  if (lower.includes('geotiff') || /geotiff/i.test(name ?? '') || lower === 'image/tiff' || ext === 'tif' || ext === 'tiff') return GEOTIFF;
  if (mime) return mime;
  const byExtension: Record<string, string> = {
    zip: 'application/zip',
    json: 'application/json',
    geojson: 'application/geo+json',
    gpkg: 'application/geopackage+sqlite3',
    csv: 'text/csv',
    pdf: 'application/pdf',
    png: 'image/png',
    jpg: 'image/jpeg',
    jpeg: 'image/jpeg',
    kml: 'application/vnd.google-earth.kml+xml',
    xml: 'application/xml',
  };
  return byExtension[ext];
}

function imageType(url: string): string | undefined {
  const path = url.split('?')[0].toLowerCase();
  if (path.endsWith('.png')) return 'image/png';
  if (path.endsWith('.jpg') || path.endsWith('.jpeg')) return 'image/jpeg';
  if (path.endsWith('.webp')) return 'image/webp';
  return undefined;
}

function slug(value: string): string {
  return (
    value
      .toLowerCase()
      .replace(/[^a-z0-9]+/g, '-')
      .replace(/^-|-$/g, '')
      .slice(0, 40) || 'data'
  );
}

const OGC_RELS: Record<string, string> = { 'OGC:WMS': 'wms', 'OGC:WFS': 'wfs', 'OGC:WCS': 'wcs', 'OGC:WMTS': 'wmts' };

/** Assets and links of a resource: thumbnail, download links (GeoNode 4 `links[]`, `download_url(s)`), OGC services, pages. */
function assetsAndLinks(resource: GeoNodeResource, source: GeoNodeSource) {
  const assets: Record<string, Record<string, unknown>> = {};
  const links: RemoteLink[] = [];
  const hrefs = new Set<string>();
  const addAsset = (key: string, asset: Record<string, unknown>) => {
    if (hrefs.has(asset.href as string)) return;
    hrefs.add(asset.href as string);
    let name = key;
    for (let i = 2; name in assets; i++) name = `${key}-${i}`;
    assets[name] = Object.fromEntries(Object.entries(asset).filter(([, v]) => v !== undefined));
  };
  const thumbnail = absoluteHref(resource.thumbnail_url, source.pageUrl);
  // GeoNode answers its placeholder image for resources without a thumbnail.
  if (thumbnail && !/missing_thumb/.test(thumbnail)) addAsset('thumbnail', { href: thumbnail, type: imageType(thumbnail), title: 'Thumbnail', roles: ['thumbnail'] });

  for (const raw of Array.isArray(resource.links) ? resource.links : []) {
    if (!raw || typeof raw !== 'object') continue;
    const link = raw as Record<string, unknown>;
    const href = absoluteHref(link.url, source.pageUrl);
    if (!href) continue;
    const kind = text(link.link_type) ?? '';
    const name = text(link.name);
    const mime = text(link.mime);
    if (kind === 'data' || kind === 'original') {
      addAsset(slug(name ?? text(link.extension) ?? kind), { href, type: mediaType(mime, text(link.extension), name), title: name ?? undefined, roles: ['data'] });
    } else if (OGC_RELS[kind.toUpperCase()]) {
      links.push({ rel: OGC_RELS[kind.toUpperCase()], href, ...(mime ? { type: mime } : {}), title: name ?? kind });
    } else if (kind === 'metadata') {
      links.push({ rel: 'describedby', href, ...(mime ? { type: mime } : {}), ...(name ? { title: name } : {}) });
    } else if (kind === 'html') {
      links.push({ rel: 'alternate', href, type: 'text/html', ...(name ? { title: name } : {}) });
    }
  }
  const downloads: unknown[] = [resource.download_url, ...(Array.isArray(resource.download_urls) ? resource.download_urls.map((d) => (d as { url?: unknown } | null)?.url) : [])];
  for (const candidate of downloads) {
    const href = absoluteHref(candidate, source.pageUrl);
    if (href) addAsset('download', { href, type: mediaType(null, text(resource.extension), null), title: 'Download', roles: ['data'] });
  }
  const page = absoluteHref(resource.detail_url, source.base);
  if (page && !links.some((l) => l.href === page)) links.push({ rel: 'alternate', href: page, type: 'text/html', title: 'GeoNode page' });
  const embed = absoluteHref(resource.embed_url, source.base);
  if (embed) links.push({ rel: 'alternate', href: embed, type: 'text/html', title: 'Embeddable view' });
  return { assets, links };
}

function keywords(resource: GeoNodeResource): string[] {
  const names = new Set<string>();
  for (const k of Array.isArray(resource.keywords) ? resource.keywords : []) {
    const name = typeof k === 'string' ? text(k) : text((k as { name?: unknown } | null)?.name);
    if (name) names.add(name);
  }
  // Thesaurus keywords: their English label reads better than their slug-like name.
  for (const k of Array.isArray(resource.tkeywords) ? resource.tkeywords : []) {
    const t = k as { name?: unknown; i18n?: Record<string, unknown> } | null;
    const name = text(t?.i18n?.en) ?? text(t?.name);
    if (name) names.add(name);
  }
  return [...names];
}

/**
 * One GeoNode resource as a remote record: identified by its uuid (else its pk, never its
 * title), with its footprint, dates, keywords, category, license, thumbnail, downloads and OGC
 * service links. What cannot be mapped is a failure, never a throw.
 */
export function geonodeRecord(resource: unknown, source: GeoNodeSource, position: string): Listed {
  if (!resource || typeof resource !== 'object' || Array.isArray(resource)) {
    return { failure: { remoteId: position, error: 'a listed resource is not a JSON object', stage: 'parse' } };
  }
  const r = resource as GeoNodeResource;
  const pk = typeof r.pk === 'number' || typeof r.pk === 'string' ? String(r.pk).trim() : '';
  const remoteId = text(r.uuid) ?? (pk || null);
  if (!remoteId) return { failure: { remoteId: position, error: 'the resource has neither a uuid nor a pk', stage: 'map' } };
  const footprint = geonodeGeometry(r);
  if ('error' in footprint) return { failure: { remoteId, error: footprint.error, stage: 'map' } };

  const date = isoDate(r.date);
  const created = isoDate(r.created);
  const updated = isoDate(r.last_updated);
  const start = isoDate(r.temporal_extent_start);
  const end = isoDate(r.temporal_extent_end);
  const datetime = date ?? created ?? updated;
  if (!datetime && !(start && end)) return { failure: { remoteId, error: 'the resource has no date (date, created, last_updated)', stage: 'map' } };

  const abstract = text(r.raw_abstract) ?? (text(r.abstract) ? htmlToText(r.abstract as string) : null);
  const license = identifier(r.license);
  const srid = normalisedSrid(r.srid);
  const subtype = text(r.subtype) ?? text(r.storeType);
  const properties: Record<string, unknown> = {
    title: text(r.title) ?? text(r.name) ?? remoteId,
    ...(abstract ? { description: abstract } : {}),
    datetime: start && end ? null : datetime,
    ...(start && end ? { start_datetime: start, end_datetime: end } : {}),
    ...(created ? { created } : {}),
    ...(updated ? { updated } : {}),
    keywords: keywords(r),
    ...(license && license !== 'not_specified' ? { license: SPDX.test(license) ? license : 'other', 'geonode:license': license } : {}),
    ...(text(r.date_type) ? { 'geonode:date_type': text(r.date_type) } : {}),
    ...(identifier(r.category) ? { 'geonode:category': identifier(r.category) } : {}),
    ...(srid ? { 'geonode:srid': srid } : {}),
    ...(text(r.resource_type) ? { 'geonode:resource_type': text(r.resource_type) } : {}),
    ...(subtype ? { 'geonode:subtype': subtype } : {}),
    ...(text(r.alternate) ? { 'geonode:alternate': text(r.alternate) } : {}),
    ...(pk ? { 'geonode:pk': pk } : {}),
    ...(text(r.doi) ? { 'geonode:doi': text(r.doi) } : {}),
    ...(text(r.language) ? { 'geonode:language': text(r.language) } : {}),
    ...(text((r.owner as { username?: unknown } | null)?.username) ? { 'geonode:owner': text((r.owner as { username?: unknown }).username) } : {}),
    ...(text(r.attribution) ? { 'geonode:attribution': text(r.attribution) } : {}),
    ...(footprint.note ? { 'geonode:footprint': footprint.note } : {}),
  };
  const regions = (Array.isArray(r.regions) ? r.regions : []).map((g) => text((g as { name?: unknown } | null)?.name)).filter((n): n is string => !!n);
  if (regions.length) properties['geonode:regions'] = regions;

  const { assets, links } = assetsAndLinks(r, source);
  const detail = absoluteHref(r.link, source.pageUrl) ?? (pk ? new URL(`api/v2/${source.endpoint}/${encodeURIComponent(pk)}/`, source.base).toString() : null);
  return {
    record: {
      remoteId,
      remoteUrl: detail,
      remoteUpdated: updated ?? date,
      geometry: footprint.geometry,
      properties,
      assets,
      links,
    },
  };
}
