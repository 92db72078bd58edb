/**
 * What common STAC clients and map libraries need from Sightline: gzip for `Accept-Encoding: *`,
 * images (not JSON) for map tiles outside a dataset, a dataset's own acquisition time, collection
 * thumbnails, and items GDAL's STACIT driver opens (before 3.10 it wants `proj:epsg`).
 */
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import fs from 'node:fs/promises';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import { gunzipSync } from 'node:zlib';
import { after, before, describe, it } from 'node:test';
import { Visibility } from '../src/auth/visibility.js';
import { COMPRESSION_THRESHOLD_BYTES } from '../src/http-app.js';
import { GEOTIFF_DIR, inspectPng, tileOf, upload, waitIngested } from './datasets-support.js';
import { startApi, type TestApi } from './support/app.js';
import { createUser, type TestUser } from './support/auth.js';
import { pointsNorth, randomSpot, seedSequence } from './support/collections-seed.js';
import { hasGdal, NO_GDAL, run } from './support/gdal.js';
import { json } from './support/net.js';
import { type ChildHandle, startWorker } from './support/processes.js';
import { stacValidator } from './support/stac-validate.js';

const RGB = path.join(GEOTIFF_DIR, 'RGB.byte.tif');
const skip = existsSync(RGB) ? false : `${GEOTIFF_DIR} is absent (../shared is not checked out beside the project)`;

/** A GET over node:http, which (unlike fetch) leaves the body as sent: the raw Content-Encoding shows. */
function rawGet(url: string, headers: Record<string, string>): Promise<{ status: number; headers: http.IncomingHttpHeaders; body: Buffer }> {
  return new Promise((resolve, reject) => {
    http
      .get(url, { headers }, (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks) }));
        res.on('error', reject);
      })
      .on('error', reject);
  });
}

// eslint-disable-next-line @typescript-eslint/no-explicit-any
type Json = any;

describe('STAC clients: datasets, tiles and encodings', { skip }, () => {
  let api: TestApi;
  let worker: ChildHandle;
  let alice: TestUser;
  let work: string;
  let gdal = false;

  before(async () => {
    work = await fs.mkdtemp(path.join(os.tmpdir(), 'stac-clients-'));
    gdal = await hasGdal();
    [api, worker] = await Promise.all([startApi(), startWorker()]);
    alice = await createUser(api, 'alice');
  });
  after(async () => {
    await Promise.all([api?.close(), worker?.stop()]);
    if (work) await fs.rm(work, { recursive: true, force: true });
  });

  async function register(file: string, fields: Record<string, string>): Promise<Json> {
    // Other test files of the run may have registered the same fixture.
    const res = await upload(api, alice, file, path.basename(file), { ...fields, allow_duplicate: 'true' });
    const body = await json(res);
    assert.equal(res.status, 202, JSON.stringify(body));
    const done = await waitIngested(api, alice, body.id);
    assert.equal(done.status, 'ready', done.error);
    return done;
  }

  async function stacItem(dataset: Json, user?: TestUser): Promise<Json> {
    const res = await api.fetch(`/api/collections/${dataset.collection_id}/items/${dataset.id}`, { headers: user?.headers ?? {} });
    assert.equal(res.status, 200);
    return json(res);
  }

  describe('compression', () => {
    const cases: [string, string | undefined][] = [
      ['*', 'gzip'],
      ['gzip, deflate', 'gzip'],
      ['gzip, deflate, *', 'gzip'],
      ['br', 'br'],
      ['gzip, deflate, br', 'br'],
      ['gzip, br;q=0', 'gzip'],
      ['*, br;q=0', 'gzip'],
      ['gzip;q=0.5, br', 'br'],
      ['deflate', 'deflate'],
      ['identity', undefined],
    ];
    for (const [accept, expected] of cases) {
      it(`answers Accept-Encoding: ${accept} with ${expected ?? 'no encoding'}`, async () => {
        const res = await rawGet(`${api.baseUrl}/api/docs/openapi.json`, { 'Accept-Encoding': accept });
        assert.equal(res.status, 200);
        assert.equal(res.headers['content-encoding'], expected);
        assert.match(String(res.headers.vary), /Accept-Encoding/i);
        if (expected === 'gzip') assert.match(JSON.parse(gunzipSync(res.body).toString('utf8')).openapi, /^3\./);
        if (expected === undefined) assert.ok(res.body.length > COMPRESSION_THRESHOLD_BYTES, 'a body large enough to be compressed');
      });
    }

    it('sends small bodies (a STAC item, the conformance classes) as they are', async () => {
      const res = await rawGet(`${api.baseUrl}/api/conformance`, { 'Accept-Encoding': 'gzip, deflate, br' });
      assert.equal(res.status, 200);
      assert.equal(res.headers['content-encoding'], undefined);
      assert.ok(Array.isArray(JSON.parse(res.body.toString('utf8')).conformsTo));
    });
  });

  describe('map tiles outside the footprint', () => {
    let open: Json;
    let hidden: Json;
    before(async () => {
      open = await register(RGB, { title: 'Open RGB', visibility: Visibility.Anyone, collection: 'stac-clients tiles' });
      hidden = await register(RGB, { title: 'Private RGB', visibility: Visibility.OwnerOnly, collection: 'stac-clients private tiles' });
    });

    it('answers a transparent 256 px PNG, cached like the dataset’s other tiles', async () => {
      const [x, y] = tileOf(100, -40, 9);
      const far = await api.fetch(`/api/datasets/${open.id}/tiles/9/${x}/${y}.png`);
      assert.equal(far.status, 200);
      assert.equal(far.headers.get('content-type'), 'image/png');
      const png = await inspectPng(await far.arrayBuffer());
      assert.deepEqual([png.width, png.height, png.visible], [256, 256, 0]);
      const [ix, iy] = tileOf(-78.2, 24.8, 9);
      const inside = await api.fetch(`/api/datasets/${open.id}/tiles/9/${ix}/${iy}.png`);
      assert.equal(inside.status, 200);
      assert.ok((await inspectPng(await inside.arrayBuffer())).visible > 0, 'the tile over the data shows it');
      assert.equal(far.headers.get('cache-control'), inside.headers.get('cache-control'));
      assert.match(far.headers.get('cache-control')!, /^public/);
      // Far away at a low zoom too, and with the other resampling.
      assert.equal((await api.fetch(`/api/datasets/${open.id}/tiles/3/7/7.png?resampling=nearest`)).status, 200);
    });

    it('keeps a private dataset’s empty tiles private, and unknown or invisible datasets 404', async () => {
      const [x, y] = tileOf(100, -40, 9);
      const mine = await api.fetch(`/api/datasets/${hidden.id}/tiles/9/${x}/${y}.png`, { headers: alice.headers });
      assert.equal(mine.status, 200);
      assert.match(mine.headers.get('cache-control')!, /^private/);
      assert.match(mine.headers.get('vary') ?? '', /Authorization/);
      assert.equal((await inspectPng(await mine.arrayBuffer())).visible, 0);
      const anonymous = await api.fetch(`/api/datasets/${hidden.id}/tiles/9/${x}/${y}.png`);
      assert.equal(anonymous.status, 404);
      assert.equal(anonymous.headers.get('content-type')?.split(';')[0], 'application/json');
      assert.equal((await api.fetch(`/api/datasets/00000000-0000-4000-8000-000000000000/tiles/9/${x}/${y}.png`)).status, 404);
      assert.equal((await api.fetch(`/api/datasets/${open.id}/tiles/2/9/1.png`)).status, 400);
      assert.equal((await api.fetch(`/api/datasets/${open.id}/tiles/-1/0/0.png`)).status, 400);
    });
  });

  describe('acquisition time', () => {
    /** Files made by GDAL from RGB.byte.tif, each with its own time metadata. */
    const files: Record<string, string[]> = {
      acquired: ['-mo', 'ACQUISITIONDATETIME=2019-03-04T05:06:07Z'],
      tagged: ['-mo', 'TIFFTAG_DATETIME=2018:01:02 03:04:05'],
      interval: ['-mo', 'ACQUISITION_START_TIME=2020-06-01T10:00:00Z', '-mo', 'ACQUISITION_END_TIME=2020-06-01T10:05:00+00:00'],
    };
    const made: Record<string, Json> = {};
    let plain: Json;
    let collectionId: string;

    before(async () => {
      // A file without any time: its registration time, said so.
      plain = await register(RGB, { title: 'Undated', visibility: Visibility.Anyone, collection: 'stac-clients undated' });
      if (!gdal) return;
      for (const [name, options] of Object.entries(files)) {
        const out = path.join(work, `${name}.tif`);
        await run('gdal_translate', ['-q', '-outsize', '25%', '25%', '-co', 'COMPRESS=DEFLATE', ...options, RGB, out]);
        made[name] = await register(out, { title: `Dated ${name}`, visibility: Visibility.Anyone, collection: 'stac-clients dated' });
      }
      collectionId = made.acquired.collection_id;
    });

    it('says a file without a time is dated by its registration', async () => {
      const item = await stacItem(plain);
      assert.equal(item.properties['sightline:datetime_source'], 'registration');
      // The dataset's and its item's registration instants, written a moment apart in one transaction.
      assert.ok(Math.abs(Date.parse(item.properties.datetime) - Date.parse(item.properties.created)) < 1000, `${item.properties.datetime} is ${item.properties.created}`);
      assert.ok(Math.abs(Date.parse(item.properties.created) - Date.now()) < 10 * 60_000, 'created is when it was registered');
    });

    it('dates an item by the file’s GDAL metadata or TIFF DateTime (UTC), created staying its registration', async (t) => {
      if (!gdal) return t.skip(NO_GDAL);
      const acquired = await stacItem(made.acquired);
      assert.equal(acquired.properties.datetime, '2019-03-04T05:06:07Z');
      assert.equal(acquired.properties['sightline:datetime_source'], 'file');
      assert.ok(Date.parse(acquired.properties.created) > Date.parse('2024-01-01'));
      assert.equal(made.acquired.datetime, '2019-03-04T05:06:07.000Z', 'the dataset API says the same');

      const tagged = await stacItem(made.tagged);
      assert.equal(tagged.properties.datetime, '2018-01-02T03:04:05Z', 'TIFF DateTime, read as UTC');
      assert.equal(tagged.properties['sightline:datetime_source'], 'file');

      const interval = await stacItem(made.interval);
      assert.equal(interval.properties.start_datetime, '2020-06-01T10:00:00.000Z');
      assert.equal(interval.properties.end_datetime, '2020-06-01T10:05:00.000Z');
      assert.equal(interval.properties.datetime, '2020-06-01T10:00:00Z');

      // Searching by time finds them by the file's time.
      const found = await json(await api.fetch(`/api/search?collections=${collectionId}&datetime=2018-01-01T00:00:00Z/2018-12-31T00:00:00Z`));
      assert.deepEqual(
        found.features.map((f: Json) => f.id),
        [made.tagged.id],
      );
      const { validator, skipReason } = await stacValidator();
      if (!validator) return t.skip(skipReason);
      for (const item of [acquired, tagged, interval]) assert.deepEqual(await validator.validate(item, `item ${item.id}`), []);
    });

    it('shows the first item’s thumbnail on a dataset collection, and a sequence’s first picture still', async (t) => {
      if (!gdal) return t.skip(NO_GDAL);
      // Dataset items have no rank: the earliest (the TIFF-dated one, 2018) comes first.
      const collection = await json(await api.fetch(`/api/collections/${collectionId}`));
      assert.equal(collection.assets?.thumbnail?.href, `${api.baseUrl}/api/datasets/${made.tagged.id}/thumbnail.png`);
      assert.deepEqual(collection.assets.thumbnail.roles, ['thumbnail']);
      assert.equal(collection.assets.thumbnail.type, 'image/png');
      const thumb = await api.fetch(new URL(collection.assets.thumbnail.href).pathname);
      assert.equal(thumb.status, 200);
      const listed = await json(await api.fetch(`/api/collections?q=${encodeURIComponent('stac-clients dated')}&limit=100`));
      const card = listed.collections.find((c: Json) => c.id === collectionId);
      assert.equal(card?.assets?.thumbnail?.href, collection.assets.thumbnail.href, 'the collection list shows it too');

      const spot = randomSpot();
      const seq = await seedSequence(api, { ownerId: alice.id, visibility: Visibility.Anyone, pictures: pointsNorth(spot, 3) });
      const sequence = await json(await api.fetch(`/api/collections/${seq.collection.id}`));
      assert.equal(sequence.assets?.thumbnail?.href, `${api.baseUrl}/api/pictures/${seq.items[0]!.id}/thumb.jpg`);
    });
  });

  describe('GDAL STACIT', () => {
    // GDAL before 3.10 (Debian 12's 3.6) reads only proj:epsg: items carry it beside proj:code (projection v1.2.0).
    it('opens the items of a search with gdalinfo', async (t) => {
      if (!gdal) return t.skip(NO_GDAL);
      // The west and east halves of RGB.byte.tif, one item each: GDAL mosaics them back.
      const datasets: Json[] = [];
      for (const [name, window, time] of [
        ['gdal-west', ['0', '0', '395', '718'], '2017-05-06T07:08:09Z'],
        ['gdal-east', ['395', '0', '396', '718'], '2017-05-07T07:08:09Z'],
      ] as const) {
        const out = path.join(work, `${name}.tif`);
        await run('gdal_translate', ['-q', '-srcwin', ...window, '-co', 'COMPRESS=DEFLATE', '-mo', `ACQUISITIONDATETIME=${time}`, RGB, out]);
        datasets.push(await register(out, { title: `For GDAL ${name}`, visibility: Visibility.Anyone, collection: 'stac-clients gdal' }));
      }
      const item = await stacItem(datasets[0]);
      assert.equal(item.properties['proj:epsg'], 32618, 'GDAL before 3.10 needs proj:epsg');
      assert.equal(item.properties['proj:code'], 'EPSG:32618');
      const search = `${api.baseUrl}/api/search?collections=${datasets[0].collection_id}`;
      const { stdout } = await run('gdalinfo', [`STACIT:"${search}":asset=data`], { env: { ...process.env, GDAL_HTTP_TIMEOUT: '30' } });
      // A mosaic of the items' data assets (GDAL 3.6 reports the virtual raster it builds).
      assert.match(stdout, /^Driver: (STACIT|VRT)/m);
      for (const d of datasets) assert.ok(stdout.includes(`/vsicurl/${api.baseUrl}/api/datasets/${d.id}/data.tif`), `${d.id} in:\n${stdout.slice(0, 600)}`);
      assert.match(stdout, /ID\["EPSG",32618\]\]/);
      assert.match(stdout, /^Size is 791, 718$/m, 'the whole of RGB.byte.tif again');
      assert.match(stdout, /^Origin = \(101985\.0+,2826915\.0+\)$/m);
      assert.match(stdout, /^Band 3 /m);
    });
  });
});
