import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { startApi, TestApi } from './support/app.js';
import { createUser, TestUser } from './support/auth.js';
import { json } from './support/net.js';

describe('GET /api/admin/queues', () => {
  let api: TestApi;
  let admin: TestUser;
  let user: TestUser;
  before(async () => {
    api = await startApi();
    admin = await createUser(api, 'queue-admin', 'admin');
    user = await createUser(api, 'queue-user');
  });
  after(() => api.close());

  it('shows every queue with its depth to an admin', async () => {
    const res = await api.fetch('/api/admin/queues', { headers: admin.headers });
    assert.equal(res.status, 200);
    const body = await json(res);
    assert.deepEqual(body.queues.map((q: { queue: string }) => q.queue).sort(), ['datasets', 'dispatch', 'harvest', 'maintenance', 'management', 'pictures']);
    for (const q of body.queues) {
      assert.equal(typeof q.waiting, 'number');
      assert.ok(Array.isArray(q.recent_failures));
    }
  });

  it('refuses an anonymous caller with 401, a non-admin with 403, a forged token with 401', async () => {
    assert.equal((await api.fetch('/api/admin/queues')).status, 401);
    const forbidden = await api.fetch('/api/admin/queues', { headers: user.headers });
    assert.equal(forbidden.status, 403);
    assert.equal((await json(forbidden)).statusCode, 403);
    const forged = admin.token.slice(0, -4) + 'AAAA';
    assert.equal((await api.fetch('/api/admin/queues', { headers: { authorization: `Bearer ${forged}` } })).status, 401);
    assert.equal((await api.fetch('/api/admin/queues', { headers: { authorization: 'Basic abc' } })).status, 401);
  });
});
