/**
 * What filters and sorts may name, with the SQL each name stands for. Items are read under the
 * alias `i`, collections under `c`. Property values live in jsonb: the expressions below never
 * fail on a value of the wrong type (they yield NULL), so no filter can turn into a 500.
 */

export type QueryableType = 'id' | 'string' | 'number' | 'integer' | 'boolean' | 'timestamp' | 'geometry' | 'array' | 'interval';

import type { SortKey } from '../catalog/catalog-search.service.js';

export type { SortKey };

export interface Queryable {
  name: string;
  type: QueryableType;
  /** The value as SQL (for `id`: as text; for `interval`: unused). */
  sql: string;
  /** `id`: the uuid column, so equality uses the primary key. */
  uuidSql?: string;
  /** `interval`: its bounds. */
  startSql?: string;
  endSql?: string;
  /** JSON Schema of the value, served by /queryables. */
  schema: Record<string, unknown>;
  sort?: SortKey;
}

/** Property names that are safe to splice into SQL as jsonb keys. */
const SAFE_KEY = /^[A-Za-z0-9_:.-]{1,100}$/;

export function isSafePropertyKey(key: string): boolean {
  return SAFE_KEY.test(key);
}

function jsonb(alias: string, column: string, key: string): string {
  if (!isSafePropertyKey(key)) throw new Error(`unsafe property key ${key}`);
  return `${alias}.${column}->'${key}'`;
}

function text(alias: string, column: string, key: string): string {
  return `(${alias}.${column}->>'${key}')`;
}

export function propertyQueryable(
  alias: string,
  column: string,
  key: string,
  type: Exclude<QueryableType, 'id' | 'geometry' | 'interval'>,
  schema: Record<string, unknown>,
): Queryable {
  const j = jsonb(alias, column, key);
  switch (type) {
    case 'number':
    case 'integer': {
      const sql = `(CASE WHEN jsonb_typeof(${j}) = 'number' THEN ${text(alias, column, key)}::double precision END)`;
      return { name: key, type, sql, schema, sort: { sql, cast: 'double precision', nullable: true } };
    }
    case 'boolean': {
      const sql = `(CASE WHEN jsonb_typeof(${j}) = 'boolean' THEN ${text(alias, column, key)}::boolean END)`;
      return { name: key, type, sql, schema, sort: { sql, cast: 'boolean', nullable: true } };
    }
    case 'timestamp': {
      const sql = `sightline_try_timestamptz(${text(alias, column, key)})`;
      return { name: key, type, sql, schema, sort: { sql, cast: 'timestamptz', nullable: true } };
    }
    case 'array':
      return { name: key, type, sql: `(${j})`, schema };
    case 'string': {
      const sql = text(alias, column, key);
      return { name: key, type, sql, schema, sort: { sql, cast: 'text', nullable: true } };
    }
  }
}

const DATETIME_SCHEMA = { type: 'string', format: 'date-time' };
const ANGLE = (title: string, min = 0, max = 360) => ({ title, type: 'number', minimum: min, maximum: max });

/** Common metadata and extension fields that items may carry in `properties`. */
const ITEM_PROPERTY_QUERYABLES: Array<[string, Exclude<QueryableType, 'id' | 'geometry' | 'interval'>, Record<string, unknown>]> = [
  ['start_datetime', 'timestamp', { title: 'Start of the time range', ...DATETIME_SCHEMA }],
  ['end_datetime', 'timestamp', { title: 'End of the time range', ...DATETIME_SCHEMA }],
  ['title', 'string', { title: 'Title', type: 'string' }],
  ['description', 'string', { title: 'Description', type: 'string' }],
  ['keywords', 'array', { title: 'Keywords', type: 'array', items: { type: 'string' } }],
  ['platform', 'string', { title: 'Platform', type: 'string' }],
  ['constellation', 'string', { title: 'Constellation', type: 'string' }],
  ['mission', 'string', { title: 'Mission', type: 'string' }],
  ['instruments', 'array', { title: 'Instruments', type: 'array', items: { type: 'string' } }],
  ['gsd', 'number', { title: 'Ground sample distance (m)', type: 'number', exclusiveMinimum: 0 }],
  ['view:azimuth', 'number', ANGLE('Viewing azimuth (heading), degrees clockwise from north')],
  ['view:off_nadir', 'number', ANGLE('Off-nadir angle', 0, 90)],
  ['view:incidence_angle', 'number', ANGLE('Incidence angle', 0, 90)],
  ['view:sun_azimuth', 'number', ANGLE('Sun azimuth')],
  ['view:sun_elevation', 'number', ANGLE('Sun elevation', -90, 90)],
  ['pers:omega', 'number', { title: 'Rotation about the X axis (degrees)', type: 'number' }],
  ['pers:phi', 'number', { title: 'Rotation about the Y axis (degrees)', type: 'number' }],
  ['pers:kappa', 'number', { title: 'Rotation about the Z axis (degrees)', type: 'number' }],
  ['eo:cloud_cover', 'number', { title: 'Cloud cover (%)', type: 'number', minimum: 0, maximum: 100 }],
  ['eo:snow_cover', 'number', { title: 'Snow cover (%)', type: 'number', minimum: 0, maximum: 100 }],
  ['proj:epsg', 'integer', { title: 'EPSG code', type: 'integer' }],
  ['proj:code', 'string', { title: 'Projection code (authority:code)', type: 'string' }],
];

function itemCoreQueryables(): Queryable[] {
  return [
    { name: 'id', type: 'id', sql: 'i.id::text', uuidSql: 'i.id', schema: { title: 'Item identifier', type: 'string' }, sort: { sql: 'i.id', cast: 'uuid', nullable: false } },
    {
      name: 'collection',
      type: 'id',
      sql: 'i.collection_id::text',
      uuidSql: 'i.collection_id',
      schema: { title: 'Collection identifier', type: 'string' },
      sort: { sql: 'i.collection_id', cast: 'uuid', nullable: false },
    },
    { name: 'geometry', type: 'geometry', sql: 'i.geom', schema: { title: 'Footprint or position', $ref: 'https://geojson.org/schema/Geometry.json' } },
    {
      name: 'datetime',
      type: 'timestamp',
      sql: 'i.datetime',
      schema: { title: 'Acquisition time', ...DATETIME_SCHEMA },
      sort: { sql: 'i.datetime', cast: 'timestamptz', nullable: true },
    },
    {
      name: 'created',
      type: 'timestamp',
      sql: 'i.created_at',
      schema: { title: 'Published at', ...DATETIME_SCHEMA },
      sort: { sql: 'i.created_at', cast: 'timestamptz', nullable: false },
    },
    {
      name: 'updated',
      type: 'timestamp',
      sql: 'i.updated_at',
      schema: { title: 'Last changed at', ...DATETIME_SCHEMA },
      sort: { sql: 'i.updated_at', cast: 'timestamptz', nullable: false },
    },
    {
      name: 'sightline:kind',
      type: 'string',
      sql: 'i.kind',
      // Its `enum` lists the kinds the catalog's sources declare, added when the document is served.
      schema: { title: 'Kind of item', type: 'string' },
      sort: { sql: 'i.kind', cast: 'text', nullable: false },
    },
    {
      name: 'sightline:rank',
      type: 'integer',
      sql: 'i.rank',
      schema: { title: 'Position in its collection (a picture in its sequence)', type: 'integer', minimum: 1 },
      sort: { sql: 'i.rank', cast: 'integer', nullable: true },
    },
  ];
}

/** Item queryables every document lists, whatever the items carry. */
export const CORE_ITEM_QUERYABLES: ReadonlySet<string> = new Set(itemCoreQueryables().map((q) => q.name));

/**
 * Accepted in filters and sorts (old clients still send them) but not offered: `proj:epsg` gave
 * way to `proj:code` in the projection extension 2.0.
 */
export const DEPRECATED_QUERYABLES: ReadonlySet<string> = new Set(['proj:epsg']);

/**
 * What a queryables document offers: the core queryables, and the others that `present` (the
 * property keys the caller's visible items carry) says exist. Filters still compile against the
 * whole map: a known field no item has yet matches nothing rather than failing.
 */
export function offeredQueryables(all: ReadonlyMap<string, Queryable>, present: ReadonlySet<string>): Map<string, Queryable> {
  return new Map([...all].filter(([name]) => CORE_ITEM_QUERYABLES.has(name) || (present.has(name) && !DEPRECATED_QUERYABLES.has(name))));
}

/** The property keys whose presence decides whether `all` offers them. */
export function optionalQueryableKeys(all: ReadonlyMap<string, Queryable>): string[] {
  return [...all.keys()].filter((name) => !CORE_ITEM_QUERYABLES.has(name) && !DEPRECATED_QUERYABLES.has(name));
}

export const ITEM_QUERYABLES: ReadonlyMap<string, Queryable> = new Map(
  [...itemCoreQueryables(), ...ITEM_PROPERTY_QUERYABLES.map(([key, type, schema]) => propertyQueryable('i', 'properties', key, type, schema))].map((q) => [q.name, q]),
);

/** Queryables of collection search (`GET /collections?filter=`). */
export const COLLECTION_QUERYABLES: ReadonlyMap<string, Queryable> = new Map(
  (
    [
      {
        name: 'id',
        type: 'id',
        sql: 'c.id::text',
        uuidSql: 'c.id',
        schema: { title: 'Collection identifier', type: 'string' },
        sort: { sql: 'c.id', cast: 'uuid', nullable: false },
      },
      { name: 'title', type: 'string', sql: 'c.title', schema: { title: 'Title', type: 'string' }, sort: { sql: 'c.title', cast: 'text', nullable: false } },
      { name: 'description', type: 'string', sql: 'c.description', schema: { title: 'Description', type: 'string' } },
      {
        name: 'license',
        type: 'string',
        sql: 'c.license',
        schema: { title: 'License (SPDX identifier, other or proprietary)', type: 'string' },
        sort: { sql: 'c.license', cast: 'text', nullable: false },
      },
      { name: 'keywords', type: 'array', sql: 'to_jsonb(c.keywords)', schema: { title: 'Keywords', type: 'array', items: { type: 'string' } } },
      { name: 'geometry', type: 'geometry', sql: 'c.geom', schema: { title: 'Spatial extent', $ref: 'https://geojson.org/schema/Geometry.json' } },
      {
        name: 'datetime',
        type: 'interval',
        sql: 'c.datetime_start',
        startSql: "coalesce(c.datetime_start, '-infinity'::timestamptz)",
        endSql: "coalesce(c.datetime_end, 'infinity'::timestamptz)",
        schema: { title: 'Temporal extent', type: 'array', minItems: 2, maxItems: 2, items: { type: ['string', 'null'], format: 'date-time' } },
        sort: { sql: 'c.datetime_start', cast: 'timestamptz', nullable: true },
      },
      {
        name: 'start_datetime',
        type: 'timestamp',
        sql: 'c.datetime_start',
        schema: { title: 'Start of the temporal extent', ...DATETIME_SCHEMA },
        sort: { sql: 'c.datetime_start', cast: 'timestamptz', nullable: true },
      },
      {
        name: 'end_datetime',
        type: 'timestamp',
        sql: 'c.datetime_end',
        schema: { title: 'End of the temporal extent', ...DATETIME_SCHEMA },
        sort: { sql: 'c.datetime_end', cast: 'timestamptz', nullable: true },
      },
      {
        name: 'created',
        type: 'timestamp',
        sql: 'c.created_at',
        schema: { title: 'Created at', ...DATETIME_SCHEMA },
        sort: { sql: 'c.created_at', cast: 'timestamptz', nullable: false },
      },
      {
        name: 'updated',
        type: 'timestamp',
        sql: 'c.updated_at',
        schema: { title: 'Last changed at', ...DATETIME_SCHEMA },
        sort: { sql: 'c.updated_at', cast: 'timestamptz', nullable: false },
      },
      {
        name: 'sightline:kind',
        type: 'string',
        sql: 'c.kind',
        schema: { title: 'Kind of collection', type: 'string' },
        sort: { sql: 'c.kind', cast: 'text', nullable: false },
      },
      {
        name: 'sightline:item_count',
        type: 'integer',
        sql: 'c.item_count',
        schema: { title: 'Number of published items', type: 'integer', minimum: 0 },
        sort: { sql: 'c.item_count', cast: 'integer', nullable: false },
      },
    ] satisfies Queryable[]
  ).map((q) => [q.name, q]),
);

/** Infers a queryable type from a collection summary (range, list of values, or JSON Schema). */
export function summaryType(summary: unknown): Exclude<QueryableType, 'id' | 'geometry' | 'interval'> | undefined {
  if (Array.isArray(summary)) {
    const first = summary.find((v) => v !== null && v !== undefined);
    if (typeof first === 'number') return 'number';
    if (typeof first === 'boolean') return 'boolean';
    if (typeof first === 'string') return /^\d{4}-\d{2}-\d{2}T/.test(first) ? 'timestamp' : 'string';
    if (Array.isArray(first)) return 'array';
    return undefined;
  }
  if (summary && typeof summary === 'object') {
    const s = summary as Record<string, unknown>;
    if (typeof s.minimum === 'number' || typeof s.maximum === 'number') return 'number';
    if (typeof s.minimum === 'string') return /^\d{4}-\d{2}-\d{2}T/.test(s.minimum) ? 'timestamp' : 'string';
    if (s.type === 'number' || s.type === 'integer') return 'number';
    if (s.type === 'string') return s.format === 'date-time' ? 'timestamp' : 'string';
    if (s.type === 'boolean') return 'boolean';
    if (s.type === 'array') return 'array';
  }
  return undefined;
}

/** Item queryables plus those a collection's summaries describe (properties its items carry). */
export function itemQueryablesWithSummaries(summaries: Array<Record<string, unknown>>): Map<string, Queryable> {
  const map = new Map(ITEM_QUERYABLES);
  for (const s of summaries) {
    for (const [key, summary] of Object.entries(s ?? {})) {
      if (map.has(key) || !isSafePropertyKey(key)) continue;
      const type = summaryType(summary);
      if (!type) continue;
      const schema: Record<string, unknown> = { title: key, type: type === 'timestamp' ? 'string' : type };
      if (type === 'timestamp') schema.format = 'date-time';
      map.set(key, propertyQueryable('i', 'properties', key, type, schema));
    }
  }
  return map;
}

/** A queryable name as clients write it: `properties.eo:cloud_cover` means `eo:cloud_cover`. */
export function normalizeQueryableName(name: string): string {
  return name.startsWith('properties.') ? name.slice('properties.'.length) : name;
}
