import { BadRequestException, Injectable, Logger, OnModuleDestroy, ServiceUnavailableException } from '@nestjs/common';
import pg from 'pg';
import type { AuthUser } from '../auth/auth.types.js';
import { visibilitySql } from '../auth/visibility.js';
import { isUuid, SqlParams } from '../common/sql-params.js';
import { AppConfig } from '../config/app-config.js';

/**
 * The catalog's search: the SQL behind the STAC API's item and collection search. Everything it
 * reads goes through the same visibility rule as the rest of the API (src/auth/visibility.ts) for
 * items AND their collection, and only `ready` rows are published. Paging is keyset paging on the
 * sort keys (no OFFSET): page 100 costs what page 1 costs. Filters arrive compiled (the STAC layer
 * compiles CQL2 against its queryables) as conditions that bind their values to the query's
 * parameters.
 */

/** An expression results are ordered by. */
export interface SortKey {
  /** Expression ordered by. */
  sql: string;
  /** Cast that turns the cursor's text value back into the expression's type. */
  cast: string;
  nullable: boolean;
}

/** A GeoJSON geometry (a search area). */
export interface SearchGeometry {
  type: string;
  coordinates?: unknown;
  geometries?: SearchGeometry[];
}

/** Inclusive time bounds, as PostgreSQL timestamptz text; null for an open end. */
export interface TimeBounds {
  start: { text: string } | null;
  end: { text: string } | null;
  instant: boolean;
}

/** A compiled filter: SQL over `i` (items) or `c` (collections), its values bound to `params`. */
export type SqlCondition = (params: SqlParams) => string;

/** Free text of an item, as indexed by ix_item_search_text (migration 1763800003100). Keep both identical. */
export const ITEM_TEXT_SQL =
  "to_tsvector('simple'::regconfig, coalesce(i.properties->>'title', '') || ' ' || coalesce(i.properties->>'description', '') || ' ' || coalesce(i.properties->>'keywords', '') || ' ' || coalesce(i.properties->>'platform', '') || ' ' || coalesce(i.properties->>'constellation', '') || ' ' || coalesce(i.properties->>'mission', '') || ' ' || coalesce(i.properties->>'instruments', '') || ' ' || coalesce(i.properties->'pers:interior_orientation'->>'camera_manufacturer', '') || ' ' || coalesce(i.properties->'pers:interior_orientation'->>'camera_model', ''))";

/** Free text of a collection, as indexed by ix_collection_search_text. */
export const COLLECTION_TEXT_SQL = "to_tsvector('simple'::regconfig, coalesce(c.title, '') || ' ' || coalesce(c.description, '') || ' ' || sightline_text_array(c.keywords))";

/** When the planner expects at most this many matches, numberMatched is counted exactly; beyond, it is the planner's estimate. */
export const EXACT_COUNT_LIMIT = 10_000;
/** How many items presentPropertyKeys reads at most. */
const PRESENT_KEYS_SCAN_ROWS = 20_000;
/** Tables up to this size are cheap to read whatever the filter. */
const SMALL_TABLE_ROWS = 50_000;

export interface ItemFilter {
  collectionIds?: string[];
  ids?: string[];
  bbox?: [number, number, number, number];
  intersects?: SearchGeometry;
  datetime?: TimeBounds;
  filter?: SqlCondition;
  q?: string[];
}

export interface CollectionFilter {
  bbox?: [number, number, number, number];
  datetime?: TimeBounds;
  filter?: SqlCondition;
  q?: string[];
}

export interface ResolvedSort {
  key: SortKey;
  direction: 'asc' | 'desc';
}

export interface PageSpec {
  limit: number;
  /** Continue after (`n`) or before (`p`) the row with these sort values. */
  cursor?: { direction: 'n' | 'p'; values: Array<string | null> };
}

export interface ItemRow {
  id: string;
  collection_id: string;
  kind: string;
  datetime: string | null;
  created: string;
  updated: string;
  rank: number | null;
  properties: Record<string, unknown>;
  assets: Record<string, Record<string, unknown>>;
  /** Links and extension URLs its source stored with it. */
  links: Array<{ rel: string; href: string; type?: string; title?: string }>;
  stac_extensions: string[];
  geometry: Record<string, unknown> | null;
  bbox: number[] | null;
  collection_license: string;
  collection_title: string;
  collection_item_count: number;
  prev_id: string | null;
  next_id: string | null;
  keys: Array<string | null>;
}

export interface CollectionRow {
  id: string;
  kind: string;
  title: string;
  description: string | null;
  license: string;
  keywords: string[];
  providers: unknown[];
  bbox: number[] | null;
  datetime_start: string | null;
  datetime_end: string | null;
  summaries: Record<string, unknown>;
  properties: Record<string, unknown>;
  item_count: number;
  created: string;
  updated: string;
  thumbnail: Record<string, unknown> | null;
  keys: Array<string | null>;
}

export interface Page<T> {
  rows: T[];
  /** More rows exist beyond the page in the direction it was read. */
  hasMore: boolean;
  /** numberMatched: counted with the first page, or the cursor's. */
  count: MatchCount;
}

export interface MatchCount {
  count: number;
  estimated: boolean;
}

const UTC_TEXT = (expr: string) => `to_char((${expr}) AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US')`;

function envelope(params: SqlParams, w: number, s: number, e: number, n: number): string {
  const p = (v: number) => params.add(v, 'double precision');
  return `ST_MakeEnvelope(${p(w)}, ${p(s)}, ${p(e)}, ${p(n)}, 4326)`;
}

/**
 * A bbox condition; one crossing the antimeridian (west > east) is split in two. The index
 * test `&&` is exact for points (most items), so ST_Intersects only runs on other geometries;
 * `estimate` is the bare index test, which the planner estimates well. The planner knows how many
 * rows are points from the statistics on GeometryType(geom) (migration 1763800009500): without
 * them it expects a twentieth of the matches and sorts them all rather than walk an index.
 */
function bboxSql(column: string, params: SqlParams, [w, s, e, n]: [number, number, number, number]): { sql: string; estimate: string } {
  const one = (w0: number, e0: number) => {
    const env = envelope(params, w0, s, e0, n);
    return { sql: `(${column} && ${env} AND (GeometryType(${column}) = 'POINT' OR ST_Intersects(${column}, ${env})))`, estimate: `${column} && ${env}` };
  };
  if (w <= e) return one(w, e);
  const [a, b] = [one(w, 180), one(-180, e)];
  return { sql: `(${a.sql} OR ${b.sql})`, estimate: `(${a.estimate} OR ${b.estimate})` };
}

function flatten(g: SearchGeometry): SearchGeometry[] {
  return g.type === 'GeometryCollection' ? (g.geometries ?? []).flatMap(flatten) : [g];
}

/**
 * The largest invalid search area PostGIS repairs (ST_MakeValid). Repair costs about the square
 * of the positions (50,000: half a minute of database CPU), and a repair cancelled by the statement
 * timeout crashes the database server (PostGIS 3.3 / GEOS 3.11): larger invalid areas are refused.
 */
export const MAX_REPAIRED_POSITIONS = 1_000;

function positionCount(g: SearchGeometry): number {
  const count = (v: unknown): number => (Array.isArray(v) ? (typeof v[0] === 'number' ? 1 : v.reduce((n: number, x) => n + count(x), 0)) : 0);
  return count((g as { coordinates?: unknown }).coordinates);
}

/** ST_Intersects with any GeoJSON geometry (collections are split, small invalid polygons repaired; see checkSearchArea). */
function intersectsSql(column: string, params: SqlParams, geometry: SearchGeometry): string {
  const parts = flatten(geometry).map((g) => {
    const area = `ST_SetSRID(ST_GeomFromGeoJSON(${params.add(JSON.stringify(g), 'text')}), 4326)`;
    return `ST_Intersects(${column}, ${positionCount(g) <= MAX_REPAIRED_POSITIONS ? `ST_MakeValid(${area})` : area})`;
  });
  if (parts.length === 0) return 'FALSE';
  return parts.length === 1 ? parts[0] : `(${parts.join(' OR ')})`;
}

/** `simple` text search query: terms are ORed, the words of a term form a phrase, each word a prefix. */
export function tsQuery(terms: string[]): string | undefined {
  const phrases = terms
    .map((t) =>
      (t.toLowerCase().match(/[\p{L}\p{N}]+/gu) ?? [])
        .slice(0, 10)
        .map((w) => `'${w}':*`)
        .join(' <-> '),
    )
    .filter(Boolean);
  return phrases.length ? phrases.map((p) => `(${p})`).join(' | ') : undefined;
}

function idList(params: SqlParams, column: string, values: string[]): string {
  const ids = values.filter(isUuid);
  return ids.length ? `${column} = ANY(${params.add(ids, 'uuid[]')})` : 'FALSE';
}

/**
 * The keyset condition "strictly after (or before) the boundary row in this order".
 * PostgreSQL sorts NULL above every value (last ascending, first descending). Uniform
 * directions over non-null values use a row comparison, which a btree index can serve.
 */
export function keysetSql(sort: ResolvedSort[], values: Array<string | null>, backwards: boolean, params: SqlParams): string {
  const dirs = sort.map((s) => (backwards ? (s.direction === 'asc' ? 'desc' : 'asc') : s.direction));
  const bound = sort.map((s, i) => (values[i] === null ? null : params.add(values[i], s.key.cast)));
  const uniform = dirs.every((d) => d === dirs[0]) && bound.every((b) => b !== null);
  if (uniform) {
    const row = `(${sort.map((s) => s.key.sql).join(', ')}) ${dirs[0] === 'asc' ? '>' : '<'} (${bound.join(', ')})`;
    if (dirs[0] === 'desc') return row;
    // Ascending: rows with a NULL at or before the first difference come after the boundary.
    const nullTerms = sort
      .map((s, i) => (s.key.nullable ? [...sort.slice(0, i).map((p, j) => `${p.key.sql} = ${bound[j]}`), `${s.key.sql} IS NULL`].join(' AND ') : null))
      .filter((t): t is string => t !== null);
    return nullTerms.length ? `(${row} OR ${nullTerms.map((t) => `(${t})`).join(' OR ')})` : row;
  }
  const terms: string[] = [];
  for (let i = 0; i < sort.length; i++) {
    const eq = sort.slice(0, i).map((p, j) => (bound[j] === null ? `${p.key.sql} IS NULL` : `${p.key.sql} = ${bound[j]}`));
    const e = sort[i].key.sql;
    let after: string;
    if (dirs[i] === 'asc') after = bound[i] === null ? 'FALSE' : `(${e} > ${bound[i]} OR ${e} IS NULL)`;
    else after = bound[i] === null ? `${e} IS NOT NULL` : `${e} < ${bound[i]}`;
    terms.push([...eq, after].join(' AND '));
  }
  return `(${terms.map((t) => `(${t})`).join(' OR ')})`;
}

function orderSql(sort: ResolvedSort[], exprs: string[], backwards: boolean): string {
  return sort.map((s, i) => `${exprs[i]} ${(s.direction === 'asc') !== backwards ? 'ASC' : 'DESC'}`).join(', ');
}

/** How long a planner's estimate is reused, and how many are kept. */
const ESTIMATE_TTL_MS = 60_000;
const ESTIMATES_KEPT = 2_000;

/** A search that runs longer than this is cancelled (503) rather than holding a connection. */
const STATEMENT_TIMEOUT_MS = 30_000;

@Injectable()
export class CatalogSearchService implements OnModuleDestroy {
  private readonly logger = new Logger(CatalogSearchService.name);
  /**
   * A pool of its own for the read-only, latency-bound STAC queries (it could point to a read
   * replica): starting parallel workers (~30 ms here) or JIT-compiling a plan costs more than
   * it saves on them, so both are off for these sessions only.
   */
  private readonly pool: pg.Pool;

  constructor(config: AppConfig) {
    this.pool = new pg.Pool({
      connectionString: config.DATABASE_URL,
      max: config.DATABASE_POOL_SIZE,
      application_name: 'sightline-stac',
      options: '-c max_parallel_workers_per_gather=0 -c jit=off',
      statement_timeout: STATEMENT_TIMEOUT_MS,
    });
    this.pool.on('error', (error) => this.logger.warn(`idle STAC database connection failed: ${error.message}`));
  }

  async onModuleDestroy(): Promise<void> {
    await this.pool.end();
  }

  /** Names of the prepared statements, by their text. */
  private readonly prepared = new Map<string, string>();

  /**
   * Runs a query, turning errors caused by the request's values into 400s. `prepare`: the text is
   * one of a few fixed ones run very often; each connection parses and plans it once.
   */
  private async query<T>(sql: string, params: unknown[], prepare = false): Promise<T[]> {
    try {
      if (prepare) {
        let name = this.prepared.get(sql);
        if (!name) this.prepared.set(sql, (name = `sightline_${this.prepared.size + 1}`));
        return (await this.pool.query({ name, text: sql, values: params })).rows as T[];
      }
      return (await this.pool.query(sql, params)).rows as T[];
    } catch (error) {
      const e = error as { code?: string; message?: string };
      const message = e.message ?? String(error);
      if (e.code?.startsWith('22') || (e.code === 'XX000' && /GEOS|geometry|GeoJSON|Topology|parse error/i.test(message))) {
        throw new BadRequestException({ message: `The search could not be run on these values: ${message}`, details: { code: e.code } });
      }
      if (e.code === '57014') throw new ServiceUnavailableException(`The search took longer than ${STATEMENT_TIMEOUT_MS / 1000} s and was cancelled: narrow it down`);
      throw error;
    }
  }

  /**
   * Refuses (400) a search area that is not a valid geometry and too large to repair, naming
   * what is wrong and where (ST_IsValidReason stops at the first problem: cheap at any size).
   */
  async checkSearchArea(geometry: SearchGeometry): Promise<void> {
    for (const part of flatten(geometry)) {
      if (positionCount(part) <= MAX_REPAIRED_POSITIONS) continue;
      const [row] = await this.query<{ reason: string }>(`SELECT ST_IsValidReason(ST_SetSRID(ST_GeomFromGeoJSON($1::text), 4326)) AS reason`, [JSON.stringify(part)]);
      if (row && row.reason !== 'Valid Geometry') {
        throw new BadRequestException({
          message: `intersects is not a valid geometry (${row.reason}); areas of more than ${MAX_REPAIRED_POSITIONS} positions must be valid (no self-intersections)`,
          details: [{ field: 'intersects', problems: [row.reason] }],
        });
      }
    }
  }

  private visibility(alias: string, user: AuthUser | undefined, params: SqlParams): { sql: string; again: (alias: string) => string } {
    const first = params.next;
    const v = visibilitySql(alias, user, first);
    params.push(...v.params);
    // The same rule for another alias reuses the parameter already bound.
    return { sql: v.sql, again: (other) => visibilitySql(other, user, first).sql };
  }

  // ---- items ---------------------------------------------------------------------------

  /**
   * Conditions on `item i JOIN collection c` (`where`), and those on the items alone in the
   * form the planner estimates best (`estimate`, for numberMatched).
   */
  private itemConditions(f: ItemFilter, user: AuthUser | undefined, params: SqlParams): { where: string[]; estimate: string[]; again: (alias: string) => string } {
    const vi = this.visibility('i', user, params);
    const items = ["i.status = 'ready'", vi.sql];
    const estimate = [...items];
    const both = (sql: string) => {
      items.push(sql);
      estimate.push(sql);
    };
    if (f.collectionIds) both(idList(params, 'i.collection_id', f.collectionIds));
    if (f.ids) both(idList(params, 'i.id', f.ids));
    if (f.bbox) {
      const b = bboxSql('i.geom', params, f.bbox);
      items.push(b.sql);
      estimate.push(b.estimate);
    }
    if (f.intersects) both(intersectsSql('i.geom', params, f.intersects));
    if (f.datetime) {
      const { start, end, instant } = f.datetime;
      if (instant && start) both(`i.datetime = ${params.add(start.text, 'timestamptz')}`);
      else {
        if (start) both(`i.datetime >= ${params.add(start.text, 'timestamptz')}`);
        if (end) both(`i.datetime <= ${params.add(end.text, 'timestamptz')}`);
      }
    }
    if (f.q) {
      const q = tsQuery(f.q);
      both(q ? `${ITEM_TEXT_SQL} @@ to_tsquery('simple'::regconfig, ${params.add(q, 'text')})` : 'FALSE');
    }
    if (f.filter !== undefined) both(f.filter(params));
    return { where: ["c.status = 'ready'", vi.again('c'), ...items], estimate, again: vi.again };
  }

  /**
   * A page of items, read one of two ways:
   * - "matches first" when they are few (the planner expects at most EXACT_COUNT_LIMIT) and an
   *   index narrows them down (bbox, intersects, ids, collections, q) or the table is small:
   *   the matches are materialised (id and sort keys only), counted exactly, sorted, and the
   *   page's rows fetched. This keeps PostgreSQL from walking the datetime index in search of
   *   a few scattered matches — its estimate assumes they are spread evenly, they are not.
   * - otherwise in index order with LIMIT, and numberMatched is the planner's estimate.
   * The first page decides; paging cursors carry the decision (an exact count means the first
   * way) and the count, so later pages count nothing.
   */
  async searchItems(f: ItemFilter, sort: ResolvedSort[], page: PageSpec, user: AuthUser | undefined, cursorCount?: MatchCount): Promise<Page<ItemRow>> {
    const params = new SqlParams();
    const { where, estimate: estimateWhere, again } = this.itemConditions(f, user, params);
    let count = cursorCount;
    if (!count) {
      // The estimate leaves out the join with collections: join estimates can be far too low, and
      // the collection conditions rarely remove many items.
      const estimate = await this.estimate(`SELECT 1 FROM item i WHERE ${estimateWhere.join(' AND ')}`, params);
      const narrowed = !!(f.bbox || f.intersects || f.ids || f.collectionIds || f.q);
      const cheap = estimate <= EXACT_COUNT_LIMIT && (narrowed || (await this.tableRows('item')) <= SMALL_TABLE_ROWS);
      count = { count: estimate, estimated: !cheap };
    }
    const matchesFirst = !count.estimated;
    const countNow = !cursorCount && matchesFirst;
    const backwards = page.cursor?.direction === 'p';
    if (page.cursor) where.push(keysetSql(sort, page.cursor.values, backwards, params));
    const limit = params.add(page.limit + 1, 'integer');
    const columns = this.itemColumns(again);
    let sql: string;
    if (matchesFirst) {
      const keys = sort.map((_, i) => `m.s${i}`);
      sql = `
        WITH m AS MATERIALIZED (
          SELECT i.id, ${sort.map((s, i) => `${s.key.sql} AS s${i}`).join(', ')}
          FROM item i JOIN collection c ON c.id = i.collection_id
          WHERE ${where.join(' AND ')}
        ), p AS (
          SELECT * FROM m ORDER BY ${orderSql(sort, keys, backwards)} LIMIT ${limit}
        )
        SELECT ${columns},
               ARRAY[${sort.map((_, i) => `p.s${i}::text`).join(', ')}] AS keys
               ${countNow ? ', (SELECT count(*) FROM m)::int AS total' : ''}
        FROM p JOIN item i ON i.id = p.id JOIN collection c ON c.id = i.collection_id
        ORDER BY ${orderSql(
          sort,
          sort.map((_, i) => `p.s${i}`),
          backwards,
        )}`;
    } else {
      // One level: PostgreSQL evaluates the costly output columns (GeoJSON, neighbour
      // subqueries) only for the rows that survive ORDER BY … LIMIT.
      sql = `
        SELECT ${columns},
               ARRAY[${sort.map((s) => `(${s.key.sql})::text`).join(', ')}] AS keys
        FROM item i JOIN collection c ON c.id = i.collection_id
        WHERE ${where.join(' AND ')}
        ORDER BY ${orderSql(
          sort,
          sort.map((s) => s.key.sql),
          backwards,
        )}
        LIMIT ${limit}`;
    }
    const rows = await this.query<ItemRow & { total?: number }>(sql, params.values);
    if (countNow) count = { count: rows[0]?.total ?? 0, estimated: false };
    return this.page(rows, page, backwards, count);
  }

  private page<T extends { total?: number }>(rows: T[], page: PageSpec, backwards: boolean, count: MatchCount): Page<T> {
    for (const row of rows) delete row.total;
    const hasMore = rows.length > page.limit;
    if (hasMore) rows.pop();
    if (backwards) rows.reverse();
    return { rows, hasMore, count };
  }

  /** Recent estimates by query and values: they change only when the table is analysed again. */
  private readonly estimates = new Map<string, { at: number; rows: number }>();

  /**
   * The planner's estimate of the rows a query returns. The same search asked again within
   * ESTIMATE_TTL_MS (a map panning back, a year's count refreshed) reuses it: one round trip to
   * the database instead of two.
   */
  private async estimate(sql: string, params: SqlParams): Promise<number> {
    const key = `${sql}\u0000${JSON.stringify(params.values)}`;
    const now = Date.now();
    const hit = this.estimates.get(key);
    if (hit && now - hit.at < ESTIMATE_TTL_MS) return hit.rows;
    const plan = await this.query<{ 'QUERY PLAN': Array<{ Plan: { 'Plan Rows': number } }> }>(`EXPLAIN (FORMAT JSON) ${sql}`, params.values);
    const rows = Math.round(plan[0]['QUERY PLAN'][0].Plan['Plan Rows']);
    this.estimates.delete(key);
    this.estimates.set(key, { at: now, rows });
    // Oldest first out.
    for (const old of this.estimates.keys()) {
      if (this.estimates.size <= ESTIMATES_KEPT) break;
      this.estimates.delete(old);
    }
    return rows;
  }

  private tableSizes?: { at: number; rows: Map<string, number> };

  /** Approximate row count of a table (pg_class.reltuples, re-read every minute). */
  private async tableRows(table: 'item' | 'collection'): Promise<number> {
    if (!this.tableSizes || Date.now() - this.tableSizes.at > 60_000) {
      const rows = await this.query<{ relname: string; reltuples: number }>(
        `SELECT relname, reltuples::float8 AS reltuples FROM pg_class WHERE oid IN ('item'::regclass, 'collection'::regclass)`,
        [],
      );
      this.tableSizes = { at: Date.now(), rows: new Map(rows.map((r) => [r.relname, Math.max(0, r.reltuples)])) };
    }
    return this.tableSizes.rows.get(table) ?? 0;
  }

  /** What an ItemRow is read from, over `item i JOIN collection c`. */
  private itemColumns(again: (alias: string) => string): string {
    return `i.id, i.collection_id, i.kind, i.rank, i.properties, i.assets, i.links, i.stac_extensions,
             ${UTC_TEXT('i.datetime')} AS datetime, ${UTC_TEXT('i.created_at')} AS created, ${UTC_TEXT('i.updated_at')} AS updated,
             ST_AsGeoJSON(i.geom, 9)::json AS geometry,
             CASE WHEN i.geom IS NULL THEN NULL ELSE ARRAY[ST_XMin(i.geom), ST_YMin(i.geom), ST_XMax(i.geom), ST_YMax(i.geom)] END AS bbox,
             c.license AS collection_license, c.title AS collection_title, c.item_count AS collection_item_count,
             ${this.neighbourSql('prev', again)} AS prev_id,
             ${this.neighbourSql('next', again)} AS next_id`;
  }

  /** The previous / next ready item of the same ordered collection (a sequence) that the caller may see. */
  private neighbourSql(which: 'prev' | 'next', again: (alias: string) => string): string {
    const cmp = which === 'prev' ? '<' : '>';
    const dir = which === 'prev' ? 'DESC' : 'ASC';
    return `CASE WHEN c.ordered AND i.rank IS NOT NULL THEN (
        SELECT n.id FROM item n
        WHERE n.collection_id = i.collection_id AND n.rank ${cmp} i.rank AND n.status = 'ready' AND ${again('n')}
        ORDER BY n.rank ${dir} LIMIT 1) END`;
  }

  /** One item by its primary key, in one statement (the most frequent read of all). */
  async findItem(collectionId: string, itemId: string, user: AuthUser | undefined): Promise<ItemRow | undefined> {
    if (!isUuid(collectionId) || !isUuid(itemId)) return undefined;
    const params = new SqlParams();
    const vi = this.visibility('i', user, params);
    const rows = await this.query<ItemRow>(
      `SELECT ${this.itemColumns(vi.again)}, ARRAY[]::text[] AS keys
       FROM item i JOIN collection c ON c.id = i.collection_id
       WHERE i.id = ${params.add(itemId, 'uuid')} AND i.collection_id = ${params.add(collectionId, 'uuid')}
         AND i.status = 'ready' AND ${vi.sql} AND c.status = 'ready' AND ${vi.again('c')}`,
      params.values,
      true,
    );
    return rows[0];
  }

  // ---- collections ---------------------------------------------------------------------

  private collectionConditions(f: CollectionFilter, user: AuthUser | undefined, params: SqlParams): { where: string[]; again: (alias: string) => string } {
    const vc = this.visibility('c', user, params);
    const where = ["c.status = 'ready'", vc.sql];
    if (f.bbox) where.push(bboxSql('c.geom', params, f.bbox).sql);
    if (f.datetime) {
      const { start, end } = f.datetime;
      if (end) where.push(`coalesce(c.datetime_start, '-infinity'::timestamptz) <= ${params.add(end.text, 'timestamptz')}`);
      if (start) where.push(`coalesce(c.datetime_end, 'infinity'::timestamptz) >= ${params.add(start.text, 'timestamptz')}`);
    }
    if (f.q) {
      const q = tsQuery(f.q);
      where.push(q ? `${COLLECTION_TEXT_SQL} @@ to_tsquery('simple'::regconfig, ${params.add(q, 'text')})` : 'FALSE');
    }
    if (f.filter !== undefined) where.push(f.filter(params));
    return { where, again: vc.again };
  }

  private collectionSelect(again: (alias: string) => string): string {
    return `c.id, c.kind, c.title, c.description, c.license, c.keywords, c.providers, c.summaries, c.properties, c.item_count,
        ${UTC_TEXT('c.datetime_start')} AS datetime_start, ${UTC_TEXT('c.datetime_end')} AS datetime_end,
        ${UTC_TEXT('c.created_at')} AS created, ${UTC_TEXT('c.updated_at')} AS updated,
        CASE WHEN c.geom IS NULL THEN NULL ELSE ARRAY[ST_XMin(c.geom), ST_YMin(c.geom), ST_XMax(c.geom), ST_YMax(c.geom)] END AS bbox,
        -- The card's picture: the thumbnail-role asset of the first ready item the caller may see (in item order, on ix_item_collection_id_rank).
        (SELECT a.value FROM item t
          CROSS JOIN LATERAL (
            SELECT e.value FROM jsonb_each(t.assets) e WHERE jsonb_typeof(e.value->'roles') = 'array' AND e.value->'roles' ? 'thumbnail' ORDER BY e.key LIMIT 1
          ) a
          WHERE t.collection_id = c.id AND t.status = 'ready' AND ${again('t')}
          ORDER BY t.rank ASC NULLS LAST, t.datetime ASC, t.id ASC LIMIT 1) AS thumbnail`;
  }

  /** A page of collections; counted and read like items (see searchItems). */
  async searchCollections(f: CollectionFilter, sort: ResolvedSort[], page: PageSpec, user: AuthUser | undefined, cursorCount?: MatchCount): Promise<Page<CollectionRow>> {
    const params = new SqlParams();
    const { where, again } = this.collectionConditions(f, user, params);
    let count = cursorCount;
    if (!count) {
      const estimate = await this.estimate(`SELECT 1 FROM collection c WHERE ${where.join(' AND ')}`, params);
      const cheap = estimate <= EXACT_COUNT_LIMIT && (!!(f.bbox || f.q) || (await this.tableRows('collection')) <= SMALL_TABLE_ROWS);
      count = { count: estimate, estimated: !cheap };
    }
    const matchesFirst = !count.estimated;
    const countNow = !cursorCount && matchesFirst;
    const backwards = page.cursor?.direction === 'p';
    if (page.cursor) where.push(keysetSql(sort, page.cursor.values, backwards, params));
    const limit = params.add(page.limit + 1, 'integer');
    let sql: string;
    if (matchesFirst) {
      const keys = sort.map((_, i) => `m.s${i}`);
      sql = `
        WITH m AS MATERIALIZED (
          SELECT c.id, ${sort.map((s, i) => `${s.key.sql} AS s${i}`).join(', ')} FROM collection c WHERE ${where.join(' AND ')}
        ), p AS (
          SELECT * FROM m ORDER BY ${orderSql(sort, keys, backwards)} LIMIT ${limit}
        )
        SELECT ${this.collectionSelect(again)}, ARRAY[${sort.map((_, i) => `p.s${i}::text`).join(', ')}] AS keys
               ${countNow ? ', (SELECT count(*) FROM m)::int AS total' : ''}
        FROM p JOIN collection c ON c.id = p.id
        ORDER BY ${orderSql(
          sort,
          sort.map((_, i) => `p.s${i}`),
          backwards,
        )}`;
    } else {
      sql = `
        SELECT ${this.collectionSelect(again)}, ARRAY[${sort.map((s) => `(${s.key.sql})::text`).join(', ')}] AS keys
        FROM collection c
        WHERE ${where.join(' AND ')}
        ORDER BY ${orderSql(
          sort,
          sort.map((s) => s.key.sql),
          backwards,
        )}
        LIMIT ${limit}`;
    }
    const rows = await this.query<CollectionRow & { total?: number }>(sql, params.values);
    if (countNow) count = { count: rows[0]?.total ?? 0, estimated: false };
    return this.page(rows, page, backwards, count);
  }

  async findCollection(id: string, user: AuthUser | undefined): Promise<CollectionRow | undefined> {
    if (!isUuid(id)) return undefined;
    const params = new SqlParams();
    const vc = this.visibility('c', user, params);
    const rows = await this.query<CollectionRow>(
      `SELECT ${this.collectionSelect(vc.again)}, ARRAY[]::text[] AS keys FROM collection c
       WHERE c.id = ${params.add(id, 'uuid')} AND c.status = 'ready' AND ${vc.sql}`,
      params.values,
    );
    return rows[0];
  }

  /** Summaries of the collections the caller may see among `ids` (for their queryables). */
  async collectionSummaries(ids: string[], user: AuthUser | undefined): Promise<Array<Record<string, unknown>>> {
    const valid = ids.filter(isUuid);
    if (!valid.length) return [];
    const params = new SqlParams();
    const vc = this.visibility('c', user, params);
    const rows = await this.query<{ summaries: Record<string, unknown> }>(
      `SELECT c.summaries FROM collection c WHERE c.id = ANY(${params.add(valid, 'uuid[]')}) AND c.status = 'ready' AND ${vc.sql}`,
      params.values,
    );
    return rows.map((r) => r.summaries);
  }

  /**
   * Which of `keys` appear in the `properties` of at least one ready item the caller may see (in
   * a collection they may see), among `collectionIds` or anywhere (null). Nothing indexes the
   * keys of `properties`, so the scan is bounded: a collection's items (by ix_item_collection_id_rank)
   * or a catalog of up to PRESENT_KEYS_SCAN_ROWS items are read whole; a larger catalog is read
   * through a fixed block sample of about that many rows (TABLESAMPLE SYSTEM … REPEATABLE, the
   * same rows every time), so a key carried by only a few items of a huge catalog may be missed.
   */
  async presentPropertyKeys(keys: string[], collectionIds: string[] | null, user: AuthUser | undefined): Promise<Set<string>> {
    if (keys.length === 0) return new Set();
    const params = new SqlParams();
    const vi = this.visibility('i', user, params);
    const where = ["i.status = 'ready'", vi.sql, "c.status = 'ready'", vi.again('c'), "jsonb_typeof(i.properties) = 'object'"];
    let sample = '';
    if (collectionIds) {
      const ids = collectionIds.filter(isUuid);
      if (!ids.length) return new Set();
      where.push(`i.collection_id = ANY(${params.add(ids, 'uuid[]')})`);
    } else {
      const rows = await this.tableRows('item');
      if (rows > PRESENT_KEYS_SCAN_ROWS) sample = ` TABLESAMPLE SYSTEM (${((100 * PRESENT_KEYS_SCAN_ROWS) / rows).toFixed(4)}) REPEATABLE (0)`;
    }
    const found = await this.query<{ key: string }>(
      `SELECT DISTINCT k.key FROM (
         SELECT i.properties FROM item i${sample} JOIN collection c ON c.id = i.collection_id
         WHERE ${where.join(' AND ')}
         LIMIT ${params.add(PRESENT_KEYS_SCAN_ROWS, 'integer')}
       ) s CROSS JOIN LATERAL jsonb_object_keys(s.properties) AS k(key)
       WHERE k.key = ANY(${params.add(keys, 'text[]')})`,
      params.values,
    );
    return new Set(found.map((r) => r.key));
  }

  /** Child links of the landing page: the most recent visible collections. */
  async childCollections(user: AuthUser | undefined, max: number): Promise<Array<{ id: string; title: string }>> {
    const params = new SqlParams();
    const vc = this.visibility('c', user, params);
    return this.query(
      `SELECT c.id, c.title FROM collection c WHERE c.status = 'ready' AND ${vc.sql}
       ORDER BY c.created_at DESC, c.id DESC LIMIT ${params.add(max, 'integer')}`,
      params.values,
    );
  }
}
