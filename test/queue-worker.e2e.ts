import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import fs from 'node:fs/promises';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { Queue } from 'bullmq';
import { Redis } from 'ioredis';
import { redisOptions } from '../src/queue/redis-connection.js';
import { freePort, waitFor } from './support/net.js';
import { ChildHandle, spawnEntry, startWorker } from './support/processes.js';

const prefix = process.env.QUEUE_PREFIX!;
const dataDir = process.env.DATA_DIR!;

async function writeTemp(rel: string, ageSeconds: number): Promise<string> {
  const file = path.join(dataDir, 'tmp', rel);
  await fs.mkdir(path.dirname(file), { recursive: true });
  await fs.writeFile(file, 'partial upload');
  const t = new Date(Date.now() - ageSeconds * 1000);
  await fs.utimes(file, t, t);
  return file;
}

const exists = (file: string) =>
  fs.stat(file).then(
    () => true,
    () => false,
  );

describe('worker: storage.cleanup-temp through the real queue', () => {
  let worker: ChildHandle;
  let queue: Queue;

  before(async () => {
    worker = await startWorker({ TEMP_MAX_AGE_SECONDS: '3600' });
    queue = new Queue('maintenance', { connection: redisOptions(process.env.REDIS_URL!), prefix });
  });
  after(async () => {
    await queue.close();
    await worker.stop();
  });

  it('is scheduled by the worker', async () => {
    const schedulers = await waitFor('the cleanup scheduler', async () => {
      const list = await queue.getJobSchedulers();
      return list.find((s) => s.key === 'storage.cleanup-temp');
    });
    assert.equal(schedulers.name, 'storage.cleanup-temp');
    assert.ok(schedulers.pattern);
  });

  it('removes temp files older than the configured age and keeps fresh ones', async () => {
    const old = await writeTemp('uploads/abandoned.part', 2 * 3600);
    const fresh = await writeTemp('uploads/in-progress.part', 10);
    const keep = path.join(dataDir, 'pictures', 'kept.jpg');
    await fs.mkdir(path.dirname(keep), { recursive: true });
    await fs.writeFile(keep, 'not temp');
    const t = new Date(Date.now() - 5 * 3600 * 1000);
    await fs.utimes(keep, t, t);

    const job = await queue.add('storage.cleanup-temp', {});
    const finished = await waitFor('the cleanup job to finish', async () => {
      const state = await job.getState();
      return state === 'completed' || state === 'failed' ? state : undefined;
    });
    assert.equal(finished, 'completed');
    const done = await queue.getJob(job.id!);
    assert.equal(done?.returnvalue?.removed >= 1, true);
    assert.equal(await exists(old), false, 'the old temp file is gone');
    assert.equal(await exists(fresh), true, 'the fresh temp file stays');
    assert.equal(await exists(keep), true, 'files outside tmp/ are never touched');
  });

  it('stops gracefully on SIGTERM', async () => {
    const code = await worker.stop(15_000);
    assert.equal(code, 0);
  });
});

const redisServer = spawnSync('sh', ['-c', 'command -v redis-server'], { encoding: 'utf8' }).stdout.trim();

describe('worker: WORKER_QUEUES', () => {
  it('refuses to start for a queue that does not exist, naming it', async () => {
    const child = spawnEntry('worker', { env: { WORKER_QUEUES: 'pictures,thumbnails' } });
    const code = await new Promise<number | null>((resolve) => child.proc.on('exit', resolve));
    assert.equal(code, 78);
    assert.match(child.output(), /WORKER_QUEUES/);
    assert.match(child.output(), /thumbnails/);
  });
});

describe('worker: a flushed Redis gets its schedules back', { skip: redisServer ? false : 'redis-server is not installed here, so no private Redis can be flushed' }, () => {
  let worker: ChildHandle;
  let redis: Redis;
  let server: ReturnType<typeof spawn>;
  let url: string;

  before(async () => {
    // A private Redis, so that FLUSHALL cannot touch anything but this test.
    const port = await freePort();
    server = spawn(redisServer, ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'], { stdio: 'ignore' });
    url = `redis://127.0.0.1:${port}`;
    redis = new Redis(url, { maxRetriesPerRequest: 3, lazyConnect: true });
    await waitFor('the private redis', async () => {
      await redis.connect().catch(() => undefined);
      return (await redis.ping()) === 'PONG';
    });
    worker = await startWorker({ REDIS_URL: url, RECONCILE_INTERVAL_SECONDS: '2' });
  });
  after(async () => {
    await worker?.stop();
    redis?.disconnect();
    server?.kill('SIGKILL');
  });

  it('restores the cleanup schedule within a minute of FLUSHALL', async () => {
    const queue = new Queue('maintenance', { connection: redisOptions(url), prefix });
    try {
      await waitFor('the schedule to exist', async () => (await queue.getJobSchedulers()).some((s) => s.key === 'storage.cleanup-temp'));
      await redis.set('canary', '1');
      assert.equal(await redis.flushall(), 'OK');
      // FLUSHALL empties everything at once: a schedule seen from now on was made again. (Reading the
      // schedulers here to see none would race the reconciler, which may already have restored it.)
      assert.equal(await redis.exists('canary'), 0, 'the flush emptied Redis');
      const started = Date.now();
      await waitFor('the schedule to come back', async () => (await queue.getJobSchedulers()).some((s) => s.key === 'storage.cleanup-temp'), 60_000, 250);
      assert.ok(Date.now() - started < 60_000);
    } finally {
      await queue.close();
    }
  });
});
