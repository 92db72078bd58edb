import { escapeXml } from './csw-xml.js';

/** A box in CRS84 (longitude, latitude), west-south-east-north. */
export interface Crs84Box {
  minx: number;
  miny: number;
  maxx: number;
  maxy: number;
}

/** What a GetRecords query is narrowed by; every constraint given must hold (AND). */
export interface CswConstraints {
  /** Each keyword must be among the record's subjects (dc:subject, substring match). */
  keywords?: string[];
  /** Free text anywhere in the record (csw:AnyText, substring match). */
  anytext?: string;
  /** The record's box intersects this one. */
  bbox?: Crs84Box;
  /** The record's temporal extent begins at or after this instant (apiso:TempExtent_begin). */
  start_datetime?: string;
  /** The record's temporal extent ends at or before this instant (apiso:TempExtent_end). */
  end_datetime?: string;
  /** The record was modified at or after this instant (the queryable named by `modifiedQueryable`). */
  modified_since?: string;
  /** `apiso:Modified` (default) or `dct:modified`. */
  modifiedQueryable?: string;
}

export interface CswFilter {
  /** An `ogc:Filter` element (FES 1.1), or null when nothing constrains the query. */
  xml: string | null;
  /** Each applied constraint in words, in the order of the filter. */
  applied: string[];
}

const LIKE_OPEN = '<ogc:PropertyIsLike wildCard="%" singleChar="_" escapeChar="\\">';

/** `%text%` with the wildcard, single-character and escape characters of the text escaped. */
function likeContains(text: string): string {
  return `%${text.replace(/[\\%_]/g, (c) => `\\${c}`)}%`;
}

function like(property: string, text: string): string {
  return `${LIKE_OPEN}<ogc:PropertyName>${property}</ogc:PropertyName><ogc:Literal>${escapeXml(likeContains(text))}</ogc:Literal></ogc:PropertyIsLike>`;
}

function compare(operator: 'PropertyIsGreaterThanOrEqualTo' | 'PropertyIsLessThanOrEqualTo', property: string, value: string): string {
  return `<ogc:${operator}><ogc:PropertyName>${property}</ogc:PropertyName><ogc:Literal>${escapeXml(value)}</ogc:Literal></ogc:${operator}>`;
}

/**
 * Builds the AND-combined FES 1.1 filter of the constraints. The box is sent in
 * `urn:ogc:def:crs:EPSG::4326`, latitude first, as CSW 2.0.2 servers (pycsw, GeoNetwork) expect.
 */
export function buildFilter(constraints: CswConstraints): CswFilter {
  const parts: string[] = [];
  const applied: string[] = [];
  for (const keyword of constraints.keywords ?? []) {
    parts.push(like('dc:subject', keyword));
    applied.push(`dc:subject like ${JSON.stringify(likeContains(keyword))}`);
  }
  if (constraints.anytext !== undefined && constraints.anytext !== '') {
    parts.push(like('csw:AnyText', constraints.anytext));
    applied.push(`csw:AnyText like ${JSON.stringify(likeContains(constraints.anytext))}`);
  }
  if (constraints.bbox) {
    const { minx, miny, maxx, maxy } = constraints.bbox;
    parts.push(
      '<ogc:BBOX><ogc:PropertyName>ows:BoundingBox</ogc:PropertyName><gml:Envelope srsName="urn:ogc:def:crs:EPSG::4326">' +
        `<gml:lowerCorner>${miny} ${minx}</gml:lowerCorner><gml:upperCorner>${maxy} ${maxx}</gml:upperCorner></gml:Envelope></ogc:BBOX>`,
    );
    applied.push(`ows:BoundingBox intersects [${minx}, ${miny}, ${maxx}, ${maxy}] (CRS84: minx, miny, maxx, maxy)`);
  }
  if (constraints.start_datetime) {
    parts.push(compare('PropertyIsGreaterThanOrEqualTo', 'apiso:TempExtent_begin', constraints.start_datetime));
    applied.push(`apiso:TempExtent_begin >= ${constraints.start_datetime}`);
  }
  if (constraints.end_datetime) {
    parts.push(compare('PropertyIsLessThanOrEqualTo', 'apiso:TempExtent_end', constraints.end_datetime));
    applied.push(`apiso:TempExtent_end <= ${constraints.end_datetime}`);
  }
  if (constraints.modified_since) {
    const property = constraints.modifiedQueryable ?? 'apiso:Modified';
    parts.push(compare('PropertyIsGreaterThanOrEqualTo', property, constraints.modified_since));
    applied.push(`${property} >= ${constraints.modified_since}`);
  }
  if (!parts.length) return { xml: null, applied };
  const body = parts.length === 1 ? parts[0] : `<ogc:And>${parts.join('')}</ogc:And>`;
  return { xml: `<ogc:Filter>${body}</ogc:Filter>`, applied };
}
