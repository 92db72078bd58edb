import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { Visibility } from '../src/auth/visibility.js';
import { CatalogService } from '../src/catalog/catalog.service.js';
import { startApi, TestApi } from './support/app.js';
import { createUser, TestUser } from './support/auth.js';
import { pointsNorth, randomSpot, seedPictureFiles, seedSequence } from './support/collections-seed.js';
import { testPool } from './support/db.js';
import { json } from './support/net.js';

const bytesOf = async (res: Response) => Buffer.from(await res.arrayBuffer());

describe('picture files: /api/pictures/{id}/…', () => {
  let api: TestApi;
  let owner: TestUser;
  let other: TestUser;
  let admin: TestUser;
  let publicId: string;
  let files: Record<string, Buffer>;

  const get = (path: string, headers: Record<string, string> = {}, user?: TestUser, method = 'GET') => api.fetch(path, { method, headers: { ...headers, ...user?.headers } });

  before(async () => {
    api = await startApi({ env: { PICTURE_CACHE_MAX_AGE_SECONDS: '3600' } });
    [owner, other, admin] = await Promise.all([createUser(api, 'owner'), createUser(api, 'other'), createUser(api, 'admin', 'admin')]);
    const { items } = await seedSequence(api, { ownerId: owner.id, pictures: pointsNorth(randomSpot(), 1) });
    publicId = items[0]!.id;
    files = await seedPictureFiles(api, publicId);
  });
  after(() => api.close());

  describe('a public picture', () => {
    it('serves hd, sd and thumb to anyone with validators and a long public cache', async () => {
      for (const variant of ['hd', 'sd', 'thumb']) {
        const res = await get(`/api/pictures/${publicId}/${variant}.jpg`);
        assert.equal(res.status, 200, variant);
        assert.deepEqual(await bytesOf(res), files[variant]);
        assert.equal(res.headers.get('content-type'), 'image/jpeg');
        assert.equal(res.headers.get('content-length'), '5000');
        assert.equal(res.headers.get('cache-control'), 'public, max-age=3600');
        assert.equal(res.headers.get('accept-ranges'), 'bytes');
        assert.match(res.headers.get('etag') ?? '', /^"[0-9a-f]+-[0-9a-f]+"$/, 'a strong ETag');
        assert.ok(!Number.isNaN(Date.parse(res.headers.get('last-modified') ?? '')));
      }
    });

    it('serves the tiles of a 360° picture and refuses malformed tile names', async () => {
      const res = await get(`/api/pictures/${publicId}/tiles/1_0.jpg`);
      assert.equal(res.status, 200);
      assert.deepEqual(await bytesOf(res), files['1_0']);
      assert.equal((await get(`/api/pictures/${publicId}/tiles/7_3.jpg`)).status, 404);
      assert.equal((await get(`/api/pictures/${publicId}/tiles/zero.jpg`)).status, 400);
    });

    it('answers 404 for an unknown variant or picture and 400 for an id that is not a UUID', async () => {
      assert.equal((await get(`/api/pictures/${publicId}/xl.jpg`)).status, 404);
      assert.equal((await get(`/api/pictures/${randomUUID()}/hd.jpg`)).status, 404);
      assert.equal((await get(`/api/pictures/1234/hd.jpg`)).status, 400);
    });

    it('answers conditional requests with 304', async () => {
      const first = await get(`/api/pictures/${publicId}/hd.jpg`);
      await first.arrayBuffer();
      const etag = first.headers.get('etag')!;
      const lastModified = first.headers.get('last-modified')!;

      const notModified = await get(`/api/pictures/${publicId}/hd.jpg`, { 'if-none-match': etag });
      assert.equal(notModified.status, 304);
      assert.equal((await bytesOf(notModified)).length, 0);
      assert.equal(notModified.headers.get('etag'), etag);
      assert.equal((await get(`/api/pictures/${publicId}/hd.jpg`, { 'if-none-match': `"other", W/${etag}` })).status, 304, 'weak comparison, lists');
      assert.equal((await get(`/api/pictures/${publicId}/hd.jpg`, { 'if-none-match': '*' })).status, 304);
      const changed = await get(`/api/pictures/${publicId}/hd.jpg`, { 'if-none-match': '"something-else"' });
      assert.equal(changed.status, 200);
      assert.equal((await bytesOf(changed)).length, 5000);

      assert.equal((await get(`/api/pictures/${publicId}/hd.jpg`, { 'if-modified-since': lastModified })).status, 304);
      const old = await get(`/api/pictures/${publicId}/hd.jpg`, { 'if-modified-since': 'Mon, 01 Jan 2001 00:00:00 GMT' });
      assert.equal(old.status, 200);
      await old.arrayBuffer();
      // If-None-Match wins over If-Modified-Since.
      const both = await get(`/api/pictures/${publicId}/hd.jpg`, { 'if-none-match': '"nope"', 'if-modified-since': lastModified });
      assert.equal(both.status, 200);
      await both.arrayBuffer();
    });

    it('answers byte ranges with 206, unsatisfiable ones with 416', async () => {
      const hd = files.hd!;
      const range = async (value: string, extra: Record<string, string> = {}) => get(`/api/pictures/${publicId}/hd.jpg`, { range: value, ...extra });

      let res = await range('bytes=0-99');
      assert.equal(res.status, 206);
      assert.equal(res.headers.get('content-range'), 'bytes 0-99/5000');
      assert.equal(res.headers.get('content-length'), '100');
      assert.deepEqual(await bytesOf(res), hd.subarray(0, 100));

      res = await range('bytes=4990-');
      assert.equal(res.status, 206);
      assert.deepEqual(await bytesOf(res), hd.subarray(4990));

      res = await range('bytes=-20');
      assert.equal(res.headers.get('content-range'), 'bytes 4980-4999/5000');
      assert.deepEqual(await bytesOf(res), hd.subarray(4980));

      res = await range('bytes=4000-999999');
      assert.equal(res.headers.get('content-range'), 'bytes 4000-4999/5000');
      assert.equal((await bytesOf(res)).length, 1000);

      res = await range('bytes=5000-');
      assert.equal(res.status, 416);
      assert.equal(res.headers.get('content-range'), 'bytes */5000');
      assert.equal((await json(res)).statusCode, 416);

      // Several ranges, another unit, nonsense: the whole file.
      for (const ignored of ['bytes=0-1,5-6', 'items=0-5', 'bytes=9-3']) {
        res = await range(ignored);
        assert.equal(res.status, 200, ignored);
        assert.equal((await bytesOf(res)).length, 5000);
      }

      const etag = res.headers.get('etag')!;
      res = await range('bytes=10-19', { 'if-range': etag });
      assert.equal(res.status, 206);
      assert.deepEqual(await bytesOf(res), hd.subarray(10, 20));
      res = await range('bytes=10-19', { 'if-range': '"stale"' });
      assert.equal(res.status, 200, 'a stale If-Range gets the whole file');
      assert.equal((await bytesOf(res)).length, 5000);
    });

    it('answers HEAD with the headers only', async () => {
      const res = await get(`/api/pictures/${publicId}/sd.jpg`, {}, undefined, 'HEAD');
      assert.equal(res.status, 200);
      assert.equal(res.headers.get('content-length'), '5000');
      assert.equal(res.headers.get('content-type'), 'image/jpeg');
      assert.ok(res.headers.get('etag'));
      assert.equal((await bytesOf(res)).length, 0);
    });
  });

  describe('visibility', () => {
    it('serves an owner-only picture to its owner and admins only, privately', async () => {
      const { items } = await seedSequence(api, { ownerId: owner.id, pictures: [{ ...randomSpot(), visibility: Visibility.OwnerOnly }] });
      const id = items[0]!.id;
      await seedPictureFiles(api, id);
      assert.equal((await get(`/api/pictures/${id}/hd.jpg`)).status, 404);
      assert.equal((await get(`/api/pictures/${id}/hd.jpg`, {}, other)).status, 404);
      assert.equal((await get(`/api/pictures/${id}/tiles/0_0.jpg`, {}, other)).status, 404);
      for (const who of [owner, admin]) {
        const res = await get(`/api/pictures/${id}/hd.jpg`, {}, who);
        assert.equal(res.status, 200);
        assert.equal(res.headers.get('cache-control'), 'private, no-cache');
        assert.match(res.headers.get('vary') ?? '', /Authorization/);
        await res.arrayBuffer();
      }
    });

    it("lets the collection's visibility restrict its pictures, at once", async () => {
      const { collection, items } = await seedSequence(api, { ownerId: owner.id, pictures: pointsNorth(randomSpot(), 1) });
      const id = items[0]!.id;
      await seedPictureFiles(api, id);
      assert.equal((await get(`/api/pictures/${id}/thumb.jpg`)).status, 200);
      await api.app.get(CatalogService).updateCollection(collection.id, { visibility: Visibility.LoggedOnly });
      assert.equal((await get(`/api/pictures/${id}/thumb.jpg`)).status, 404, 'anonymous callers lose it');
      const logged = await get(`/api/pictures/${id}/thumb.jpg`, {}, other);
      assert.equal(logged.status, 200, 'logged-in users keep it');
      assert.equal(logged.headers.get('cache-control'), 'private, no-cache');
      await logged.arrayBuffer();
    });

    it('shows a picture that is not ready only to who may edit it', async () => {
      const { items } = await seedSequence(api, { ownerId: owner.id, pictures: [{ ...randomSpot(), status: 'pending' }] });
      const id = items[0]!.id;
      await seedPictureFiles(api, id);
      assert.equal((await get(`/api/pictures/${id}/sd.jpg`)).status, 404);
      assert.equal((await get(`/api/pictures/${id}/sd.jpg`, {}, other)).status, 404);
      const mine = await get(`/api/pictures/${id}/sd.jpg`, {}, owner);
      assert.equal(mine.status, 200);
      assert.equal(mine.headers.get('cache-control'), 'private, no-cache');
      await mine.arrayBuffer();
    });

    it('shows a picture not yet in a sequence (no item) to admins only', async () => {
      const id = randomUUID();
      const stored = await seedPictureFiles(api, id);
      assert.equal((await get(`/api/pictures/${id}/hd.jpg`)).status, 404);
      assert.equal((await get(`/api/pictures/${id}/hd.jpg`, {}, owner)).status, 404);
      const res = await get(`/api/pictures/${id}/hd.jpg`, {}, admin);
      assert.equal(res.status, 200);
      assert.deepEqual(await bytesOf(res), stored.hd);

      // Once the pipeline holds the picture, its owner sees it too, privately.
      const db = testPool();
      await db.query(
        `INSERT INTO picture (id, source_kind, source_id, owner_id, file_name, size, sha256, width, height, captured_at, geom)
         VALUES ($1, 'test', NULL, $2, 'x.jpg', 1, $3, 10, 10, now(), ST_SetSRID(ST_MakePoint(2.35, 48.85), 4326))`,
        [id, owner.id, id.replace(/-/g, '').padEnd(64, '0')],
      );
      await db.end();
      const mine = await get(`/api/pictures/${id}/sd.jpg`, {}, owner);
      assert.equal(mine.status, 200);
      assert.equal(mine.headers.get('cache-control'), 'private, no-cache');
      await mine.arrayBuffer();
      assert.equal((await get(`/api/pictures/${id}/sd.jpg`, {}, other)).status, 404);
      assert.equal((await get(`/api/pictures/${id}/sd.jpg`)).status, 404);
    });

    it('answers 404 when the picture exists but the file does not', async () => {
      const { items } = await seedSequence(api, { ownerId: owner.id, pictures: pointsNorth(randomSpot(), 1) });
      const res = await get(`/api/pictures/${items[0]!.id}/hd.jpg`);
      assert.equal(res.status, 404);
      assert.match((await json(res)).message, /No hd file/);
    });
  });
});
