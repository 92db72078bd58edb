// `npm run bench:datasets`: writes a tiled, overviewed 10000×10000 RGB GeoTIFF, then for each
// storage driver (local folder, and S3 through an s3rver started for the run) starts the real API
// and worker (child processes) on a throwaway database and measures over HTTP: upload and ingest,
// registration from a path and its ingest (hashing included), thumbnails, XYZ tile latency cold
// (rendered; on S3 that includes the range reads) and warm (cached) at concurrency 1 and 8, and
// point sampling (single points and 1000-point batches). Prints the figures; cleans up after itself.
//
//   --size=10000      raster width and height in pixels
//   --tiles=60        distinct tiles per zoom scenario
//   --samples=200     single-point sample requests
//   --warmup-rounds=3 rounds of tiles drawn from another dataset before the measured ones
//   --batches=20      batches of 1000 random points sampled
//   --drivers=local,s3  storage drivers to measure
//   --keep            keep the generated file (its path is printed)
//
//   DATABASE_URL / REDIS_URL   where PostgreSQL and Redis are (defaults as for the app)
//   RENDER_THREADS             render threads of the API (unset: one per core; 0: on its event loop)
import 'reflect-metadata';
import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { mkdirSync, mkdtempSync, openAsBlob, rmSync, statSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { Redis } from 'ioredis';
import pg from 'pg';
import proj4 from 'proj4';
import { DataSource } from 'typeorm';
import { dataSourceOptions } from '../../src/database/data-source-options.js';
import { startS3, type TestS3 } from '../../test/support/s3.js';
import { BenchClient, freePort, serverMallocEnv } from './common.js';
import { writeTiff } from './datasets-tiff-writer.js';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../..');
const arg = (name: string, fallback: string) => process.argv.find((a) => a.startsWith(`--${name}=`))?.slice(name.length + 3) ?? fallback;
const SIZE = Number(arg('size', '10000'));
const TILES = Number(arg('tiles', '60'));
const SAMPLES = Number(arg('samples', '200'));
const KEEP = process.argv.includes('--keep');
const DRIVERS = arg('drivers', 'local,s3')
  .split(',')
  .filter((d): d is 'local' | 's3' => d === 'local' || d === 's3');
const CONCURRENCIES = [1, 8];
/** Rounds of tiles (TILES per zoom) drawn from another dataset before measuring. */
const WARMUP_ROUNDS = Number(arg('warmup-rounds', '3'));
/** Batches of 1000 random points sampled, one after the other (the decoded-block cache fills as they go). */
const BATCHES = Number(arg('batches', '20'));
const log = (line: string) => process.stdout.write(`${line}\n`);

// The raster: UTM 33N, 0.5 m pixels, south-west of Berlin.
const EPSG = 32633;
const UTM33 = '+proj=utm +zone=33 +datum=WGS84 +units=m +no_defs';
const ORIGIN: [number, number] = [380_000, 5_820_000];
const PIXEL = 0.5;

function rng(seed: number) {
  let s = seed >>> 0;
  return () => {
    s = (s * 1664525 + 1013904223) >>> 0;
    return s / 2 ** 32;
  };
}

function percentile(values: number[], p: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))]!;
}
const ms = (v: number) => `${v.toFixed(1)} ms`;
const stats = (values: number[]) => `p50 ${ms(percentile(values, 50))}  p95 ${ms(percentile(values, 95))}  max ${ms(Math.max(...values))}  (n=${values.length})`;
const load = () =>
  os
    .loadavg()
    .map((l) => l.toFixed(1))
    .join(' ');

/** Runs `work` over `items`, `concurrency` at a time, and returns each one's duration in ms. */
async function timedPool<T>(items: T[], concurrency: number, work: (item: T) => Promise<void>): Promise<number[]> {
  const times: number[] = [];
  let next = 0;
  await Promise.all(
    Array.from({ length: Math.min(concurrency, items.length) }, async () => {
      while (next < items.length) {
        const item = items[next++]!;
        const t = performance.now();
        await work(item);
        times.push(performance.now() - t);
      }
    }),
  );
  return times;
}

function start(entry: 'main' | 'worker', env: Record<string, string>, ready: RegExp): Promise<ChildProcess> {
  const child = spawn(process.execPath, [path.join(ROOT, 'dist/src', `${entry}.js`)], { cwd: ROOT, env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  return new Promise((resolve, reject) => {
    const onData = (chunk: Buffer) => {
      out += chunk.toString();
      if (ready.test(out)) resolve(child);
    };
    child.stdout!.on('data', onData);
    child.stderr!.on('data', onData);
    child.on('exit', (code) => reject(new Error(`${entry} exited (${code}):\n${out.slice(-3000)}`)));
  });
}

async function stop(child: ChildProcess | undefined): Promise<void> {
  if (!child || child.exitCode !== null) return;
  const exited = new Promise((r) => child.once('exit', r));
  child.kill('SIGTERM');
  const timer = setTimeout(() => child.kill('SIGKILL'), 20_000);
  await exited;
  clearTimeout(timer);
}

interface TileFigures {
  z: number;
  concurrency: number;
  cold: number[];
  warm: number[];
}

interface DriverFigures {
  driver: 'local' | 's3';
  load: string;
  uploadMs: number;
  ingestMs: number;
  readyAfterUploadMs: number;
  pathTotalMs: number;
  pathJobMs: number;
  statisticsFrom: unknown;
  thumbCold: number;
  thumbWarm: number;
  tiles: TileFigures[];
  single: number[];
  batches: number[];
  again: number[];
}

/** One storage driver: its own database, queue prefix, data folder (and bucket), API and worker. */
async function measureDriver(driver: 'local' | 's3', file: string, rootDir: string, work: string, admin: pg.Client): Promise<DriverFigures> {
  const baseUrl = process.env.DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/sightline';
  const dbName = `sightline_bench_datasets_${process.pid}_${driver}`;
  const dbUrl = new URL(baseUrl);
  dbUrl.pathname = `/${dbName}`;
  const redisUrl = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';
  const prefix = `bench_datasets_${process.pid}_${driver}`;
  const dataDir = path.join(work, `data-${driver}`);
  let api: ChildProcess | undefined;
  let worker: ChildProcess | undefined;
  let s3: TestS3 | undefined;
  let client: BenchClient | undefined;
  try {
    await admin.query(`DROP DATABASE IF EXISTS "${dbName}"`);
    await admin.query(`CREATE DATABASE "${dbName}"`);
    const ds = new DataSource({ ...dataSourceOptions({ DATABASE_URL: dbUrl.toString(), DATABASE_POOL_SIZE: 2 }), logging: ['error'] });
    await ds.initialize();
    await ds.runMigrations({ transaction: 'each' });
    if (driver === 's3') s3 = await startS3('sightline-bench');
    const port = await freePort();
    const env: Record<string, string> = {
      NODE_ENV: 'development',
      DATABASE_URL: dbUrl.toString(),
      REDIS_URL: redisUrl,
      QUEUE_PREFIX: prefix,
      DATA_DIR: dataDir,
      DATASET_ROOTS: rootDir,
      DATASET_MAX_BYTES: String(4 * 1024 ** 3),
      PORT: String(port),
      PUBLIC_URL: `http://127.0.0.1:${port}`,
      WORKER_HEALTH_PORT: '0',
      LOG_LEVEL: 'warn',
      SECRET_KEY: `bench-${randomUUID()}`,
      ...(s3 ? s3.env('bench') : { STORAGE_DRIVER: 'local' }),
      ...serverMallocEnv(),
    };
    [api, worker] = await Promise.all([start('main', env, /listening on port/), start('worker', env, /worker started/)]);
    Object.assign(process.env, env);
    const { NestFactory } = await import('@nestjs/core');
    const { AppModule } = await import('../../src/app.module.js');
    const { UsersService } = await import('../../src/auth/users.service.js');
    const { TokensService } = await import('../../src/auth/tokens.service.js');
    const ctx = await NestFactory.createApplicationContext(AppModule.forRoot('api'), { logger: false });
    // An administrator: registering files already on the server (from-path) is theirs alone.
    const user = await ctx.get(UsersService).upsertLocal('bench', 'admin');
    const { jwt } = await ctx.get(TokensService).create(user.id, 'bench');
    await ctx.close();
    await ds.destroy();
    const auth = { authorization: `Bearer ${jwt}` };
    const base = `http://127.0.0.1:${port}/api`;
    const getJson = async (url: string) => (await fetch(`${base}${url}`, { headers: auth })).json() as Promise<Record<string, unknown>>;
    const waitReady = async (id: string) => {
      for (;;) {
        const d = await getJson(`/datasets/${id}`);
        if (d.status !== 'pending') return d;
        await new Promise((r) => setTimeout(r, 100));
      }
    };
    const uploadDataset = async (title: string) => {
      const form = new FormData();
      form.append('title', title);
      form.append('allow_duplicate', 'true');
      form.append('file', await openAsBlob(file, { type: 'image/tiff' }), path.basename(file));
      const t = performance.now();
      const up = await fetch(`${base}/datasets`, { method: 'POST', headers: auth, body: form });
      const body = (await up.json()) as { id: string; message?: string };
      if (up.status !== 202) throw new Error(`upload answered ${up.status}: ${body.message}`);
      const uploadMs = performance.now() - t;
      const ready = await waitReady(body.id);
      if (ready.status !== 'ready') throw new Error(`ingest failed: ${ready.error as string}`);
      return { id: body.id, uploadMs, totalMs: performance.now() - t, ready };
    };

    // 1. Upload + ingest, then from-path + ingest (hashing in the job).
    const first = await uploadDataset('bench upload');
    const t0 = performance.now();
    const reg = await fetch(`${base}/datasets/from-path`, {
      method: 'POST',
      headers: { ...auth, 'content-type': 'application/json' },
      body: JSON.stringify({ path: path.basename(file), allow_duplicate: true }),
    });
    const regBody = (await reg.json()) as { id: string };
    const registered = await waitReady(regBody.id);
    const pathTotalMs = performance.now() - t0;

    // 2. Thumbnail.
    client = new BenchClient(base);
    const http = client;
    const timed = (url: string, init?: { method?: string; body?: unknown }) => http.request(init?.method ?? 'GET', url, { body: init?.body, headers: auth });
    const thumbCold = await timed(`/datasets/${first.id}/thumbnail.png?size=512`);
    const thumbWarm = await timed(`/datasets/${first.id}/thumbnail.png?size=512`);

    // 3. Tiles, cold (rendered) then warm (cached), at the native zoom and three coarser ones; each
    // concurrency on a dataset of its own (an uploaded copy), so that its cold tiles are cold.
    const toLonLat = proj4(UTM33, 'EPSG:4326');
    const tiles: TileFigures[] = [];
    const centreLat = (toLonLat.forward([ORIGIN[0] + (SIZE * PIXEL) / 2, ORIGIN[1] - (SIZE * PIXEL) / 2]) as number[])[1]!;
    const nativeZ = Math.round(Math.log2((156543.03 * Math.cos((centreLat * Math.PI) / 180)) / PIXEL));
    /** Up to TILES distinct tiles of a dataset at zoom z, where its pixels are (the same ones for a given seed). */
    const tileUrls = (id: string, z: number, seed: number) => {
      const tileRandom = rng(seed);
      const seen = new Set<string>();
      const urls: string[] = [];
      for (let i = 0; i < TILES * 10 && urls.length < TILES; i++) {
        const [lon, lat] = toLonLat.forward([ORIGIN[0] + tileRandom() * SIZE * PIXEL, ORIGIN[1] - tileRandom() * SIZE * PIXEL]) as [number, number];
        const n = 2 ** z;
        const x = Math.floor(((lon + 180) / 360) * n);
        const rad = (lat * Math.PI) / 180;
        const y = Math.floor(((1 - Math.log(Math.tan(rad) + 1 / Math.cos(rad)) / Math.PI) / 2) * n);
        if (seen.has(`${x}/${y}`)) continue;
        seen.add(`${x}/${y}`);
        urls.push(`/datasets/${id}/tiles/${z}/${x}/${y}.png`);
      }
      return urls;
    };
    const get = async (u: string) => {
      const r = await timed(u);
      if (r.status !== 200) throw new Error(`${u} answered ${r.status}`);
    };
    const zooms = [nativeZ, nativeZ - 2, nativeZ - 4, nativeZ - 6];
    // Warm-up on another dataset (the registered copy): a server that has been up a while has its
    // rendering code compiled; the first tiles of a fresh process are up to twice as slow. The
    // measured datasets' blocks are still in no cache.
    let warmed = 0;
    for (let round = 0; round < WARMUP_ROUNDS; round++) {
      for (const z of zooms) {
        const urls = tileUrls(regBody.id, z, 1000 + round);
        await timedPool(urls, 2, get);
        warmed += urls.length;
      }
    }
    log(`  warmed up with ${warmed} tiles of another dataset`);
    for (const concurrency of CONCURRENCIES) {
      const id = concurrency === CONCURRENCIES[0] ? first.id : (await uploadDataset(`bench upload c=${concurrency}`)).id;
      for (const z of zooms) {
        const urls = tileUrls(id, z, 42);
        const cold = await timedPool(urls, concurrency, get);
        const warm = await timedPool(urls, concurrency, get);
        tiles.push({ z, concurrency, cold, warm });
      }
    }

    // 4. Sampling.
    const random = rng(42);
    const single: number[] = [];
    for (let i = 0; i < SAMPLES; i++) {
      const [lon, lat] = toLonLat.forward([ORIGIN[0] + random() * SIZE * PIXEL, ORIGIN[1] - random() * SIZE * PIXEL]) as [number, number];
      const r = await timed(`/datasets/${first.id}/sample?lon=${lon}&lat=${lat}`);
      if (r.status !== 200) throw new Error(`sample answered ${r.status}`);
      single.push(r.ms);
    }
    const batches: number[] = [];
    const again: number[] = [];
    let points: { lon: number; lat: number }[] = [];
    const sampleBatch = async () => {
      const r = await timed(`/datasets/${first.id}/sample`, { method: 'POST', body: { points } });
      if (r.status !== 200) throw new Error(`batch sample answered ${r.status}`);
      return r.ms;
    };
    for (let k = 0; k < BATCHES; k++) {
      points = Array.from({ length: 1000 }, () => {
        const [lon, lat] = toLonLat.forward([ORIGIN[0] + random() * SIZE * PIXEL, ORIGIN[1] - random() * SIZE * PIXEL]) as [number, number];
        return { lon, lat };
      });
      batches.push(await sampleBatch());
    }
    // The last batch again: its blocks are all decoded already, what remains is the request itself.
    for (let k = 0; k < 5; k++) again.push(await sampleBatch());
    return {
      driver,
      load: load(),
      uploadMs: first.uploadMs,
      ingestMs: first.ready.ingest_ms as number,
      readyAfterUploadMs: first.totalMs - first.uploadMs,
      pathTotalMs,
      pathJobMs: registered.ingest_ms as number,
      statisticsFrom: first.ready.statistics_from,
      thumbCold: thumbCold.ms,
      thumbWarm: thumbWarm.ms,
      tiles,
      single,
      batches,
      again,
    };
  } finally {
    client?.close();
    await Promise.all([stop(api), stop(worker)]);
    await s3?.close();
    await admin.query(`DROP DATABASE IF EXISTS "${dbName}" WITH (FORCE)`).catch(() => undefined);
    const redis = new Redis(redisUrl, { lazyConnect: true, maxRetriesPerRequest: 1 });
    await redis.connect().catch(() => undefined);
    let cursor = '0';
    do {
      const [next, keys] = await redis.scan(cursor, 'MATCH', `${prefix}:*`, 'COUNT', 1000);
      cursor = next;
      if (keys.length) await redis.del(...keys);
    } while (cursor !== '0');
    redis.disconnect();
  }
}

/**
 * The same batches of points as measureDriver samples (the same seed and draws), read by GDAL's
 * gdallocationinfo from stdin in one process that stays warm, with a 128 MB block cache like the
 * render threads': the time from writing a batch to reading its last value. A string says why
 * it was skipped (GDAL missing: Debian gdal-bin).
 */
async function gdalSampling(file: string): Promise<{ version: string; batches: number[]; load: string } | string> {
  const version = spawnSync('gdalinfo', ['--version'], { encoding: 'utf8' });
  if (version.error || version.status !== 0) return 'gdalinfo is not installed (Debian gdal-bin)';
  if (spawnSync('stdbuf', ['--version']).status !== 0) return 'stdbuf is not installed (Debian coreutils)';
  const toLonLat = proj4(UTM33, 'EPSG:4326');
  const random = rng(42);
  for (let i = 0; i < SAMPLES * 2; i++) random();
  const bands = 3;
  // stdbuf: gdallocationinfo writes through stdio, fully buffered into a pipe.
  const child = spawn('stdbuf', ['-oL', 'gdallocationinfo', '-valonly', '-wgs84', file], { env: { ...process.env, GDAL_CACHEMAX: '128' }, stdio: ['pipe', 'pipe', 'ignore'] });
  let lines = 0;
  let waiting: { until: number; resolve: () => void } | null = null;
  child.stdout.setEncoding('utf8');
  child.stdout.on('data', (chunk: string) => {
    for (let i = chunk.indexOf('\n'); i >= 0; i = chunk.indexOf('\n', i + 1)) lines++;
    if (waiting && lines >= waiting.until) {
      const done = waiting;
      waiting = null;
      done.resolve();
    }
  });
  const exited = new Promise<void>((resolve) => child.on('close', () => resolve()));
  try {
    const batches: number[] = [];
    for (let k = 0; k < BATCHES; k++) {
      let input = '';
      for (let i = 0; i < 1000; i++) {
        const [lon, lat] = toLonLat.forward([ORIGIN[0] + random() * SIZE * PIXEL, ORIGIN[1] - random() * SIZE * PIXEL]) as [number, number];
        input += `${lon} ${lat}\n`;
      }
      const until = lines + 1000 * bands;
      const t0 = performance.now();
      const answered = new Promise<void>((resolve, reject) => {
        waiting = { until, resolve };
        void exited.then(() => reject(new Error('gdallocationinfo stopped')));
      });
      child.stdin.write(input);
      await answered;
      batches.push(performance.now() - t0);
    }
    return { version: version.stdout.trim().split(',')[0]!, batches, load: load() };
  } finally {
    child.stdin.end();
    await exited;
  }
}

async function main(): Promise<void> {
  const baseUrl = process.env.DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/sightline';
  const adminUrl = new URL(baseUrl);
  adminUrl.pathname = '/postgres';
  const work = mkdtempSync(path.join(os.tmpdir(), 'sightline-bench-datasets-'));
  const rootDir = path.join(work, 'rasters');
  const admin = new pg.Client({ connectionString: adminUrl.toString() });
  await admin.connect();

  try {
    // 1. The raster.
    const file = path.join(rootDir, `bench-${SIZE}.tif`);
    mkdirSync(rootDir, { recursive: true });
    const overviews: number[] = [];
    for (let f = 2; SIZE / f >= 256; f *= 2) overviews.push(f);
    const t0 = performance.now();
    await writeTiff(file, {
      width: SIZE,
      height: SIZE,
      bands: 3,
      dataType: 'uint8',
      tile: 256,
      compression: 'deflate',
      overviews,
      nodata: '0',
      datetime: '2024:05:01 10:00:00',
      geo: { epsg: EPSG, transform: [PIXEL, 0, ORIGIN[0], 0, -PIXEL, ORIGIN[1]] },
      // Fields, roads and noise: compresses like imagery, not like a flat colour.
      pixel: (b, c, r) => {
        const field = (((c >> 7) * 37 + (r >> 7) * 91) & 127) + 64;
        const road = c % 1500 < 12 || r % 1700 < 10 ? 200 : 0;
        const noise = ((c * 2654435761) ^ (r * 2246822519) ^ (b * 3266489917)) >>> 26;
        return Math.min(255, Math.max(1, (road || field + b * 20) + noise));
      },
    });
    const generation = performance.now() - t0;
    const fileSize = statSync(file).size;
    log(
      `generated ${SIZE}×${SIZE} RGB GeoTIFF (256 px deflate tiles, ${overviews.length} overviews, COG layout): ${(fileSize / 1e6).toFixed(1)} MB in ${(generation / 1000).toFixed(1)} s`,
    );

    const figures: DriverFigures[] = [];
    for (const driver of DRIVERS) {
      log(`measuring on storage driver ${driver} (load ${load()})`);
      figures.push(await measureDriver(driver, file, rootDir, work, admin));
    }
    const gdal = await gdalSampling(file);

    log('');
    log(
      `datasets bench — ${SIZE}×${SIZE} px, 3 × uint8, ${(fileSize / 1e6).toFixed(1)} MB, ${os.cpus().length} CPU(s), render threads: ${process.env.RENDER_THREADS || 'one per core'}`,
    );
    for (const f of figures) {
      log('');
      log(`storage driver ${f.driver} (load at the end ${f.load})`);
      log(`  upload (HTTP, streamed + hashed)      ${ms(f.uploadMs)}`);
      log(`  ingest after upload (job)             ${ms(f.ingestMs)}   (202 → ready ${ms(f.readyAfterUploadMs)})`);
      log(`  from-path: 202 → ready (hash + read)  ${ms(f.pathTotalMs)}   (job ${ms(f.pathJobMs)})`);
      log(`  statistics from overview              ${JSON.stringify(f.statisticsFrom)}`);
      log(`  thumbnail 512 px                      cold ${ms(f.thumbCold)}  warm ${ms(f.thumbWarm)}`);
      for (const t of f.tiles) {
        log(`  tiles z${t.z} c=${t.concurrency} cold                 ${stats(t.cold)}`);
        log(`  tiles z${t.z} c=${t.concurrency} warm                 ${stats(t.warm)}`);
      }
      log(`  sample GET (1 point)                  ${stats(f.single)}`);
      log(`  sample POST (1000 points)             ${stats(f.batches)}`);
      log(`    one after the other: ${f.batches.map((v) => v.toFixed(0)).join(' ')} ms`);
      if (f.batches.length >= 10) log(`    the second half (the block cache full)  ${stats(f.batches.slice(Math.floor(f.batches.length / 2)))}`);
      log(`  sample POST (same 1000 points again)  ${stats(f.again)}`);
    }
    log('');
    if (typeof gdal === 'string') log(`GDAL reference skipped: ${gdal}`);
    else {
      log(
        `GDAL reference: ${gdal.version}, gdallocationinfo -wgs84 in one warm process, GDAL_CACHEMAX=128 MB, the same ${BATCHES} batches of 1000 points (load at the end ${gdal.load})`,
      );
      log(`  sample 1000 points                    ${stats(gdal.batches)}`);
      log(`    one after the other: ${gdal.batches.map((v) => v.toFixed(0)).join(' ')} ms`);
      if (gdal.batches.length >= 10) log(`    the second half (the block cache full)  ${stats(gdal.batches.slice(Math.floor(gdal.batches.length / 2)))}`);
    }
  } finally {
    await admin.end();
    if (KEEP) log(`kept ${work}`);
    else rmSync(work, { recursive: true, force: true });
  }
}

main().then(
  () => process.exit(0),
  (error: Error) => {
    process.stderr.write(`bench failed: ${error.stack ?? error.message}\n`);
    process.exit(1);
  },
);
