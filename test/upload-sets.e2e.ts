import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { readdir } from 'node:fs/promises';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import type pg from 'pg';
import sharp from 'sharp';
import { syntheticJpeg } from '../scripts/bench/ingest-images.js';
import { pictureKey } from '../src/pictures/picture-storage.js';
import { startApi, TestApi } from './support/app.js';
import { createUser, TestUser } from './support/auth.js';
import { testPool } from './support/db.js';
import { json, waitFor } from './support/net.js';
import { ChildHandle, startWorker } from './support/processes.js';
import { createUploadSet, getFiles, getUploadSet, uploadPicture, waitUntilReady } from './upload-support.js';

const dataDir = process.env.DATA_DIR!;
let seed = 5000;
const picture = (extra: { lat?: number; time?: Date } = {}) =>
  syntheticJpeg({ width: 320, height: 240, lon: 5.0, lat: extra.lat ?? 44 + seed * 0.001, time: extra.time ?? new Date(Date.UTC(2024, 0, 1, 12, 0, seed % 60)), seed: seed++ });

async function listTemp(): Promise<string[]> {
  const out: string[] = [];
  for (const sub of ['tmp/writes', 'tmp/originals']) {
    const dir = path.join(dataDir, sub);
    if (existsSync(dir)) out.push(...(await readdir(dir)).map((f) => `${sub}/${f}`));
  }
  return out.sort();
}

describe('upload sets API', () => {
  let api: TestApi;
  let worker: ChildHandle;
  let alice: TestUser;
  let bob: TestUser;
  let pool: pg.Pool;
  const post = (user: TestUser, url: string, body: unknown, method = 'POST') =>
    api.fetch(url, { method, headers: { ...user.headers, 'content-type': 'application/json' }, body: JSON.stringify(body) });

  before(async () => {
    api = await startApi();
    worker = await startWorker();
    alice = await createUser(api, 'alice');
    bob = await createUser(api, 'bob');
    pool = testPool();
  });
  after(async () => {
    await worker?.stop();
    await api?.close();
    await pool?.end();
  });

  describe('creating and changing sets', () => {
    it('creates with the instance defaults, answers 201 with Location', async () => {
      await pool.query(`UPDATE users SET default_visibility = 'logged-only' WHERE id = $1`, [alice.id]);
      const res = await post(alice, '/api/upload_sets', { title: 'Defaults' });
      assert.equal(res.status, 201);
      const set = await json(res);
      assert.equal(res.headers.get('location'), `${api.baseUrl}/api/upload_sets/${set.id}`);
      assert.deepEqual(
        [set.sort_method, set.split_distance, set.split_time, set.duplicate_distance, set.duplicate_rotation, set.no_split, set.no_deduplication],
        ['time-asc', 100, 300, 1, 60, false, false],
      );
      assert.equal(set.visibility, 'logged-only', "the owner's default visibility");
      assert.equal(set.completed, false);
      assert.equal(set.dispatched, false);
      assert.deepEqual(set.items_status, { prepared: 0, preparing: 0, broken: 0, not_processed: 0, rejected: 0 });
      await pool.query(`UPDATE users SET default_visibility = 'anyone' WHERE id = $1`, [alice.id]);
    });

    it('takes split_time as seconds or an ISO 8601 duration', async () => {
      assert.equal((await json(await post(alice, '/api/upload_sets', { title: 'd', split_time: 'PT5M30S' }))).split_time, 330);
      assert.equal((await json(await post(alice, '/api/upload_sets', { title: 'd', split_time: 42 }))).split_time, 42);
      const bad = await post(alice, '/api/upload_sets', { title: 'd', split_time: 'five minutes' });
      assert.equal(bad.status, 400);
      assert.equal((await json(bad)).details[0].field, 'split_time');
    });

    for (const [name, body, field] of [
      ['no title', { estimated_nb_files: 3 }, 'title'],
      ['an unknown field', { title: 't', colour: 'red' }, 'colour'],
      ['no_split with split_distance', { title: 't', no_split: true, split_distance: 10 }, 'no_split'],
      ['no_split with split_time', { title: 't', no_split: true, split_time: 10 }, 'no_split'],
      ['no_deduplication with duplicate_rotation', { title: 't', no_deduplication: true, duplicate_rotation: 10 }, 'no_deduplication'],
      ['a bad sort method', { title: 't', sort_method: 'random' }, 'sort_method'],
      ['a negative estimate', { title: 't', estimated_nb_files: -1 }, 'estimated_nb_files'],
    ] as const) {
      it(`refuses ${name} with 400 naming ${field}`, async () => {
        const res = await post(alice, '/api/upload_sets', body);
        assert.equal(res.status, 400);
        const err = await json(res);
        assert.equal(err.statusCode, 400);
        assert.ok(JSON.stringify(err.details).includes(field), JSON.stringify(err));
      });
    }

    it('needs a logged-in user', async () => {
      const res = await api.fetch('/api/upload_sets', { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"title":"x"}' });
      assert.equal(res.status, 401);
    });

    it('patches (owner only, unknown fields refused) and lists the user’s sets with paging', async () => {
      const set = await createUploadSet(api, alice, { title: 'Before' });
      assert.equal((await post(bob, `/api/upload_sets/${set.id}`, { title: 'Mine now' }, 'PATCH')).status, 404);
      assert.equal((await post(alice, `/api/upload_sets/${set.id}`, { owner_id: bob.id }, 'PATCH')).status, 400);
      const patched = await json(await post(alice, `/api/upload_sets/${set.id}`, { title: 'After', no_split: true }, 'PATCH'));
      assert.equal(patched.title, 'After');
      assert.equal(patched.split_distance, null);
      const page1 = await json(await api.fetch('/api/users/me/upload_sets?limit=2', { headers: alice.headers }));
      assert.equal(page1.items.length, 2);
      assert.ok(page1.total >= 4);
      assert.ok(page1.links.some((l: { rel: string }) => l.rel === 'next'));
      const open = await json(await api.fetch('/api/users/me/upload_sets?completed=false&limit=100', { headers: alice.headers }));
      assert.ok(open.items.every((s: { completed: boolean }) => !s.completed));
      const bobs = await json(await api.fetch('/api/users/me/upload_sets', { headers: bob.headers }));
      assert.equal(bobs.items.filter((s: { id: string }) => s.id === set.id).length, 0);
    });
  });

  describe('sending files', () => {
    let setId: string;
    before(async () => {
      setId = (await createUploadSet(api, alice, { title: 'Files' })).id;
    });

    it('accepts a geotagged JPEG with 202, streamed and queued', async () => {
      const data = await picture();
      const res = await uploadPicture(api, alice, setId, { name: 'one.jpg', data });
      assert.equal(res.status, 202);
      const file = await json(res);
      assert.equal(file.file_name, 'one.jpg');
      assert.equal(file.size, data.length);
      assert.match(file.content_sha256, /^[0-9a-f]{64}$/);
      assert.ok(file.picture_id);
      assert.equal(file.rejected, null);
      assert.ok(['pending', 'processing', 'ready'].includes(file.processing.status));
      const status = await waitFor('the picture to be ready', async () => {
        const s = await json(await api.fetch(`/api/pictures/${file.picture_id}/status`, { headers: alice.headers }));
        return s.status === 'ready' ? s : undefined;
      });
      assert.equal(status.attempts, 1);
      assert.equal(status.last_error, null);
      assert.ok(status.processed_at);
      assert.equal((await api.fetch(`/api/pictures/${file.picture_id}/status`, { headers: bob.headers })).status, 404, 'status is for the owner');
    });

    it('refuses what is not multipart, or has no file part, or half an override', async () => {
      const before = await listTemp();
      assert.equal((await post(alice, `/api/upload_sets/${setId}/files`, { file: 'x' })).status, 415);
      const empty = new FormData();
      empty.append('is_blurred', 'true');
      const noFile = await api.fetch(`/api/upload_sets/${setId}/files`, { method: 'POST', headers: alice.headers, body: empty });
      assert.equal(noFile.status, 400);
      const half = await uploadPicture(api, alice, setId, { name: 'half.jpg', data: await picture() }, { override_longitude: '2.3' });
      assert.equal(half.status, 400);
      assert.equal((await json(half)).details[0].field, 'override_latitude');
      const unknown = await uploadPicture(api, alice, setId, { name: 'unknown.jpg', data: await picture() }, { colour: 'red' });
      assert.equal(unknown.status, 400);
      assert.deepEqual(await listTemp(), before, 'nothing stored');
    });

    it('records invalid files: not a JPEG, truncated — 400, nothing kept', async () => {
      const before = await listTemp();
      const png = await sharp({ create: { width: 32, height: 32, channels: 3, background: '#f00' } })
        .png()
        .toBuffer();
      const a = await uploadPicture(api, alice, setId, { name: 'red.png', data: png });
      assert.equal(a.status, 400);
      assert.equal((await json(a)).details.reason, 'invalid_file');
      const whole = await picture();
      const b = await uploadPicture(api, alice, setId, { name: 'cut.jpg', data: whole.subarray(0, Math.floor(whole.length / 2)) });
      assert.equal(b.status, 400);
      const err = await json(b);
      assert.equal(err.details.reason, 'invalid_file');
      assert.match(err.message, /truncated/);
      const files = await getFiles(api, alice, setId);
      assert.equal(files.find((f) => f.file_name === 'red.png').rejected.reason, 'invalid_file');
      assert.equal(files.find((f) => f.file_name === 'cut.jpg').rejected.severity, 'error');
      assert.deepEqual(await listTemp(), before, 'the refused bytes are gone');
    });

    it('refuses a file without position or time with details.missing_fields, and takes it back with overrides', async () => {
      const bare = await sharp({ create: { width: 64, height: 48, channels: 3, background: '#0a0' } })
        .jpeg()
        .toBuffer();
      const res = await uploadPicture(api, alice, setId, { name: 'bare.jpg', data: bare });
      assert.equal(res.status, 400);
      const err = await json(res);
      assert.equal(err.details.reason, 'invalid_metadata');
      assert.deepEqual(err.details.details.missing_fields, ['location', 'datetime']);
      const again = await uploadPicture(
        api,
        alice,
        setId,
        { name: 'bare.jpg', data: bare },
        {
          override_capture_time: '2024-01-02T03:04:05+01:00',
          override_longitude: '5.01',
          override_latitude: '44.5',
        },
      );
      assert.equal(again.status, 202, 'a rejected file may be sent again under the same name');
      const id = (await json(again)).picture_id;
      const { rows } = await pool.query(`SELECT captured_at, ST_X(geom) AS lon FROM picture WHERE id = $1`, [id]);
      assert.equal(rows[0].captured_at.toISOString(), '2024-01-02T02:04:05.000Z');
      assert.equal(rows[0].lon, 5.01);
      const file = (await getFiles(api, alice, setId)).find((f) => f.file_name === 'bare.jpg');
      assert.equal(file.rejected, null);
      assert.equal(file.picture_id, id);
    });

    it('refuses duplicates: the same file of the same owner (409, recorded), another file under a taken name (409); other owners are not refused', async () => {
      const data = await picture();
      assert.equal((await uploadPicture(api, alice, setId, { name: 'dup.jpg', data })).status, 202);
      const again = await uploadPicture(api, alice, setId, { name: 'dup.jpg', data });
      assert.equal(again.status, 409);
      const other = await createUploadSet(api, alice, { title: 'Other' });
      const copy = await uploadPicture(api, alice, other.id, { name: 'copy.jpg', data });
      assert.equal(copy.status, 409);
      const err = await json(copy);
      assert.equal(err.details.reason, 'file_duplicate');
      assert.ok(err.details.details.existing_item.id, 'the owner learns which picture it is');
      assert.equal((await getFiles(api, alice, other.id))[0].rejected.reason, 'file_duplicate');
      const renamed = await uploadPicture(api, alice, setId, { name: 'dup.jpg', data: await picture() });
      assert.equal(renamed.status, 409);
      assert.match((await json(renamed)).message, /different picture with the same name/);
      const bobSet = await createUploadSet(api, bob, { title: 'Bob' });
      // Duplicates are per owner: the same bytes as alice's (private) picture are bob's own picture,
      // and the answer does not tell him that alice has them.
      const same = await uploadPicture(api, bob, bobSet.id, { name: 'mine.jpg', data });
      assert.equal(same.status, 202, 'no same-bytes oracle across owners');
      assert.notEqual((await json(same)).picture_id, err.details.details.existing_item.id);
    });

    it('keeps one of the same file sent in parallel to two sets: the other is a recorded 409 file_duplicate, and nothing is half-written', async () => {
      const data = await picture({ lat: 44.77 });
      const a = await createUploadSet(api, alice, { title: 'Race A' });
      const b = await createUploadSet(api, alice, { title: 'Race B' });
      const answers = await Promise.all([uploadPicture(api, alice, a.id, { name: 'race.jpg', data }), uploadPicture(api, alice, b.id, { name: 'race.jpg', data })]);
      assert.deepEqual(answers.map((r) => r.status).sort(), [202, 409]);
      const refused = answers.find((r) => r.status === 409)!;
      assert.equal((await json(refused)).details.reason, 'file_duplicate');
      const files = [...(await getFiles(api, alice, a.id)), ...(await getFiles(api, alice, b.id))];
      assert.equal(files.filter((f) => f.picture_id).length, 1, 'one file accepted');
      assert.deepEqual(
        files.filter((f) => f.rejected).map((f) => f.rejected.reason),
        ['file_duplicate'],
      );
      const { rows } = await pool.query(`SELECT count(*)::int AS n FROM picture WHERE source_id = ANY($1::uuid[])`, [[a.id, b.id]]);
      assert.equal(rows[0].n, 1, 'one picture row');
    });

    it('answers 404 for a set of someone else', async () => {
      assert.equal((await uploadPicture(api, bob, setId, { name: 'x.jpg', data: await picture() })).status, 404);
    });

    it('refuses a file past UPLOAD_MAX_BYTES with 413 and keeps nothing', async () => {
      const small = await startApi({ env: { UPLOAD_MAX_BYTES: '100000' } });
      try {
        const set = await createUploadSet(small, alice, { title: 'Small' });
        const before = await listTemp();
        const big = await syntheticJpeg({ width: 800, height: 600, lon: 5, lat: 44, time: new Date(), seed: seed++, quality: 95 });
        assert.ok(big.length > 100000);
        const res = await uploadPicture(small, alice, set.id, { name: 'big.jpg', data: big });
        assert.equal(res.status, 413);
        const err = await json(res);
        assert.equal(err.details.limit, 100000);
        assert.deepEqual(await listTemp(), before);
        assert.equal((await getFiles(small, alice, set.id)).length, 0);
        assert.equal((await small.fetch('/api/health')).status, 200);
      } finally {
        await small.close();
      }
    });
  });

  describe('completing and deleting', () => {
    it('completes by estimate, refuses more files, and deletes everything (files asynchronously)', async () => {
      const set = await createUploadSet(api, alice, { title: 'Short walk', estimated_nb_files: 2 });
      const ids: string[] = [];
      for (let i = 0; i < 2; i++) {
        const res = await uploadPicture(api, alice, set.id, {
          name: `p${i}.jpg`,
          data: await picture({ lat: 43.6 + i * 0.0002, time: new Date(Date.UTC(2024, 5, 1, 8, 0, i * 5)) }),
        });
        assert.equal(res.status, 202);
        ids.push((await json(res)).picture_id);
      }
      const late = await uploadPicture(api, alice, set.id, { name: 'late.jpg', data: await picture() });
      assert.equal(late.status, 409, 'a completed set takes no more files');
      const ready = await waitUntilReady(api, alice, set.id);
      assert.equal(ready.associated_collections.length, 1);
      const collectionId = ready.associated_collections[0].id;
      assert.equal(ready.associated_collections[0].title, 'Short walk');
      assert.equal(ready.associated_collections[0].ready, true);
      assert.match(ready.associated_collections[0].links[0].href, new RegExp(`/api/collections/${collectionId}$`));
      assert.ok(existsSync(path.join(dataDir, pictureKey(ids[0]!, 'sd'))));

      // Completing again is harmless.
      assert.equal((await api.fetch(`/api/upload_sets/${set.id}/complete`, { method: 'POST', headers: alice.headers })).status, 200);

      assert.equal((await api.fetch(`/api/upload_sets/${set.id}`, { method: 'DELETE', headers: bob.headers })).status, 404);
      assert.equal((await api.fetch(`/api/upload_sets/${set.id}`, { method: 'DELETE', headers: alice.headers })).status, 204);
      assert.equal((await api.fetch(`/api/upload_sets/${set.id}`, { headers: alice.headers })).status, 404);
      await waitFor('the set to be removed', async () => (await pool.query(`SELECT 1 FROM upload_set WHERE id = $1`, [set.id])).rowCount === 0);
      for (const id of ids) assert.equal(existsSync(path.join(dataDir, pictureKey(id, 'hd')).replace(/hd\.jpg$/, '')), false, 'picture folder removed');
      assert.equal((await pool.query(`SELECT 1 FROM collection WHERE id = $1`, [collectionId])).rowCount, 0, 'its sequence is gone');
      assert.equal((await pool.query(`SELECT 1 FROM item WHERE id = ANY($1)`, [ids])).rowCount, 0, 'and its items');
    });

    it('completes explicitly with POST complete', async () => {
      const set = await createUploadSet(api, alice, { title: 'Explicit' });
      assert.equal((await uploadPicture(api, alice, set.id, { name: 'a.jpg', data: await picture() })).status, 202);
      const res = await api.fetch(`/api/upload_sets/${set.id}/complete`, { method: 'POST', headers: alice.headers });
      assert.equal(res.status, 200);
      assert.equal((await json(res)).completed, true);
      const ready = await waitUntilReady(api, alice, set.id);
      assert.equal(ready.dispatched, true);
      assert.equal(ready.nb_items, 1);
      assert.equal((await getUploadSet(api, alice, set.id)).items_status.prepared, 1);
    });
  });
});
