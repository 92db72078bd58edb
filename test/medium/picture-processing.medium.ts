import assert from 'node:assert/strict';
import { createHash, randomUUID } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { DataSource } from 'typeorm';
import { syntheticJpeg } from '../../scripts/bench/ingest-images.js';
import { PictureIntakeService } from '../../src/pictures/picture-intake.service.js';
import { originalTempKey, pictureKey } from '../../src/pictures/picture-storage.js';
import { PictureProcessor } from '../../src/pictures/picture.processor.js';
import { JobQueueService } from '../../src/queue/job-queue.service.js';
import { JobName } from '../../src/queue/queue.constants.js';
import { StorageService } from '../../src/storage/storage.service.js';
import { startApi, type TestApi } from '../support/app.js';
import { createUser, type TestUser } from '../support/auth.js';
import { inProcessJobContext } from '../support/jobs.js';
import { createUploadSet } from '../upload-support.js';

const sha256 = (b: Buffer) => createHash('sha256').update(b).digest('hex');

/**
 * A processing run without blurring moves the upload into place as `hd` and records it when the
 * picture becomes ready; a run that stopped between the two leaves the next run to find `hd` in
 * place and carry on.
 */
describe('picture processing: the upload becomes hd', () => {
  let api: TestApi;
  let owner: TestUser;
  let storage: StorageService;
  let db: DataSource;
  let batch: { kind: string; id: string };
  const lon = -150 + Math.random() * 290;
  const lat = -50 + Math.random() * 90;
  let seed = 0;

  before(async () => {
    api = await startApi({ env: { LOG_LEVEL: 'error', BLUR_PROVIDER: 'none', PICTURE_HD_METADATA: 'keep' } });
    owner = await createUser(api, 'processing');
    storage = api.app.get(StorageService);
    db = api.app.get(DataSource);
    batch = { kind: 'upload-set', id: (await createUploadSet(api, owner, { title: 'Processing' })).id };
  });
  after(async () => {
    await api?.close();
  });

  /** A picture taken in and waiting for its run; the job the intake queued is removed (the run is in-process). */
  async function intake(): Promise<{ id: string; file: Buffer }> {
    const file = await syntheticJpeg({ width: 800, height: 600, lon, lat, time: new Date(Date.UTC(2024, 5, 1, 8, 0, seed)), seed: ++seed, pattern: 'checker' });
    const id = randomUUID();
    const storageKey = originalTempKey(id);
    await storage.put(storageKey, file);
    await api.app
      .get(PictureIntakeService)
      .intake({ pictureId: id, storageKey, fileName: `P${seed}.jpg`, size: file.length, sha256: sha256(file), source: batch, ownerId: owner.id });
    await api.app.get(JobQueueService).remove(JobName.PictureProcess, { pictureId: id, generation: 1 });
    return { id, file };
  }

  async function row(id: string): Promise<{ status: string; source_key: string | null; hd_stored_at: Date | null; attempts: number }> {
    const rows = await db.query(`SELECT status, source_key, hd_stored_at, attempts FROM picture WHERE id = $1`, [id]);
    return rows[0];
  }

  async function stored(key: string): Promise<Buffer> {
    const chunks: Buffer[] = [];
    for await (const chunk of await storage.get(key)) chunks.push(chunk as Buffer);
    return Buffer.concat(chunks);
  }

  it('moves the upload to hd, and the ready row names hd and no temporary original', async () => {
    const { id, file } = await intake();
    assert.match((await row(id)).source_key ?? '', /^tmp\//);
    const outcome = await api.app.get(PictureProcessor).process({ pictureId: id, generation: 1 }, inProcessJobContext());
    assert.deepEqual(outcome, { ready: true, blurred: false });
    const after = await row(id);
    assert.equal(after.status, 'ready');
    assert.equal(after.source_key, null);
    assert.ok(after.hd_stored_at instanceof Date, 'hd is recorded as stored');
    assert.ok((await stored(pictureKey(id, 'hd'))).equals(file), 'hd is the upload, byte for byte');
    assert.equal(await storage.stat(originalTempKey(id)), null, 'nothing is left under tmp/');
    for (const kind of ['sd', 'thumb'] as const) assert.ok((await storage.stat(pictureKey(id, kind)))?.size, `${kind} is written`);
  });

  it('carries on after a run that moved the upload into place and stopped before recording it', async () => {
    const { id, file } = await intake();
    // What a run killed right after its move leaves: hd in place, the row still naming the original.
    await storage.move(originalTempKey(id), pictureKey(id, 'hd'));
    await db.query(`UPDATE picture SET status = 'processing', attempts = 1 WHERE id = $1`, [id]);
    const outcome = await api.app.get(PictureProcessor).process({ pictureId: id, generation: 1 }, inProcessJobContext());
    assert.deepEqual(outcome, { ready: true, blurred: false });
    const after = await row(id);
    assert.equal(after.status, 'ready');
    assert.equal(after.attempts, 2);
    assert.equal(after.source_key, null);
    assert.ok(after.hd_stored_at instanceof Date);
    assert.ok((await stored(pictureKey(id, 'hd'))).equals(file));
  });

  it('ends broken, naming the reason, when neither the original nor hd is there', async () => {
    const { id } = await intake();
    await storage.delete(originalTempKey(id));
    await assert.rejects(api.app.get(PictureProcessor).process({ pictureId: id, generation: 1 }, inProcessJobContext()), /no longer available/);
    const rows = await db.query(`SELECT status, last_error FROM picture WHERE id = $1`, [id]);
    assert.equal(rows[0].status, 'broken');
    assert.match(rows[0].last_error, /no longer available/);
  });
});
