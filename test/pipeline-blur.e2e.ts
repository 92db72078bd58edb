import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { existsSync } from 'node:fs';
import { readdir, readFile } from 'node:fs/promises';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import type pg from 'pg';
import sharp from 'sharp';
import { syntheticJpeg } from '../scripts/bench/ingest-images.js';
import { pictureKey } from '../src/pictures/picture-storage.js';
import { startApi, TestApi } from './support/app.js';
import { createUser, TestUser } from './support/auth.js';
import { testPool } from './support/db.js';
import { BOX, startBlurServer } from './support/blur-server.js';
import { json, waitFor } from './support/net.js';
import { ChildHandle, startWorker } from './support/processes.js';
import { createUploadSet, uploadPicture } from './upload-support.js';

const dataDir = process.env.DATA_DIR!;
const sha256 = (b: Buffer) => createHash('sha256').update(b).digest('hex');

/** Mean absolute difference of grey levels inside and outside BOX. */
async function boxDifference(a: Buffer | string, b: Buffer | string): Promise<{ inside: number; outside: number }> {
  const grey = (x: Buffer | string) => sharp(x).greyscale().raw().toBuffer({ resolveWithObject: true });
  const [pa, pb] = await Promise.all([grey(a), grey(b)]);
  const w = pa.info.width;
  let inside = 0;
  let outside = 0;
  let ni = 0;
  let no = 0;
  for (let i = 0; i < pa.data.length; i++) {
    const x = i % w;
    const y = Math.floor(i / w);
    const d = Math.abs(pa.data[i]! - pb.data[i]!);
    if (x >= BOX.left && x < BOX.left + BOX.width && y >= BOX.top && y < BOX.top + BOX.height) {
      inside += d;
      ni++;
    } else {
      outside += d;
      no++;
    }
  }
  return { inside: inside / ni, outside: outside / no };
}

async function allStoredHashes(dir: string, out = new Map<string, string>()): Promise<Map<string, string>> {
  for (const entry of await readdir(dir, { withFileTypes: true })) {
    const full = path.join(dir, entry.name);
    if (entry.isDirectory()) await allStoredHashes(full, out);
    else if (entry.isFile()) out.set(sha256(await readFile(full)), full);
  }
  return out;
}

describe('blurring through an HTTP blur service', () => {
  let api: TestApi;
  let worker: ChildHandle;
  let user: TestUser;
  let pool: pg.Pool;
  let blur: Awaited<ReturnType<typeof startBlurServer>>;
  let setId: string;
  let seed = 100;

  before(async () => {
    blur = await startBlurServer();
    // Both processes share the job settings, as in a deployment (the API sets a job's attempts).
    const jobs = { JOB_ATTEMPTS: '2', JOB_BACKOFF_MS: '200' };
    api = await startApi({ env: jobs });
    worker = await startWorker({ ...jobs, BLUR_PROVIDER: 'http', BLUR_URL: blur.url, BLUR_TIMEOUT_MS: '5000', BLUR_RETRIES: '0' });
    user = await createUser(api, 'blurry');
    pool = testPool();
    setId = (await createUploadSet(api, user, { title: 'Blurred street', no_deduplication: true })).id;
  });
  after(async () => {
    await worker?.stop();
    await api?.close();
    await pool?.end();
    await blur?.close();
  });

  async function send(fields: Record<string, string> = {}) {
    const original = await syntheticJpeg({
      width: 640,
      height: 480,
      lon: 4.85,
      lat: 45.75 + seed * 0.0001,
      time: new Date(Date.UTC(2024, 2, 1, 9, 0, seed)),
      seed: seed++,
      pattern: 'checker',
    });
    const res = await uploadPicture(api, user, setId, { name: `street-${seed}.jpg`, data: original }, fields);
    assert.equal(res.status, 202, await res.clone().text());
    return { original, id: (await json(res)).picture_id as string };
  }

  async function settled(id: string) {
    return waitFor(
      `picture ${id} to settle`,
      async () => {
        const s = await json(await api.fetch(`/api/pictures/${id}/status`, { headers: user.headers }));
        return s.status === 'ready' || s.status === 'broken' ? s : undefined;
      },
      30_000,
    );
  }

  it('stores the picture the service blurred: different inside the box, the same outside, and no unblurred copy', async () => {
    blur.state.mode = 'jpeg';
    const { original, id } = await send();
    const status = await settled(id);
    assert.equal(status.status, 'ready');
    assert.equal(status.blurred, true);
    assert.equal(blur.state.received.at(-1), sha256(original), 'the service received the upload as sent');
    const hd = await readFile(path.join(dataDir, pictureKey(id, 'hd')));
    const d = await boxDifference(hd, original);
    assert.ok(d.inside > 40, `blurred inside the box (mean difference ${d.inside.toFixed(1)})`);
    assert.ok(d.outside < 3, `untouched outside the box (mean difference ${d.outside.toFixed(1)})`);
    const sd = await boxDifference(path.join(dataDir, pictureKey(id, 'sd')), original);
    assert.ok(sd.inside > 40 && sd.outside < 6, 'derivatives come from the blurred picture');
    const stored = await allStoredHashes(dataDir);
    assert.equal(stored.get(sha256(original)), undefined, `no unblurred copy anywhere in storage (found ${stored.get(sha256(original))})`);
  });

  it('keeps the metadata of a multipart answer', async () => {
    blur.state.mode = 'multipart';
    const { original, id } = await send();
    assert.equal((await settled(id)).status, 'ready');
    const { rows } = await pool.query(`SELECT blurred, blur_metadata FROM picture WHERE id = $1`, [id]);
    assert.equal(rows[0].blurred, true);
    assert.equal(rows[0].blur_metadata.service_name, 'test-blur');
    assert.match(rows[0].blur_metadata.blurring_id, /^b-\d+$/);
    const d = await boxDifference(path.join(dataDir, pictureKey(id, 'hd')), original);
    assert.ok(d.inside > 40 && d.outside < 3);
  });

  it('blurs here the boxes a detector reports', async () => {
    blur.state.mode = 'detector';
    const { original, id } = await send();
    assert.equal((await settled(id)).status, 'ready');
    const d = await boxDifference(path.join(dataDir, pictureKey(id, 'hd')), original);
    assert.ok(d.inside > 40, `blurred inside (${d.inside.toFixed(1)})`);
    assert.ok(d.outside < 3, `untouched outside (${d.outside.toFixed(1)})`);
  });

  it('does not send a picture declared already blurred', async () => {
    blur.state.mode = 'jpeg';
    const before = blur.state.requests;
    const { original, id } = await send({ is_blurred: 'true' });
    assert.equal((await settled(id)).status, 'ready');
    assert.equal(blur.state.requests, before);
    assert.equal(sha256(await readFile(path.join(dataDir, pictureKey(id, 'hd')))), sha256(original));
  });

  it('a service that stays down: broken after the last attempt, with the error, and the original never published', async () => {
    blur.state.mode = 'unavailable';
    const { id } = await send();
    const status = await settled(id);
    assert.equal(status.status, 'broken');
    assert.equal(status.attempts, 2);
    assert.match(status.last_error, /blur service answered 503/);
    assert.equal(existsSync(path.join(dataDir, pictureKey(id, 'hd'))), false, 'no hd without blurring');
    const { rows } = await pool.query(`SELECT source_key FROM picture WHERE id = $1`, [id]);
    assert.match(rows[0].source_key, /^tmp\//, 'the original waits under tmp/ for a later retry');
    const files = await json(await api.fetch(`/api/upload_sets/${setId}/files`, { headers: user.headers }));
    const entry = files.files.find((f: { picture_id: string }) => f.picture_id === id);
    assert.equal(entry.processing.status, 'broken');
    assert.match(entry.processing.last_error, /503/);
    const set = await json(await api.fetch(`/api/upload_sets/${setId}`, { headers: user.headers }));
    assert.equal(set.items_status.broken, 1);
    const error = set.processing_errors.find((e: { picture_id: string }) => e.picture_id === id);
    assert.deepEqual([error.status, error.attempts], ['broken', 2]);
    assert.match(error.last_error, /503/);
  });
});
