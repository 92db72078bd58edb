/**
 * What the fuzzer sends for each operation: the fixed hostile sweep (every family that applies,
 * for every caller) and random requests drawn from the schemas by fast-check.
 */
import fc from 'fast-check';
import {
  bodyCases,
  cql2JsonArbitrary,
  cql2TextArbitrary,
  deepCql2Not,
  encodeCql2,
  encodeRaw,
  encodeSegment,
  fieldCases,
  type FuzzCase,
  HOSTILE_QUERY_VALUES,
  HOSTILE_SEGMENTS,
  hostileCql2Text,
  multipartArbitrary,
  multipartCases,
  nullEveryField,
  queryShapes,
  queryValueArbitrary,
  searchBodyCases,
  shorten,
  SPECIFIC_QUERY_VALUES,
  SPECIFIC_SEGMENTS,
  SWEEP_SEGMENTS,
} from './fuzz-hostile.js';
import { arbitraryFor, type FuzzOperation, hostileValue, type OpenApiDoc } from './fuzz-openapi.js';
import type { CallerName, FuzzWorld } from './fuzz-seed.js';

export const CALLERS: CallerName[] = ['anonymous', 'user', 'admin'];

/** Real values for a path parameter of an operation (raw, percent-encoded). */
export function realPathValues(op: FuzzOperation, name: string, caller: CallerName, w: FuzzWorld): string[] {
  const p = op.path;
  if (op.method === 'DELETE' || /\/(complete|ingest)$/.test(p)) {
    const d = w.doomed;
    if (name === 'collectionId') return [p.includes('{itemId}') ? d.itemCollectionId : d.collectionId];
    if (name === 'itemId') return d.itemIds;
    if (name === 'id' && p.startsWith('/api/datasets')) return [d.datasetId];
    if (name === 'id' && p.startsWith('/api/upload_sets')) return [d.uploadSetId];
  }
  switch (name) {
    case 'collectionId':
      return [w.collectionId, w.datasetCollectionId];
    case 'itemId':
      return [...w.itemIds, w.datasetId];
    case 'jobId':
      return [w.maintenanceJobId];
    case 'name':
      return ['system.ping', ...w.commandNames.filter((c) => c !== 'system.ping')];
    case 'variant':
      return ['hd', 'sd', 'thumb'];
    case 'tile':
      return ['0_0', '1_0'];
    case 'z':
    case 'x':
    case 'y':
      return [String((p.startsWith('/api/map') ? w.mapTile : w.datasetTile)[name])];
    case 'id':
      if (p.startsWith('/api/datasets')) return [w.datasetId];
      if (p.startsWith('/api/management/jobs')) return [w.managementJobId];
      if (p.startsWith('/api/pictures')) return [...w.itemIds, ...(w.uploadedPictureId ? [w.uploadedPictureId] : [])];
      if (p.startsWith('/api/upload_sets')) return [w.uploadSetId];
      // Never the fuzzer's own tokens: only ones made to be revoked.
      if (p.startsWith('/api/users/me/tokens')) return [w.expendableTokenIds[caller]];
      if (p.startsWith('/api/auth/tokens')) return w.generatedTokenIds;
      // The admin may change the victim's role, never its own or the user's.
      if (p.startsWith('/api/users/')) return op.method === 'PATCH' ? [w.victim.id] : [w.user.id, w.admin.id, w.victim.id];
      return [w.datasetId];
    default:
      return ['x'];
  }
}

/** A body that the operation should accept (as its owner or an admin). */
export function validBody(op: FuzzOperation, w: FuzzWorld, doc: OpenApiDoc, seed: number): Record<string, unknown> {
  const known: Record<string, Record<string, unknown>> = {
    'POST /api/admin/collections/recompute': { collection_id: w.collectionId },
    'POST /api/admin/datasets/prune-missing': { dry_run: true },
    'POST /api/admin/datasets/rehash': { dry_run: true },
    'POST /api/admin/datasets/resync': { dry_run: true },
    'PATCH /api/collections/{collectionId}': { title: 'fuzzed title', description: 'fuzzed description' },
    'PATCH /api/collections/{collectionId}/items/{itemId}': { heading: 90, position: { type: 'Point', coordinates: [2.3522, 48.8567] } },
    'POST /api/datasets/from-path': { path: 'float32.tif', title: 'registered', allow_duplicate: true },
    'PATCH /api/datasets/{id}': { title: 'fuzzed title', description: 'fuzzed description' },
    'POST /api/datasets/{id}/sample': { points: [w.datasetPoint] },
    'POST /api/management/commands/{name}/jobs': { args: { message: 'hello' }, autostart: false },
    'POST /api/search': { limit: 5, collections: [w.collectionId], filter: { op: '=', args: [{ property: 'id' }, w.itemIds[0]] } },
    'POST /api/upload_sets': { title: 'fuzzed set' },
    'PATCH /api/upload_sets/{id}': { title: 'renamed set' },
    'PATCH /api/users/me': { default_visibility: 'anyone' },
    'POST /api/users/me/tokens': { description: 'fuzzed token' },
    'PATCH /api/users/{id}': { role: 'user' },
  };
  if (known[op.key]) return known[op.key]!;
  if (op.body?.contentType === 'application/json') {
    const [value] = fc.sample(arbitraryFor(doc, op.body.schema, { hostile: 0 }), { seed, numRuns: 1 });
    if (value && typeof value === 'object' && !Array.isArray(value)) return value as Record<string, unknown>;
  }
  return {};
}

function fieldsOfUpload(op: FuzzOperation): Record<string, string> {
  return op.path === '/api/datasets' ? { title: 'fuzzed upload', visibility: 'anyone' } : { is_blurred: 'false' };
}

function uploadFile(op: FuzzOperation, w: FuzzWorld) {
  return op.path === '/api/datasets' ? { bytes: w.files.tiff, name: 'small.tif', type: 'image/tiff' } : { bytes: w.files.jpeg, name: 'picture.jpg', type: 'image/jpeg' };
}

/** The fixed sweep of an operation: a baseline, then every hostile family that applies to it. */
export function sweepCases(op: FuzzOperation, w: FuzzWorld, doc: OpenApiDoc, seed: number): FuzzCase[] {
  const cases: FuzzCase[] = [];
  const valid = validBody(op, w, doc, seed);
  const json = op.body?.contentType === 'application/json';
  const multipartRoute = op.body?.contentType === 'multipart/form-data';
  const validJson = json ? { contentType: 'application/json', data: Buffer.from(JSON.stringify(valid)), summary: shorten(JSON.stringify(valid)) } : undefined;

  if (multipartRoute) cases.push(...multipartCases(uploadFile(op, w), fieldsOfUpload(op)).slice(0, 1));
  else cases.push({ family: 'baseline', body: validJson, summary: `real ids${validJson ? `, ${validJson.summary}` : ''}` });

  for (const param of op.params) {
    if (param.in === 'path') {
      for (const [family, raw] of SWEEP_SEGMENTS)
        cases.push({ family: `path:${family}`, path: { [param.name]: raw }, body: validJson, summary: `${param.name}=${shorten(raw, 60)}` });
      for (const raw of SPECIFIC_SEGMENTS[param.name] ?? []) cases.push({ family: 'path:specific', path: { [param.name]: raw }, body: validJson, summary: `${param.name}=${raw}` });
    } else if (param.in === 'query') {
      for (const [family, raw] of HOSTILE_QUERY_VALUES) cases.push({ family: `query:${family}`, query: `${param.name}=${raw}`, summary: `?${param.name}=${shorten(raw, 60)}` });
      for (const [family, raw] of queryShapes(param.name)) cases.push({ family: `query:${family}`, query: raw, summary: `?${shorten(raw, 60)}` });
      for (const raw of SPECIFIC_QUERY_VALUES[param.name] ?? [])
        cases.push({ family: 'query:specific', query: `${param.name}=${raw}`, summary: `?${param.name}=${shorten(raw, 60)}` });
    } else if (param.in === 'header') {
      for (const value of [
        'bytes=0-',
        'bytes=-1',
        'bytes=99999999999999999999-',
        'bytes=5-1',
        'bytes=abc',
        `bytes=${Array.from({ length: 500 }, (_, i) => `${i}-${i}`).join(',')}`,
        'items=0-1',
        '',
      ]) {
        cases.push({ family: `header:${param.name}`, headers: { [param.name.toLowerCase()]: value }, summary: `${param.name}: ${shorten(value, 60)}` });
      }
    }
  }

  if (op.params.some((p) => p.name === 'filter')) {
    for (const [family, text] of hostileCql2Text(true)) cases.push({ family, query: `filter-lang=cql2-text&filter=${encodeCql2(text)}`, summary: `?filter=${shorten(text, 60)}` });
    cases.push({ family: 'cql2-json:deep-not-150', query: `filter-lang=cql2-json&filter=${encodeRaw(deepCql2Not(150))}`, summary: '?filter (cql2-json) NOT(NOT(… 150 deep' });
  }

  if (json) {
    cases.push(...bodyCases(valid, nullEveryField(doc, op)));
    cases.push(...fieldCases(doc, op.body!.schema, valid));
    if (op.key === 'POST /api/search') cases.push(...searchBodyCases());
  } else if (multipartRoute) {
    cases.push(...multipartCases(uploadFile(op, w), fieldsOfUpload(op)).slice(1));
  } else if (op.method === 'POST' || op.method === 'PATCH') {
    // No documented body, but the body parsers still read one.
    const parserOnly = new Set(['body:deep-object-20000', 'body:deep-array-20000', 'body:nul', 'body:lone-surrogate', 'body:malformed', 'body:text-plain']);
    cases.push(...bodyCases({ title: 'x' }, undefined).filter((c) => parserOnly.has(c.family)));
  }
  return cases;
}

/** A random request for an operation: real or hostile ids, schema-drawn query values and bodies with hostile values mixed in. */
export function randomCaseArbitrary(op: FuzzOperation, w: FuzzWorld, doc: OpenApiDoc, caller: CallerName): fc.Arbitrary<FuzzCase> {
  const hostileSegment = fc.constantFrom(...HOSTILE_SEGMENTS.map(([, raw]) => raw));
  const realWeight = op.method === 'DELETE' ? 1 : 6;
  const pathArb = fc.record(
    Object.fromEntries(
      op.params
        .filter((p) => p.in === 'path')
        .map((p) => [
          p.name,
          fc.oneof(
            { weight: realWeight, arbitrary: fc.constantFrom(...realPathValues(op, p.name, caller, w)) },
            { weight: 2, arbitrary: hostileSegment },
            { weight: 1, arbitrary: fc.string({ unit: 'binary', maxLength: 30 }).map(encodeSegment) },
          ),
        ]),
    ),
  ) as fc.Arbitrary<Record<string, string>>;

  const queryParams = op.params.filter((p) => p.in === 'query');
  const queryArb = fc
    .tuple(
      ...queryParams.map((p) => {
        const fromSchema = arbitraryFor(doc, p.schema, { hostile: 1 }).map((v) => encodeRaw(typeof v === 'string' ? v : (JSON.stringify(v) ?? '')));
        const special = queryValueArbitrary(p.name)?.map(encodeCql2);
        // `wait` makes the API wait for a worker there is none of: never more than a second.
        const choices =
          p.name === 'wait'
            ? [{ weight: 1, arbitrary: special! }]
            : [
                { weight: 3, arbitrary: special ?? fromSchema },
                { weight: 2, arbitrary: fromSchema },
                { weight: 1, arbitrary: fc.constantFrom(...HOSTILE_QUERY_VALUES.map(([, raw]) => raw)) },
              ];
        if (p.name === 'filter') choices.push({ weight: 2, arbitrary: cql2JsonArbitrary.map((f) => encodeRaw(JSON.stringify(f) ?? 'null')) });
        if (p.name === 'filter-lang') choices.push({ weight: 4, arbitrary: fc.constantFrom('cql2-text', 'cql2-json') });
        return fc.option(
          fc.oneof(...choices).map((v) => `${p.name}=${v}`),
          { nil: undefined, freq: 2 },
        );
      }),
    )
    .map((parts) => {
      // Node answers URLs past 16 kB itself (431, no body): keep requests that reach the API.
      const kept = parts.filter((x): x is string => x !== undefined);
      while (kept.join('&').length > 12_000)
        kept.splice(
          kept.findIndex((x) => x.length === Math.max(...kept.map((k) => k.length))),
          1,
        );
      return kept.join('&');
    });

  let bodyArb: fc.Arbitrary<FuzzCase['body']> = fc.constant(undefined);
  if (op.body?.contentType === 'application/json') {
    let schemaBody = fc.oneof(
      { weight: 5, arbitrary: arbitraryFor(doc, op.body.schema, { hostile: 1 }) },
      { weight: 2, arbitrary: arbitraryFor(doc, op.body.schema, { hostile: 0 }) },
      { weight: 1, arbitrary: hostileValue },
    );
    if (op.key === 'POST /api/search') {
      schemaBody = fc
        .tuple(schemaBody, fc.option(fc.oneof(cql2JsonArbitrary, cql2TextArbitrary)))
        .map(([b, filter]) =>
          filter !== null && b && typeof b === 'object' && !Array.isArray(b) ? { ...b, filter, ...(typeof filter === 'string' ? { 'filter-lang': 'cql2-text' } : {}) } : b,
        );
    }
    bodyArb = schemaBody.map((value) => {
      const text = JSON.stringify(value) ?? 'null';
      return { contentType: 'application/json', data: Buffer.from(text), summary: shorten(text, 200) };
    });
  }

  if (op.body?.contentType === 'multipart/form-data') {
    const names =
      op.path === '/api/datasets'
        ? ['title', 'description', 'collection', 'visibility', 'allow_duplicate']
        : ['is_blurred', 'override_capture_time', 'override_latitude', 'override_longitude'];
    return fc.tuple(pathArb, multipartArbitrary(uploadFile(op, w), names)).map(([path, c]) => ({ ...c, path }));
  }

  return fc.tuple(pathArb, queryArb, bodyArb).map(([path, query, body]) => {
    const hostilePath = Object.entries(path).filter(([name, raw]) => !realPathValues(op, name, caller, w).includes(raw));
    const summary = [...hostilePath.map(([k, v]) => `${k}=${shorten(v, 40)}`), ...(query ? [`?${shorten(query, 200)}`] : []), ...(body ? [`body ${body.summary}`] : [])].join(' ');
    return { family: 'random', path, query: query || undefined, body, summary: summary || 'real ids' };
  });
}
