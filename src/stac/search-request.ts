import { BadRequestException } from '@nestjs/common';
import { assertCleanInput } from '../common/input-guard.js';
import { parseCql2Text } from './cql2/cql2-text.parser.js';
import { Cql2Error, type Cql2Node, type GeoJsonGeometry } from './cql2/cql2.types.js';
import { DatetimeError, parseDatetimeParameter, type DatetimeRange } from './datetime.js';
import { assertGeometry, GeoJsonError } from './geojson.js';

/**
 * The parameters of item search and collection search, read from a GET query string or a
 * POST body into one normalised shape. Every refusal is a 400 naming the parameter.
 */

export const DEFAULT_LIMIT = 10;
export const MAX_LIMIT = 10_000;
const MAX_LIST = 1000;
const MAX_TERMS = 20;

export const CRS84 = ['http://www.opengis.net/def/crs/OGC/1.3/CRS84', 'https://www.opengis.net/def/crs/OGC/1.3/CRS84'];

export interface SortSpec {
  field: string;
  direction: 'asc' | 'desc';
}

export interface FieldsSpec {
  include: string[];
  exclude: string[];
  /**
   * Start from the whole document rather than the default set: a JSON `fields` with `exclude`
   * and no `include` member (Fields extension, rule 3). `include: []` or null, and every text
   * `fields`, start from the default set (rule 4).
   */
  fromAll?: boolean;
}

export interface SearchRequest {
  collections?: string[];
  ids?: string[];
  /** [west, south, east, north] (the height of a 6-number bbox is dropped). */
  bbox?: [number, number, number, number];
  intersects?: GeoJsonGeometry;
  datetime?: DatetimeRange;
  limit: number;
  sortby?: SortSpec[];
  fields?: FieldsSpec;
  filter?: Cql2Node;
  q?: string[];
  token?: string;
}

export type RawValue = unknown;

export function badRequest(parameter: string, message: string): BadRequestException {
  return new BadRequestException({ message: `${parameter}: ${message}`, details: { parameter } });
}

function asSingle(parameter: string, value: RawValue): string | undefined {
  if (value === undefined) return undefined;
  if (Array.isArray(value)) {
    if (value.length === 1 && typeof value[0] === 'string') return value[0];
    throw badRequest(parameter, 'given more than once');
  }
  if (typeof value !== 'string') throw badRequest(parameter, 'must be a string');
  return value;
}

function splitList(parameter: string, value: RawValue): string[] | undefined {
  if (value === undefined) return undefined;
  const parts = (Array.isArray(value) ? value : [value]).flatMap((v) => {
    if (typeof v !== 'string') throw badRequest(parameter, 'must be a comma-separated list');
    return v.split(',');
  });
  const list = parts.map((s) => s.trim()).filter((s) => s !== '');
  if (list.length > MAX_LIST) throw badRequest(parameter, `at most ${MAX_LIST} values`);
  return list;
}

function stringArray(parameter: string, value: RawValue): string[] | undefined {
  if (value === undefined || value === null) return undefined;
  if (!Array.isArray(value) || !value.every((v) => typeof v === 'string')) throw badRequest(parameter, 'must be an array of strings');
  if (value.length > MAX_LIST) throw badRequest(parameter, `at most ${MAX_LIST} values`);
  return value as string[];
}

const NUMBER = /^[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?$/;

function checkBbox(parameter: string, values: number[]): [number, number, number, number] {
  if (values.length !== 4 && values.length !== 6) throw badRequest(parameter, `must have 4 or 6 numbers, got ${values.length}`);
  const [w, s, e, n] = values.length === 4 ? values : [values[0], values[1], values[3], values[4]];
  for (const [name, v, lim] of [
    ['west', w, 180],
    ['east', e, 180],
    ['south', s, 90],
    ['north', n, 90],
  ] as const) {
    if (v < -lim || v > lim) throw badRequest(parameter, `${name} ${v} is outside [-${lim}, ${lim}]`);
  }
  if (s > n) throw badRequest(parameter, `south (${s}) is greater than north (${n})`);
  if (values.length === 6 && values[2] > values[5]) throw badRequest(parameter, `minimum height (${values[2]}) is greater than maximum height (${values[5]})`);
  return [w, s, e, n];
}

export function parseBboxText(value: RawValue): [number, number, number, number] | undefined {
  const text = asSingle('bbox', value);
  if (text === undefined) return undefined;
  const parts = text.split(',').map((s) => s.trim());
  const numbers = parts.map((p) => {
    if (!NUMBER.test(p)) throw badRequest('bbox', `'${p}' is not a number; write bbox=west,south,east,north`);
    return Number(p);
  });
  return checkBbox('bbox', numbers);
}

export function parseBboxJson(value: RawValue): [number, number, number, number] | undefined {
  if (value === undefined || value === null) return undefined;
  if (!Array.isArray(value) || !value.every((v) => typeof v === 'number' && Number.isFinite(v))) throw badRequest('bbox', 'must be an array of 4 or 6 numbers');
  return checkBbox('bbox', value as number[]);
}

function parseIntersects(value: RawValue, fromText: boolean): GeoJsonGeometry | undefined {
  if (value === undefined || value === null) return undefined;
  let geometry: unknown = value;
  if (fromText) {
    const text = asSingle('intersects', value)!;
    try {
      geometry = JSON.parse(text);
    } catch {
      throw badRequest('intersects', 'is not valid JSON (expected a GeoJSON geometry)');
    }
  }
  try {
    assertGeometry(geometry, 'intersects');
  } catch (e) {
    if (e instanceof GeoJsonError) throw badRequest('intersects', `invalid GeoJSON: ${e.message}`);
    throw e;
  }
  return geometry;
}

export function parseDatetime(value: RawValue): DatetimeRange | undefined {
  const text = asSingle('datetime', value);
  if (text === undefined) return undefined;
  try {
    return parseDatetimeParameter(text);
  } catch (e) {
    if (e instanceof DatetimeError) throw badRequest('datetime', e.message);
    throw e;
  }
}

export function parseLimit(value: RawValue, max = MAX_LIMIT): number {
  if (value === undefined || value === null) return DEFAULT_LIMIT;
  let n: number;
  if (typeof value === 'number') n = value;
  else {
    const text = asSingle('limit', value)!.trim();
    if (!/^[+-]?\d+$/.test(text)) throw badRequest('limit', `'${text}' is not an integer`);
    n = Number(text);
  }
  if (!Number.isInteger(n)) throw badRequest('limit', 'must be an integer');
  if (n < 1) throw badRequest('limit', `must be at least 1, got ${n}`);
  return Math.min(n, max);
}

function sortFromText(value: RawValue): SortSpec[] | undefined {
  const list = splitList('sortby', value);
  if (!list) return undefined;
  return list.map((raw) => {
    // `+` in a query string arrives as a space.
    const s = raw.trim();
    if (s.startsWith('-')) return { field: s.slice(1).trim(), direction: 'desc' };
    return { field: s.replace(/^\+/, '').trim(), direction: 'asc' };
  });
}

function sortFromJson(value: RawValue): SortSpec[] | undefined {
  if (value === undefined || value === null) return undefined;
  if (typeof value === 'string') return sortFromText(value);
  if (!Array.isArray(value)) throw badRequest('sortby', 'must be an array of {field, direction}');
  return value.map((v, i) => {
    if (!v || typeof v !== 'object' || typeof (v as SortSpec).field !== 'string') throw badRequest('sortby', `[${i}] must be {"field": "...", "direction": "asc"|"desc"}`);
    const direction = (v as { direction?: unknown }).direction ?? 'asc';
    if (direction !== 'asc' && direction !== 'desc') throw badRequest('sortby', `[${i}].direction must be 'asc' or 'desc'`);
    return { field: (v as SortSpec).field, direction };
  });
}

function fieldsFromText(value: RawValue): FieldsSpec | undefined {
  if (value === undefined) return undefined;
  const list = splitList('fields', value) ?? [];
  const include: string[] = [];
  const exclude: string[] = [];
  for (const raw of list) {
    const s = raw.trim();
    if (s.startsWith('-')) exclude.push(s.slice(1));
    else include.push(s.replace(/^\+/, ''));
  }
  return { include, exclude };
}

function fieldsFromJson(value: RawValue): FieldsSpec | undefined {
  if (value === undefined || value === null) return undefined;
  if (typeof value === 'string') return fieldsFromText(value);
  if (typeof value !== 'object' || Array.isArray(value)) throw badRequest('fields', 'must be {"include": [...], "exclude": [...]}');
  const v = value as Record<string, unknown>;
  for (const key of Object.keys(v)) if (key !== 'include' && key !== 'exclude') throw badRequest('fields', `unknown member '${key}'`);
  const include = stringArray('fields.include', v.include) ?? [];
  const exclude = stringArray('fields.exclude', v.exclude) ?? [];
  return { include, exclude, fromAll: !('include' in v) && exclude.length > 0 };
}

function termsFrom(value: RawValue, fromText: boolean): string[] | undefined {
  if (value === undefined || value === null) return undefined;
  let terms: string[];
  if (fromText) terms = splitList('q', value) ?? [];
  else if (typeof value === 'string') terms = value.split(',');
  else terms = stringArray('q', value) ?? [];
  terms = terms.map((t) => t.trim()).filter(Boolean);
  if (terms.length === 0) throw badRequest('q', 'needs at least one search term');
  if (terms.length > MAX_TERMS) throw badRequest('q', `at most ${MAX_TERMS} terms`);
  if (terms.some((t) => t.length > 200)) throw badRequest('q', 'a term is longer than 200 characters');
  return terms;
}

function parseFilter(filter: RawValue, langValue: RawValue, crsValue: RawValue, fromText: boolean): Cql2Node | undefined {
  const crs = asSingle('filter-crs', crsValue);
  if (crs !== undefined && !CRS84.includes(crs)) throw badRequest('filter-crs', `only ${CRS84[0]} is supported`);
  const lang = asSingle('filter-lang', langValue);
  if (lang !== undefined && lang !== 'cql2-text' && lang !== 'cql2-json') throw badRequest('filter-lang', `must be 'cql2-text' or 'cql2-json', not '${lang}'`);
  if (filter === undefined || filter === null) return undefined;
  const effective = lang ?? (typeof filter === 'string' ? 'cql2-text' : 'cql2-json');
  try {
    if (effective === 'cql2-text') {
      const text = fromText ? asSingle('filter', filter)! : filter;
      if (typeof text !== 'string') throw badRequest('filter', 'with filter-lang=cql2-text the filter is a string');
      if (text.length > 100_000) throw badRequest('filter', 'is longer than 100000 characters');
      return parseCql2Text(text);
    }
    if (typeof filter === 'string') {
      let parsed: unknown;
      try {
        parsed = JSON.parse(filter);
      } catch {
        throw badRequest('filter', 'is not valid JSON (filter-lang is cql2-json)');
      }
      assertCleanInput(parsed, 'filter');
      return parsed as Cql2Node;
    }
    return filter as Cql2Node;
  } catch (e) {
    if (e instanceof Cql2Error) throw new BadRequestException({ message: e.message, details: { parameter: 'filter', position: e.position } });
    throw e;
  }
}

function combine(req: SearchRequest): SearchRequest {
  if (req.bbox && req.intersects) throw badRequest('bbox', 'bbox and intersects cannot be used together');
  return req;
}

/** GET /search and GET /collections/{id}/items: everything is text. */
export function searchFromQuery(query: Record<string, RawValue>): SearchRequest {
  return combine({
    collections: splitList('collections', query.collections),
    ids: splitList('ids', query.ids),
    bbox: parseBboxText(query.bbox),
    intersects: parseIntersects(query.intersects, true),
    datetime: parseDatetime(query.datetime),
    limit: parseLimit(query.limit),
    sortby: sortFromText(query.sortby),
    fields: fieldsFromText(query.fields),
    filter: parseFilter(query.filter, query['filter-lang'], query['filter-crs'], true),
    q: termsFrom(query.q, true),
    token: asSingle('token', query.token),
  });
}

/** POST /search: JSON values. */
export function searchFromBody(body: Record<string, RawValue>): SearchRequest {
  const token = body.token;
  if (token !== undefined && token !== null && typeof token !== 'string') throw badRequest('token', 'must be a string');
  return combine({
    collections: stringArray('collections', body.collections),
    ids: stringArray('ids', body.ids),
    bbox: parseBboxJson(body.bbox),
    intersects: parseIntersects(body.intersects, false),
    datetime: body.datetime === null ? undefined : parseDatetime(body.datetime),
    limit: parseLimit(body.limit),
    sortby: sortFromJson(body.sortby),
    fields: fieldsFromJson(body.fields),
    filter: parseFilter(body.filter, body['filter-lang'], body['filter-crs'], false),
    q: termsFrom(body.q, false),
    token: (token as string | undefined | null) ?? undefined,
  });
}
