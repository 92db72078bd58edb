import assert from 'node:assert/strict';
import http from 'node:http';
import { describe, it } from 'node:test';
import { freePort, waitFor } from './support/net.js';
import { spawnEntry } from './support/processes.js';

describe('the API process', () => {
  it('starts, serves, and exits 0 after draining on SIGTERM', async () => {
    const port = await freePort();
    const api = spawnEntry('main', { env: { PORT: String(port), PUBLIC_URL: `http://127.0.0.1:${port}` } });
    try {
      await api.waitForOutput(/listening on port/);
      const ok = await waitFor('the health route', async () => (await fetch(`http://127.0.0.1:${port}/api/health`)).ok);
      assert.equal(ok, true);
      // A request in flight when the signal arrives still gets its answer: its headers are sent,
      // the signal comes, and only then does the rest of its body arrive.
      // `Expect: 100-continue`: the server answers "continue" once it has read the request's headers.
      const req = http.request({
        host: '127.0.0.1',
        port,
        method: 'POST',
        path: '/api/no-such-route',
        headers: { 'content-type': 'application/json', 'content-length': '11', expect: '100-continue' },
      });
      const received = new Promise<void>((resolve) => req.once('continue', () => resolve()));
      const answer = new Promise<number>((resolve, reject) => {
        req.on('response', (res) => {
          res.resume();
          resolve(res.statusCode ?? 0);
        });
        req.on('error', reject);
      });
      req.flushHeaders();
      await received;
      req.write('{"a":');
      const stopped = api.stop(20_000);
      await api.waitForOutput(/api: SIGTERM received/);
      req.end('"b"}  ');
      assert.equal(await answer, 404, 'the request in flight was answered');
      const code = await stopped;
      assert.equal(code, 0);
      assert.match(api.output(), /api: SIGTERM received, shutting down[\s\S]*api: stopped/);
      await assert.rejects(fetch(`http://127.0.0.1:${port}/api/health`), 'no longer listening');
    } finally {
      await api.kill('SIGKILL');
    }
  });

  it('says clearly when its port is taken, and a second worker goes on without its health port', async () => {
    const port = await freePort();
    const blocker = http.createServer(() => undefined);
    await new Promise<void>((resolve) => blocker.listen(port, '0.0.0.0', resolve));
    try {
      const api = spawnEntry('main', { env: { PORT: String(port), PUBLIC_URL: `http://127.0.0.1:${port}` } });
      await api.waitForOutput(/port \d+ is in use/);
      assert.equal(await api.kill('SIGTERM').then(() => api.proc.exitCode), 1);
      assert.doesNotMatch(api.output(), /at .*\.js:\d+/, 'a message, not a stack trace');

      const worker = spawnEntry('worker', { env: { WORKER_HEALTH_PORT: String(port) } });
      try {
        await worker.waitForOutput(/health port \d+ is in use[\s\S]*|Sightline worker started/);
        await worker.waitForOutput(/health port \d+ is in use/);
        await worker.waitForOutput(/Sightline worker started/);
        assert.equal(worker.proc.exitCode, null, 'the worker keeps working');
      } finally {
        assert.equal(await worker.stop(), 0);
      }
    } finally {
      blocker.close();
    }
  });
});
