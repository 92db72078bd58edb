import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type pg from 'pg';
import { syntheticJpeg } from '../scripts/bench/ingest-images.js';
import { startApi, TestApi } from './support/app.js';
import { createUser, TestUser } from './support/auth.js';
import { testPool } from './support/db.js';
import { json, waitFor } from './support/net.js';
import { ChildHandle, startWorker } from './support/processes.js';
import { createUploadSet, uploadPicture, waitUntilReady } from './upload-support.js';

const FINISHED = ['succeeded', 'failed', 'cancelled'];

describe('management commands of the picture pipeline', () => {
  let api: TestApi;
  let admin: TestUser;
  let owner: TestUser;
  let worker: ChildHandle;
  let db: pg.Pool;
  let setId: string;
  let sequenceId: string;

  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  const runJob = async (command: string, args: unknown): Promise<any> => {
    const res = await api.fetch(`/api/management/commands/${command}/jobs`, {
      method: 'POST',
      headers: { ...admin.headers, 'content-type': 'application/json' },
      body: JSON.stringify({ args }),
    });
    const job = await json(res);
    assert.equal(res.status, 201, JSON.stringify(job));
    return waitFor(
      `job ${job.id}`,
      async () => {
        const j = await json(await api.fetch(`/api/management/jobs/${job.id}`, { headers: admin.headers }));
        return FINISHED.includes(j.status) ? j : undefined;
      },
      60_000,
      200,
    );
  };

  before(async () => {
    api = await startApi();
    admin = await createUser(api, 'reprocess-admin', 'admin');
    owner = await createUser(api, 'reprocess-owner');
    worker = await startWorker();
    db = testPool();
    const set = await createUploadSet(api, owner, { title: 'Reprocess walk', estimated_nb_files: 3 });
    setId = set.id;
    const start = Date.parse('2024-05-01T10:00:00Z');
    for (let i = 0; i < 3; i++) {
      const data = await syntheticJpeg({ width: 640, height: 480, lon: 2.35, lat: 48.85 + i * 0.0001, time: new Date(start + i * 3000), seed: 4200 + i });
      assert.equal((await uploadPicture(api, owner, setId, { name: `r${i}.jpg`, data })).status, 202);
    }
    const ready = await waitUntilReady(api, owner, setId);
    sequenceId = ready.associated_collections[0].id;
  });
  after(async () => {
    await worker?.stop();
    await api?.close();
    await db?.end();
  });

  it('reprocesses a sequence: succeeded, 100 %, output, and every picture processed once more', async () => {
    const before = (await db.query(`SELECT id, process_generation FROM picture WHERE sequence_id = $1 ORDER BY id`, [sequenceId])).rows;
    assert.equal(before.length, 3);
    const job = await runJob('pictures.reprocess', { collection_id: sequenceId });
    assert.equal(job.status, 'succeeded', job.error);
    assert.equal(job.progress, 100);
    assert.deepEqual(job.result, { queued: 3, ready: 3, broken: 0 });
    const output = await (await api.fetch(`/api/management/jobs/${job.id}/output`, { headers: admin.headers })).text();
    assert.match(output, /3 pictures queued for processing/);
    assert.match(output, /3\/3 processed \(3 ready, 0 broken\)/);
    const after = (await db.query(`SELECT id, process_generation, status FROM picture WHERE sequence_id = $1 ORDER BY id`, [sequenceId])).rows;
    for (let i = 0; i < 3; i++) {
      assert.equal(after[i].status, 'ready');
      assert.equal(after[i].process_generation, before[i].process_generation + 1);
    }
    const item = await api.fetch(`/api/collections/${sequenceId}/items/${after[0].id}`);
    assert.equal(item.status, 200, 'the pictures are published again');
  });

  it('refuses reprocess arguments that name no target or two', async () => {
    for (const args of [{}, { collection_id: sequenceId, all: true }, { upload_set_id: 'nope' }]) {
      const res = await api.fetch('/api/management/commands/pictures.reprocess/jobs', {
        method: 'POST',
        headers: { ...admin.headers, 'content-type': 'application/json' },
        body: JSON.stringify({ args }),
      });
      assert.equal(res.status, 400, JSON.stringify(args));
    }
  });

  it('cleans up stale upload sets, and only those', async () => {
    const stale = await createUploadSet(api, owner, { title: 'abandoned' });
    const fresh = await createUploadSet(api, owner, { title: 'in progress' });
    await db.query(`UPDATE upload_set SET updated_at = now() - interval '10 days', created_at = now() - interval '10 days' WHERE id = $1`, [stale.id]);
    const job = await runJob('upload-sets.cleanup-stale', { older_than_days: 7 });
    assert.equal(job.status, 'succeeded', job.error);
    assert.equal(job.result.deleted, 1);
    await waitFor('the stale set to go', async () => (await api.fetch(`/api/upload_sets/${stale.id}`, { headers: owner.headers })).status === 404);
    assert.equal((await api.fetch(`/api/upload_sets/${fresh.id}`, { headers: owner.headers })).status, 200);
    assert.equal((await api.fetch(`/api/upload_sets/${setId}`, { headers: owner.headers })).status, 200, 'completed sets stay');
  });
});
