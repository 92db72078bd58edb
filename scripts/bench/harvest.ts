// `npm run bench:harvest`: a full harvest of a second Sightline instance (100,000 items by default,
// seeded in SQL into its own bench database), then an incremental re-harvest with nothing changed,
// then one that also lists every remote id (to find deletions). Real processes: the remote API, the
// local API and a local worker; prints durations, items per second and the worker's RSS over time.
//
//   --items=N (default 100000) --sequences=N (remote collections, default 10) --page=N (default 1000) --reseed
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import pg from 'pg';
import { DataSource } from 'typeorm';
import { dataSourceOptions } from '../../src/database/data-source-options.js';
import { seedBench } from './search-seed.js';
import { freePort } from './common.js';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../..');
const arg = (name: string, fallback: string) => process.argv.find((a) => a.startsWith(`--${name}=`))?.slice(name.length + 3) ?? fallback;
const ITEMS = Number(arg('items', '100000'));
const SEQUENCES = Number(arg('sequences', '10'));
const PAGE = Number(arg('page', '1000'));
const log = (line: string) => process.stdout.write(`${line}\n`);
/** Child processes to stop however the run ends. */
const children: ChildProcess[] = [];

function databaseUrl(name: string): string {
  const u = new URL(process.env.DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/sightline');
  u.pathname = `/${name}`;
  return u.toString();
}

async function prepare(url: string, fresh: boolean): Promise<pg.Client> {
  const admin = new URL(url);
  const name = decodeURIComponent(admin.pathname.slice(1));
  admin.pathname = '/postgres';
  const a = new pg.Client({ connectionString: admin.toString() });
  await a.connect();
  if (fresh) await a.query(`DROP DATABASE IF EXISTS "${name}" WITH (FORCE)`);
  if (!(await a.query('SELECT 1 FROM pg_database WHERE datname = $1', [name])).rowCount) await a.query(`CREATE DATABASE "${name}"`);
  await a.end();
  const ds = new DataSource({ ...dataSourceOptions({ DATABASE_URL: url, DATABASE_POOL_SIZE: 2 }), logging: ['error'] });
  await ds.initialize();
  await ds.runMigrations({ transaction: 'each' });
  await ds.destroy();
  const c = new pg.Client({ connectionString: url });
  await c.connect();
  return c;
}

interface Proc {
  proc: ChildProcess;
  out: () => string;
}

function start(entry: 'main' | 'worker', env: Record<string, string>, ready: RegExp): Promise<Proc> {
  const dataDir = mkdtempSync(path.join(os.tmpdir(), 'sightline-bench-harvest-'));
  const proc = spawn(process.execPath, [path.join(ROOT, `dist/src/${entry}.js`)], {
    cwd: ROOT,
    env: { ...process.env, NODE_ENV: 'test', SECRET_KEY: 'bench-secret-key-not-for-production', LOG_LEVEL: 'warn', WORKER_HEALTH_PORT: '0', DATA_DIR: dataDir, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  proc.stdout!.on('data', (d: Buffer) => (out += d.toString()));
  proc.stderr!.on('data', (d: Buffer) => (out += d.toString()));
  proc.on('exit', () => rmSync(dataDir, { recursive: true, force: true }));
  children.push(proc);
  return new Promise((resolve, reject) => {
    const deadline = Date.now() + 60_000;
    const poll = setInterval(() => {
      if (ready.test(out)) {
        clearInterval(poll);
        resolve({ proc, out: () => out });
      } else if (proc.exitCode !== null || Date.now() > deadline) {
        clearInterval(poll);
        reject(new Error(`${entry} did not start:\n${out.slice(-3000)}`));
      }
    }, 100);
  });
}

function rssMb(pid: number): number {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  return Number(/VmRSS:\s+(\d+)/.exec(status)?.[1] ?? 0) / 1024;
}

async function main(): Promise<void> {
  const remoteUrl = databaseUrl('sightline_bench_harvest_remote');
  const localUrl = databaseUrl('sightline_bench_harvest_local');
  const remoteDb = await prepare(remoteUrl, false);
  const [{ n }] = (await remoteDb.query<{ n: number }>('SELECT count(*)::int AS n FROM item')).rows;
  if (process.argv.includes('--reseed') || n !== ITEMS) {
    log(`seeding the remote with ${ITEMS} items in ${SEQUENCES} collections`);
    await seedBench(remoteDb, { items: ITEMS, sequences: SEQUENCES, log: (l) => log(`  ${l}`) });
  }
  // Every remote item visible to anonymous harvesters.
  await remoteDb.query(`UPDATE collection SET visibility = 'anyone' WHERE visibility <> 'anyone'`);
  await remoteDb.query(`UPDATE item SET visibility = 'anyone', status = 'ready' WHERE visibility <> 'anyone' OR status <> 'ready'`);
  // The seed gives a sequence's items one update time; remote items are edited at different times.
  await remoteDb.query(`UPDATE item SET updated_at = created_at + rank * interval '1 second' WHERE updated_at = created_at`);
  await remoteDb.query('ANALYZE item');
  const [{ visible }] = (await remoteDb.query<{ visible: number }>(`SELECT count(*)::int AS visible FROM item`)).rows;
  await remoteDb.end();
  const localDb = await prepare(localUrl, true);

  const prefix = `bench_harvest_${process.pid}`;
  const remotePort = await freePort();
  const localPort = await freePort();
  await start(
    'main',
    { DATABASE_URL: remoteUrl, PORT: String(remotePort), PUBLIC_URL: `http://127.0.0.1:${remotePort}`, QUEUE_PREFIX: `${prefix}_remote`, DATABASE_POOL_SIZE: '8' },
    /listening on port/,
  );
  const localEnv = {
    DATABASE_URL: localUrl,
    PORT: String(localPort),
    PUBLIC_URL: `http://127.0.0.1:${localPort}`,
    QUEUE_PREFIX: `${prefix}_local`,
    RECONCILE_INTERVAL_SECONDS: '5',
  };
  await start('main', localEnv, /listening on port/);
  const worker = await start('worker', localEnv, /Sightline worker started/);
  const token = spawnSync(process.execPath, [path.join(ROOT, 'dist/src/cli.js'), 'token', 'create', '--user', 'bench-harvester', '--admin'], {
    cwd: ROOT,
    env: { ...process.env, ...localEnv, NODE_ENV: 'test', SECRET_KEY: 'bench-secret-key-not-for-production', LOG_LEVEL: 'warn' },
    encoding: 'utf8',
  });
  if (token.status !== 0) throw new Error(`token: ${token.stderr}`);
  const headers = { authorization: `Bearer ${token.stdout.trim()}`, 'content-type': 'application/json' };
  const base = `http://127.0.0.1:${localPort}/api`;
  const call = async (method: string, url: string, body?: unknown) => {
    const res = await fetch(`${base}${url}`, { method, headers, body: body === undefined ? undefined : JSON.stringify(body) });
    const json = (await res.json()) as Record<string, unknown>;
    if (res.status >= 400) throw new Error(`${method} ${url}: ${res.status} ${JSON.stringify(json)}`);
    return json as Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any
  };

  const rss: number[] = [];
  const sampler = setInterval(() => rss.push(rssMb(worker.proc.pid!)), 1000);
  const run = async (label: string, id: string, action: string, body: Record<string, unknown> = {}) => {
    const t0 = performance.now();
    const session = await call('POST', `/harvesters/${id}/${action}`, body);
    const from = rss.length;
    for (;;) {
      await new Promise((r) => setTimeout(r, 250));
      const current = await call('GET', `/harvesting-sessions/${session.id}`);
      if (!['queued', 'running', 'cancelling'].includes(current.status)) {
        const seconds = (performance.now() - t0) / 1000;
        const samples = rss.slice(from);
        const c = current.counters;
        log(
          `${label.padEnd(34)} ${current.status.padEnd(10)} ${seconds.toFixed(1).padStart(7)} s  ` +
            `${String(c.total).padStart(7)} listed (${c.created} created, ${c.updated} updated, ${c.unchanged} unchanged, ${c.deleted} deleted, ${c.failed} failed)  ` +
            `${(c.total / seconds).toFixed(0).padStart(6)} items/s  worker RSS ${samples.length ? `${Math.min(...samples).toFixed(0)}–${Math.max(...samples).toFixed(0)} MB` : 'n/a'}`,
        );
        if (current.status !== 'succeeded') log(`  error: ${current.error}`);
        if (samples.length >= 10) {
          const tenths = Array.from({ length: 10 }, (_, i) => samples[Math.floor((i * samples.length) / 10)].toFixed(0));
          log(`  worker RSS by tenths of the run: ${tenths.join(' ')} MB`);
        }
        return seconds;
      }
    }
  };

  log(
    `remote: ${visible} items in ${SEQUENCES} collections; machine: ${os.cpus().length} cores, load ${os
      .loadavg()
      .map((l) => l.toFixed(2))
      .join(' ')}`,
  );
  const harvester = await call('POST', '/harvesters', {
    name: 'bench remote',
    type: 'stac-api',
    url: `http://127.0.0.1:${remotePort}/api`,
    config: { page_size: PAGE, id_page_size: 10000, overlap_seconds: 0, select_new_resources: true },
    schedule: { list_ids_every_hours: 1000 },
    mass_delete_max_percent: 100,
  });
  await run('discover', harvester.id, 'discover');
  const full = await run('full harvest', harvester.id, 'harvest');
  const incremental = await run('incremental, nothing changed', harvester.id, 'harvest');
  await call('PATCH', `/harvesters/${harvester.id}`, { schedule: { list_ids_every_hours: 0 } });
  const withIds = await run('incremental + remote id listing', harvester.id, 'harvest');
  clearInterval(sampler);
  log(`incremental / full: ${((incremental / full) * 100).toFixed(1)} %; with the id listing: ${((withIds / full) * 100).toFixed(1)} %`);
  log(`worker RSS over the whole run: ${Math.min(...rss).toFixed(0)}–${Math.max(...rss).toFixed(0)} MB (${rss.length} samples)`);
  log(
    `load after: ${os
      .loadavg()
      .map((l) => l.toFixed(2))
      .join(' ')}`,
  );

  await localDb.end();
}

main()
  .catch((error: unknown) => {
    process.stderr.write(`${(error as Error).stack ?? String(error)}\n`);
    process.exitCode = 1;
  })
  .finally(() => {
    for (const child of children) child.kill('SIGTERM');
  });
