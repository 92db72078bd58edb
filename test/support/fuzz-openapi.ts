/**
 * The committed OpenAPI document read as a list of operations for the fuzzer, and fast-check
 * arbitraries for the values its schemas describe (valid ones, and ones with hostile values
 * mixed in at any depth).
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import fc from 'fast-check';
import { PROJECT_ROOT } from './env.js';

// eslint-disable-next-line @typescript-eslint/no-explicit-any
export type JsonSchema = Record<string, any>;

export interface FuzzParam {
  name: string;
  in: 'path' | 'query' | 'header';
  required: boolean;
  schema: JsonSchema;
}

export interface FuzzOperation {
  method: 'GET' | 'POST' | 'PATCH' | 'PUT' | 'DELETE';
  /** The path template, e.g. `/api/datasets/{id}`. */
  path: string;
  /** `METHOD /path`, how the reports name an operation. */
  key: string;
  params: FuzzParam[];
  body?: { contentType: string; schema: JsonSchema; required: boolean };
  /** Needs a logged-in caller (bearer or session). */
  secured: boolean;
}

export interface OpenApiDoc {
  paths: Record<string, Record<string, JsonSchema>>;
  components: { schemas: Record<string, JsonSchema> };
}

export function loadOpenApi(file = path.join(PROJECT_ROOT, 'openapi.json')): OpenApiDoc {
  return JSON.parse(readFileSync(file, 'utf8')) as OpenApiDoc;
}

const METHODS = ['get', 'post', 'patch', 'put', 'delete'] as const;

export function operations(doc: OpenApiDoc): FuzzOperation[] {
  const out: FuzzOperation[] = [];
  for (const [p, item] of Object.entries(doc.paths)) {
    for (const m of METHODS) {
      const op = item[m];
      if (!op) continue;
      const params: FuzzParam[] = (op.parameters ?? []).map((x: JsonSchema) => ({
        name: x.name,
        in: x.in,
        required: x.required === true || x.in === 'path',
        schema: x.schema ?? { type: 'string' },
      }));
      let body: FuzzOperation['body'];
      const content = op.requestBody?.content as Record<string, { schema?: JsonSchema }> | undefined;
      if (content) {
        const [contentType, media] = Object.entries(content)[0]!;
        body = { contentType, schema: resolve(doc, media.schema ?? {}), required: op.requestBody.required === true };
      }
      const method = m.toUpperCase() as FuzzOperation['method'];
      out.push({ method, path: p, key: `${method} ${p}`, params, body, secured: Array.isArray(op.security) && op.security.length > 0 });
    }
  }
  return out;
}

/** Follows `$ref` and merges a one-element `allOf` (as the Swagger plugin writes nested DTOs). */
export function resolve(doc: OpenApiDoc, schema: JsonSchema): JsonSchema {
  if (schema.$ref) {
    const name = String(schema.$ref).replace('#/components/schemas/', '');
    return resolve(doc, doc.components.schemas[name] ?? {});
  }
  if (Array.isArray(schema.allOf) && schema.allOf.length === 1) {
    const { allOf, ...rest } = schema;
    return { ...resolve(doc, allOf[0]), ...rest };
  }
  return schema;
}

/** Property names of an object schema, with their (resolved) schemas. */
export function properties(doc: OpenApiDoc, schema: JsonSchema): [string, JsonSchema][] {
  const s = resolve(doc, schema);
  return Object.entries((s.properties ?? {}) as Record<string, JsonSchema>).map(([k, v]) => [k, resolve(doc, v)]);
}

/** What a field is meant to hold, for picking wrong types: 'string', 'number', 'boolean', 'array', 'object'. */
export function kindOf(schema: JsonSchema): string {
  if (schema.enum) return 'string';
  if (schema.oneOf) return kindOf(schema.oneOf[0]);
  if (schema.type === 'integer') return 'number';
  if (schema.format === 'binary') return 'file';
  return schema.type ?? 'object';
}

/** Values that break assumptions: nulls, wrong types, NULs, lone surrogates, huge or odd numbers. */
export const HOSTILE_SCALARS: unknown[] = [
  null,
  '',
  ' ',
  'a\u0000b',
  '\u0000',
  '\ud800',
  'x\udc00y',
  '\uffff',
  '💥'.repeat(50),
  '../../../../etc/passwd',
  "' OR 1=1 --",
  '%00',
  'NaN',
  '1e309',
  0,
  -1,
  -0,
  1.5,
  1e308,
  -1e308,
  2 ** 53 + 2,
  true,
  false,
  [],
  {},
  [null],
  ['x'],
  { a: 1 },
  JSON.parse('{"__proto__":{"polluted":true}}'),
  { constructor: { prototype: { polluted: true } } },
  'x'.repeat(5000),
];

export const hostileValue: fc.Arbitrary<unknown> = fc.oneof(
  { weight: 3, arbitrary: fc.constantFrom(...HOSTILE_SCALARS) },
  { weight: 1, arbitrary: fc.jsonValue({ maxDepth: 3 }) },
  { weight: 1, arbitrary: fc.string({ unit: 'binary', maxLength: 40 }) },
);

interface ArbOptions {
  /** Weight of a hostile value against 8 for a valid one, at every node (0: valid values only). */
  hostile: number;
}

/** An arbitrary for values of `schema` (bounded sizes), optionally with hostile values anywhere. */
export function arbitraryFor(doc: OpenApiDoc, schema: JsonSchema, options: ArbOptions, depth = 0): fc.Arbitrary<unknown> {
  const valid = validArbitrary(doc, resolve(doc, schema), options, depth);
  const withNull = schema.nullable ? fc.option(valid, { nil: null, freq: 5 }) : valid;
  if (!options.hostile) return withNull;
  return fc.oneof({ weight: 8, arbitrary: withNull }, { weight: options.hostile, arbitrary: hostileValue });
}

function validArbitrary(doc: OpenApiDoc, s: JsonSchema, options: ArbOptions, depth: number): fc.Arbitrary<unknown> {
  if (Array.isArray(s.enum)) return fc.constantFrom(...(s.enum as unknown[]));
  if (Array.isArray(s.oneOf) || Array.isArray(s.anyOf)) {
    const alternatives = ((s.oneOf ?? s.anyOf) as JsonSchema[]).map((x) => arbitraryFor(doc, x, options, depth + 1));
    return fc.oneof(...alternatives);
  }
  const min = typeof s.minimum === 'number' ? s.minimum : -1e6;
  const max = typeof s.maximum === 'number' ? s.maximum : 1e6;
  switch (s.type) {
    case 'integer':
      return fc.integer({ min: Math.ceil(min), max: Math.floor(max) });
    case 'number':
      return fc.oneof(fc.integer({ min: Math.ceil(min), max: Math.floor(max) }), fc.double({ min, max, noNaN: true, noDefaultInfinity: true }));
    case 'boolean':
      return fc.boolean();
    case 'string':
      return stringArbitrary(s);
    case 'array': {
      const items = arbitraryFor(doc, s.items ?? {}, options, depth + 1);
      return fc.array(items, { minLength: Math.min(s.minItems ?? 0, 3), maxLength: Math.min(s.maxItems ?? 4, 4) });
    }
    case 'object':
    default: {
      const props = properties(doc, s);
      if (depth > 4 || (props.length === 0 && s.type !== 'object')) return fc.jsonValue({ maxDepth: 2 });
      if (props.length === 0) return fc.dictionary(fc.string({ maxLength: 8 }), fc.jsonValue({ maxDepth: 2 }), { maxKeys: 4 });
      const required = new Set<string>((s.required as string[] | undefined) ?? []);
      const record = fc.record(Object.fromEntries(props.map(([k, v]) => [k, arbitraryFor(doc, v, options, depth + 1)])), {
        requiredKeys: props.map(([k]) => k).filter((k) => required.has(k)),
      });
      if (!options.hostile) return record;
      // Now and then an extra, undocumented field.
      return fc
        .tuple(record, fc.option(fc.tuple(fc.string({ maxLength: 12 }), hostileValue), { freq: 4 }))
        .map(([r, extra]) => (extra ? { ...(r as object), [extra[0]]: extra[1] } : r));
    }
  }
}

function stringArbitrary(s: JsonSchema): fc.Arbitrary<string> {
  switch (s.format) {
    case 'uuid':
      return fc.uuid();
    case 'date-time':
      return fc.date({ min: new Date('1900-01-01T00:00:00Z'), max: new Date('2200-01-01T00:00:00Z'), noInvalidDate: true }).map((d) => d.toISOString());
    case 'binary':
      return fc.string({ maxLength: 20 });
  }
  const maxLength = Math.min(typeof s.maxLength === 'number' ? s.maxLength : 40, 40);
  const minLength = Math.min(typeof s.minLength === 'number' ? s.minLength : 0, maxLength);
  return fc.oneof(
    fc.string({ minLength, maxLength }),
    fc.string({ unit: 'grapheme', minLength, maxLength }),
    ...(s.example !== undefined && typeof s.example === 'string' ? [fc.constant(s.example)] : []),
  );
}
