/**
 * Hostile inputs of the fuzzer, by family: path segments and query values (sent raw, already
 * percent-encoded), JSON bodies (deep nesting, NULs, lone surrogates, nulls, wrong types, empty
 * arrays, huge numbers, long strings, wrong content types), CQL2 filters and multipart bodies.
 */
import { gzipSync } from 'node:zlib';
import fc from 'fast-check';
import { type FuzzOperation, HOSTILE_SCALARS, type JsonSchema, kindOf, type OpenApiDoc, properties } from './fuzz-openapi.js';

/** A body as sent: bytes, the Content-Type (none when absent) and a short description for reports. */
export interface FuzzBody {
  contentType?: string;
  data: Buffer;
  summary: string;
}

/** One request of the campaign, before the caller's credentials are added. */
export interface FuzzCase {
  /** The family of the input, e.g. `body:deep-object-20000`, `query:nul`, `multipart:missing-closing-boundary`. */
  family: string;
  /** Raw (already percent-encoded) values of path parameters that replace the real ones. */
  path?: Record<string, string>;
  /** Raw query string, without `?`. */
  query?: string;
  headers?: Record<string, string>;
  body?: FuzzBody;
  /** What is hostile about it, short. */
  summary: string;
}

// ---------------------------------------------------------------------------------------------
// Encoding

const UNRESERVED = /[A-Za-z0-9\-._~()'*!,:@/]/;

/** Percent-encodes everything but unreserved characters and a few sub-delimiters (keeps deep CQL2 short). */
export function encodeRaw(value: string): string {
  let out = '';
  for (const ch of value) {
    if (UNRESERVED.test(ch)) out += ch;
    else if (ch === ' ') out += '+';
    else for (const b of Buffer.from(ch, 'utf8')) out += `%${b.toString(16).toUpperCase().padStart(2, '0')}`;
  }
  return out;
}

/** Path segments are encoded harder: `/` too. */
export function encodeSegment(value: string): string {
  return encodeRaw(value).replace(/\//g, '%2F').replace(/\+/g, '%20');
}

export function shorten(text: string, max = 160): string {
  // eslint-disable-next-line no-control-regex
  const clean = text.replace(/\u0000/g, '\\u0000').replace(/[\ud800-\udfff]/g, (c) => `\\u${c.charCodeAt(0).toString(16)}`);
  return clean.length <= max ? clean : `${clean.slice(0, max)}… (${text.length} chars)`;
}

// ---------------------------------------------------------------------------------------------
// Path segments and query values (raw)

/** Path segments; the sweep sends those in SWEEP_SEGMENTS, the random phase all of them. */
export const HOSTILE_SEGMENTS: [family: string, raw: string][] = [
  ['nul', '%00'],
  ['nul-inside', 'a%00b'],
  ['lone-surrogate', '%ED%A0%80'],
  ['invalid-utf8', '%FF%FE'],
  ['bad-percent', '%zz'],
  ['long', 'x'.repeat(4000)],
  ['zero-uuid', '00000000-0000-0000-0000-000000000000'],
  ['uuid-like', 'ffffffff-ffff-ffff-ffff-fffffffffffz'],
  ['number', '-1'],
  ['huge-number', '9'.repeat(400)],
  ['float', '1e309'],
  ['nan', 'NaN'],
  ['traversal', '..%2F..%2Fetc%2Fpasswd'],
  ['sql', "'%20OR%201=1--"],
  ['unicode', '%F0%9F%92%A5%C3%A9'],
  ['space', '%20'],
  ['json', '%7B%22a%22:1%7D'],
];

export const SWEEP_SEGMENTS = HOSTILE_SEGMENTS.filter(([family]) =>
  ['nul', 'nul-inside', 'lone-surrogate', 'invalid-utf8', 'bad-percent', 'long', 'zero-uuid', 'huge-number', 'float', 'traversal', 'json'].includes(family),
);

export const HOSTILE_QUERY_VALUES: [family: string, raw: string][] = [
  ['nul', '%00'],
  ['nul-inside', 'a%00b'],
  ['lone-surrogate', '%ED%A0%80'],
  ['invalid-utf8', '%FF%FE'],
  ['bad-percent', '%zz%'],
  ['long', 'x'.repeat(8000)],
  ['huge-number', '1' + '0'.repeat(400)],
  ['float-overflow', '1e309'],
  ['negative', '-99999999999'],
  ['json', '%7B%22a%22:%5B1%5D%7D'],
  ['empty', ''],
];

/** Values that mean something odd to one parameter (raw, encoded), sent by the sweep besides the generic ones. */
export const SPECIFIC_QUERY_VALUES: Record<string, string[]> = {
  bbox: ['-180,-90,180,90,0,1', '1,2,3', '190,100,-190,-100', 'NaN,NaN,NaN,NaN', '1e309,0,0,0', '0,0,0,0', '179,60,-179,64', '1,1,1,1,1,1,1,1'],
  datetime: [
    '../..',
    '/',
    '2024-02-30T00:00:00Z',
    '99999-01-01T00:00:00Z',
    '2024-01-01T00:00:00%2B99:00',
    '2025-01-01T00:00:00Z/2024-01-01T00:00:00Z',
    '0000-01-01T00:00:00Z',
    'now',
  ],
  intersects: [
    encodeRaw('{"type":"Point","coordinates":[]}'),
    encodeRaw('{"type":"Polygon","coordinates":[[[0,0],[1,0],[0,0]]]}'),
    encodeRaw('{"type":"GeometryCollection","geometries":[]}'),
    encodeRaw('{"type":"Point","coordinates":[1e309,0]}'),
    encodeRaw(`{"type":"MultiPoint","coordinates":[${Array.from({ length: 500 }, () => '[1,2]').join(',')}]}`),
  ],
  sortby: ['-', '+', '+id,-id,+id', 'properties.nope', '-datetime,'.repeat(200)],
  sort: ['-', 'nope', '-created_at,-created_at'],
  fields: ['-properties,+properties', '+', 'properties.' + 'a.'.repeat(500), '-id,-geometry,-links,-assets'],
  collections: ['', ',,,', 'a,'.repeat(2000)],
  ids: ['', ',,,', 'a,'.repeat(2000)],
  limit: ['0', '10001', '1e3', '0x10'],
  page: ['0', '99999999', '1e3'],
  size: ['0', '1', '100000', '4096'],
  lon: ['180.0000001', '-180', 'Infinity'],
  lat: ['90.0000001', '-90', '-Infinity'],
  after: ['-2', '2000000001', '1e3'],
  status: ['queued,running', 'queued&status=nope'],
  resampling: ['nearest', 'cubic', 'nope'],
  'filter-lang': ['cql2-json', 'CQL2-TEXT', 'sql'],
  'filter-crs': ['EPSG:4326', 'http://www.opengis.net/def/crs/EPSG/0/4326'],
  crs: ['EPSG:0', 'EPSG:999999999', '+proj=longlat'],
  next: ['//evil.example', '/%2F%2Fevil.example', 'javascript:alert(1)', '/api/docs%0d%0aSet-Cookie:x=1'],
};

/** Path values that mean something odd to one parameter (raw). */
export const SPECIFIC_SEGMENTS: Record<string, string[]> = {
  z: ['30', '99', '0.5'],
  x: ['1048576', '0.5'],
  y: ['1048576', '0.5'],
  variant: ['hd', 'original', 'thumb.jpg'],
  tile: ['0_0', '99_99', '-1_-1', '0_0_0'],
  name: ['system.sleep', 'system.', '__proto__', 'constructor'],
};

/** Query-string shapes that are about the parameter, not its value. */
export function queryShapes(name: string): [family: string, raw: string][] {
  return [
    ['repeated', `${name}=1&${name}=2&${name}=x`],
    ['brackets', `${name}%5Ba%5D%5Bb%5D=1`],
    ['no-value', name],
  ];
}

// ---------------------------------------------------------------------------------------------
// Deep structures (built as text: JSON.stringify would overflow on them)

export const deepObject = (n: number, leaf = '1') => '{"a":'.repeat(n) + leaf + '}'.repeat(n);
export const deepArray = (n: number, leaf = '') => '['.repeat(n) + leaf + ']'.repeat(n);
/** CQL2 JSON: NOT(NOT(…(id = 'x'))). */
export const deepCql2Not = (n: number) => '{"op":"not","args":['.repeat(n) + '{"op":"=","args":[{"property":"id"},"x"]}' + ']}'.repeat(n);
/** CQL2 JSON: and(and(…), …). */
export const deepCql2And = (n: number) => '{"op":"and","args":['.repeat(n) + '{"op":"=","args":[{"property":"id"},"x"]}' + ',{"op":"=","args":[{"property":"id"},"y"]}]}'.repeat(n);

/** CQL2 text filters that nest or repeat thousands of times, or carry NULs and lone surrogates (raw, encoded). */
export function hostileCql2Text(forUrl: boolean): [family: string, text: string][] {
  // URLs stay below the 16 kB header limit of Node's HTTP parser; bodies go deeper.
  const n = forUrl ? 2500 : 8000;
  return [
    ['cql2-text:parens', '('.repeat(n) + "id='x'" + ')'.repeat(n)],
    ['cql2-text:nots', 'NOT '.repeat(forUrl ? 2500 : 8000) + "id='x'"],
    ['cql2-text:not-parens', 'NOT ('.repeat(forUrl ? 1500 : 5000) + "id='x'" + ')'.repeat(forUrl ? 1500 : 5000)],
    ['cql2-text:unbalanced', '('.repeat(n)],
    ['cql2-text:wide-and', "id='x' AND ".repeat(forUrl ? 900 : 5000) + "id='x'"],
    ['cql2-text:long-in', 'id IN (' + "'a',".repeat(forUrl ? 2000 : 20000) + "'a')"],
    ['cql2-text:casei', 'CASEI('.repeat(forUrl ? 1500 : 5000) + 'id' + ')'.repeat(forUrl ? 1500 : 5000) + " = 'x'"],
    ['cql2-text:nul', "id = 'a\u0000b'"],
    ['cql2-text:lone-surrogate', "id = 'a\ud800b'"],
    ['cql2-text:huge-number', `"view:azimuth" > 1${'0'.repeat(400)}`],
    ['cql2-text:timestamp', "datetime > TIMESTAMP('99999-99-99T99:99:99Z')"],
    ['cql2-text:polygon', `S_INTERSECTS(geometry, POLYGON((${Array.from({ length: forUrl ? 400 : 20000 }, (_, i) => `${i % 180} ${i % 90}`).join(',')})))`],
    ['cql2-text:garbage', "id = 'x' ) OR ( 1 = 1 --"],
  ];
}

/** The text of a CQL2 filter in a query string: ( and ) stay as they are, the rest is encoded; lone surrogates as their UTF-8 form. */
export function encodeCql2(text: string): string {
  return encodeRaw(text.replace(/\ud800/g, '\u0001')).replace(/%01/g, '%ED%A0%80');
}

// ---------------------------------------------------------------------------------------------
// JSON bodies

const jsonBody = (text: string, summary: string, contentType = 'application/json'): FuzzBody => ({
  contentType,
  data: Buffer.from(text, 'utf8'),
  summary,
});

/** A JSON text of `base` where `path` (property names) holds the JSON text `valueText`. */
export function withValueAt(base: Record<string, unknown>, path: string[], valueText: string): string {
  const marker = '@@FUZZ_VALUE@@';
  const copy = structuredClone(base);
  let node: Record<string, unknown> = copy;
  for (const key of path.slice(0, -1)) {
    if (typeof node[key] !== 'object' || node[key] === null || Array.isArray(node[key])) node[key] = {};
    node = node[key] as Record<string, unknown>;
  }
  node[path[path.length - 1]!] = marker;
  return JSON.stringify(copy).replace(JSON.stringify(marker), () => valueText);
}

/** Wrong-typed values for a field of a kind, as JSON texts. */
function wrongTypes(kind: string): string[] {
  switch (kind) {
    case 'string':
      return ['42', '["x"]', '{"a":"x"}'];
    case 'number':
      return ['"12"', '"abc"', '{}'];
    case 'boolean':
      return ['"true"', '1'];
    case 'array':
      return ['"x"', '{}', '[[]]'];
    default:
      return ['"x"', '1', '[{}]'];
  }
}

/** Per-field families: deep values, NUL, lone surrogates, null, wrong types, empty arrays, huge numbers, long strings. */
export function fieldCases(doc: OpenApiDoc, schema: JsonSchema, valid: Record<string, unknown>, prefix: string[] = [], depth = 0): FuzzCase[] {
  const cases: FuzzCase[] = [];
  for (const [name, propSchema] of properties(doc, schema)) {
    const path = [...prefix, name];
    const where = path.join('.');
    const at = (family: string, valueText: string, summary: string) =>
      cases.push({ family: `field:${family}`, body: jsonBody(withValueAt(valid, path, valueText), `${where}: ${summary}`), summary: `${where}: ${summary}` });
    const kind = kindOf(propSchema);
    // Deep values where the schema lets structures in (the body-level cases cover the others).
    const structured = kind === 'array' || kind === 'object' || Array.isArray(propSchema.oneOf);
    if (structured) {
      at('deep-object-3000', deepObject(3000), 'object nested 3000 deep');
      at('deep-array-3000', deepArray(3000), 'array nested 3000 deep');
    }
    at('nul', JSON.stringify('a\u0000b'), '"a\\u0000b"');
    at('lone-surrogate', '"\\ud800"', '"\\ud800"');
    at('null', 'null', 'null');
    at('empty-array', '[]', '[]');
    for (const w of wrongTypes(kind)) at('wrong-type', w, `${w} instead of ${kind}`);
    if (kind === 'number' || kind === 'array' || kind === 'object') {
      at('huge-number', '1e309', '1e309');
      at('huge-number', '123456789012345678901234567890', '30-digit integer');
    }
    if (kind === 'string' || kind === 'object') at('long-string', JSON.stringify('é'.repeat(200_000)), '200000 chars');
    if (kind === 'array') {
      at('array-of-nulls', '[null,null]', '[null,null]');
      at('long-array', `[${Array.from({ length: 20_000 }, (_, i) => i % 2).join(',')}]`, '20000 numbers');
    }
    // One level down into nested DTOs (position → type, coordinates).
    if (depth < 1 && propSchema.properties) cases.push(...fieldCases(doc, propSchema, valid, path, depth + 1));
  }
  return cases;
}

/** Whole-body families, for every operation that takes a JSON body (and POST/PATCH without one). */
export function bodyCases(valid: Record<string, unknown>, nullEveryField: Record<string, null> | undefined): FuzzCase[] {
  const validText = JSON.stringify(valid);
  const list: [string, FuzzBody][] = [
    ['body:deep-object-2000', jsonBody(deepObject(2000), '{"a":{"a":… 2000 deep')],
    ['body:deep-object-20000', jsonBody(deepObject(20000), '{"a":{"a":… 20000 deep')],
    ['body:deep-array-2000', jsonBody(deepArray(2000), '[[[… 2000 deep')],
    ['body:deep-array-20000', jsonBody(deepArray(20000), '[[[… 20000 deep')],
    ['body:nul', jsonBody(JSON.stringify({ ...valid, title: 'a\u0000b', description: 'a\u0000b', q: 'a\u0000b', command: 'a\u0000b' }), 'title/description/q/command "a\\u0000b"')],
    ['body:nul-key', jsonBody(JSON.stringify({ ...valid, 'a\u0000b': 1 }), 'key "a\\u0000b"')],
    ['body:lone-surrogate', jsonBody(withValueAt(valid, ['title'], '"\\ud800"'), 'title "\\ud800" (escaped in the JSON text)')],
    [
      'body:lone-surrogate-utf8',
      {
        contentType: 'application/json',
        data: Buffer.concat([Buffer.from('{"title":"a'), Buffer.from([0xed, 0xa0, 0x80]), Buffer.from('b"}')]),
        summary: 'title with the bytes ED A0 80',
      },
    ],
    [
      'body:invalid-utf8',
      {
        contentType: 'application/json',
        data: Buffer.concat([Buffer.from('{"title":"'), Buffer.from([0xff, 0xfe, 0xc0]), Buffer.from('"}')]),
        summary: 'title with bytes FF FE C0',
      },
    ],
    ['body:top-level-null', jsonBody('null', 'null')],
    ['body:top-level-array', jsonBody('[]', '[]')],
    ['body:top-level-string', jsonBody('"x"', '"x"')],
    ['body:top-level-number', jsonBody('1e309', '1e309')],
    ['body:malformed', jsonBody('{"a":', '{"a":')],
    ['body:empty-json', jsonBody('', 'empty body, Content-Type JSON')],
    ['body:bom', { contentType: 'application/json', data: Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), Buffer.from(validText)]), summary: 'BOM then a valid body' }],
    ['body:duplicate-keys', jsonBody(validText.replace(/^\{/, '{"title":1,"title":"x",'), 'duplicate keys')],
    ['body:text-plain', jsonBody(validText, `text/plain ${shorten(validText, 80)}`, 'text/plain')],
    ['body:no-content-type', { data: Buffer.from(validText), summary: `no Content-Type ${shorten(validText, 80)}` }],
    ['body:form', jsonBody('title=a%00b&position=&args[a]=1', 'urlencoded with NUL', 'application/x-www-form-urlencoded')],
    ['body:utf16', { contentType: 'application/json; charset=utf-16', data: Buffer.from(validText, 'utf16le'), summary: 'JSON in UTF-16' }],
    ['body:merge-patch', jsonBody(validText, 'application/merge-patch+json', 'application/merge-patch+json')],
  ];
  if (nullEveryField) list.push(['body:null-every-field', jsonBody(JSON.stringify(nullEveryField), 'null for every field')]);
  const cases: FuzzCase[] = list.map(([family, body]) => ({ family, body, summary: body.summary }));
  // Compressed bodies: not gzip at all, inflating past the body limit, an unknown coding.
  const encoded: [string, string, Buffer, string][] = [
    ['body:bad-gzip', 'gzip', Buffer.from(validText), 'Content-Encoding gzip, plain bytes'],
    ['body:gzip-too-big', 'gzip', gzipSync(Buffer.from(`{"title":"${'x'.repeat(5_000_000)}"}`)), 'gzip inflating to 5 MB'],
    ['body:unknown-encoding', 'x-fuzz', Buffer.from(validText), 'Content-Encoding x-fuzz'],
  ];
  for (const [family, coding, data, summary] of encoded) {
    cases.push({ family, headers: { 'content-encoding': coding }, body: { contentType: 'application/json', data, summary }, summary });
  }
  return cases;
}

/** Deep CQL2 JSON and hostile CQL2 text in the POST /search body; deep GeoJSON in `intersects`. */
export function searchBodyCases(): FuzzCase[] {
  const cases: FuzzCase[] = [];
  for (const n of [1000, 3000, 20000]) {
    cases.push({ family: `cql2-json:deep-not-${n}`, body: jsonBody(`{"filter":${deepCql2Not(n)}}`, `filter NOT(NOT(… ${n} deep`), summary: `filter NOT(NOT(… ${n} deep` });
    cases.push({ family: `cql2-json:deep-and-${n}`, body: jsonBody(`{"filter":${deepCql2And(n)}}`, `filter and(and(… ${n} deep`), summary: `filter and(and(… ${n} deep` });
  }
  for (const [family, text] of hostileCql2Text(false)) {
    const data = JSON.stringify({ 'filter-lang': 'cql2-text', filter: text });
    cases.push({ family, body: jsonBody(data, `filter-lang cql2-text: ${shorten(text, 60)}`), summary: `cql2-text: ${shorten(text, 60)}` });
  }
  const geoCollection = (n: number) => '{"type":"GeometryCollection","geometries":['.repeat(n) + '{"type":"Point","coordinates":[0,0]}' + ']}'.repeat(n);
  cases.push({
    family: 'geojson:deep-collection',
    body: jsonBody(`{"intersects":${geoCollection(3000)}}`, 'intersects GeometryCollection 3000 deep'),
    summary: 'intersects GeometryCollection 3000 deep',
  });
  cases.push({
    family: 'geojson:deep-coordinates',
    body: jsonBody(`{"intersects":{"type":"Polygon","coordinates":${deepArray(5000, '0')}}}`, 'intersects coordinates 5000 deep'),
    summary: 'intersects coordinates 5000 deep',
  });
  cases.push({
    family: 'geojson:huge-polygon',
    body: jsonBody(
      JSON.stringify({ intersects: { type: 'Polygon', coordinates: [[...Array.from({ length: 50_000 }, (_, i) => [(i % 360) - 180, (i % 180) - 90]), [-180, -90]]] } }),
      'polygon of 50000 points',
    ),
    summary: 'polygon of 50000 points',
  });
  cases.push({ family: 'cql2-json:unknown-op', body: jsonBody('{"filter":{"op":"__proto__","args":[{"property":"constructor"},"x"]}}', 'op __proto__'), summary: 'op __proto__' });
  cases.push({
    family: 'cql2-json:nul',
    body: jsonBody('{"filter":{"op":"=","args":[{"property":"id\\u0000"},"a\\u0000b"]}}', 'NUL in property and value'),
    summary: 'NUL in property and value',
  });
  cases.push({
    family: 'cql2-json:lone-surrogate',
    body: jsonBody('{"filter":{"op":"like","args":[{"property":"id"},"\\ud800%"]}}', 'lone surrogate in LIKE'),
    summary: 'lone surrogate in LIKE',
  });
  return cases;
}

// ---------------------------------------------------------------------------------------------
// Multipart bodies

const BOUNDARY = 'fuzzBoundary7MA4YWxkTrZu0gW';

interface Part {
  name: string;
  value: Buffer | string;
  filename?: string | Buffer;
  contentType?: string;
  /** Raw headers instead of the usual ones. */
  rawHeaders?: string;
}

function partBytes(p: Part, boundary = BOUNDARY): Buffer {
  const filename = p.filename === undefined ? '' : Buffer.isBuffer(p.filename) ? `; filename="${p.filename.toString('latin1')}"` : `; filename="${p.filename}"`;
  const headers = p.rawHeaders ?? `Content-Disposition: form-data; name="${p.name}"${filename}\r\n${p.contentType ? `Content-Type: ${p.contentType}\r\n` : ''}`;
  const head = Buffer.from(`--${boundary}\r\n${headers}\r\n`, p.filename && Buffer.isBuffer(p.filename) ? 'latin1' : 'utf8');
  return Buffer.concat([head, Buffer.isBuffer(p.value) ? p.value : Buffer.from(p.value), Buffer.from('\r\n')]);
}

function multipart(
  parts: Part[],
  options: { close?: boolean; boundary?: string; headerBoundary?: string | null; contentType?: string; tail?: Buffer } = {},
): { contentType: string; data: Buffer } {
  const boundary = options.boundary ?? BOUNDARY;
  const chunks = parts.map((p) => partBytes(p, boundary));
  if (options.close !== false) chunks.push(Buffer.from(`--${boundary}--\r\n`));
  if (options.tail) chunks.push(options.tail);
  const headerBoundary = options.headerBoundary === undefined ? boundary : options.headerBoundary;
  const contentType = options.contentType ?? `multipart/form-data${headerBoundary === null ? '' : `; boundary=${headerBoundary}`}`;
  return { contentType, data: Buffer.concat(chunks) };
}

/**
 * Multipart bodies for an upload route: a small real file that would be accepted, then the same
 * with the closing boundary missing, parts truncated, extra parts, wrong field names…
 */
export function multipartCases(file: { bytes: Buffer; name: string; type: string }, fields: Record<string, string>): FuzzCase[] {
  const filePart: Part = { name: 'file', value: file.bytes, filename: file.name, contentType: file.type };
  const textParts = Object.entries(fields).map(([name, value]) => ({ name, value }));
  const all = [...textParts, filePart];
  const cases: [string, string, { contentType: string; data: Buffer }][] = [
    ['multipart:valid', 'a small valid file', multipart(all)],
    ['multipart:missing-closing-boundary', 'small file part, closing boundary missing', multipart(all, { close: false })],
    ['multipart:missing-closing-boundary-file-only', 'only a small file part, no closing boundary', multipart([filePart], { close: false })],
    [
      'multipart:missing-final-crlf',
      'file bytes then the end of the body',
      { contentType: `multipart/form-data; boundary=${BOUNDARY}`, data: partBytes(filePart).subarray(0, -2) },
    ],
    [
      'multipart:truncated-file',
      'file part cut in the middle of its bytes',
      { contentType: `multipart/form-data; boundary=${BOUNDARY}`, data: partBytes(filePart).subarray(0, 200) },
    ],
    [
      'multipart:truncated-headers',
      'part headers cut',
      { contentType: `multipart/form-data; boundary=${BOUNDARY}`, data: Buffer.from(`--${BOUNDARY}\r\nContent-Disposition: form-da`) },
    ],
    ['multipart:truncated-after-fields', 'fields then nothing', multipart(textParts, { close: false })],
    ['multipart:two-files', 'two file parts', multipart([...all, { ...filePart, filename: 'again.bin' }])],
    ['multipart:extra-parts', 'unknown text and file parts', multipart([...all, { name: 'evil', value: 'x' }, { name: 'other', value: file.bytes, filename: 'o.bin' }])],
    ['multipart:wrong-field-name', 'the file as "files"', multipart([...textParts, { ...filePart, name: 'files' }])],
    ['multipart:no-file', 'text fields only', multipart(textParts.length ? textParts : [{ name: 'title', value: 'x' }])],
    ['multipart:empty-file', 'a file part of 0 bytes', multipart([...textParts, { ...filePart, value: Buffer.alloc(0) }])],
    ['multipart:fields-after-file', 'fields after the file', multipart([filePart, ...textParts])],
    ['multipart:duplicate-fields', 'each field twice', multipart([...textParts, ...textParts, filePart])],
    [
      'multipart:nul-field',
      'NUL in field values',
      multipart([...Object.keys(fields).map((name) => ({ name, value: 'a\u0000b' })), { name: 'title', value: 'a\u0000b' }, filePart]),
    ],
    [
      'multipart:nul-name',
      'NUL in a field name and the file name',
      multipart([
        { name: 'ti\u0000tle', value: 'x' },
        { ...filePart, filename: 'a\u0000b.tif' },
      ]),
    ],
    ['multipart:lone-surrogate-filename', 'file name with bytes ED A0 80', multipart([{ ...filePart, filename: Buffer.from([0x61, 0xed, 0xa0, 0x80, 0x2e, 0x74]) }])],
    ['multipart:traversal-filename', 'file name ../../etc/passwd', multipart([{ ...filePart, filename: '../../../../etc/passwd' }])],
    ['multipart:long-field', 'a 200 kB text field', multipart([{ name: 'title', value: 'x'.repeat(200_000) }, filePart])],
    ['multipart:many-fields', '2000 text fields', multipart([...Array.from({ length: 2000 }, (_, i) => ({ name: `f${i}`, value: 'x' })), filePart])],
    [
      'multipart:wrong-types',
      'numbers and booleans that are not',
      multipart([
        { name: 'override_latitude', value: '1e309' },
        { name: 'override_longitude', value: 'abc' },
        { name: 'is_blurred', value: 'maybe' },
        { name: 'allow_duplicate', value: '[]' },
        { name: 'visibility', value: '{}' },
        filePart,
      ]),
    ],
    ['multipart:no-disposition', 'a part without Content-Disposition', multipart([{ name: 'file', value: file.bytes, rawHeaders: 'Content-Type: image/tiff\r\n' }])],
    ['multipart:boundary-mismatch', 'body boundary differs from the header', multipart(all, { headerBoundary: 'anotherBoundary' })],
    ['multipart:no-boundary', 'multipart/form-data without boundary', multipart(all, { headerBoundary: null })],
    ['multipart:empty-body', 'multipart type, empty body', { contentType: `multipart/form-data; boundary=${BOUNDARY}`, data: Buffer.alloc(0) }],
    ['multipart:garbage-after-close', 'bytes after the closing boundary', multipart(all, { tail: Buffer.from('garbage\r\n--x') })],
    ['multipart:mixed', 'multipart/mixed', multipart(all, { contentType: `multipart/mixed; boundary=${BOUNDARY}` })],
    ['multipart:json-instead', 'a JSON body', { contentType: 'application/json', data: Buffer.from(JSON.stringify({ ...fields, file: 'x' })) }],
    ['multipart:text-plain', 'text/plain', { contentType: 'text/plain', data: file.bytes.subarray(0, 100) }],
  ];
  return cases.map(([family, summary, body]) => ({ family, summary, body: { ...body, summary } }));
}

/** A random multipart variant for the random phase: one of the fixed shapes, with random field values. */
export function multipartArbitrary(file: { bytes: Buffer; name: string; type: string }, fieldNames: string[]): fc.Arbitrary<FuzzCase> {
  const value = fc.oneof(
    fc.string({ maxLength: 30 }),
    fc.constantFrom(...HOSTILE_SCALARS.filter((v): v is string => typeof v === 'string')),
    fc.double().map(String),
    fc.boolean().map(String),
  );
  return fc.tuple(fc.dictionary(fc.constantFrom(...fieldNames, 'file', 'evil'), value, { maxKeys: 5 }), fc.nat()).map(([fields, pick]) => {
    const variants = multipartCases(file, fields).filter((c) => !c.family.includes('many-fields') && !c.family.includes('long-field'));
    const chosen = variants[pick % variants.length]!;
    return { ...chosen, family: `random-${chosen.family}`, summary: `${chosen.summary}; fields ${shorten(JSON.stringify(fields), 100)}` };
  });
}

// ---------------------------------------------------------------------------------------------
// CQL2 from a small grammar, for the random phase

const PROPERTIES = ['id', 'collection', 'datetime', 'geometry', 'view:azimuth', 'original_file:name', 'title', 'created', 'updated', 'eo:cloud_cover', 'x'];

export const cql2TextArbitrary: fc.Arbitrary<string> = fc.letrec<{ expr: string; value: string; prop: string }>((tie) => ({
  prop: fc.oneof(
    fc.constantFrom(...PROPERTIES),
    fc.constantFrom(...PROPERTIES).map((p) => `"${p}"`),
    fc.string({ maxLength: 8 }),
  ),
  value: fc.oneof(
    fc.integer().map(String),
    fc.double({ noNaN: true }).map(String),
    fc.string({ maxLength: 12 }).map((s) => `'${s.replace(/'/g, "''")}'`),
    fc.string({ maxLength: 12 }),
    fc.date({ noInvalidDate: true }).map((d) => `TIMESTAMP('${d.toISOString()}')`),
    fc.constantFrom('NULL', 'TRUE', "DATE('2024-13-45')", "INTERVAL('..','..')", 'POINT(0 0)', 'BBOX(-180,-90,180,90)', "'%'", "'\\'"),
  ),
  expr: fc.oneof(
    { depthSize: 'small', withCrossShrink: true },
    fc
      .tuple(tie('prop'), fc.constantFrom('=', '<>', '<', '>', '<=', '>=', 'LIKE', 'NOT LIKE', 'IS NULL', 'IS NOT NULL', '=='), tie('value'))
      .map(([p, o, v]) => (o.startsWith('IS') ? `${p} ${o}` : `${p} ${o} ${v}`)),
    fc.tuple(tie('prop'), tie('value'), tie('value')).map(([p, a, b]) => `${p} BETWEEN ${a} AND ${b}`),
    fc.tuple(tie('prop'), fc.array(tie('value'), { maxLength: 4 })).map(([p, vs]) => `${p} IN (${vs.join(', ')})`),
    fc
      .tuple(fc.constantFrom('S_INTERSECTS', 'S_WITHIN', 'S_CONTAINS', 'T_INTERSECTS', 'T_BEFORE', 'A_CONTAINS', 'CASEI', 'ACCENTI', 'NOPE'), tie('prop'), tie('value'))
      .map(([f, p, v]) => `${f}(${p}, ${v})`),
    tie('expr').map((e) => `NOT ${e}`),
    tie('expr').map((e) => `(${e})`),
    fc.tuple(tie('expr'), fc.constantFrom('AND', 'OR', 'and', 'XOR'), tie('expr')).map(([a, o, b]) => `${a} ${o} ${b}`),
  ),
})).expr;

export const cql2JsonArbitrary: fc.Arbitrary<unknown> = fc.letrec<{ expr: unknown; arg: unknown }>((tie) => ({
  arg: fc.oneof(
    fc.constantFrom(...PROPERTIES).map((property) => ({ property })),
    fc.integer(),
    fc.string({ maxLength: 10 }),
    fc.constantFrom(
      null,
      true,
      { timestamp: '2024-01-01T00:00:00Z' },
      { date: 'nope' },
      { interval: ['..', '..'] },
      { type: 'Point', coordinates: [0, 0] },
      { bbox: [0, 0, 1] },
      [1, 2],
    ),
    fc.jsonValue({ maxDepth: 2 }),
  ),
  expr: fc.oneof(
    { depthSize: 'small', withCrossShrink: true },
    fc
      .tuple(
        fc.constantFrom('=', '<>', '<', '>', 'like', 'between', 'in', 'isNull', 's_intersects', 't_intersects', 'a_contains', 'casei', 'nope'),
        fc.array(tie('arg'), { maxLength: 3 }),
      )
      .map(([op, args]) => ({ op, args })),
    fc.tuple(fc.constantFrom('and', 'or', 'not'), fc.array(tie('expr'), { maxLength: 3 })).map(([op, args]) => ({ op, args })),
    fc.jsonValue({ maxDepth: 2 }),
  ),
})).expr;

/** Query values for parameters whose meaning the schema does not tell (bbox, datetime, sortby…). */
export function queryValueArbitrary(name: string): fc.Arbitrary<string> | undefined {
  const num = fc.oneof(fc.double({ min: -400, max: 400, noNaN: true }), fc.integer({ min: -200, max: 200 }), fc.constantFrom(Infinity, -0, 1e-320));
  switch (name) {
    case 'bbox':
      return fc.array(num, { minLength: 0, maxLength: 7 }).map((xs) => xs.join(','));
    case 'datetime':
    case 'created_after':
    case 'created_before':
      return fc.oneof(
        fc.date({ noInvalidDate: true }).map((d) => d.toISOString()),
        fc.tuple(fc.date({ noInvalidDate: true }), fc.date({ noInvalidDate: true })).map(([a, b]) => `${a.toISOString()}/${b.toISOString()}`),
        fc.constantFrom('../..', '/', '..', '2024-02-30T00:00:00Z', '99999-01-01T00:00:00Z', '2024-01-01T00:00:00+99:00', 'now'),
      );
    case 'sortby':
    case 'sort':
      return fc
        .array(fc.tuple(fc.constantFrom('', '+', '-'), fc.constantFrom(...PROPERTIES, 'title', 'created_at', 'size')), { maxLength: 3 })
        .map((xs) => xs.map(([s, p]) => s + p).join(','));
    case 'fields':
      return fc
        .array(fc.tuple(fc.constantFrom('', '+', '-'), fc.constantFrom('properties', 'properties.datetime', 'assets', 'links', 'geometry', 'id', '')), { maxLength: 4 })
        .map((xs) => xs.map(([s, p]) => s + p).join(','));
    case 'filter':
      return cql2TextArbitrary;
    case 'intersects':
      return fc.constantFrom('{"type":"Point","coordinates":[0,0]}', '{"type":"Polygon","coordinates":[[[0,0],[1,0],[1,1],[0,0]]]}', '{"type":"Point"}', '[]', 'POINT(0 0)');
    case 'wait':
      return fc.constantFrom('0', '1', '-1', 'x', '600.5');
    case 'lon':
    case 'lat':
    case 'x':
    case 'y':
    case 'z':
    case 'size':
    case 'limit':
    case 'page':
    case 'after':
      return num.map(String);
    default:
      return undefined;
  }
}

/** Every operation whose body is JSON, with a property list (for `null` everywhere). */
export function nullEveryField(doc: OpenApiDoc, op: FuzzOperation): Record<string, null> | undefined {
  if (!op.body || op.body.contentType !== 'application/json') return undefined;
  const props = properties(doc, op.body.schema);
  return props.length ? Object.fromEntries(props.map(([k]) => [k, null])) : undefined;
}
