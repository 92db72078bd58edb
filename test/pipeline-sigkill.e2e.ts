import assert from 'node:assert/strict';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import type pg from 'pg';
import sharp from 'sharp';
import { syntheticJpeg } from '../scripts/bench/ingest-images.js';
import { pictureKey } from '../src/pictures/picture-storage.js';
import { startApi, TestApi } from './support/app.js';
import { createUser, TestUser } from './support/auth.js';
import { testPool } from './support/db.js';
import { waitFor } from './support/net.js';
import { json } from './support/net.js';
import { ChildHandle, startWorker } from './support/processes.js';
import { createUploadSet, uploadPicture, waitUntilReady } from './upload-support.js';

const N = 50;
const dataDir = process.env.DATA_DIR!;

describe('SIGKILL of the worker in the middle of a 50-picture set', () => {
  let api: TestApi;
  let user: TestUser;
  let pool: pg.Pool;
  const workers: ChildHandle[] = [];

  before(async () => {
    api = await startApi();
    user = await createUser(api, 'survivor');
    pool = testPool();
  });
  after(async () => {
    for (const w of workers) await w.stop();
    await api?.close();
    await pool?.end();
  });

  it('a restarted worker brings every picture to ready exactly once', async () => {
    const set = await createUploadSet(api, user, { title: 'Interrupted', estimated_nb_files: N });
    const start = Date.UTC(2024, 8, 1, 7, 0, 0);
    // 640×480 pictures 5 m and 2 s apart along a street.
    const pictures = await Promise.all(
      Array.from({ length: N }, (_, i) => syntheticJpeg({ width: 640, height: 480, lon: 6.0, lat: 45.0 + i * 0.000045, time: new Date(start + i * 2000), seed: 9000 + i })),
    );
    for (const [i, data] of pictures.entries()) {
      const res = await uploadPicture(api, user, set.id, { name: `IMG_${String(i + 1).padStart(4, '0')}.jpg`, data });
      assert.equal(res.status, 202, await res.clone().text());
    }

    const counts = async () =>
      (
        await pool.query(
          `SELECT count(*) FILTER (WHERE status = 'ready')::int AS ready, array_agg(id) FILTER (WHERE status = 'processing') AS running
           FROM picture WHERE source_kind = 'upload-set' AND source_id = $1`,
          [set.id],
        )
      ).rows[0] as { ready: number; running: string[] | null };

    const first = await startWorker({ WORKER_CONCURRENCY_PICTURES: '1' });
    workers.push(first);
    await waitFor('the first worker to finish five pictures', async () => (await counts()).ready >= 5, 60_000, 5);
    await first.kill('SIGKILL');
    const atKill = await counts();
    assert.ok(atKill.ready >= 5, 'the first worker did some of the work');
    assert.ok(atKill.ready < N, `the kill came mid-way (${atKill.ready} of ${N} were ready)`);
    const interrupted = atKill.running ?? [];

    workers.push(await startWorker());
    const ready = await waitUntilReady(api, user, set.id, 120_000);

    const { rows } = await pool.query(`SELECT id, status, ready_count, attempts, rank FROM picture WHERE source_kind = 'upload-set' AND source_id = $1 ORDER BY rank`, [set.id]);
    assert.equal(rows.length, N);
    for (const row of rows) {
      assert.equal(row.status, 'ready');
      assert.equal(row.ready_count, 1, `picture ${row.id} became ready once`);
      assert.ok(row.attempts >= 1);
    }
    for (const id of interrupted) {
      const row = rows.find((r) => r.id === id)!;
      assert.ok(row.attempts >= 2, `picture ${id}, interrupted by the kill, ran again (attempts ${row.attempts})`);
    }
    assert.deepEqual(
      rows.map((r) => r.rank),
      rows.map((_, i) => i + 1),
    );
    assert.equal(ready.associated_collections.length, 1);
    assert.equal(ready.associated_collections[0].nb_items, N);
    assert.deepEqual(ready.items_status, { prepared: N, preparing: 0, broken: 0, not_processed: 0, rejected: 0 });
    for (const row of rows) {
      const meta = await sharp(path.join(dataDir, pictureKey(row.id, 'sd'))).metadata();
      assert.deepEqual([meta.width, meta.height], [640, 480]);
      await sharp(path.join(dataDir, pictureKey(row.id, 'thumb'))).stats();
    }
    const items = await pool.query(`SELECT count(*)::int AS n FROM item WHERE collection_id = $1 AND status = 'ready'`, [ready.associated_collections[0].id]);
    assert.equal(items.rows[0].n, N);
    const status = await json(await api.fetch(`/api/pictures/${rows[0].id}/status`, { headers: user.headers }));
    assert.equal(status.status, 'ready');
  });
});
