import assert from 'node:assert/strict';
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
      // A request in flight when the signal arrives still gets its answer.
      const inFlight = fetch(`http://127.0.0.1:${port}/api/health/ready`);
      const code = await api.stop(20_000);
      assert.equal((await inFlight).status, 200);
      assert.equal(code, 0);
      assert.match(api.output(), /api: SIGTERM received, shutting down[\s\S]*api: stopped/);
      await assert.rejects(fetch(`http://127.0.0.1:${port}/api/health`), 'no longer listening');
    } finally {
      await api.kill('SIGKILL');
    }
  });
});
