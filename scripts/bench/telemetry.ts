// `npm run bench:telemetry`: a fleet of aircraft (DJI's 0.5 Hz OSD each) publishing through the real MQTT
// broker into Sightline (the API, and workers consuming with shared subscriptions), in a bench database of
// its own (dropped at the end). Prints the sustained rate taken in, the latency from publish to the position
// visible over REST (probe aircraft, polled), and the consumers' memory over the run.
//
//   --aircraft=N (default 4000: 2,000 messages/s) --duration=S (default 300) --workers=N (default 1)
//   --flying=F (share of the fleet in the air, default 0.5) --keep (keep the bench database)
//   --broker=URL (default: a Mosquitto of the bench's own on a spare port, so that consumers of other
//   instances on a shared broker neither slow it down nor receive the fleet; else MQTT_URL)
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { connectAsync, type MqttClient } from 'mqtt';
import pg from 'pg';
import { DataSource } from 'typeorm';
import { dataSourceOptions } from '../../src/database/data-source-options.js';
import { freePort } from './common.js';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../..');
const arg = (name: string, fallback: string) => process.argv.find((a) => a.startsWith(`--${name}=`))?.slice(name.length + 3) ?? fallback;
const AIRCRAFT = Number(arg('aircraft', '4000'));
const DURATION_S = Number(arg('duration', '300'));
const WORKERS = Number(arg('workers', '1'));
const FLYING = Number(arg('flying', '0.5'));
const PUBLISHERS = 8;
const PROBES = 10;
let MQTT_URL = arg('broker', '');
const SECRET_KEY = 'bench-secret-key-not-for-production';
const log = (line: string) => process.stdout.write(`${line}\n`);
const children: ChildProcess[] = [];
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

function databaseUrl(name: string): string {
  const u = new URL(process.env.DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/sightline');
  u.pathname = `/${name}`;
  return u.toString();
}

async function adminQuery(url: string, sql: string): Promise<void> {
  const admin = new URL(url);
  admin.pathname = '/postgres';
  const c = new pg.Client({ connectionString: admin.toString() });
  await c.connect();
  try {
    await c.query(sql);
  } finally {
    await c.end();
  }
}

function start(entry: 'main' | 'worker', env: Record<string, string>, ready: RegExp): Promise<ChildProcess> {
  const dataDir = mkdtempSync(path.join(os.tmpdir(), 'sightline-bench-telemetry-'));
  const proc = spawn(process.execPath, [path.join(ROOT, `dist/src/${entry}.js`)], {
    cwd: ROOT,
    env: { ...process.env, NODE_ENV: 'test', SECRET_KEY, LOG_LEVEL: 'warn', DATA_DIR: dataDir, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  proc.stdout!.on('data', (d: Buffer) => (out = (out + d.toString()).slice(-20000)));
  proc.stderr!.on('data', (d: Buffer) => {
    out = (out + d.toString()).slice(-20000);
    if (process.env.BENCH_ECHO) process.stderr.write(d);
  });
  proc.on('exit', () => rmSync(dataDir, { recursive: true, force: true }));
  children.push(proc);
  return new Promise((resolve, reject) => {
    const deadline = Date.now() + 90_000;
    const poll = setInterval(() => {
      if (ready.test(out)) {
        clearInterval(poll);
        resolve(proc);
      } else if (proc.exitCode !== null || Date.now() > deadline) {
        clearInterval(poll);
        reject(new Error(`${entry} did not start:\n${out.slice(-3000)}`));
      }
    }, 100);
  });
}

function rssMb(pid: number): number {
  try {
    return Number(/VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1] ?? 0) / 1024;
  } catch {
    return NaN;
  }
}

const percentile = (sorted: number[], p: number) => (sorted.length ? sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] : NaN);

async function counters(ports: number[]): Promise<Record<string, number>> {
  const total: Record<string, number> = {};
  for (const port of ports) {
    const text = await (await fetch(`http://127.0.0.1:${port}/api/metrics`)).text();
    for (const m of text.matchAll(/^sightline_drone_telemetry_messages_total\{result="(\w+)"\} (\d+)/gm)) total[m[1]] = (total[m[1]] ?? 0) + Number(m[2]);
    for (const m of text.matchAll(/^sightline_drone_telemetry_flush_seconds_(sum|count) ([\d.e+-]+)/gm)) total[`flush_${m[1]}`] = (total[`flush_${m[1]}`] ?? 0) + Number(m[2]);
  }
  return total;
}

/** A Mosquitto of this run only (anonymous, loopback, nothing persisted). */
async function privateBroker(): Promise<string | undefined> {
  const bin = ['/usr/sbin/mosquitto', '/usr/local/sbin/mosquitto'].find((p) => existsSync(p));
  if (!bin) return undefined;
  const port = await freePort();
  const dir = mkdtempSync(path.join(os.tmpdir(), 'sightline-bench-mosquitto-'));
  const conf = path.join(dir, 'mosquitto.conf');
  writeFileSync(conf, `listener ${port} 127.0.0.1\nallow_anonymous true\npersistence false\nlog_dest none\nuser ${os.userInfo().username}\n`);
  const proc = spawn(bin, ['-c', conf], { stdio: 'ignore' });
  proc.on('exit', () => rmSync(dir, { recursive: true, force: true }));
  children.push(proc);
  const url = `mqtt://127.0.0.1:${port}`;
  for (let i = 0; i < 100; i++) {
    try {
      const c = await connectAsync(url, { reconnectPeriod: 0, connectTimeout: 500 });
      await c.endAsync();
      return url;
    } catch {
      await sleep(100);
    }
  }
  throw new Error(`the bench's Mosquitto did not answer on ${url}`);
}

async function main(): Promise<void> {
  if (!MQTT_URL) MQTT_URL = (await privateBroker()) ?? process.env.MQTT_URL ?? 'mqtt://127.0.0.1:1883';
  const dbName = `sightline_bench_telemetry_${process.pid}`;
  const dbUrl = databaseUrl(dbName);
  await adminQuery(dbUrl, `CREATE DATABASE "${dbName}"`);
  const keep = process.argv.includes('--keep');
  try {
    await run(dbUrl);
  } finally {
    for (const c of children) if (c.exitCode === null) c.kill('SIGTERM');
    await Promise.all(children.map((c) => (c.exitCode === null ? new Promise((resolve) => c.once('exit', resolve)) : undefined)));
    if (!keep) await adminQuery(dbUrl, `DROP DATABASE IF EXISTS "${dbName}" WITH (FORCE)`).catch(() => undefined);
  }
}

async function run(dbUrl: string): Promise<void> {
  const ds = new DataSource({ ...dataSourceOptions({ DATABASE_URL: dbUrl, DATABASE_POOL_SIZE: 2 }), logging: ['error'] });
  await ds.initialize();
  await ds.runMigrations({ transaction: 'each' });
  await ds.destroy();

  const prefix = `bench_telemetry_${process.pid}`;
  const group = `bench${process.pid}`;
  const apiPort = await freePort();
  const common = { DATABASE_URL: dbUrl, QUEUE_PREFIX: prefix, MQTT_URL, MQTT_SHARE_GROUP: group, RECONCILE_INTERVAL_SECONDS: '60' };
  const api = await start(
    'main',
    { ...common, PORT: String(apiPort), PUBLIC_URL: `http://127.0.0.1:${apiPort}`, MQTT_CONSUMER: 'off', WORKER_HEALTH_PORT: '0' },
    /listening on port/,
  );
  const workerPorts: number[] = [];
  const workers: ChildProcess[] = [];
  for (let i = 0; i < WORKERS; i++) {
    const port = await freePort();
    workerPorts.push(port);
    workers.push(await start('worker', { ...common, MQTT_CONSUMER: 'worker', WORKER_HEALTH_PORT: String(port) }, /Sightline worker started/));
  }
  const token = spawnSync(process.execPath, [path.join(ROOT, 'dist/src/cli.js'), 'token', 'create', '--user', 'bench-fleet', '--admin'], {
    cwd: ROOT,
    env: { ...process.env, ...common, NODE_ENV: 'test', SECRET_KEY, LOG_LEVEL: 'warn' },
    encoding: 'utf8',
  });
  if (token.status !== 0) throw new Error(`token: ${token.stderr}`);
  const headers = { authorization: `Bearer ${token.stdout.trim()}`, 'content-type': 'application/json' };
  const base = `http://127.0.0.1:${apiPort}/api`;
  const workspace = (await (await fetch(`${base}/drones/workspaces`, { method: 'POST', headers, body: JSON.stringify({ name: 'Bench fleet' }) })).json()) as { id: string };
  const connection = (await (
    await fetch(`${base}/drones/workspaces/${workspace.id}/connections`, { method: 'POST', headers, body: JSON.stringify({ name: 'bench' }) })
  ).json()) as {
    id: string;
  };
  const sns = Array.from({ length: AIRCRAFT }, (_, i) => `BENCH${String(i).padStart(6, '0')}`);
  const probes = Array.from({ length: PROBES }, (_, i) => `PROBE${String(i).padStart(3, '0')}`);
  const db = new pg.Client({ connectionString: dbUrl });
  await db.connect();
  await db.query(`INSERT INTO drone_device (sn, kind, workspace_id, connection_id, online) SELECT sn, 'aircraft', $2, $3, true FROM unnest($1::text[]) AS sn`, [
    [...sns, ...probes],
    workspace.id,
    connection.id,
  ]);
  await db.end();
  for (const port of workerPorts) {
    for (let i = 0; ; i++) {
      const ready = await fetch(`http://127.0.0.1:${port}/api/health/ready`).then((r) => r.json() as Promise<{ details?: { mqtt?: { status: string } } }>);
      if (ready.details?.mqtt?.status === 'up') break;
      if (i > 300) throw new Error('the workers did not subscribe');
      await sleep(100);
    }
  }

  const publishers: MqttClient[] = [];
  for (let i = 0; i < PUBLISHERS; i++) publishers.push(await connectAsync(MQTT_URL, { clientId: `bench-rc-${process.pid}-${i}`, reconnectPeriod: 1000 }));
  const rate = AIRCRAFT / 2;
  log(`bench:telemetry: ${AIRCRAFT} aircraft at 0.5 Hz (${rate} messages/s, ${Math.round(FLYING * 100)} % in the air), ${WORKERS} worker(s), ${DURATION_S} s, broker ${MQTT_URL}`);
  const message = (i: number, at: number) => {
    const flying = i < AIRCRAFT * FLYING;
    const step = Math.floor(at / 2000);
    return JSON.stringify({
      tid: `${i}-${at}`,
      bid: 'bench',
      timestamp: at,
      gateway: `RC${i}`,
      data: {
        mode_code: flying ? 5 : 0,
        latitude: 46 + (i % 100) * 0.01,
        longitude: 7 + Math.floor(i / 100) * 0.01 + (flying ? (step % 1000) * 0.0001 : 0),
        height: flying ? 560 : 500,
        elevation: flying ? 60 : 0,
        horizontal_speed: flying ? 10 : 0,
        vertical_speed: 0,
        attitude_head: 90,
        battery: { capacity_percent: 90, remain_flight_time: 1200 },
        '81-0-0': { gimbal_pitch: -90, gimbal_yaw: 90, gimbal_roll: 0 },
      },
    });
  };

  let published = 0;
  let cursor = 0;
  const started = Date.now();
  const end = started + DURATION_S * 1000;
  const rss: { t: number; mb: number[] }[] = [];
  const sampler = setInterval(() => rss.push({ t: (Date.now() - started) / 1000, mb: workers.map((w) => rssMb(w.pid!)) }), 5000);
  const rssApi: number[] = [];
  const apiPid = api.pid!;
  const apiSampler = setInterval(() => rssApi.push(rssMb(apiPid)), 5000);
  // Publishing: each tick sends what the fleet owes since the start, one aircraft after the other (each every 2 s).
  const publisher = (async () => {
    while (Date.now() < end) {
      const due = Math.floor(((Date.now() - started) / 1000) * rate);
      while (published < due) {
        const i = cursor++ % AIRCRAFT;
        const at = Date.now();
        publishers[i % PUBLISHERS].publish(`thing/product/${sns[i]}/osd`, message(i, at), { qos: 0 });
        published++;
      }
      await sleep(20);
    }
  })();
  // Latency probes: publish, then poll the REST last position until it shows that message.
  const latencies: number[] = [];
  let lost = 0;
  const prober = (async () => {
    let k = 0;
    await sleep(5000);
    while (Date.now() < end - 2000) {
      const sn = probes[k++ % PROBES];
      const at = Date.now();
      const iso = new Date(at).toISOString();
      publishers[k % PUBLISHERS].publish(
        `thing/product/${sn}/osd`,
        JSON.stringify({ tid: `p${at}`, bid: 'p', timestamp: at, data: { mode_code: 0, latitude: 45, longitude: 6, elevation: 0 } }),
      );
      let seen = false;
      while (Date.now() - at < 5000) {
        const res = await fetch(`${base}/drones/workspaces/${workspace.id}/drones/${sn}/last-position`, { headers });
        if (res.status === 200 && ((await res.json()) as { at: string }).at === iso) {
          latencies.push(Date.now() - at);
          seen = true;
          break;
        }
        await sleep(5);
      }
      if (!seen) lost++;
      await sleep(200);
    }
  })();
  const warm = await (async () => {
    await sleep(Math.min(30_000, (DURATION_S * 1000) / 5));
    return { t: Date.now(), c: await counters(workerPorts), published };
  })();
  await Promise.all([publisher, prober]);
  const stop = { t: Date.now(), c: await counters(workerPorts), published };
  // Drain: wait until the workers have taken in what was published.
  const accounted = (c: Record<string, number>) =>
    (c.accepted ?? 0) + (c.late ?? 0) + (c.duplicate ?? 0) + (c.unbound ?? 0) + (c.malformed ?? 0) + (c.failed ?? 0) + (c.overflow ?? 0);
  let final = stop.c;
  for (let i = 0; i < 100 && accounted(final) < published + latencies.length + lost; i++) {
    // (probes included: each is one more message)
    await sleep(200);
    final = await counters(workerPorts);
  }
  clearInterval(sampler);
  clearInterval(apiSampler);
  for (const p of publishers) await p.endAsync();

  const sustained = ((stop.c.accepted ?? 0) - (warm.c.accepted ?? 0)) / ((stop.t - warm.t) / 1000);
  const offered = (stop.published - warm.published) / ((stop.t - warm.t) / 1000);
  const sorted = [...latencies].sort((a, b) => a - b);
  const after = rss.filter((s) => s.t >= 30);
  const series = (w: number) => after.map((s) => s.mb[w]);
  log('');
  log(`published                 ${published} OSD messages (+ ${latencies.length + lost} probes) in ${((stop.t - started) / 1000).toFixed(0)} s`);
  log(`offered / taken in       ${offered.toFixed(0)} / ${sustained.toFixed(0)} messages/s (after a ${((warm.t - started) / 1000).toFixed(0)} s warm-up)`);
  const { flush_sum: flushSum = 0, flush_count: flushCount = 0, ...outcomes } = final;
  log(`outcomes                  ${JSON.stringify(outcomes)}`);
  const batches = (stop.c.flush_count ?? 0) - (warm.c.flush_count ?? 0);
  const batchSeconds = (stop.c.flush_sum ?? 0) - (warm.c.flush_sum ?? 0);
  log(
    `batches                   ${(batches / ((stop.t - warm.t) / 1000)).toFixed(1)}/s, ${(((stop.c.accepted ?? 0) - (warm.c.accepted ?? 0)) / Math.max(1, batches)).toFixed(0)} messages and ` +
      `${((batchSeconds / Math.max(1, batches)) * 1000).toFixed(0)} ms each on average (all: ${flushCount} in ${flushSum.toFixed(0)} s)`,
  );
  log(
    `publish → REST (probes)   n=${sorted.length} p50=${percentile(sorted, 50)} ms p95=${percentile(sorted, 95)} ms p99=${percentile(sorted, 99)} ms max=${sorted.at(-1)} ms, not seen within 5 s: ${lost}`,
  );
  for (let w = 0; w < WORKERS; w++) {
    const s = series(w);
    if (!s.length) continue;
    const half = Math.floor(s.length / 2);
    const avg = (a: number[]) => a.reduce((x, y) => x + y, 0) / Math.max(1, a.length);
    log(
      `worker ${w + 1} RSS (MB)         start ${s[0].toFixed(0)}, min ${Math.min(...s).toFixed(0)}, max ${Math.max(...s).toFixed(0)}, end ${s.at(-1)!.toFixed(0)}; ` +
        `first half avg ${avg(s.slice(0, half)).toFixed(0)}, second half avg ${avg(s.slice(half)).toFixed(0)}`,
    );
  }
  if (rssApi.length) log(`api RSS (MB)              start ${rssApi[0].toFixed(0)}, max ${Math.max(...rssApi).toFixed(0)}, end ${rssApi.at(-1)!.toFixed(0)}`);
  log(`load (uptime)            ${spawnSync('uptime', { encoding: 'utf8' }).stdout.trim()}`);
}

main().then(
  () => process.exit(0),
  (error: Error) => {
    process.stderr.write(`${error.stack ?? error.message}\n`);
    for (const c of children) if (c.exitCode === null) c.kill('SIGTERM');
    process.exit(1);
  },
);
