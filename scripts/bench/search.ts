// `npm run bench:search`: seeds a dedicated bench database with 1,000,000 pictures in 10,000
// sequences (once; --reseed to redo it), starts the real API on it, then measures STAC search
// and tiles over HTTP at concurrency 1 and 8, printing p50/p95/p99 per query.
//
//   BENCH_DATABASE_URL   default: DATABASE_URL (or postgres://postgres@127.0.0.1:5432/…) with the database name sightline_bench
//   --items=N --sequences=N --requests=N (per scenario and concurrency) --warmup-seconds=N (before measuring, default 20)
//   --reseed --only=<substring>
//   --profile=<dir>   the API writes a V8 CPU profile there (open it in Chrome DevTools)
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import pg from 'pg';
import { DataSource } from 'typeorm';
import { dataSourceOptions } from '../../src/database/data-source-options.js';
import { BenchClient, cpuSeconds, freePort, percentile } from './common.js';
import { AREA, seedBench } from './search-seed.js';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../..');

function arg(name: string, fallback: string): string {
  const hit = process.argv.find((a) => a.startsWith(`--${name}=`));
  return hit ? hit.slice(name.length + 3) : fallback;
}
const flag = (name: string) => process.argv.includes(`--${name}`);

const ITEMS = Number(arg('items', '1000000'));
const SEQUENCES = Number(arg('sequences', '10000'));
const REQUESTS = Number(arg('requests', '200'));
const ONLY = arg('only', '');
const PROFILE = arg('profile', '');
const BENCH_DB = 'sightline_bench';
/**
 * Warm-up: first every scenario in turn for this long (a fresh Node process needs a few thousand
 * requests before its hot paths are compiled and its latencies settle: figures are for a server
 * that has been up a while), then before each measured scenario and concurrency a few more
 * requests (WARMUP_REQUESTS, at most WARMUP_MS).
 */
const WARMUP_SECONDS = Number(arg('warmup-seconds', '20'));
const WARMUP_REQUESTS = 100;
const WARMUP_MS = 1000;

function benchUrl(): string {
  if (process.env.BENCH_DATABASE_URL) return process.env.BENCH_DATABASE_URL;
  const u = new URL(process.env.DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/sightline');
  u.pathname = `/${BENCH_DB}`;
  return u.toString();
}

const log = (line: string) => process.stdout.write(`${line}\n`);

/** A small deterministic PRNG (mulberry32 over a hashed seed), so runs compare. */
function rng(seed: number) {
  let a = (Math.imul(seed + 1, 2654435761) ^ 0x9e3779b9) >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

async function prepareDatabase(url: string): Promise<void> {
  const admin = new URL(url);
  const name = decodeURIComponent(admin.pathname.slice(1));
  if (name === 'sightline' || !/bench/.test(name)) throw new Error(`refusing to use database '${name}': the bench database name must contain 'bench'`);
  admin.pathname = '/postgres';
  const a = new pg.Client({ connectionString: admin.toString() });
  await a.connect();
  const exists = await a.query('SELECT 1 FROM pg_database WHERE datname = $1', [name]);
  if (!exists.rowCount) {
    log(`creating database ${name}`);
    await a.query(`CREATE DATABASE "${name}"`);
  }
  await a.end();
  const ds = new DataSource({ ...dataSourceOptions({ DATABASE_URL: url, DATABASE_POOL_SIZE: 2 }), logging: ['error'] });
  await ds.initialize();
  const ran = await ds.runMigrations({ transaction: 'each' });
  if (ran.length) log(`ran ${ran.length} migrations`);
  await ds.destroy();

  const c = new pg.Client({ connectionString: url });
  await c.connect();
  const [{ n }] = (await c.query<{ n: number }>(`SELECT count(*)::int AS n FROM item`)).rows;
  if (flag('reseed') || n !== ITEMS) {
    log(`seeding ${ITEMS} items in ${SEQUENCES} sequences (the database has ${n})`);
    await seedBench(c, { items: ITEMS, sequences: SEQUENCES, log });
  } else {
    log(`database ${name} already holds ${n} items (--reseed to rebuild it)`);
  }
  // What the worker keeps up to date in production: sequence lines and the low-zoom grid.
  const lines = await c.query(
    `UPDATE collection c SET geom = s.g
     FROM (SELECT collection_id, ST_SetSRID(ST_MakeLine(geom ORDER BY rank), 4326) AS g FROM item WHERE status = 'ready' GROUP BY collection_id HAVING count(*) > 1) s
     WHERE c.id = s.collection_id AND GeometryType(c.geom) IS DISTINCT FROM 'LINESTRING'`,
  );
  if (lines.rowCount) log(`drew ${lines.rowCount} sequence lines`);
  const [{ cells }] = (await c.query<{ cells: number }>(`SELECT count(*)::int AS cells FROM map_grid`)).rows;
  if (cells === 0) {
    await c.query(
      `INSERT INTO map_grid (x, y, count, updated_at)
       SELECT map_grid_x(i.geom), map_grid_y(i.geom), count(*)::int, now()
       FROM item i JOIN collection c ON c.id = i.collection_id
       WHERE i.kind = 'picture' AND i.status = 'ready' AND i.visibility = 'anyone' AND c.visibility = 'anyone' AND i.geom IS NOT NULL
       GROUP BY 1, 2`,
    );
    await c.query('DELETE FROM map_grid_dirty');
    log('built the map grid');
  }
  // Figures are for a warm server: the tables and indexes in the OS page cache.
  try {
    await c.query('CREATE EXTENSION IF NOT EXISTS pg_prewarm');
    const rel = await c.query<{ relname: string }>(
      `SELECT c.relname FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
       WHERE n.nspname = 'public' AND c.relkind IN ('r', 'i') AND (c.relname IN ('item', 'collection') OR c.relname LIKE 'ix\\_item\\_%' OR c.relname LIKE 'ix\\_collection\\_%' OR c.relname LIKE 'pk\\_%')`,
    );
    for (const r of rel.rows) await c.query(`SELECT pg_prewarm($1, 'read')`, [r.relname]);
    log(`warmed the page cache with ${rel.rowCount} tables and indexes`);
  } catch (error) {
    log(`page cache not warmed (${(error as Error).message}); reading the tables once instead`);
    await c.query('SELECT count(*) FROM item');
  }
  // Tiles are asked where pictures are, as a map client showing them would.
  const sample = await c.query<{ lon: number; lat: number }>(`SELECT ST_X(geom) AS lon, ST_Y(geom) AS lat FROM item TABLESAMPLE SYSTEM (0.2) WHERE geom IS NOT NULL LIMIT 2000`);
  picturePositions.push(...sample.rows.map((r) => [Number(r.lon), Number(r.lat)] as [number, number]));
  await c.end();
}

/** Positions of seeded pictures, read by prepareDatabase. */
const picturePositions: [number, number][] = [];

interface Api {
  base: string;
  proc: ChildProcess;
}

async function startApi(url: string): Promise<Api> {
  const port = await freePort();
  const dataDir = mkdtempSync(path.join(os.tmpdir(), 'sightline-bench-'));
  const profile = PROFILE ? ['--cpu-prof', `--cpu-prof-dir=${path.resolve(PROFILE)}`] : [];
  const proc = spawn(process.execPath, [...profile, path.join(ROOT, 'dist/src/main.js')], {
    cwd: ROOT,
    env: {
      ...process.env,
      // Not production: that would require a real identity provider; nothing on the measured paths differs.
      NODE_ENV: 'test',
      SECRET_KEY: 'bench-secret-key-not-for-production',
      DATABASE_URL: url,
      DATABASE_POOL_SIZE: '16',
      PORT: String(port),
      PUBLIC_URL: `http://127.0.0.1:${port}`,
      WORKER_HEALTH_PORT: '0',
      LOG_LEVEL: 'warn',
      QUEUE_PREFIX: `bench_${process.pid}`,
      DATA_DIR: dataDir,
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  proc.stdout!.on('data', (d: Buffer) => (out += d.toString()));
  proc.stderr!.on('data', (d: Buffer) => (out += d.toString()));
  proc.on('exit', () => rmSync(dataDir, { recursive: true, force: true }));
  const deadline = Date.now() + 60_000;
  while (!/listening on port/.test(out)) {
    if (proc.exitCode !== null) throw new Error(`the API exited:\n${out}`);
    if (Date.now() > deadline) throw new Error(`the API did not start:\n${out}`);
    await new Promise((r) => setTimeout(r, 100));
  }
  return { base: `http://127.0.0.1:${port}`, proc };
}

interface Request {
  method: 'GET' | 'POST';
  path: string;
  body?: unknown;
}

interface Scenario {
  name: string;
  make: (i: number) => Request;
}

interface Result {
  name: string;
  concurrency: number;
  p50: number;
  p95: number;
  p99: number;
  rps: number;
  /** CPU the API process spent per request (user + system), less sensitive than times to other load on the machine. */
  cpuMs: number;
  note?: string;
}

let client: BenchClient | undefined;

async function send(base: string, req: Request): Promise<{ ms: number; status: number; body: string }> {
  client ??= new BenchClient(base);
  const r = await client.request(req.method, req.path, { body: req.body });
  return { ms: r.ms, status: r.status, body: r.body.toString() };
}

/** An empty vector tile answers 204: a valid answer for a tile scenario. */
function ok(s: Scenario, status: number): boolean {
  return status === 200 || (status === 204 && s.name.startsWith('tile'));
}

async function measure(api: Api, s: Scenario, concurrency: number, requests: number): Promise<Result> {
  const base = api.base;
  // Warm-up at the same concurrency, other values: a server that has been up a while has compiled
  // its hot paths (the first few hundred requests of a fresh process run up to twice as slow).
  let warm = 0;
  const warmUntil = performance.now() + WARMUP_MS;
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (warm < WARMUP_REQUESTS && performance.now() < warmUntil) {
        const r = await send(base, s.make(100_000 + warm++));
        if (!ok(s, r.status)) throw new Error(`${s.name}: HTTP ${r.status} ${r.body.slice(0, 300)}`);
      }
    }),
  );
  const times: number[] = [];
  let next = 0;
  const cpu0 = cpuSeconds(api.proc.pid!);
  const started = performance.now();
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (next < requests) {
        const i = next++;
        const r = await send(base, s.make(i));
        if (!ok(s, r.status)) throw new Error(`${s.name}: HTTP ${r.status} ${r.body.slice(0, 300)}`);
        times.push(r.ms);
      }
    }),
  );
  const seconds = (performance.now() - started) / 1000;
  const cpuMs = ((cpuSeconds(api.proc.pid!) - cpu0) * 1000) / requests;
  times.sort((a, b) => a - b);
  return { name: s.name, concurrency, p50: percentile(times, 50), p95: percentile(times, 95), p99: percentile(times, 99), rps: requests / seconds, cpuMs };
}

/** Every scenario in turn, four requests at a time, for WARMUP_SECONDS. */
async function warmUp(base: string, list: Scenario[]): Promise<void> {
  const until = performance.now() + WARMUP_SECONDS * 1000;
  let sent = 0;
  while (performance.now() < until) {
    for (const s of list) {
      await Promise.all(Array.from({ length: 4 }, () => send(base, s.make(200_000 + sent++))));
      if (performance.now() >= until) break;
    }
  }
  log(`warmed up with ${sent} requests over ${WARMUP_SECONDS} s`);
}

function tileOf(lon: number, lat: number, z: number): [number, number] {
  const n = 2 ** z;
  const x = Math.floor(((lon + 180) / 360) * n);
  const latRad = (lat * Math.PI) / 180;
  const y = Math.floor(((1 - Math.log(Math.tan(latRad) + 1 / Math.cos(latRad)) / Math.PI) / 2) * n);
  return [x, y];
}

async function scenarios(base: string): Promise<{ list: Scenario[]; notes: string[] }> {
  const notes: string[] = [];
  const point = (r: () => number) => [AREA.west + r() * (AREA.east - AREA.west), AREA.south + r() * (AREA.north - AREA.south)];
  const bbox = (seed: number, size: number) => {
    const [x, y] = point(rng(seed));
    return `${x.toFixed(4)},${y.toFixed(4)},${(x + size).toFixed(4)},${(y + size).toFixed(4)}`;
  };
  const month = (seed: number) => {
    const r = rng(seed);
    const start = new Date(Date.UTC(2015 + Math.floor(r() * 9), Math.floor(r() * 12), 1));
    const end = new Date(Date.UTC(start.getUTCFullYear(), start.getUTCMonth() + 1, 1));
    return `${start.toISOString().replace('.000', '')}/${end.toISOString().replace('.000', '')}`;
  };

  // Real ids for single-item reads, taken once from the API itself.
  const sample = JSON.parse((await send(base, { method: 'GET', path: '/api/search?limit=500&fields=id,collection' })).body) as {
    features: Array<{ id: string; collection: string }>;
  };
  const items = sample.features;

  // Page 50 of a search (or the last one of a smaller catalog): follow `next` first, then measure that page against page 1.
  const pageSearch = '/api/search?limit=100';
  let page = JSON.parse((await send(base, { method: 'GET', path: pageSearch })).body) as { links: Array<{ rel: string; href: string }> };
  for (let i = 1; i < 50; i++) {
    const next = page.links.find((l) => l.rel === 'next');
    if (!next) break;
    page = JSON.parse((await send(base, { method: 'GET', path: new URL(next.href).pathname + new URL(next.href).search })).body);
  }
  const page50 = page.links.find((l) => l.rel === 'self')!.href;
  const page50Path = new URL(page50).pathname + new URL(page50).search;

  const list: Scenario[] = [
    { name: 'bbox 0.5° limit 10', make: (i) => ({ method: 'GET', path: `/api/search?bbox=${bbox(i, 0.5)}&limit=10` }) },
    { name: 'bbox 0.5° limit 100', make: (i) => ({ method: 'GET', path: `/api/search?bbox=${bbox(i, 0.5)}&limit=100` }) },
    { name: 'bbox 0.05° limit 100', make: (i) => ({ method: 'GET', path: `/api/search?bbox=${bbox(i, 0.05)}&limit=100` }) },
    { name: 'bbox 3° limit 100 (POST)', make: (i) => ({ method: 'POST', path: '/api/search', body: { bbox: bbox(i, 3).split(',').map(Number), limit: 100 } }) },
    { name: 'datetime month limit 10', make: (i) => ({ method: 'GET', path: `/api/search?datetime=${month(i)}&limit=10` }) },
    {
      name: 'CQL2 filter (azimuth + bbox)',
      make: (i) => {
        const [w, s, e, n] = bbox(i, 0.5).split(',');
        return {
          method: 'GET',
          path: `/api/search?${new URLSearchParams({ limit: '10', filter: `view:azimuth BETWEEN 80 AND 100 AND S_INTERSECTS(geometry, BBOX(${w}, ${s}, ${e}, ${n}))` })}`,
        };
      },
    },
    {
      name: 'CQL2 JSON filter (camera, POST)',
      make: () => ({ method: 'POST', path: '/api/search', body: { limit: 10, filter: { op: '=', args: [{ property: 'sightline:kind' }, 'picture'] }, q: ['insta360'] } }),
    },
    { name: 'page 1 (limit 100)', make: () => ({ method: 'GET', path: pageSearch }) },
    { name: 'page 50 (limit 100)', make: () => ({ method: 'GET', path: page50Path }) },
    { name: 'single item', make: (i) => ({ method: 'GET', path: `/api/collections/${items[i % items.length].collection}/items/${items[i % items.length].id}` }) },
    { name: 'collections list limit 10', make: (i) => ({ method: 'GET', path: `/api/collections?limit=10&bbox=${bbox(i, 1)}` }) },
    { name: 'numberMatched exact (bbox 0.5°, limit 1)', make: (i) => ({ method: 'GET', path: `/api/search?bbox=${bbox(i, 0.5)}&limit=1` }) },
    {
      name: 'count over a whole year (limit 1)',
      make: (i) => ({ method: 'GET', path: `/api/search?limit=1&datetime=${2015 + (i % 9)}-01-01T00:00:00Z/${2015 + (i % 9)}-12-31T23:59:59Z` }),
    },
    { name: 'numberMatched estimate (all, limit 1)', make: (i) => ({ method: 'GET', path: `/api/search?limit=1&datetime=${2015 + (i % 9)}-01-01T00:00:00Z/..` }) },
  ];

  const probe = await send(base, { method: 'GET', path: '/api/map/5/16/11.mvt' });
  // Express answers an unknown route with "Cannot GET …"; the tile route itself may answer 404 for an empty tile.
  if (probe.status === 404 && /Cannot GET/.test(probe.body)) {
    notes.push('tiles: /api/map/{z}/{x}/{y}.mvt answered 404 (the route is not in this build): tile figures skipped');
  } else {
    for (const z of [5, 10, 15]) {
      list.push({
        name: `tile z${z}`,
        make: (i) => {
          const [lon, lat] = picturePositions.length ? picturePositions[i % picturePositions.length]! : point(rng(7_000 + i));
          const [x, y] = tileOf(lon, lat, z);
          return { method: 'GET', path: `/api/map/${z}/${x}/${y}.mvt` };
        },
      });
    }
  }
  return { list: list.filter((s) => !ONLY || s.name.includes(ONLY)), notes };
}

function table(results: Result[]): string {
  const head = ['query', 'c', 'p50 ms', 'p95 ms', 'p99 ms', 'req/s', 'API CPU ms/req'];
  const rows = results.map((r) => [r.name, String(r.concurrency), r.p50.toFixed(1), r.p95.toFixed(1), r.p99.toFixed(1), r.rps.toFixed(0), r.cpuMs.toFixed(2)]);
  const widths = head.map((h, i) => Math.max(h.length, ...rows.map((row) => row[i].length)));
  const line = (cells: string[]) => `| ${cells.map((c, i) => (i === 0 ? c.padEnd(widths[i]) : c.padStart(widths[i]))).join(' | ')} |`;
  return [line(head), `|${widths.map((w, i) => (i === 0 ? ':' : '') + '-'.repeat(w + 1) + (i === 0 ? '' : ':')).join('|')}|`, ...rows.map(line)].join('\n');
}

async function main(): Promise<void> {
  const url = benchUrl();
  await prepareDatabase(url);
  const api = await startApi(url);
  try {
    const { list, notes } = await scenarios(api.base);
    await warmUp(api.base, list);
    const results: Result[] = [];
    for (const s of list) {
      for (const c of [1, 8]) {
        const r = await measure(api, s, c, REQUESTS);
        results.push(r);
        log(
          `${s.name.padEnd(42)} c=${c}  p50 ${r.p50.toFixed(1).padStart(6)} ms  p95 ${r.p95.toFixed(1).padStart(6)} ms  p99 ${r.p99.toFixed(1).padStart(6)} ms  ${r.rps.toFixed(0).padStart(5)} req/s  API CPU ${r.cpuMs.toFixed(2)} ms/req  load ${os.loadavg()[0]!.toFixed(1)}`,
        );
      }
    }
    log('');
    log(
      `${ITEMS} items, ${SEQUENCES} sequences, ${REQUESTS} requests per query and concurrency, ${os.cpus().length} CPUs, load ${os
        .loadavg()
        .map((l) => l.toFixed(1))
        .join(' ')}`,
    );
    log(table(results));
    const find = (name: string, c: number) => results.find((r) => r.name === name && r.concurrency === c);
    const item = find('single item', 8);
    if (item) {
      log(
        `goal single item >= 1000 req/s per API process (c=8): ${item.rps.toFixed(0)} req/s measured; the API spends ${item.cpuMs.toFixed(2)} ms CPU per request, ${(1000 / item.cpuMs).toFixed(0)} req/s per core`,
      );
    }
    // The peer: pgstac 0.9's SQL search() on the same data, on this kind of machine (2 cores).
    for (const [name, peer] of [
      ['bbox 3° limit 100 (POST)', 83.1],
      ['count over a whole year (limit 1)', 4.2],
    ] as const) {
      const r = find(name, 1);
      if (r) log(`goal ${name} p95 <= pgstac's ${peer} ms (c=1): p50 ${r.p50.toFixed(1)} ms, p95 ${r.p95.toFixed(1)} ms ${r.p95 <= peer ? 'met' : 'NOT met'}`);
    }
    const bbox100 = find('bbox 0.5° limit 100', 1);
    if (bbox100) log(`goal bbox limit 100 p95 <= 50 ms (c=1): ${bbox100.p95.toFixed(1)} ms ${bbox100.p95 <= 50 ? 'met' : 'NOT met'}`);
    const p1 = find('page 1 (limit 100)', 1);
    const p50 = find('page 50 (limit 100)', 1);
    if (p1 && p50) log(`goal page 50 within 1.2x of page 1 (p50, c=1): ${(p50.p50 / p1.p50).toFixed(2)}x ${p50.p50 <= 1.2 * p1.p50 ? 'met' : 'NOT met'}`);
    for (const z of [5, 10, 15]) {
      const t = find(`tile z${z}`, 1);
      if (t) log(`goal tile z${z} p95 <= 30 ms (c=1): ${t.p95.toFixed(1)} ms ${t.p95 <= 30 ? 'met' : 'NOT met'}`);
    }
    for (const n of notes) log(`note: ${n}`);
  } finally {
    client?.close();
    api.proc.kill('SIGTERM');
    await new Promise((r) => api.proc.once('exit', r));
  }
}

main().catch((error: Error) => {
  process.stderr.write(`bench:search failed: ${error.stack ?? error.message}\n`);
  process.exit(1);
});
