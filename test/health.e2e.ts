import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { JobQueueService } from '../src/queue/job-queue.service.js';
import { json, waitFor } from './support/net.js';
import { startWorker } from './support/processes.js';
import { startApi, TestApi } from './support/app.js';

describe('health, version and metrics', () => {
  let api: TestApi;
  before(async () => {
    api = await startApi();
  });
  after(() => api.close());

  it('GET /api/health answers while the process lives', async () => {
    const res = await api.fetch('/api/health');
    assert.equal(res.status, 200);
    assert.deepEqual(await json(res), { status: 'ok' });
  });

  it('GET /api/health/ready reports database, redis (with queue depths) and storage up', async () => {
    const res = await api.fetch('/api/health/ready');
    assert.equal(res.status, 200);
    const body = await json(res);
    assert.equal(body.status, 'ok');
    assert.equal(body.details.database.status, 'up');
    assert.equal(body.details.redis.status, 'up');
    assert.equal(body.details.storage.status, 'up');
    const queues = body.details.redis.queues.map((q: { queue: string }) => q.queue).sort();
    assert.deepEqual(queues, ['datasets', 'dispatch', 'harvest', 'maintenance', 'management', 'pictures']);
  });

  it('GET /api/health/ready lists the workers that beat, and the ones that stopped (without failing: the API serves on)', async () => {
    const jobs = api.app.get(JobQueueService);
    const ready = async () => (await json(await api.fetch('/api/health/ready'))).details.workers;
    const worker = await startWorker();
    try {
      const pid = worker.proc.pid;
      const seen = await waitFor('the worker to beat', async () => {
        const w = await ready();
        return w.workers.find((x: { id: string }) => x.id.endsWith(`:${pid}`)) ?? undefined;
      });
      assert.deepEqual(seen.queues.sort(), ['datasets', 'dispatch', 'harvest', 'maintenance', 'management', 'pictures']);
      // One that went silent a minute ago (killed, or its event loop blocked) is named.
      await jobs.heartbeat('gone-host:4242', { at: Date.now() - 60_000, host: 'gone-host', pid: 4242, queues: ['datasets'], running: 1 });
      const res = await api.fetch('/api/health/ready');
      assert.equal(res.status, 200);
      const w = (await json(res)).details.workers;
      assert.equal(w.status, 'up');
      const gone = w.stale.find((x: { id: string }) => x.id === 'gone-host:4242');
      assert.ok(gone, JSON.stringify(w.stale));
      assert.ok(gone.last_seen_seconds_ago >= 60);
      assert.match(w.message, /stopped heart-beating.*gone-host:4242/);
      await jobs.forgetHeartbeat('gone-host:4242');
    } finally {
      assert.equal(await worker.stop(), 0);
    }
    // A worker that stops cleanly leaves the list.
    const after = await ready();
    for (const list of [after.workers, after.stale]) assert.ok(!list.some((x: { id: string }) => x.id.endsWith(`:${worker.proc.pid}`)));
  });

  it('GET /api/version names the server', async () => {
    const body = await json(await api.fetch('/api/version'));
    assert.equal(body.name, 'sightline');
    assert.match(body.version, /^\d+\.\d+\.\d+/);
  });

  it('GET /api/metrics exposes the HTTP latency histogram and queue depths', async () => {
    await api.fetch('/api/health');
    const res = await api.fetch('/api/metrics');
    assert.equal(res.status, 200);
    assert.match(res.headers.get('content-type') ?? '', /text\/plain/);
    const text = await res.text();
    assert.match(text, /sightline_http_request_duration_seconds_bucket\{.*route="\/api\/health".*\}/);
    assert.match(text, /sightline_queue_jobs\{queue="pictures",state="waiting"\} \d+/);
  });
});

describe('readiness when a dependency is down', () => {
  let api: TestApi;
  before(async () => {
    // A Redis URL nobody answers on: the API still starts and says what is wrong.
    api = await startApi({ env: { REDIS_URL: 'redis://127.0.0.1:1' } });
  });
  after(() => api.close());

  it('answers 503 in the error shape, naming redis as down', async () => {
    const res = await api.fetch('/api/health/ready');
    assert.equal(res.status, 503);
    const body = await json(res);
    assert.equal(body.statusCode, 503);
    assert.equal(body.details.details.redis.status, 'down');
    assert.equal(body.details.details.database.status, 'up');
  });
});
