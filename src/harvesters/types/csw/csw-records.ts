import type { Geometry } from '../../../database/geometry.js';
import type { RemoteLink, RemoteRecord } from '../../harvester-type.js';
import { recordByIdUrl, type CswOutputSchema } from './csw-client.js';
import { at, child, children, descendant, descendants, type XmlElement } from './csw-xml.js';

/** A link a record gives (dct:references, dc:URI, gmd:CI_OnlineResource, gmd:MD_BrowseGraphic). */
export interface CswReference {
  url: string;
  /** dct:references `scheme`, dc:URI / CI_OnlineResource `protocol`. */
  scheme: string | null;
  name: string | null;
  description: string | null;
  /** CI_OnLineFunctionCode (download, information…). */
  function: string | null;
  /** A browse graphic (ISO graphicOverview). */
  graphic?: boolean;
}

/** What Sightline reads of a Dublin Core or ISO 19139 record, whichever the server sent. */
export interface CswRecordSummary {
  schema: CswOutputSchema;
  identifier: string | null;
  title: string | null;
  abstract: string | null;
  subjects: string[];
  /** dc:type or the ISO hierarchy level (dataset, service, series…). */
  type: string | null;
  /** CRS84 west, south, east, north; west > east when the box crosses the antimeridian. */
  bbox: [number, number, number, number] | null;
  /** Why a box the record gives could not be read (unknown CRS, values out of range). */
  bboxProblem: string | null;
  /** dc:date, or the ISO citation's creation / publication / revision date. */
  date: string | null;
  /** dct:modified or the ISO dateStamp. */
  modified: string | null;
  temporal: { start: string | null; end: string | null } | null;
  rights: string[];
  /** Addresses of licences named by the record (gmx:Anchor hrefs, dct:license). */
  licenseUrls: string[];
  formats: string[];
  references: CswReference[];
}

const uniq = (list: (string | null | undefined)[]): string[] => [...new Set(list.map((s) => s?.trim()).filter((s): s is string => !!s))];

/**
 * An instant as RFC 3339 UTC: dates and partial dates (`2014`, `2014-04`) at their start, or at
 * their last second when `end`; times without a zone read as UTC. Null when unreadable.
 */
export function toRfc3339(text: string | null | undefined, end = false): string | null {
  const value = text?.trim();
  if (!value) return null;
  const partial = /^(\d{4})(?:-(\d{2}))?(?:-(\d{2}))?$/.exec(value);
  if (partial) {
    const [, y, m, d] = partial;
    const year = Number(y);
    const month = m ? Number(m) : end ? 12 : 1;
    const lastDay = new Date(Date.UTC(year, month, 0)).getUTCDate();
    const day = d ? Number(d) : end ? lastDay : 1;
    if (month < 1 || month > 12 || day < 1 || day > lastDay) return null;
    const date = new Date(Date.UTC(year, month - 1, day, end ? 23 : 0, end ? 59 : 0, end ? 59 : 0));
    return date.toISOString().replace('.000Z', 'Z');
  }
  if (!/^\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}/.test(value)) return null;
  const zoned = /(Z|[+-]\d{2}:?\d{2})$/i.test(value) ? value : `${value}Z`;
  const ms = Date.parse(zoned.replace(' ', 'T'));
  return Number.isNaN(ms) ? null : new Date(ms).toISOString().replace('.000Z', 'Z');
}

/**
 * Whether a CRS's axes are latitude first: true for EPSG:4326 / 4258 as URNs or http URIs, false
 * for CRS84, the short `EPSG:4326` and no CRS at all, null for any other (not a lon/lat CRS).
 */
export function latitudeFirst(crs: string | undefined): boolean | null {
  if (!crs) return false;
  const c = crs.trim().toLowerCase();
  if (/crs:?84$/.test(c)) return false;
  const authoritative = /^(?:urn:(?:x-)?ogc:def:crs:epsg:[\d.]*:|https?:\/\/www\.opengis\.net\/def\/crs\/epsg\/[\d.]+\/)(\d+)$/.exec(c);
  if (authoritative) return ['4326', '4258'].includes(authoritative[1]) ? true : null;
  const short = /^epsg:(\d+)$/.exec(c);
  if (short) return ['4326', '4258'].includes(short[1]) ? false : null;
  return null;
}

function checkBox(west: number, south: number, east: number, north: number): [number, number, number, number] | string {
  if (![west, south, east, north].every(Number.isFinite)) return 'the box has non-numeric values';
  if (south < -90 || north > 90 || south > north) return `latitudes ${south}..${north} are out of range`;
  if (west < -180 || west > 180 || east < -180 || east > 180) return `longitudes ${west}..${east} are out of range`;
  return [west, south, east, north];
}

/** An ows:BoundingBox / ows:WGS84BoundingBox as a CRS84 box, with the CRS's axis order. */
function owsBox(element: XmlElement): [number, number, number, number] | string {
  const lower = child(element, 'LowerCorner')?.text.split(/\s+/).map(Number) ?? [];
  const upper = child(element, 'UpperCorner')?.text.split(/\s+/).map(Number) ?? [];
  if (lower.length < 2 || upper.length < 2) return 'the box has no LowerCorner / UpperCorner';
  const latFirst = element.name === 'WGS84BoundingBox' ? false : latitudeFirst(element.attrs.crs);
  if (latFirst === null) return `the box is in ${element.attrs.crs}, not a longitude/latitude CRS`;
  const [a, b] = lower;
  const [c, d] = upper;
  return latFirst ? checkBox(b, a, d, c) : checkBox(a, b, c, d);
}

/** West, south, east, north → a GeoJSON geometry: a point, a line, a polygon, or two polygons across the antimeridian. */
export function boxGeometry([west, south, east, north]: [number, number, number, number]): Geometry {
  const ring = (w: number, e: number) => [
    [w, south],
    [e, south],
    [e, north],
    [w, north],
    [w, south],
  ];
  if (west > east) return { type: 'MultiPolygon', coordinates: [[ring(west, 180)], [ring(-180, east)]] };
  if (west === east && south === north) return { type: 'Point', coordinates: [west, south] };
  if (west === east || south === north)
    return {
      type: 'LineString',
      coordinates: [
        [west, south],
        [east, north],
      ],
    };
  return { type: 'Polygon', coordinates: [ring(west, east)] };
}

// ---- Dublin Core (csw:Record) ----

function dcSummary(record: XmlElement): CswRecordSummary {
  const texts = (name: string) => children(record, name).map((c) => c.text);
  const first = (...names: string[]) => names.map((n) => texts(n).find(Boolean)).find(Boolean) ?? null;
  let bbox: CswRecordSummary['bbox'] = null;
  let bboxProblem: string | null = null;
  for (const box of [...children(record, 'BoundingBox'), ...children(record, 'WGS84BoundingBox')]) {
    const read = owsBox(box);
    if (typeof read === 'string') bboxProblem ??= read;
    else {
      bbox = read;
      bboxProblem = null;
      break;
    }
  }
  const references: CswReference[] = [
    ...children(record, 'references').map((r) => ({ url: r.text, scheme: r.attrs.scheme || null, name: null, description: null, function: null })),
    ...children(record, 'URI').map((r) => ({
      url: r.text,
      scheme: r.attrs.protocol || null,
      name: r.attrs.name || null,
      description: r.attrs.description || null,
      function: null,
    })),
  ].filter((r) => r.url);
  return {
    schema: 'dc',
    identifier: first('identifier'),
    title: first('title'),
    abstract: first('abstract', 'description'),
    subjects: uniq(texts('subject')),
    type: first('type'),
    bbox,
    bboxProblem,
    date: first('date', 'created', 'issued'),
    modified: first('modified'),
    temporal: null,
    rights: uniq([...texts('rights'), ...texts('accessRights')]),
    licenseUrls: uniq(texts('license')),
    formats: uniq(texts('format')),
    references,
  };
}

// ---- ISO 19139 (gmd:MD_Metadata) ----

/** The text of an ISO property: gco:CharacterString, gmx:Anchor, gco:Date… or the first localised text. */
function isoText(element: XmlElement | undefined): string | null {
  if (!element) return null;
  if (element.text) return element.text;
  for (const c of element.children) {
    if (c.name === 'PT_FreeText') continue;
    if (c.text) return c.text;
  }
  return descendant(element, 'LocalisedCharacterString')?.text || null;
}

/** A code list value (`codeListValue`, else the element's text). */
function isoCode(element: XmlElement | undefined): string | null {
  const code = element?.children[0];
  return code?.attrs.codeListValue || code?.text || null;
}

const LICENSE_HREF = /licen[cs]e|creativecommons|opendatacommons|ConditionsApplyingToAccessAndUse/i;

function isoSummary(metadata: XmlElement): CswRecordSummary {
  const identification = child(metadata, 'identificationInfo')?.children[0];
  const citation = at(identification, 'citation', 'CI_Citation');
  const subjects = [
    ...descendants(identification, 'MD_Keywords').flatMap((k) => children(k, 'keyword').map(isoText)),
    ...children(identification, 'topicCategory').map((t) => t.children[0]?.text ?? t.text),
  ];

  let bbox: CswRecordSummary['bbox'] = null;
  let bboxProblem: string | null = null;
  for (const box of descendants(identification, 'EX_GeographicBoundingBox')) {
    const value = (name: string) => Number(isoText(child(box, name)) ?? NaN);
    const read = checkBox(value('westBoundLongitude'), value('southBoundLatitude'), value('eastBoundLongitude'), value('northBoundLatitude'));
    if (typeof read === 'string') {
      bboxProblem ??= read;
      continue;
    }
    // Several boxes: their union (not across the antimeridian).
    bbox =
      bbox && bbox[0] <= bbox[2] && read[0] <= read[2]
        ? [Math.min(bbox[0], read[0]), Math.min(bbox[1], read[1]), Math.max(bbox[2], read[2]), Math.max(bbox[3], read[3])]
        : (bbox ?? read);
  }
  if (bbox) bboxProblem = null;

  let temporal: CswRecordSummary['temporal'] = null;
  const extent = descendant(identification, 'EX_TemporalExtent');
  if (extent) {
    const period = descendant(extent, 'TimePeriod');
    const position = (el: XmlElement | undefined) => (el && !el.attrs.indeterminatePosition ? el.text || null : null);
    if (period) {
      const begin = child(period, 'beginPosition') ?? descendant(child(period, 'begin'), 'timePosition');
      const end = child(period, 'endPosition') ?? descendant(child(period, 'end'), 'timePosition');
      temporal = { start: position(begin), end: position(end) };
    } else {
      const instant = descendant(extent, 'timePosition');
      if (instant?.text) temporal = { start: instant.text, end: instant.text };
    }
    if (temporal && !temporal.start && !temporal.end) temporal = null;
  }

  const citationDates = children(citation, 'date').map((d) => ({ type: isoCode(at(d, 'CI_Date', 'dateType')), value: isoText(at(d, 'CI_Date', 'date')) }));
  const citationDate = ['creation', 'publication', 'revision'].map((type) => citationDates.find((d) => d.type === type)?.value).find(Boolean) ?? null;

  const constraints = children(identification, 'resourceConstraints').flatMap((c) => c.children);
  const rights = constraints.flatMap((c) => [...children(c, 'useLimitation'), ...children(c, 'otherConstraints')].map(isoText));
  // Anchors of use conditions and licences; INSPIRE's limitations on public access are no licence.
  const licenseUrls = constraints.flatMap((c) => descendants(c, 'Anchor').map((a) => a.attrs.href)).filter((href) => href && LICENSE_HREF.test(href));

  const online = (resource: XmlElement): CswReference => ({
    url: isoText(at(resource, 'linkage')) ?? '',
    scheme: isoText(child(resource, 'protocol')),
    name: isoText(child(resource, 'name')),
    description: isoText(child(resource, 'description')),
    function: isoCode(child(resource, 'function')),
  });
  const references: CswReference[] = [
    // Transfer options only: the distributor's contact has online resources too (its web site).
    ...descendants(child(metadata, 'distributionInfo'), 'MD_DigitalTransferOptions').flatMap((t) => descendants(t, 'CI_OnlineResource').map(online)),
    ...descendants(identification, 'connectPoint').flatMap((p) => children(p, 'CI_OnlineResource').map(online)),
    ...descendants(identification, 'MD_BrowseGraphic').map((g) => ({
      url: isoText(child(g, 'fileName')) ?? '',
      scheme: isoText(child(g, 'fileType')),
      name: isoText(child(g, 'fileDescription')),
      description: null,
      function: null,
      graphic: true,
    })),
  ].filter((r) => r.url);

  return {
    schema: 'iso19139',
    identifier: isoText(child(metadata, 'fileIdentifier')),
    title: isoText(child(citation, 'title')),
    abstract: isoText(child(identification, 'abstract')),
    subjects: uniq(subjects),
    type: isoCode(child(metadata, 'hierarchyLevel')),
    bbox,
    bboxProblem,
    date: citationDate,
    modified: isoText(child(metadata, 'dateStamp')),
    temporal,
    rights: uniq(rights),
    licenseUrls: uniq(licenseUrls),
    formats: uniq(descendants(child(metadata, 'distributionInfo'), 'MD_Format').map((f) => isoText(child(f, 'name')))),
    references,
  };
}

/** Reads a csw:Record (or Summary/BriefRecord) or a gmd:MD_Metadata. */
export function summarizeRecord(element: XmlElement): CswRecordSummary {
  return element.name === 'MD_Metadata' || element.name === 'MI_Metadata' ? isoSummary(element) : dcSummary(element);
}

// ---- to a STAC item ----

const EXTENSION_TYPES: Record<string, string> = {
  tif: 'image/tiff; application=geotiff',
  tiff: 'image/tiff; application=geotiff',
  png: 'image/png',
  jpg: 'image/jpeg',
  jpeg: 'image/jpeg',
  gif: 'image/gif',
  webp: 'image/webp',
  jp2: 'image/jp2',
  nc: 'application/x-netcdf',
  zip: 'application/zip',
  csv: 'text/csv',
  json: 'application/json',
  geojson: 'application/geo+json',
  gpkg: 'application/geopackage+sqlite3',
  pdf: 'application/pdf',
  xml: 'application/xml',
  kml: 'application/vnd.google-earth.kml+xml',
  kmz: 'application/vnd.google-earth.kmz',
  laz: 'application/vnd.laszip',
  las: 'application/vnd.las',
  shp: 'application/x-shapefile',
  html: 'text/html',
  htm: 'text/html',
};

/** The known file extension of a URL's path, else of a query value (`resources.get?fname=x.png`). */
function extensionOf(url: string): string | null {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    return null;
  }
  const extension = (name: string) => /\.([a-z0-9]{2,7})$/i.exec(name)?.[1].toLowerCase() ?? null;
  const fromPath = extension(parsed.pathname);
  if (fromPath && EXTENSION_TYPES[fromPath]) return fromPath;
  for (const value of parsed.searchParams.values()) {
    const fromQuery = extension(value);
    if (fromQuery && EXTENSION_TYPES[fromQuery]) return fromQuery;
  }
  return fromPath;
}

/** The OGC service a reference points at (`wms`, `wfs`…), from its scheme / protocol or its query. */
function ogcService(ref: CswReference): string | null {
  const scheme = (ref.scheme ?? '').toUpperCase();
  const named = /OGC:(WMS|WMTS|WFS|WCS|CSW|SOS|WPS|API-FEATURES|OAPIF)/.exec(scheme) ?? /\b(WMS|WMTS|WFS|WCS)\b/.exec(scheme);
  if (named) return named[1].toLowerCase();
  const service = /[?&]service=(wms|wmts|wfs|wcs|csw)\b/i.exec(ref.url) ?? /\/(wms|wmts|wfs|wcs)\/?(?:\?|$)/i.exec(ref.url);
  return service ? service[1].toLowerCase() : null;
}

/** The media type a reference's file has, from its protocol and extension; null when it is not a file. */
export function guessType(ref: CswReference): string | null {
  const scheme = (ref.scheme ?? '').toLowerCase();
  if (/geotiff|cog\b|cloud.optimi[sz]ed/.test(scheme))
    return scheme.includes('cog') || scheme.includes('cloud') ? 'image/tiff; application=geotiff; profile=cloud-optimized' : EXTENSION_TYPES.tif;
  const extension = extensionOf(ref.url);
  return (extension && EXTENSION_TYPES[extension]) ?? null;
}

function isThumbnail(ref: CswReference): boolean {
  return !!ref.graphic || /thumbnail|browse|quicklook/i.test(ref.scheme ?? '');
}

function isMetadata(ref: CswReference, type: string | null): boolean {
  return /metadata/i.test(ref.scheme ?? '') || /metadata/i.test(ref.name ?? '') || (type === 'application/xml' && /iso|19139|19115/i.test(ref.url));
}

function isDownload(ref: CswReference): boolean {
  return /download|file/i.test(ref.scheme ?? '') || ref.function === 'download';
}

/** A key for an asset: the file name without its extension, made safe; unique within `taken`. */
function assetKey(base: string, taken: Set<string>): string {
  const key =
    base
      .toLowerCase()
      .replace(/[^a-z0-9_-]+/g, '-')
      .replace(/^-+|-+$/g, '')
      .slice(0, 60) || 'data';
  let unique = key;
  for (let n = 2; taken.has(unique); n++) unique = `${key}-${n}`;
  taken.add(unique);
  return unique;
}

function fileBase(url: string): string {
  try {
    return (new URL(url).pathname.split('/').pop() ?? '').replace(/\.[^.]*$/, '');
  } catch {
    return '';
  }
}

/** Assets (files: data, thumbnails, metadata) and links (OGC services, web pages) of a record's references. */
export function referencesToStac(references: CswReference[]): { assets: Record<string, Record<string, unknown>>; links: RemoteLink[] } {
  const assets: Record<string, Record<string, unknown>> = {};
  const links: RemoteLink[] = [];
  const keys = new Set<string>();
  const seen = new Set<string>();
  for (const ref of references) {
    let href: string;
    try {
      const url = new URL(ref.url.trim());
      if (url.protocol !== 'http:' && url.protocol !== 'https:' && url.protocol !== 'ftp:' && url.protocol !== 's3:') continue;
      href = url.toString();
    } catch {
      continue;
    }
    // Records often repeat a service's address without a scheme: one entry per address.
    if (seen.has(href)) continue;
    seen.add(href);
    const title = ref.name ?? ref.description ?? undefined;
    const service = ogcService(ref);
    if (service) {
      const rel = service === 'wms' || service === 'wmts' ? service : 'alternate';
      links.push({ rel, href, ...(title || ref.scheme ? { title: title ?? ref.scheme! } : {}) });
      continue;
    }
    const type = guessType(ref);
    if (isThumbnail(ref)) {
      assets[assetKey('thumbnail', keys)] = { href, ...(type ? { type } : {}), ...(title ? { title } : {}), roles: ['thumbnail'] };
    } else if (type && type !== 'text/html' && isMetadata(ref, type)) {
      assets[assetKey('metadata', keys)] = { href, type, ...(title ? { title } : {}), roles: ['metadata'] };
    } else if ((type && type !== 'text/html') || isDownload(ref)) {
      assets[assetKey(fileBase(href) || 'data', keys)] = { href, ...(type ? { type } : {}), ...(title ? { title } : {}), roles: ['data'] };
    } else {
      links.push({ rel: 'related', href, ...(type ? { type } : {}), ...(title ? { title } : {}) });
    }
  }
  return { assets, links };
}

const CC = /creativecommons\.org\/(licenses\/(by(?:-sa|-nc|-nd|-nc-sa|-nc-nd)?)\/(\d\.\d)|publicdomain\/zero\/1\.0)/i;

/** An SPDX id for a licence address Sightline recognises (Creative Commons), else null. */
export function spdxLicense(urls: string[]): string | null {
  for (const url of urls) {
    const cc = CC.exec(url);
    if (!cc) continue;
    if (!cc[2]) return 'CC0-1.0';
    return `CC-${cc[2].toUpperCase()}-${cc[3]}`;
  }
  return null;
}

/** A record that cannot become a STAC item; its message says why. */
export class CswMappingError extends Error {}

/** A record as a harvested STAC item. Throws CswMappingError when it cannot be one. */
export function toRemoteRecord(summary: CswRecordSummary, endpoint: string, schema: CswOutputSchema = summary.schema): RemoteRecord {
  if (!summary.identifier) throw new CswMappingError('the record has no identifier (dc:identifier / gmd:fileIdentifier)');
  const remoteId = summary.identifier;
  const properties: Record<string, unknown> = {};
  if (summary.title) properties.title = summary.title;
  if (summary.abstract) properties.description = summary.abstract;
  if (summary.subjects.length) properties.keywords = summary.subjects;
  if (summary.type) properties['csw:type'] = summary.type;

  const modified = toRfc3339(summary.modified);
  const start = toRfc3339(summary.temporal?.start);
  const end = toRfc3339(summary.temporal?.end, true);
  if (start && end) {
    if (start > end) throw new CswMappingError(`the temporal extent ends (${end}) before it begins (${start})`);
    properties.datetime = null;
    properties.start_datetime = start;
    properties.end_datetime = end;
  } else if (start || end) {
    properties.datetime = start ?? end;
    if (start) properties.start_datetime = start;
    if (end) properties.end_datetime = end;
  } else {
    // Dublin Core: dc:date, else dct:modified; ISO: the metadata's dateStamp.
    const datetime = summary.schema === 'dc' ? (toRfc3339(summary.date) ?? modified) : (modified ?? toRfc3339(summary.date));
    if (!datetime && (summary.date || summary.modified)) {
      const what = summary.schema === 'dc' ? 'dc:date or dct:modified' : 'temporal extent or gmd:dateStamp';
      throw new CswMappingError(`the record has no readable date (${what}${summary.date || summary.modified ? `: ${JSON.stringify(summary.date ?? summary.modified)}` : ''})`);
    }
    // No date at all (common in metadata catalogues): kept without one.
    properties.datetime = datetime ?? null;
  }

  // A box in another CRS is left out; a box that says impossible things makes the record fail.
  if (!summary.bbox && summary.bboxProblem && !summary.bboxProblem.includes('not a longitude/latitude CRS')) {
    throw new CswMappingError(`the record's bounding box cannot be read: ${summary.bboxProblem}`);
  }

  const license = spdxLicense(summary.licenseUrls);
  if (license) properties.license = license;
  else if (summary.rights.length || summary.licenseUrls.length) properties.license = 'other';
  if (summary.rights.length) properties['csw:rights'] = summary.rights;
  if (summary.formats.length) properties['csw:formats'] = summary.formats;

  const { assets, links } = referencesToStac(summary.references);
  const remoteUrl = recordByIdUrl(endpoint, remoteId, schema);
  for (const url of summary.licenseUrls) if (/^https?:\/\//.test(url)) links.push({ rel: 'license', href: url });
  return {
    remoteId,
    remoteUrl,
    remoteUpdated: modified,
    geometry: summary.bbox ? boxGeometry(summary.bbox) : null,
    properties,
    assets,
    links,
  };
}
