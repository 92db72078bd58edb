import { DatetimeError, parseDate, parseRfc3339 } from '../datetime.js';
import { assertGeometry, GeoJsonError, isGeometryLike } from '../geojson.js';
import { normalizeQueryableName, type Queryable } from '../queryables.js';
import { isUuid, SqlParams } from '../../common/sql-params.js';
import { ARRAY_FUNCTIONS, Cql2Error, type Cql2Node, TEMPORAL_FUNCTIONS } from './cql2.types.js';

/**
 * CQL2 JSON → a parameterised SQL condition. Supports basic CQL2, advanced comparison
 * (LIKE, BETWEEN, IN), CASEI, spatial functions on any geometry (S_*), temporal functions
 * (T_*), array functions (A_*) and property-property comparisons. Every name must be a
 * queryable; every literal is bound as a parameter with an explicit cast.
 */

type ScalarType = 'string' | 'number' | 'boolean' | 'timestamp' | 'date';

/** An operand whose SQL is not fixed until it meets the other side of a comparison. */
type Operand =
  | { kind: 'property'; q: Queryable; type: ScalarType | 'geometry' | 'array' | 'interval' | 'id'; path: string }
  | { kind: 'expr'; type: ScalarType; sql: string; path: string }
  | { kind: 'literal'; type: ScalarType; value: string | number | boolean; path: string };

const MAX_DEPTH = 64;
const MAX_NODES = 5000;

const COMPARISON = new Set(['=', '<>', '<', '<=', '>', '>=']);
const SPATIAL: Record<string, string> = {
  s_intersects: 'ST_Intersects',
  s_equals: 'ST_Equals',
  s_disjoint: 'ST_Disjoint',
  s_touches: 'ST_Touches',
  s_within: 'ST_Within',
  s_overlaps: 'ST_Overlaps',
  s_crosses: 'ST_Crosses',
  s_contains: 'ST_Contains',
};

function isRecord(v: unknown): v is Record<string, unknown> {
  return !!v && typeof v === 'object' && !Array.isArray(v);
}

function show(node: unknown): string {
  const text = JSON.stringify(node) ?? String(node);
  return text.length > 80 ? `${text.slice(0, 77)}...` : text;
}

export type QueryableLookup = (name: string) => Queryable | undefined;

export class Cql2Compiler {
  private nodes = 0;

  constructor(
    private readonly lookup: QueryableLookup,
    private readonly params: SqlParams,
  ) {}

  compile(node: Cql2Node): string {
    return this.boolean(node, 'filter', 0);
  }

  private fail(path: string, message: string): never {
    throw new Cql2Error(`filter: ${message} (at ${path})`);
  }

  private args(node: Record<string, unknown>, path: string): unknown[] {
    if (!Array.isArray(node.args)) this.fail(path, `operator '${String(node.op)}' needs an 'args' array`);
    return node.args as unknown[];
  }

  private arity(op: string, args: unknown[], path: string, ...counts: number[]): void {
    if (!counts.includes(args.length)) this.fail(path, `'${op}' takes ${counts.join(' or ')} arguments, got ${args.length}`);
  }

  private boolean(node: unknown, path: string, depth: number): string {
    if (depth > MAX_DEPTH) this.fail(path, 'the filter nests too deeply');
    if (++this.nodes > MAX_NODES) this.fail(path, 'the filter is too large');
    if (node === true) return 'TRUE';
    if (node === false) return 'FALSE';
    if (!isRecord(node) || typeof node.op !== 'string') this.fail(path, `expected a boolean expression ({"op": ..., "args": [...]}), got ${show(node)}`);
    const op = node.op.toLowerCase();
    const args = this.args(node, path);
    const argPath = (i: number) => `${path}.args[${i}]`;

    if (op === 'and' || op === 'or') {
      if (args.length === 0) this.fail(path, `'${op}' needs at least one argument`);
      const parts = args.map((a, i) => this.boolean(a, argPath(i), depth + 1));
      return parts.length === 1 ? parts[0] : `(${parts.join(op === 'and' ? ' AND ' : ' OR ')})`;
    }
    if (op === 'not') {
      this.arity(op, args, path, 1);
      return `(NOT ${this.boolean(args[0], argPath(0), depth + 1)})`;
    }
    if (COMPARISON.has(op)) {
      this.arity(op, args, path, 2);
      return this.comparison(op, this.operand(args[0], argPath(0)), this.operand(args[1], argPath(1)), path);
    }
    if (op === 'like') {
      this.arity(op, args, path, 2);
      const [a, b] = [this.operand(args[0], argPath(0)), this.operand(args[1], argPath(1))];
      if (this.scalarType(a) !== 'string' || this.scalarType(b) !== 'string') this.fail(path, 'LIKE compares text with a text pattern');
      return `(${this.sql(a, 'string')} LIKE ${this.sql(b, 'string')})`;
    }
    if (op === 'between') {
      // CQL2 1.0: [value, low, high]; earlier drafts: [value, [low, high]].
      const flat = args.length === 2 && Array.isArray(args[1]) ? [args[0], ...(args[1] as unknown[])] : args;
      this.arity(op, flat, path, 3);
      const [v, lo, hi] = flat.map((a, i) => this.operand(a, argPath(i)));
      const type = this.unify(v, lo, path);
      this.unify(v, hi, path);
      if (type !== 'number' && type !== 'timestamp' && type !== 'date' && type !== 'string') this.fail(path, 'BETWEEN needs numbers, text or instants');
      return `(${this.sql(v, type)} BETWEEN ${this.sql(lo, type)} AND ${this.sql(hi, type)})`;
    }
    if (op === 'in') {
      this.arity(op, args, path, 2);
      if (!Array.isArray(args[1])) this.fail(argPath(1), 'IN takes a list of values');
      const v = this.operand(args[0], argPath(0));
      const list = (args[1] as unknown[]).map((a, i) => this.operand(a, `${argPath(1)}[${i}]`));
      if (list.length === 0) return 'FALSE';
      if (v.kind === 'property' && v.type === 'id' && list.every((l) => l.kind === 'literal' && typeof l.value === 'string')) {
        const ids = list.map((l) => (l as { value: string }).value).filter(isUuid);
        return ids.length ? `(${v.q.uuidSql} = ANY(${this.params.add(ids, 'uuid[]')}))` : 'FALSE';
      }
      const type = list.reduce<ScalarType>((t, l) => this.unify(v, l, path), this.scalarType(v));
      return `(${this.sql(v, type)} IN (${list.map((l) => this.sql(l, type)).join(', ')}))`;
    }
    if (op === 'isnull') {
      this.arity(op, args, path, 1);
      const v = this.operand(args[0], argPath(0), true);
      if (v.kind === 'literal') return 'FALSE';
      if (v.kind === 'expr') return `(${v.sql} IS NULL)`;
      if (v.type === 'interval') return `(${v.q.sql} IS NULL)`;
      return `(${v.q.sql} IS NULL)`;
    }
    if (op in SPATIAL) {
      this.arity(op, args, path, 2);
      return `${SPATIAL[op]}(${this.geometry(args[0], argPath(0))}, ${this.geometry(args[1], argPath(1))})`;
    }
    if (TEMPORAL_FUNCTIONS.has(op)) {
      this.arity(op, args, path, 2);
      return this.temporal(op, this.interval(args[0], argPath(0)), this.interval(args[1], argPath(1)));
    }
    if (ARRAY_FUNCTIONS.has(op)) {
      this.arity(op, args, path, 2);
      const a = this.array(args[0], argPath(0));
      const b = this.array(args[1], argPath(1));
      switch (op) {
        case 'a_equals':
          return `(${a} = ${b})`;
        case 'a_contains':
          return `(${a} @> ${b})`;
        case 'a_containedby':
          return `(${a} <@ ${b})`;
        default:
          return `EXISTS (SELECT 1 FROM jsonb_array_elements(CASE WHEN jsonb_typeof(${a}) = 'array' THEN ${a} ELSE '[]'::jsonb END) AS e(v) WHERE ${b} @> jsonb_build_array(e.v))`;
      }
    }
    if (op === 'accenti') this.fail(path, 'ACCENTI (accent-insensitive comparison) is not supported');
    if (['+', '-', '*', '/', '%', '^', 'div'].includes(op)) this.fail(path, 'arithmetic expressions are not supported');
    this.fail(path, `unknown or non-boolean operator '${node.op}'`);
  }

  // ---- operands ------------------------------------------------------------------------

  private queryable(name: unknown, path: string): Queryable {
    if (typeof name !== 'string' || name === '') this.fail(path, 'a property reference needs a name');
    const q = this.lookup(normalizeQueryableName(name));
    if (!q) throw new Cql2Error(`filter: unknown queryable '${name}' (at ${path}); GET the queryables link for the names that can be used`);
    return q;
  }

  private operand(node: unknown, path: string, allowAny = false): Operand {
    if (typeof node === 'string') return { kind: 'literal', type: 'string', value: node, path };
    if (typeof node === 'number') {
      if (!Number.isFinite(node)) this.fail(path, 'numbers must be finite');
      return { kind: 'literal', type: 'number', value: node, path };
    }
    if (typeof node === 'boolean') return { kind: 'literal', type: 'boolean', value: node, path };
    if (isRecord(node)) {
      if ('property' in node) {
        const q = this.queryable(node.property, path);
        const type = q.type === 'integer' ? 'number' : q.type;
        if (!allowAny && (type === 'geometry' || type === 'array' || type === 'interval')) {
          this.fail(path, `'${q.name}' is a ${type}: use the ${type === 'geometry' ? 'S_*' : type === 'array' ? 'A_*' : 'T_*'} functions on it`);
        }
        return { kind: 'property', q, type, path };
      }
      if ('timestamp' in node) {
        if (typeof node.timestamp !== 'string') this.fail(path, 'a timestamp literal is a string');
        return { kind: 'literal', type: 'timestamp', value: this.instant(node.timestamp, path), path };
      }
      if ('date' in node) {
        if (typeof node.date !== 'string') this.fail(path, 'a date literal is a string');
        try {
          return { kind: 'literal', type: 'date', value: parseDate(node.date), path };
        } catch (e) {
          this.fail(path, (e as Error).message);
        }
      }
      if (typeof node.op === 'string' && ['casei', 'lower', 'upper'].includes(node.op.toLowerCase())) {
        const args = this.args(node, path);
        this.arity(node.op, args, path, 1);
        const inner = this.operand(args[0], `${path}.args[0]`);
        if (this.scalarType(inner) !== 'string') this.fail(path, `${node.op.toUpperCase()} applies to text`);
        const fn = node.op.toLowerCase() === 'upper' ? 'upper' : 'lower';
        return { kind: 'expr', type: 'string', sql: `${fn}(${this.sql(inner, 'string')})`, path };
      }
      if (typeof node.op === 'string' && node.op.toLowerCase() === 'accenti') this.fail(path, 'ACCENTI (accent-insensitive comparison) is not supported');
      if ('interval' in node || 'bbox' in node || isGeometryLike(node)) this.fail(path, `${show(node)} cannot be used here`);
      if (typeof node.op === 'string') {
        // A boolean sub-expression used as a value (e.g. `flag = (a < b)`) is outside the classes we implement.
        this.fail(path, `'${node.op}' cannot be used as a value here`);
      }
    }
    if (node === null) this.fail(path, 'NULL is not a value: use IS NULL');
    this.fail(path, `unexpected value ${show(node)}`);
  }

  private instant(value: string, path: string): string {
    try {
      return parseRfc3339(value).text;
    } catch (e) {
      this.fail(path, (e as DatetimeError).message);
    }
  }

  private scalarType(o: Operand): ScalarType {
    if (o.kind !== 'property') return o.type;
    if (o.type === 'id') return 'string';
    return o.type as ScalarType;
  }

  /** The type two operands are compared in, coercing literals where CQL2 users expect it. */
  private unify(a: Operand, b: Operand, path: string): ScalarType {
    const ta = this.scalarType(a);
    const tb = this.scalarType(b);
    if (ta === tb) return ta;
    const temporal = (t: ScalarType) => t === 'timestamp' || t === 'date';
    if (temporal(ta) && temporal(tb)) return 'date';
    // A quoted instant compared with a timestamp queryable: '2020-01-01T00:00:00Z'.
    for (const [x, tx, other] of [
      [a, ta, tb],
      [b, tb, ta],
    ] as const) {
      if (x.kind === 'literal' && tx === 'string' && temporal(other)) {
        try {
          parseRfc3339(String(x.value));
          return other;
        } catch {
          try {
            parseDate(String(x.value));
            return 'date';
          } catch {
            /* fall through to the type error */
          }
        }
      }
      if (x.kind === 'literal' && tx === 'string' && other === 'number' && /^-?\d+(\.\d+)?([eE][+-]?\d+)?$/.test(String(x.value))) return 'number';
    }
    this.fail(path, `cannot compare ${this.describe(a, ta)} with ${this.describe(b, tb)}`);
  }

  private describe(o: Operand, type: string): string {
    return o.kind === 'property' ? `'${o.q.name}' (${type})` : o.kind === 'literal' ? `${JSON.stringify(o.value)} (${type})` : `an expression (${type})`;
  }

  /** SQL of an operand in a given type (binding literals with a cast). */
  private sql(o: Operand, type: ScalarType): string {
    if (o.kind === 'expr') return o.sql;
    if (o.kind === 'property') {
      const own = this.scalarType(o);
      if (type === 'date' && own === 'timestamp') return `((${o.q.sql}) AT TIME ZONE 'UTC')::date`;
      return o.q.sql;
    }
    switch (type) {
      case 'number':
        return this.params.add(Number(o.value), 'double precision');
      case 'boolean':
        return this.params.add(o.value, 'boolean');
      case 'timestamp':
        return this.params.add(o.type === 'timestamp' ? o.value : this.instant(String(o.value), o.path), 'timestamptz');
      case 'date':
        if (o.type === 'timestamp') return `((${this.params.add(o.value, 'timestamptz')}) AT TIME ZONE 'UTC')::date`;
        if (/^\d{4}-\d{2}-\d{2}$/.test(String(o.value))) return this.params.add(o.value, 'date');
        return `((${this.params.add(this.instant(String(o.value), o.path), 'timestamptz')}) AT TIME ZONE 'UTC')::date`;
      default:
        return this.params.add(String(o.value), 'text');
    }
  }

  private comparison(op: string, a: Operand, b: Operand, path: string): string {
    // Identifiers are uuids: equality on a well-formed one uses the index; any other string matches nothing.
    for (const [p, l] of [
      [a, b],
      [b, a],
    ] as const) {
      if (p.kind === 'property' && p.type === 'id' && l.kind === 'literal' && typeof l.value === 'string' && (op === '=' || op === '<>')) {
        if (isUuid(l.value)) return `(${p.q.uuidSql} ${op} ${this.params.add(l.value, 'uuid')})`;
        return op === '=' ? 'FALSE' : `(${p.q.uuidSql} IS NOT NULL)`;
      }
    }
    const type = this.unify(a, b, path);
    if (type === 'boolean' && op !== '=' && op !== '<>') this.fail(path, `booleans only compare with = and <>`);
    return `(${this.sql(a, type)} ${op} ${this.sql(b, type)})`;
  }

  // ---- spatial -------------------------------------------------------------------------

  private geometry(node: unknown, path: string): string {
    if (isRecord(node) && 'property' in node) {
      const q = this.queryable(node.property, path);
      if (q.type !== 'geometry') this.fail(path, `'${q.name}' is not a geometry`);
      return q.sql;
    }
    if (isRecord(node) && 'bbox' in node) {
      const b = node.bbox;
      if (!Array.isArray(b) || (b.length !== 4 && b.length !== 6) || !b.every((v) => typeof v === 'number' && Number.isFinite(v))) {
        this.fail(path, 'a bbox literal is 4 or 6 numbers');
      }
      const [w, s, e, n] = b.length === 4 ? (b as number[]) : [b[0], b[1], b[3], b[4]];
      if (s > n) this.fail(path, `bbox south (${s}) is greater than north (${n})`);
      return `ST_MakeEnvelope(${this.params.add(w, 'double precision')}, ${this.params.add(s, 'double precision')}, ${this.params.add(e, 'double precision')}, ${this.params.add(n, 'double precision')}, 4326)`;
    }
    if (isGeometryLike(node)) {
      try {
        assertGeometry(node, path);
      } catch (e) {
        this.fail(path, (e as GeoJsonError).message);
      }
      return `ST_SetSRID(ST_GeomFromGeoJSON(${this.params.add(JSON.stringify(node), 'text')}), 4326)`;
    }
    this.fail(path, `expected a geometry (a property, a GeoJSON geometry or a bbox), got ${show(node)}`);
  }

  // ---- temporal ------------------------------------------------------------------------

  private bound(node: unknown, path: string, side: 'start' | 'end'): string {
    if (node === '..') return side === 'start' ? "'-infinity'::timestamptz" : "'infinity'::timestamptz";
    if (typeof node === 'string') {
      if (/^\d{4}-\d{2}-\d{2}$/.test(node)) return this.dateBound(node, path, side);
      return this.params.add(this.instant(node, path), 'timestamptz');
    }
    if (isRecord(node) && 'timestamp' in node && typeof node.timestamp === 'string') return this.params.add(this.instant(node.timestamp, path), 'timestamptz');
    if (isRecord(node) && 'date' in node && typeof node.date === 'string') return this.dateBound(node.date, path, side);
    if (isRecord(node) && 'property' in node) {
      const q = this.queryable(node.property, path);
      if (q.type === 'interval') return side === 'start' ? q.startSql! : q.endSql!;
      if (q.type !== 'timestamp') this.fail(path, `'${q.name}' is not an instant`);
      return q.sql;
    }
    this.fail(path, `expected an instant, '..' or a property, got ${show(node)}`);
  }

  private dateBound(value: string, path: string, side: 'start' | 'end'): string {
    try {
      parseDate(value);
    } catch (e) {
      this.fail(path, (e as Error).message);
    }
    // A date is the whole day, in UTC.
    const p = this.params.add(value, 'date');
    return side === 'start' ? `(${p}::timestamp AT TIME ZONE 'UTC')` : `((${p} + 1)::timestamp AT TIME ZONE 'UTC' - interval '1 microsecond')`;
  }

  private interval(node: unknown, path: string): [string, string] {
    if (isRecord(node) && 'interval' in node) {
      const iv = node.interval;
      if (!Array.isArray(iv) || iv.length !== 2) this.fail(path, 'an interval has exactly two bounds');
      if (iv[0] === '..' && iv[1] === '..') return ["'-infinity'::timestamptz", "'infinity'::timestamptz"];
      return [this.bound(iv[0], `${path}.interval[0]`, 'start'), this.bound(iv[1], `${path}.interval[1]`, 'end')];
    }
    if (isRecord(node) && 'property' in node) {
      const q = this.queryable(node.property, path);
      if (q.type === 'interval') return [q.startSql!, q.endSql!];
      if (q.type !== 'timestamp') this.fail(path, `'${q.name}' is not temporal`);
      return [q.sql, q.sql];
    }
    if (isRecord(node) && 'date' in node && typeof node.date === 'string') return [this.dateBound(node.date, path, 'start'), this.dateBound(node.date, path, 'end')];
    const instant = this.bound(node, path, 'start');
    return [instant, instant];
  }

  private temporal(op: string, [s1, e1]: [string, string], [s2, e2]: [string, string]): string {
    switch (op) {
      case 't_after':
        return `(${s1} > ${e2})`;
      case 't_before':
        return `(${e1} < ${s2})`;
      case 't_contains':
        return `(${s1} < ${s2} AND ${e1} > ${e2})`;
      case 't_disjoint':
        return `(NOT (${s1} <= ${e2} AND ${e1} >= ${s2}))`;
      case 't_during':
        return `(${s1} > ${s2} AND ${e1} < ${e2})`;
      case 't_equals':
        return `(${s1} = ${s2} AND ${e1} = ${e2})`;
      case 't_finishedby':
        return `(${s1} < ${s2} AND ${e1} = ${e2})`;
      case 't_finishes':
        return `(${s1} > ${s2} AND ${e1} = ${e2})`;
      case 't_intersects':
        return `(${s1} <= ${e2} AND ${e1} >= ${s2})`;
      case 't_meets':
        return `(${e1} = ${s2})`;
      case 't_metby':
        return `(${s1} = ${e2})`;
      case 't_overlappedby':
        return `(${s1} > ${s2} AND ${s1} < ${e2} AND ${e1} > ${e2})`;
      case 't_overlaps':
        return `(${s1} < ${s2} AND ${e1} > ${s2} AND ${e1} < ${e2})`;
      case 't_startedby':
        return `(${s1} = ${s2} AND ${e1} > ${e2})`;
      default: // t_starts
        return `(${s1} = ${s2} AND ${e1} < ${e2})`;
    }
  }

  // ---- arrays --------------------------------------------------------------------------

  private array(node: unknown, path: string): string {
    if (Array.isArray(node)) {
      node.forEach((v, i) => {
        if (v !== null && typeof v === 'object' && !Array.isArray(v)) this.fail(`${path}[${i}]`, 'array literals hold plain values');
      });
      return this.params.add(JSON.stringify(node), 'jsonb');
    }
    if (isRecord(node) && 'property' in node) {
      const q = this.queryable(node.property, path);
      if (q.type !== 'array') this.fail(path, `'${q.name}' is not an array`);
      return q.sql;
    }
    this.fail(path, `expected an array or an array property, got ${show(node)}`);
  }
}

/** Compiles CQL2 JSON into a SQL condition whose literals are appended to `params`. */
export function compileCql2(node: Cql2Node, lookup: QueryableLookup, params: SqlParams): string {
  return new Cql2Compiler(lookup, params).compile(node);
}
