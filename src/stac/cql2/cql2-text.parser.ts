import { MAX_NESTING } from '../../common/input-guard.js';
import { ARRAY_FUNCTIONS, Cql2Error, type Cql2Node, type GeoJsonGeometry, TEMPORAL_FUNCTIONS } from './cql2.types.js';

/**
 * CQL2 text (OGC 21-065r2, Annex B) → CQL2 JSON. A hand-written recursive-descent parser:
 * keywords are case-insensitive, identifiers may contain `:` and `.` (`eo:cloud_cover`,
 * `properties.datetime`) or be double-quoted, strings are single-quoted with `''` escapes.
 * Errors carry the 1-based character position where the parser gave up.
 */

type TokenKind = 'number' | 'string' | 'ident' | 'quoted' | 'op' | '(' | ')' | ',' | 'eof';

interface Token {
  kind: TokenKind;
  text: string;
  /** 0-based offset in the input. */
  pos: number;
}

const COMPARISON_OPS = new Set(['=', '<>', '<', '<=', '>', '>=']);

const SPATIAL_FUNCTIONS = new Set(['s_intersects', 's_equals', 's_disjoint', 's_touches', 's_within', 's_overlaps', 's_crosses', 's_contains']);
/** Canonical CQL2 JSON spelling of the camel-cased temporal and array operators. */
const CANONICAL_OP: Record<string, string> = {
  t_finishedby: 't_finishedBy',
  t_metby: 't_metBy',
  t_overlappedby: 't_overlappedBy',
  t_startedby: 't_startedBy',
  a_containedby: 'a_containedBy',
};

const GEOMETRY_KEYWORDS: Record<string, GeoJsonGeometry['type']> = {
  point: 'Point',
  linestring: 'LineString',
  polygon: 'Polygon',
  multipoint: 'MultiPoint',
  multilinestring: 'MultiLineString',
  multipolygon: 'MultiPolygon',
  geometrycollection: 'GeometryCollection',
};

/** Words that cannot name a property without double quotes. */
const RESERVED = new Set(['and', 'or', 'not', 'like', 'between', 'in', 'is', 'null', 'true', 'false']);

function describe(token: Token): string {
  return token.kind === 'eof' ? 'the end of the filter' : `'${token.text}'`;
}

function tokenize(input: string): Token[] {
  const tokens: Token[] = [];
  let i = 0;
  const n = input.length;
  while (i < n) {
    const c = input[i];
    if (/\s/.test(c)) {
      i++;
      continue;
    }
    const start = i;
    if (c === '(' || c === ')' || c === ',') {
      tokens.push({ kind: c, text: c, pos: start });
      i++;
      continue;
    }
    if (c === "'") {
      let value = '';
      i++;
      for (;;) {
        if (i >= n) throw new Cql2Error(`CQL2 text syntax error at position ${start + 1}: unterminated string`, start + 1);
        if (input[i] === "'") {
          if (input[i + 1] === "'") {
            value += "'";
            i += 2;
            continue;
          }
          i++;
          break;
        }
        value += input[i++];
      }
      tokens.push({ kind: 'string', text: value, pos: start });
      continue;
    }
    if (c === '"') {
      const end = input.indexOf('"', i + 1);
      if (end < 0) throw new Cql2Error(`CQL2 text syntax error at position ${start + 1}: unterminated quoted identifier`, start + 1);
      tokens.push({ kind: 'quoted', text: input.slice(i + 1, end), pos: start });
      i = end + 1;
      continue;
    }
    const num = /^(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?/.exec(input.slice(i));
    if (num) {
      tokens.push({ kind: 'number', text: num[0], pos: start });
      i += num[0].length;
      continue;
    }
    const ident = /^[A-Za-z_:][A-Za-z0-9_:.]*/.exec(input.slice(i));
    if (ident) {
      tokens.push({ kind: 'ident', text: ident[0], pos: start });
      i += ident[0].length;
      continue;
    }
    const op = /^(<>|<=|>=|!=|=|<|>|\+|-|\*|\/|%|\^)/.exec(input.slice(i));
    if (op) {
      tokens.push({ kind: 'op', text: op[0], pos: start });
      i += op[0].length;
      continue;
    }
    throw new Cql2Error(`CQL2 text syntax error at position ${start + 1}: unexpected character '${c}'`, start + 1);
  }
  tokens.push({ kind: 'eof', text: '', pos: n });
  return tokens;
}

class Parser {
  private i = 0;
  private depth = 0;
  constructor(private readonly tokens: Token[]) {}

  /** Runs a nested part of the grammar, refusing nesting deeper than MAX_NESTING before the stack could run out. */
  private nested<T>(work: () => T): T {
    if (++this.depth > MAX_NESTING) {
      const t = this.peek();
      throw new Cql2Error(`CQL2 text: the filter nests more than ${MAX_NESTING} levels of parentheses, NOTs and functions (position ${t.pos + 1})`, t.pos + 1);
    }
    try {
      return work();
    } finally {
      this.depth--;
    }
  }

  private peek(offset = 0): Token {
    return this.tokens[Math.min(this.i + offset, this.tokens.length - 1)];
  }

  private next(): Token {
    const t = this.peek();
    if (t.kind !== 'eof') this.i++;
    return t;
  }

  private isWord(word: string, offset = 0): boolean {
    const t = this.peek(offset);
    return t.kind === 'ident' && t.text.toLowerCase() === word;
  }

  private fail(expected: string, token = this.peek()): never {
    throw new Cql2Error(`CQL2 text syntax error at position ${token.pos + 1}: expected ${expected}, found ${describe(token)}`, token.pos + 1);
  }

  private expect(kind: TokenKind, what: string): Token {
    const t = this.peek();
    if (t.kind !== kind) this.fail(what);
    return this.next();
  }

  private expectWord(word: string): void {
    if (!this.isWord(word)) this.fail(word.toUpperCase());
    this.next();
  }

  parse(): Cql2Node {
    if (this.peek().kind === 'eof') this.fail('a filter expression');
    const node = this.orExpression();
    if (this.peek().kind !== 'eof') this.fail('AND, OR or the end of the filter');
    return node;
  }

  private orExpression(): Cql2Node {
    const args = [this.andExpression()];
    while (this.isWord('or')) {
      this.next();
      args.push(this.andExpression());
    }
    return args.length === 1 ? args[0] : { op: 'or', args };
  }

  private andExpression(): Cql2Node {
    const args = [this.notExpression()];
    while (this.isWord('and')) {
      this.next();
      args.push(this.notExpression());
    }
    return args.length === 1 ? args[0] : { op: 'and', args };
  }

  private notExpression(): Cql2Node {
    if (this.isWord('not')) {
      this.next();
      return { op: 'not', args: [this.nested(() => this.notExpression())] };
    }
    return this.predicate();
  }

  private predicate(): Cql2Node {
    if (this.peek().kind === '(') {
      this.next();
      const inner = this.nested(() => this.orExpression());
      this.expect(')', "')'");
      return inner;
    }
    const left = this.scalar();
    const t = this.peek();
    if (t.kind === 'op' && COMPARISON_OPS.has(t.text)) {
      this.next();
      return { op: t.text, args: [left, this.scalar()] };
    }
    if (t.kind === 'op' && t.text === '!=') this.fail("a comparison operator ('<>' means not equal)");
    if (t.kind === 'op' && '+-*/%^'.includes(t.text)) {
      throw new Cql2Error(`CQL2 text: arithmetic expressions are not supported (position ${t.pos + 1})`, t.pos + 1);
    }
    let negate = false;
    if (this.isWord('not') && (this.isWord('like', 1) || this.isWord('between', 1) || this.isWord('in', 1))) {
      this.next();
      negate = true;
    }
    let node: Cql2Node | undefined;
    if (this.isWord('like')) {
      this.next();
      node = { op: 'like', args: [left, this.scalar()] };
    } else if (this.isWord('between')) {
      this.next();
      const low = this.scalar();
      this.expectWord('and');
      node = { op: 'between', args: [left, low, this.scalar()] };
    } else if (this.isWord('in')) {
      this.next();
      this.expect('(', "'(' opening the IN list");
      const list: Cql2Node[] = [this.scalar()];
      while (this.peek().kind === ',') {
        this.next();
        list.push(this.scalar());
      }
      this.expect(')', "')' closing the IN list");
      node = { op: 'in', args: [left, list] };
    } else if (this.isWord('is')) {
      this.next();
      let isNot = false;
      if (this.isWord('not')) {
        this.next();
        isNot = true;
      }
      this.expectWord('null');
      node = { op: 'isNull', args: [left] };
      if (isNot) node = { op: 'not', args: [node] };
    }
    if (node) return negate ? { op: 'not', args: [node] } : node;
    // A predicate function (S_INTERSECTS(...), T_BEFORE(...), A_CONTAINS(...)) or a boolean literal stands alone.
    if (typeof left === 'boolean' || (isOp(left) && isPredicateOp(left.op))) return left;
    this.fail('a comparison operator, LIKE, BETWEEN, IN or IS NULL', t);
  }

  private scalar(): Cql2Node {
    const t = this.peek();
    if (t.kind === 'op' && (t.text === '-' || t.text === '+')) {
      this.next();
      const numberToken = this.expect('number', 'a number');
      const value = Number(numberToken.text);
      return t.text === '-' ? -value : value;
    }
    if (t.kind === 'number') {
      this.next();
      return Number(t.text);
    }
    if (t.kind === 'string') {
      this.next();
      return t.text;
    }
    if (t.kind === 'quoted') {
      this.next();
      return { property: t.text };
    }
    if (t.kind === '(') {
      // An array literal: ('a', 'b') or ().
      this.next();
      const items: Cql2Node[] = [];
      if (this.peek().kind !== ')') {
        items.push(this.scalar());
        while (this.peek().kind === ',') {
          this.next();
          items.push(this.scalar());
        }
      }
      this.expect(')', "')' closing the array");
      return items;
    }
    if (t.kind === 'ident') {
      const word = t.text.toLowerCase();
      if (word === 'true' || word === 'false') {
        this.next();
        return word === 'true';
      }
      if (this.peek(1).kind === '(') return this.functionCall();
      if (word in GEOMETRY_KEYWORDS && this.peek(1).kind === 'ident' && /^z$/i.test(this.peek(1).text)) return this.functionCall();
      if (RESERVED.has(word)) this.fail('a property name or a value');
      this.next();
      return { property: t.text };
    }
    this.fail('a property name or a value');
  }

  private functionCall(): Cql2Node {
    return this.nested(() => this.functionCallBody());
  }

  private functionCallBody(): Cql2Node {
    const nameToken = this.next();
    const name = nameToken.text.toLowerCase();
    if (name in GEOMETRY_KEYWORDS) return this.geometryBody(GEOMETRY_KEYWORDS[name]);
    this.expect('(', "'('");
    if (name === 'timestamp' || name === 'date') {
      const value = this.expect('string', `a quoted ${name}`).text;
      this.expect(')', "')'");
      return name === 'timestamp' ? { timestamp: value } : { date: value };
    }
    if (name === 'interval') {
      const start = this.intervalBound();
      this.expect(',', "',' between the interval bounds");
      const end = this.intervalBound();
      this.expect(')', "')'");
      return { interval: [start, end] };
    }
    if (name === 'bbox') {
      const values = [this.signedNumber()];
      while (this.peek().kind === ',') {
        this.next();
        values.push(this.signedNumber());
      }
      this.expect(')', "')' closing BBOX");
      if (values.length !== 4 && values.length !== 6) {
        throw new Cql2Error(`CQL2 text: BBOX takes 4 or 6 numbers, got ${values.length} (position ${nameToken.pos + 1})`, nameToken.pos + 1);
      }
      return { bbox: values };
    }
    const args: Cql2Node[] = [];
    if (this.peek().kind !== ')') {
      args.push(this.scalar());
      while (this.peek().kind === ',') {
        this.next();
        args.push(this.scalar());
      }
    }
    this.expect(')', "')' closing the function arguments");
    const op = CANONICAL_OP[name] ?? name;
    return { op, args };
  }

  private intervalBound(): Cql2Node {
    const t = this.peek();
    if (t.kind === 'string') {
      this.next();
      return t.text;
    }
    if (t.kind === 'ident' || t.kind === 'quoted') return this.scalar();
    this.fail("a quoted instant, '..', a property, DATE(...) or TIMESTAMP(...)");
  }

  private signedNumber(): number {
    const t = this.peek();
    let sign = 1;
    if (t.kind === 'op' && (t.text === '-' || t.text === '+')) {
      this.next();
      if (t.text === '-') sign = -1;
    }
    const numberToken = this.expect('number', 'a number');
    return sign * Number(numberToken.text);
  }

  private position(): number[] {
    const coords = [this.signedNumber(), this.signedNumber()];
    if (this.peek().kind === 'number' || (this.peek().kind === 'op' && (this.peek().text === '-' || this.peek().text === '+'))) coords.push(this.signedNumber());
    return coords;
  }

  private positionList(): number[][] {
    this.expect('(', "'(' opening a coordinate list");
    const list = [this.position()];
    while (this.peek().kind === ',') {
      this.next();
      list.push(this.position());
    }
    this.expect(')', "')' closing a coordinate list");
    return list;
  }

  private listOf<T>(item: () => T): T[] {
    this.expect('(', "'('");
    const list = [item()];
    while (this.peek().kind === ',') {
      this.next();
      list.push(item());
    }
    this.expect(')', "')'");
    return list;
  }

  private geometryBody(type: GeoJsonGeometry['type']): GeoJsonGeometry {
    // Optional dimension marker: POINT Z (1 2 3).
    if (this.peek().kind === 'ident' && /^z$/i.test(this.peek().text)) this.next();
    switch (type) {
      case 'Point': {
        this.expect('(', "'(' opening POINT");
        const p = this.position();
        this.expect(')', "')' closing POINT");
        return { type, coordinates: p };
      }
      case 'LineString':
        return { type, coordinates: this.positionList() };
      case 'Polygon':
        return { type, coordinates: this.listOf(() => this.positionList()) };
      case 'MultiPoint': {
        // Both MULTIPOINT((1 2), (3 4)) and MULTIPOINT(1 2, 3 4) are in use.
        const points = this.listOf(() => {
          if (this.peek().kind === '(') {
            this.next();
            const p = this.position();
            this.expect(')', "')'");
            return p;
          }
          return this.position();
        });
        return { type, coordinates: points };
      }
      case 'MultiLineString':
        return { type, coordinates: this.listOf(() => this.positionList()) };
      case 'MultiPolygon':
        return { type, coordinates: this.listOf(() => this.listOf(() => this.positionList())) };
      case 'GeometryCollection': {
        const geometries = this.listOf(() => {
          const t = this.peek();
          const kind = t.kind === 'ident' ? GEOMETRY_KEYWORDS[t.text.toLowerCase()] : undefined;
          if (!kind) this.fail('a geometry (POINT, LINESTRING, POLYGON…)');
          this.next();
          return this.geometryBody(kind);
        });
        return { type, geometries };
      }
    }
  }
}

function isOp(node: Cql2Node): node is { op: string; args: Cql2Node[] } {
  return !!node && typeof node === 'object' && !Array.isArray(node) && 'op' in node;
}

function isPredicateOp(op: string): boolean {
  const lower = op.toLowerCase();
  return SPATIAL_FUNCTIONS.has(lower) || TEMPORAL_FUNCTIONS.has(lower) || ARRAY_FUNCTIONS.has(lower);
}

/** Parses a CQL2 text filter into CQL2 JSON; throws Cql2Error with the position of a syntax error. */
export function parseCql2Text(text: string): Cql2Node {
  return new Parser(tokenize(text)).parse();
}
