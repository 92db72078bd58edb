/**
 * `npm run bench:ingest` — N synthetic 12-megapixel JPEGs (with EXIF position and time) sent
 * through the real API and worker, blurring off, from the first upload to every picture
 * `ready`. Measured in the same run:
 *
 * - raw sharp: the same derivatives (sd and thumb, made by the same MediaService code with the
 *   same sizes and qualities, and written to files as the worker writes them: by libvips itself
 *   on local storage, from buffers on S3) in this one process, at 1, the worker's concurrency
 *   and 4 pictures at a time before and after everything else. The system takes `--rounds` (3)
 *   batches of N pictures, with a raw run at the worker's concurrency before each and after the
 *   last; the ratios compare the system's rounds with those runs, pooled (each round against
 *   the runs around it is printed too): wall time (pictures/s) and CPU per picture (API +
 *   worker processes against this process; PostgreSQL, Redis and the uploading client not
 *   counted); the best and least-CPU raw runs of all are printed beside them.
 * - the same work with libvips' own `vipsthumbnail` (Debian libvips-tools; installed when
 *   missing and root, else skipped with a message; `--no-vips` skips it);
 * - the peak RSS of API and worker, and the API's memory while it receives `--big-uploads` (50)
 *   pictures of `--big-mb` (20) MB at once.
 *
 * The uploading client (this process, node:http streaming each file from disk) shares the CPUs
 * with the system: its CPU is printed too.
 *
 *   npm run bench:ingest -- [--count 40] [--rounds 3] [--warmup 16] [--uploads 4] [--worker-concurrency cores+1] [--sharp-concurrency 0] [--phases]
 *                           [--big-uploads 50] [--big-mb 20] [--big-only] [--storage local|s3] [--no-vips] [--profile dir]
 *
 * `--big-only` measures only the upload memory; `--storage s3` keeps the files in an s3rver
 * bucket started for the run instead of the data folder.
 *
 * Needs PostgreSQL+PostGIS and Redis (DATABASE_URL, REDIS_URL as for the tests); a scratch
 * database, queue prefix and data folder are made for the run and removed after it.
 */
import 'reflect-metadata';
import { ChildProcess, spawn, spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { mkdtemp, readdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { Redis } from 'ioredis';
import pg from 'pg';
import sharp from 'sharp';
import { DataSource } from 'typeorm';
import { pictureConcurrency } from '../../src/config/app-config.js';
import { startS3, type TestS3 } from '../../test/support/s3.js';
import { cameraExif, syntheticJpeg } from './ingest-images.js';
import { freePort, serverMallocEnv } from './common.js';

/** The services' process names, for their CPU time. */
const SERVICES = ['postgres', 'redis-server'];

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../..');

function flag(name: string, fallback: number): number {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? Number(process.argv[i + 1]) : fallback;
}

const COUNT = flag('count', 40);
const UPLOADS = flag('uploads', 4);
/** The worker's picture jobs at once: as the product's default (cores + 1) unless given. */
const WORKER_CONCURRENCY = flag('worker-concurrency', pictureConcurrency({}));
const SHARP_CONCURRENCY = flag('sharp-concurrency', 0);
/** `--phases`: upload everything first, then start the worker, to see each side's cost. */
const PHASES = process.argv.includes('--phases');
const WIDTH = 4000;
const HEIGHT = 3000;
const BIG_UPLOADS = flag('big-uploads', 50);
const BIG_MB = flag('big-mb', 20);
/** `--big-only`: only the upload memory (no derivative work, no raw references). */
const BIG_ONLY = process.argv.includes('--big-only');
/** `--warmup 16`: pictures uploaded and processed before the measured ones (not with --phases). */
const WARMUP = PHASES ? 0 : flag('warmup', 16);
/**
 * `--rounds 3`: the system takes ROUNDS batches of `--count` pictures, each just after a raw run at
 * the worker's concurrency, and one more raw run follows the last: each batch is compared with
 * the raw runs on either side of it, and the ratios are pooled over the rounds, so that a passing
 * change in the machine's speed (it may be shared) weighs less (1 with --phases).
 */
const ROUNDS = PHASES ? 1 : Math.max(1, flag('rounds', 3));
/** `--threads`: the API's and worker's CPU per picture by thread (not with --phases). */
const THREADS = process.argv.includes('--threads');
/** `--profile <dir>`: API and worker write V8 CPU profiles there (open them in Chrome DevTools). */
const PROFILE = process.argv.includes('--profile') ? process.argv[process.argv.indexOf('--profile') + 1]! : '';
const STORAGE = process.argv.includes('--storage') ? process.argv[process.argv.indexOf('--storage') + 1] : 'local';
if (STORAGE !== 'local' && STORAGE !== 's3') throw new Error(`--storage is local or s3, not ${STORAGE}`);
// The derivatives' sizes and qualities, as src/media makes them (for vipsthumbnail).
const SD_WIDTH = 2048;
const SD_QUALITY = 80;
const THUMB_WIDTH = 500;
const THUMB_QUALITY = 75;

const say = (line: string) => process.stdout.write(`${line}\n`);
const mb = (bytes: number) => `${(bytes / 1024 / 1024).toFixed(0)} MB`;

/** CPU seconds (user + system) a process has used so far. */
async function cpuSeconds(pid: number): Promise<number> {
  const { user, system } = await cpuSplit(pid);
  return user + system;
}
/** CPU seconds a process has used so far, in user space and in the kernel. */
async function cpuSplit(pid: number): Promise<{ user: number; system: number }> {
  const stat = await readFile(`/proc/${pid}/stat`, 'utf8');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return { user: Number(fields[11]) / 100, system: Number(fields[12]) / 100 };
}

/** CPU seconds of the children this process has waited for (user + system). */
/** CPU seconds of a process's threads, summed by thread name (libvips' workers; Node.js names all of its own `node`). */
async function threadsCpu(pid: number): Promise<Map<string, number>> {
  const byName = new Map<string, number>();
  for (const tid of await readdir(`/proc/${pid}/task`).catch(() => [] as string[])) {
    const stat = await readFile(`/proc/${pid}/task/${tid}/stat`, 'utf8').catch(() => '');
    if (!stat) continue;
    const name = stat.slice(stat.indexOf('(') + 1, stat.lastIndexOf(')')).replace(/\d+$/, '#');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    byName.set(name, (byName.get(name) ?? 0) + (Number(fields[11]) + Number(fields[12])) / 100);
  }
  return byName;
}

/** CPU seconds used so far by the processes named `names` (PostgreSQL's backends, Redis), where /proc tells. */
async function servicesCpuSeconds(names: string[]): Promise<number> {
  let total = 0;
  for (const entry of await readdir('/proc').catch(() => [] as string[])) {
    if (!/^\d+$/.test(entry)) continue;
    const stat = await readFile(`/proc/${entry}/stat`, 'utf8').catch(() => '');
    const name = stat.slice(stat.indexOf('(') + 1, stat.lastIndexOf(')'));
    if (!names.includes(name)) continue;
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    total += (Number(fields[11]) + Number(fields[12])) / 100;
  }
  return total;
}
async function childrenCpuSeconds(): Promise<number> {
  const stat = await readFile('/proc/self/stat', 'utf8');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return (Number(fields[13]) + Number(fields[14])) / 100;
}

/** Resident set size of a process now (VmRSS). */
async function rss(pid: number): Promise<number | null> {
  try {
    const m = /VmRSS:\s+(\d+) kB/.exec(await readFile(`/proc/${pid}/status`, 'utf8'));
    return m ? Number(m[1]) * 1024 : null;
  } catch {
    return null;
  }
}

function run(command: string, args: string[]): Promise<void> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, { stdio: ['ignore', 'ignore', 'pipe'] });
    let err = '';
    child.stderr!.on('data', (d: Buffer) => (err += d.toString()));
    child.on('error', reject);
    child.on('exit', (code) => (code === 0 ? resolve() : reject(new Error(`${command} ${args.join(' ')} exited ${code}: ${err.slice(-500)}`))));
  });
}

/** `vipsthumbnail` on the PATH, installed with apt-get (libvips-tools) when missing and root; else why not. */
function findVipsthumbnail(): { ok: true } | { ok: false; why: string } {
  const has = () => spawnSync('vipsthumbnail', ['--version'], { stdio: 'ignore' }).status === 0;
  if (has()) return { ok: true };
  if (process.getuid?.() !== 0 || spawnSync('apt-get', ['--version'], { stdio: 'ignore' }).status !== 0) {
    return { ok: false, why: 'vipsthumbnail is not installed (Debian: apt-get install libvips-tools) and this is not a root run with apt-get' };
  }
  say('  installing libvips-tools for vipsthumbnail (apt-get)');
  const install = spawnSync('apt-get', ['install', '-y', '-q', 'libvips-tools'], { stdio: 'ignore', env: { ...process.env, DEBIAN_FRONTEND: 'noninteractive' } });
  if (install.status !== 0 || !has()) return { ok: false, why: 'apt-get install libvips-tools failed' };
  return { ok: true };
}

/** Peak resident set size of a process, as the kernel tracks it (VmHWM). */
async function peakRss(pid: number): Promise<number | null> {
  try {
    const status = await readFile(`/proc/${pid}/status`, 'utf8');
    const m = /VmHWM:\s+(\d+) kB/.exec(status);
    return m ? Number(m[1]) * 1024 : null;
  } catch {
    return null;
  }
}

/**
 * A virtual machine whose balloon driver reports free pages gives them back to the host: the next
 * write into such a page (a new file's page cache) costs a fault in the host, about four times
 * the write itself. Every upload writes a new original, raw sharp hardly anything, so the ratios
 * lean against the system there. Says so when the kernel does it (null otherwise).
 */
async function freePageReporting(): Promise<string | null> {
  const order = await readFile('/sys/module/page_reporting/parameters/page_reporting_order', 'utf8').catch(() => null);
  const balloon = await stat('/sys/bus/virtio/drivers/virtio_balloon').then(
    () => true,
    () => false,
  );
  // Orders above the largest page block (10 on x86-64) report nothing.
  if (order === null || !balloon || Number(order) > 10) return null;
  return `free page reporting is on (order ${order.trim()}): new page-cache pages cost a host fault; the README says how to measure without it`;
}

function start(entry: string, env: Record<string, string>, ready: RegExp): Promise<ChildProcess> {
  const profile = PROFILE ? ['--cpu-prof', `--cpu-prof-dir=${path.resolve(PROFILE)}`] : [];
  const child = spawn(process.execPath, [...profile, path.join(ROOT, 'dist/src', entry)], { cwd: ROOT, env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`${entry} did not start:\n${out.slice(-2000)}`)), 60_000);
    const onData = (chunk: Buffer) => {
      out += chunk.toString();
      if (ready.test(out)) {
        clearTimeout(timer);
        resolve(child);
      }
    };
    child.stdout!.on('data', onData);
    child.stderr!.on('data', onData);
    child.on('exit', (code) => reject(new Error(`${entry} exited (${code}):\n${out.slice(-2000)}`)));
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

async function pool<T>(items: T[], concurrency: number, work: (item: T, index: number) => Promise<void>): Promise<void> {
  let next = 0;
  await Promise.all(
    Array.from({ length: Math.min(concurrency, items.length) }, async () => {
      while (next < items.length) {
        const i = next++;
        await work(items[i]!, i);
      }
    }),
  );
}

async function main(): Promise<void> {
  const baseUrl = process.env.DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/sightline';
  const redisUrl = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';
  const runId = `${Date.now()}_${process.pid}`;
  const dbName = `sightline_bench_${runId}`;
  const admin = new URL(baseUrl);
  admin.pathname = '/postgres';
  const dbUrl = new URL(baseUrl);
  dbUrl.pathname = `/${dbName}`;
  const dataDir = await mkdtemp(path.join(os.tmpdir(), 'sightline-bench-data-'));
  const imageDir = await mkdtemp(path.join(os.tmpdir(), 'sightline-bench-images-'));
  const prefix = `slbench_${runId}`;
  const env: Record<string, string> = {
    NODE_ENV: 'test',
    SECRET_KEY: 'bench-secret-key-0123456789',
    DATABASE_URL: dbUrl.toString(),
    REDIS_URL: redisUrl,
    QUEUE_PREFIX: prefix,
    DATA_DIR: dataDir,
    LOG_LEVEL: 'warn',
    BLUR_PROVIDER: 'none',
    WORKER_HEALTH_PORT: '0',
    WORKER_CONCURRENCY_PICTURES: String(WORKER_CONCURRENCY),
    SHARP_CONCURRENCY: String(SHARP_CONCURRENCY),
    UPLOAD_MAX_BYTES: String(200 * 1024 * 1024),
    // As the production image runs them (glibc's per-thread arenas fragment under libvips'
    // threads; two keep the worker's RSS about a fifth lower at the same speed).
    ...serverMallocEnv(),
  };
  let api: ChildProcess | undefined;
  let worker: ChildProcess | undefined;
  let s3: TestS3 | undefined;
  const adminClient = new pg.Client({ connectionString: admin.toString() });
  // An idle connection ended by the server (another user's cleanup) must not end the run.
  adminClient.on('error', (error) => say(`  (admin connection lost: ${error.message})`));
  await adminClient.connect();
  try {
    say(
      `ingest bench: ${COUNT} pictures of ${WIDTH}×${HEIGHT} px, ${UPLOADS} concurrent uploads, worker concurrency ${WORKER_CONCURRENCY}, ${STORAGE} storage, ${os.cpus().length} CPUs`,
    );
    const reporting = await freePageReporting();
    if (reporting) say(`  ${reporting}`);
    if (STORAGE === 's3') {
      s3 = await startS3('sightline-bench');
      Object.assign(env, s3.env('bench'));
    }
    await adminClient.query(`CREATE DATABASE "${dbName}"`);
    Object.assign(process.env, env);
    const { dataSourceOptions } = await import('../../src/database/data-source-options.js');
    const ds = new DataSource(dataSourceOptions({ DATABASE_URL: env.DATABASE_URL!, DATABASE_POOL_SIZE: 2 }));
    await ds.initialize();
    await ds.runMigrations();
    await ds.destroy();

    if (BIG_ONLY) {
      const port = await freePort();
      api = await start('main.js', { ...env, PORT: String(port), PUBLIC_URL: `http://127.0.0.1:${port}` }, /Sightline API listening/);
      const token = await createToken(env);
      const big = await bigUploads(`http://127.0.0.1:${port}/api`, { authorization: `Bearer ${token}` }, imageDir, api.pid!);
      say(
        `  upload memory:       ${BIG_UPLOADS} × ${BIG_MB} MB at once in ${big.seconds.toFixed(1)} s (${big.accepted} accepted): API RSS ${mb(big.before)} before, peak ${mb(big.peak)}, ${mb(big.after)} after (goal < 300 MB, flat)`,
      );
      return;
    }

    // Pictures: one photo-like base, each copy with its own block of pixels, time and position.
    const t = Date.now();
    const base = await sharp(await syntheticJpeg({ width: WIDTH, height: HEIGHT, lon: 5, lat: 45, time: new Date(), seed: 1 }))
      .raw()
      .toBuffer();
    // The measured pictures, a batch per round (the raw runs use the first).
    const roundFiles: string[][] = Array.from({ length: ROUNDS }, () => []);
    // Pictures for the warm-up come after the measured ones: elsewhere, a day later.
    const warmupFiles: string[] = [];
    const start0 = Date.UTC(2024, 6, 1, 9, 0, 0);
    const measured = COUNT * ROUNDS;
    await pool(
      Array.from({ length: measured + WARMUP }, (_, i) => i),
      os.cpus().length,
      async (i) => {
        const pixels = Buffer.from(base);
        for (let y = 0; y < 64; y++) pixels.fill(i % 256, (y * WIDTH + 64 * (i % 50)) * 3, (y * WIDTH + 64 * (i % 50) + 64) * 3);
        const warm = i >= measured;
        const tagged = await sharp(pixels, { raw: { width: WIDTH, height: HEIGHT, channels: 3 } })
          .jpeg({ quality: 88 })
          .withExif(cameraExif({ lon: warm ? 6.0 : 5.0, lat: 45.0 + i * 0.00005, time: new Date(start0 + i * 2000 + (warm ? 86_400_000 : 0)) }))
          .toBuffer();
        const file = path.join(imageDir, `IMG_${String(i + 1).padStart(4, '0')}.jpg`);
        await writeFile(file, tagged);
        if (warm) warmupFiles[i - measured] = file;
        else roundFiles[Math.floor(i / COUNT)]![i % COUNT] = file;
      },
    );
    const files = roundFiles[0]!;
    const sizes = await Promise.all(files.map(async (f) => (await readFile(f)).length));
    const totalBytes = sizes.reduce((a, b) => a + b, 0);
    say(`  made ${measured + WARMUP} JPEGs, ${mb(totalBytes / COUNT)} each on average, in ${((Date.now() - t) / 1000).toFixed(1)} s`);

    // Raw limit: the same derivative work with sharp in this process, nothing else. Measured
    // before, between and after the system's rounds (the machine may be shared).
    const { MediaService, configureSharp } = await import('../../src/media/media.service.js');
    const { loadConfig } = await import('../../src/config/app-config.js');
    const config = loadConfig(env);
    configureSharp(config);
    const media = new MediaService(config);
    await media.derive(files[0]!, 'perspective'); // warm-up
    // Each run makes the same files as the worker (sd and thumb, by the same MediaService code) and
    // writes them, at 1, the worker's concurrency and 4 pictures at a time.
    const rawOut = await mkdtemp(path.join(os.tmpdir(), 'sightline-bench-raw-'));
    const rawRuns: { when: string; concurrency: number; rate: number; cpu: number }[] = [];
    const measureRaw = async (when: string, concurrencies = [...new Set([1, WORKER_CONCURRENCY, 4])].sort((a, b) => a - b)) => {
      for (const concurrency of concurrencies) {
        const r0 = performance.now();
        const c0 = process.cpuUsage();
        const threads0 = THREADS && concurrency === WORKER_CONCURRENCY ? await threadsCpu(process.pid) : null;
        await pool(files, concurrency, async (f, i) => {
          const out = { sd: path.join(rawOut, `sd-${i}.jpg`), thumb: path.join(rawOut, `thumb-${i}.jpg`) };
          // On local storage the worker has libvips write the files; on S3 it uploads buffers.
          if (STORAGE === 'local') await media.derivePerspectiveFiles(f, out);
          else {
            const d = await media.derive(f, 'perspective');
            await Promise.all([writeFile(out.sd, d.sd), writeFile(out.thumb, d.thumb)]);
          }
        });
        const rate = COUNT / ((performance.now() - r0) / 1000);
        const c = process.cpuUsage(c0);
        const cpu = (c.user + c.system) / 1e6 / COUNT;
        say(`  raw sharp ${when}, ${concurrency} at a time: ${rate.toFixed(2)} pictures/s, ${(cpu * 1000).toFixed(0)} ms CPU per picture`);
        if (threads0) {
          const threads = [...(await threadsCpu(process.pid))].map(([n, c]) => [n, c - (threads0.get(n) ?? 0)] as const).sort((a, b) => b[1] - a[1]);
          say(`    its threads: ${threads.map(([n, c]) => `${n} ${((c / COUNT) * 1000).toFixed(0)} ms`).join(', ')} CPU per picture`);
        }
        rawRuns.push({ when, concurrency, rate, cpu });
      }
    };
    await measureRaw('before');

    // Second reference: the same derivatives with libvips' command-line thumbnailer, one process
    // per picture (sd from the original, thumb from the sd, as src/media does).
    const vips: ReturnType<typeof findVipsthumbnail> = process.argv.includes('--no-vips') ? { ok: false, why: '--no-vips' } : findVipsthumbnail();
    let vipsRate = 0;
    let vipsCpu = Infinity;
    if (vips.ok) {
      const out = await mkdtemp(path.join(os.tmpdir(), 'sightline-bench-vips-'));
      try {
        for (const concurrency of [1, 2, 4]) {
          const r0 = performance.now();
          const c0 = await childrenCpuSeconds();
          await pool(files, concurrency, async (f, i) => {
            const sd = path.join(out, `sd-${i}.jpg`);
            await run('vipsthumbnail', [f, '--size', `${SD_WIDTH}x`, '-o', `${sd}[Q=${SD_QUALITY}]`]);
            await run('vipsthumbnail', [sd, '--size', `${THUMB_WIDTH}x`, '-o', `${path.join(out, `thumb-${i}.jpg`)}[Q=${THUMB_QUALITY}]`]);
          });
          const rate = COUNT / ((performance.now() - r0) / 1000);
          const cpu = ((await childrenCpuSeconds()) - c0) / COUNT;
          say(`  vipsthumbnail, ${concurrency} at a time: ${rate.toFixed(2)} pictures/s, ${(cpu * 1000).toFixed(0)} ms CPU per picture`);
          vipsRate = Math.max(vipsRate, rate);
          vipsCpu = Math.min(vipsCpu, cpu);
        }
      } finally {
        await rm(out, { recursive: true, force: true });
      }
    } else {
      say(`  vipsthumbnail reference skipped: ${vips.why}`);
    }

    // The system: API and worker as separate processes.
    const port = await freePort();
    api = await start('main.js', { ...env, PORT: String(port), PUBLIC_URL: `http://127.0.0.1:${port}` }, /Sightline API listening/);
    if (!PHASES) worker = await start('worker.js', env, /Sightline worker started/);
    const token = await createToken(env);
    const headers = { authorization: `Bearer ${token}` };
    const baseApi = `http://127.0.0.1:${port}/api`;
    const newSet = async (title: string, count: number) => {
      const setRes = await fetch(`${baseApi}/upload_sets`, {
        method: 'POST',
        headers: { ...headers, 'content-type': 'application/json' },
        body: JSON.stringify({ title, estimated_nb_files: count }),
      });
      if (setRes.status !== 201) throw new Error(`upload set: ${setRes.status} ${await setRes.text()}`);
      return ((await setRes.json()) as { id: string }).id;
    };
    const db = new pg.Client({ connectionString: env.DATABASE_URL });
    db.on('error', (error) => say(`  (database connection lost: ${error.message})`));
    await db.connect();
    const readyIn = async (setId: string) => {
      const { rows } = await db.query(
        `SELECT count(*) FILTER (WHERE status = 'ready')::int AS ready, count(*) FILTER (WHERE status = 'broken')::int AS broken FROM picture WHERE source_kind = 'upload-set' AND source_id = $1`,
        [setId],
      );
      if (rows[0].broken) throw new Error(`${rows[0].broken} pictures broke`);
      return rows[0].ready as number;
    };
    // Warm-up: a server that has been up a while has its code compiled; the first pictures of fresh
    // processes cost up to a third more CPU (most of it the compiler's own threads).
    if (worker && WARMUP > 0) {
      const warmSet = await newSet('Warm-up', WARMUP);
      await pool(warmupFiles, UPLOADS, async (file) => {
        const res = await postFile(`${baseApi}/upload_sets/${warmSet}/files`, headers, file);
        if (res.status !== 202) throw new Error(`upload ${file}: ${res.status} ${res.body}`);
      });
      while ((await readyIn(warmSet)) < WARMUP) await new Promise((r) => setTimeout(r, 50));
      say(`  warmed up with ${WARMUP} pictures`);
    }
    // One round: a raw run at the worker's concurrency, then a batch of COUNT pictures uploaded
    // into a set of its own, from the first upload to every picture ready. CPU is counted per
    // round, so idle time in between is not.
    const cpuNow = async () => ({
      api: await cpuSeconds(api!.pid!),
      apiSplit: await cpuSplit(api!.pid!),
      apiThreads: await threadsCpu(api!.pid!),
      worker: worker ? await cpuSeconds(worker.pid!) : 0,
      workerThreads: worker ? await threadsCpu(worker.pid!) : new Map<string, number>(),
      services: await servicesCpuSeconds(SERVICES),
      client: process.cpuUsage(),
    });
    const totals = { seconds: 0, uploadSeconds: 0, processingSeconds: 0, api: 0, apiUser: 0, apiKernel: 0, worker: 0, services: 0, client: 0 };
    const threadTotals = { API: new Map<string, number>(), worker: new Map<string, number>() };
    const addThreads = (into: Map<string, number>, after: Map<string, number>, before: Map<string, number>) => {
      for (const [n, c] of after) into.set(n, (into.get(n) ?? 0) + c - (before.get(n) ?? 0));
    };
    const roundFigures: { rate: number; cpu: number }[] = [];
    for (let round = 0; round < ROUNDS; round++) {
      await measureRaw(`before round ${round + 1}`, [WORKER_CONCURRENCY]);
      const setId = await newSet(`Bench ${round + 1}`, COUNT);
      const c0 = await cpuNow();
      const s0 = performance.now();
      await pool(roundFiles[round]!, UPLOADS, async (file) => {
        const res = await postFile(`${baseApi}/upload_sets/${setId}/files`, headers, file);
        if (res.status !== 202) throw new Error(`upload ${file}: ${res.status} ${res.body}`);
      });
      const uploaded = performance.now();
      let w0 = uploaded;
      let workerStart = c0.worker;
      if (PHASES) {
        worker = await start('worker.js', env, /Sightline worker started/);
        w0 = performance.now();
        workerStart = await cpuSeconds(worker.pid!);
      }
      let ready = 0;
      while (ready < COUNT) {
        await new Promise((r) => setTimeout(r, 50));
        ready = await readyIn(setId);
        if (performance.now() - s0 > 30 * 60_000) throw new Error('gave up after 30 minutes');
      }
      const allReady = performance.now();
      const c1 = await cpuNow();
      const seconds = (allReady - s0 - (w0 - uploaded)) / 1000;
      const client = process.cpuUsage(c0.client);
      totals.seconds += seconds;
      totals.uploadSeconds += (uploaded - s0) / 1000;
      totals.processingSeconds += (allReady - w0) / 1000;
      totals.api += c1.api - c0.api;
      totals.apiUser += c1.apiSplit.user - c0.apiSplit.user;
      totals.apiKernel += c1.apiSplit.system - c0.apiSplit.system;
      totals.worker += c1.worker - workerStart;
      totals.services += c1.services - c0.services;
      totals.client += (client.user + client.system) / 1e6;
      addThreads(threadTotals.API, c1.apiThreads, c0.apiThreads);
      addThreads(threadTotals.worker, c1.workerThreads, PHASES ? new Map() : c0.workerThreads);
      const rate = COUNT / seconds;
      const cpu = (c1.api - c0.api + (c1.worker - workerStart)) / COUNT;
      say(`  system, round ${round + 1} of ${ROUNDS}: ${rate.toFixed(2)} pictures/s, API + worker ${(cpu * 1000).toFixed(0)} ms CPU per picture`);
      roundFigures.push({ rate, cpu });
    }
    await measureRaw('after the last round', [WORKER_CONCURRENCY]);
    await db.end();
    const system = measured / totals.seconds;
    const apiPeak = await peakRss(api.pid!);
    const workerPeak = await peakRss(worker!.pid!);
    if (THREADS) {
      for (const who of ['API', 'worker'] as const) {
        const threads = [...threadTotals[who]].sort((a, b) => b[1] - a[1]);
        say(`  ${who} threads: ${threads.map(([n, c]) => `${n} ${((c / measured) * 1000).toFixed(0)} ms`).join(', ')} CPU per picture`);
      }
    }
    await stop(worker);

    // Upload memory: many large pictures arriving at once (the worker is stopped: only the API's
    // side is measured): see bigUploads.
    const big = await bigUploads(baseApi, headers, imageDir, api.pid!);
    await stop(api);
    await measureRaw('after');
    await rm(rawOut, { recursive: true, force: true });
    // The reference: raw sharp at the worker's concurrency. Each round is compared with the raw
    // runs on either side of it; the pooled figures weigh every round alike.
    const adjacent = rawRuns.filter((r) => r.when.includes('round'));
    const raw = adjacent.reduce((a, r) => a + r.rate, 0) / adjacent.length;
    const rawCpu = adjacent.reduce((a, r) => a + r.cpu, 0) / adjacent.length;
    const bestRaw = Math.max(...rawRuns.map((r) => r.rate));
    const leastRawCpu = Math.min(...rawRuns.map((r) => r.cpu));
    const perRound = roundFigures.map((r, i) => {
      const around = [adjacent[i]!, adjacent[i + 1] ?? adjacent[i]!];
      return { wall: (around[0]!.rate + around[1]!.rate) / 2 / r.rate, cpu: r.cpu / ((around[0]!.cpu + around[1]!.cpu) / 2) };
    });
    const ms = (seconds: number) => `${((seconds / measured) * 1000).toFixed(0)} ms`;

    say('');
    say(
      `  uploads:             ${(totals.uploadSeconds / ROUNDS).toFixed(1)} s for ${mb(totalBytes)} a round (${(totalBytes / 1024 / 1024 / (totals.uploadSeconds / ROUNDS)).toFixed(0)} MB/s)`,
    );
    if (PHASES) say(`  processing alone:    ${totals.processingSeconds.toFixed(1)} s (${(measured / totals.processingSeconds).toFixed(2)} pictures/s)`);
    say(`  upload → ready:      ${(totals.seconds / ROUNDS).toFixed(1)} s a round of ${COUNT} pictures`);
    say(`  system throughput:   ${system.toFixed(2)} pictures/s (${ROUNDS} round${ROUNDS > 1 ? 's' : ''} of ${COUNT})`);
    say(
      `  raw sharp:           ${raw.toFixed(2)} pictures/s, ${(rawCpu * 1000).toFixed(0)} ms CPU per picture (${WORKER_CONCURRENCY} at a time as the worker, mean of the ${adjacent.length} runs around the rounds)`,
    );
    say(`  wall raw/system:     ${(raw / system).toFixed(2)}× (goal ≤ 1.3×); against the best raw run of all (${bestRaw.toFixed(2)} pictures/s) ${(bestRaw / system).toFixed(2)}×`);
    say(
      `  CPU per picture:     API ${ms(totals.api)} + worker ${ms(totals.worker)} = ${ms(totals.api + totals.worker)}; raw ${(rawCpu * 1000).toFixed(0)} ms → ${((totals.api + totals.worker) / measured / rawCpu).toFixed(2)}× (goal ≤ 1.2×; against the least raw run ${((totals.api + totals.worker) / measured / leastRawCpu).toFixed(2)}×; PostgreSQL and Redis not counted)`,
    );
    if (ROUNDS > 1)
      say(
        `  by round:            wall ${perRound.map((r) => `${r.wall.toFixed(2)}×`).join(', ')}; CPU ${perRound.map((r) => `${r.cpu.toFixed(2)}×`).join(', ')} (each against the raw runs around it)`,
      );
    say(`  API CPU split:       user ${ms(totals.apiUser)}, kernel ${ms(totals.apiKernel)} per picture`);
    say(`  uploading client:    ${ms(totals.client)} CPU per picture (this process, on the same CPUs)`);
    say(`  PostgreSQL + Redis:  ${ms(totals.services)} CPU per picture (every process of theirs on this machine, on the same CPUs)`);
    if (vips.ok)
      say(
        `  vipsthumbnail:       ${vipsRate.toFixed(2)} pictures/s, ${(vipsCpu * 1000).toFixed(0)} ms CPU per picture → raw sharp ${(raw / vipsRate).toFixed(2)}× its rate, system ${(system / vipsRate).toFixed(2)}×`,
      );
    say(`  peak RSS API:        ${apiPeak ? mb(apiPeak) : 'n/a'}`);
    say(`  peak RSS worker:     ${workerPeak ? mb(workerPeak) : 'n/a'}`);
    say(
      `  upload memory:       ${BIG_UPLOADS} × ${BIG_MB} MB at once in ${big.seconds.toFixed(1)} s (${big.accepted} accepted): API RSS ${mb(big.before)} before, peak ${mb(big.peak)}, ${mb(big.after)} after (goal < 300 MB, flat)`,
    );
  } finally {
    await stop(worker);
    await stop(api);
    await s3?.close();
    await adminClient.end().catch(() => undefined);
    // A connection of its own: the first may have been ended meanwhile.
    const dropper = new pg.Client({ connectionString: admin.toString() });
    await dropper.connect();
    await dropper.query(`DROP DATABASE IF EXISTS "${dbName}" WITH (FORCE)`).catch(() => undefined);
    await dropper.end();
    const redis = new Redis(redisUrl, { maxRetriesPerRequest: 1 });
    let cursor = '0';
    do {
      const [next, keys] = await redis.scan(cursor, 'MATCH', `${prefix}:*`, 'COUNT', 1000);
      cursor = next;
      if (keys.length) await redis.del(...keys);
    } while (cursor !== '0');
    redis.disconnect();
    await rm(dataDir, { recursive: true, force: true });
    await rm(imageDir, { recursive: true, force: true });
  }
}

/**
 * Uploads a file as the `file` part of a multipart body, streamed from disk with node:http: the
 * client shares the CPUs with the system, so it should cost little (fetch with FormData costs
 * several times more CPU for the same bytes).
 */
async function postFile(url: string, headers: Record<string, string>, file: string): Promise<{ status: number; body: string }> {
  const boundary = `----sightline-bench-${randomBytes(12).toString('hex')}`;
  const head = Buffer.from(`--${boundary}\r\nContent-Disposition: form-data; name="file"; filename="${path.basename(file)}"\r\nContent-Type: image/jpeg\r\n\r\n`);
  const tail = Buffer.from(`\r\n--${boundary}--\r\n`);
  const { size } = await stat(file);
  return new Promise((resolve, reject) => {
    const req = http.request(url, {
      method: 'POST',
      agent,
      headers: { ...headers, 'content-type': `multipart/form-data; boundary=${boundary}`, 'content-length': String(head.length + size + tail.length) },
    });
    req.on('error', reject);
    req.on('response', (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (d: string) => (body += d));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
      res.on('error', reject);
    });
    req.write(head);
    const stream = createReadStream(file, { highWaterMark: 256 * 1024 });
    stream.on('error', (error) => req.destroy(error));
    stream.on('end', () => req.end(tail));
    stream.pipe(req, { end: false });
  });
}

const agent = new http.Agent({ keepAlive: true });

/** Sends BIG_UPLOADS pictures of BIG_MB MB at once to a new upload set, sampling the API's RSS meanwhile. */
async function bigUploads(
  baseApi: string,
  headers: Record<string, string>,
  imageDir: string,
  apiPid: number,
): Promise<{ seconds: number; accepted: number; before: number; peak: number; after: number }> {
  const jpeg = await syntheticJpeg({ width: WIDTH, height: HEIGHT, lon: 6, lat: 45, time: new Date(Date.UTC(2024, 7, 1, 9)), seed: 7 });
  const size = BIG_MB * 1024 * 1024;
  if (jpeg.length > size) throw new Error(`the base picture (${mb(jpeg.length)}) is larger than --big-mb`);
  // The padding goes at the end of the image data, before its end-of-image marker, as the scan
  // data of a larger picture would (no 0xFF byte: nothing in it reads as a marker); its last bytes
  // make each file unique. The metadata stays where it was, small.
  const noMarkers = (n: number) => randomBytes(n).map((b) => (b === 0xff ? 0xfe : b));
  const padding = noMarkers(size - jpeg.length - 32);
  const files: string[] = [];
  for (let i = 0; i < BIG_UPLOADS; i++) {
    const file = path.join(imageDir, `BIG_${String(i + 1).padStart(3, '0')}.jpg`);
    await writeFile(file, Buffer.concat([jpeg.subarray(0, jpeg.length - 2), padding, noMarkers(32), jpeg.subarray(jpeg.length - 2)]));
    files.push(file);
  }
  const setRes = await fetch(`${baseApi}/upload_sets`, {
    method: 'POST',
    headers: { ...headers, 'content-type': 'application/json' },
    body: JSON.stringify({ title: 'Bench big uploads', estimated_nb_files: BIG_UPLOADS + 1 }),
  });
  if (setRes.status !== 201) throw new Error(`upload set: ${setRes.status} ${await setRes.text()}`);
  const setId = ((await setRes.json()) as { id: string }).id;
  const before = (await rss(apiPid)) ?? 0;
  let peak = before;
  let sampling = true;
  const sampler = (async () => {
    while (sampling) {
      peak = Math.max(peak, (await rss(apiPid)) ?? 0);
      await new Promise((r) => setTimeout(r, 20));
    }
  })();
  const t0 = performance.now();
  const refusals = new Map<number, string>();
  const { openAsBlob } = await import('node:fs');
  const statuses = await Promise.all(
    files.map(async (file) => {
      const form = new FormData();
      form.append('file', await openAsBlob(file, { type: 'image/jpeg' }), path.basename(file));
      const res = await fetch(`${baseApi}/upload_sets/${setId}/files`, { method: 'POST', headers, body: form });
      const body = await res.text();
      if (res.status !== 202) refusals.set(res.status, body.slice(0, 300));
      return res.status;
    }),
  );
  for (const [status, body] of refusals) say(`  big uploads: HTTP ${status} ${body}`);
  const seconds = (performance.now() - t0) / 1000;
  sampling = false;
  await sampler;
  const after = (await rss(apiPid)) ?? 0;
  await Promise.all(files.map((f) => rm(f, { force: true })));
  return { seconds, accepted: statuses.filter((s) => s === 202).length, before, peak, after };
}

/** A user and an API token, made through the application's own services. */
async function createToken(env: Record<string, string>): Promise<string> {
  Object.assign(process.env, env);
  const { NestFactory } = await import('@nestjs/core');
  const { AppModule } = await import('../../src/app.module.js');
  const { UsersService } = await import('../../src/auth/users.service.js');
  const { TokensService } = await import('../../src/auth/tokens.service.js');
  const app = await NestFactory.createApplicationContext(AppModule.forRoot('cli'), { logger: false });
  try {
    const user = await app.get(UsersService).upsertLocal('bench', 'user');
    return (await app.get(TokensService).create(user.id, 'ingest bench')).jwt;
  } finally {
    await app.close();
  }
}

main().catch((error: Error) => {
  process.stderr.write(`bench failed: ${error.stack ?? error.message}\n`);
  process.exit(1);
});
