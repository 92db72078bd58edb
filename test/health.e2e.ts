import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { json } from './support/net.js';
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
