import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { existsSync } from 'node:fs';
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import type pg from 'pg';
import { writeTiff } from '../scripts/bench/datasets-tiff-writer.js';
import { GEOTIFF_DIR, inspectPng, listFiles, PROJ_DEFS, postJson, tiffTruth, tileOf, upload, waitIngested } from './datasets-support.js';
import { startApi, type TestApi } from './support/app.js';
import { createUser, type TestUser } from './support/auth.js';
import { testPool } from './support/db.js';
import { sharedPath } from './support/env.js';
import { stacValidator } from './support/stac-validate.js';
import { json, waitFor } from './support/net.js';
import { type ChildHandle, startWorker } from './support/processes.js';
import proj4 from 'proj4';

const skip = existsSync(GEOTIFF_DIR) ? false : `${GEOTIFF_DIR} is absent (../shared is not checked out beside the project)`;
const dataDir = process.env.DATA_DIR!;

describe('datasets: registry of GeoTIFFs', { skip }, () => {
  let api: TestApi;
  let worker: ChildHandle;
  let pool: pg.Pool;
  let alice: TestUser;
  let bob: TestUser;
  /** The operator: only administrators register files already on the server. */
  let admin: TestUser;
  let admin2: TestUser;
  let root: string;
  let outside: string;
  const ids: Record<string, string> = {};
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  const ready: Record<string, any> = {};

  before(async () => {
    root = await fs.mkdtemp(path.join(os.tmpdir(), 'datasets-root-'));
    outside = await fs.mkdtemp(path.join(os.tmpdir(), 'datasets-outside-'));
    const env = { DATASET_ROOTS: `${root},${GEOTIFF_DIR}`, RECONCILE_INTERVAL_SECONDS: '5' };
    [api, worker] = await Promise.all([startApi({ env }), startWorker(env)]);
    pool = testPool();
    alice = await createUser(api, 'alice');
    bob = await createUser(api, 'bob');
    [admin, admin2] = await Promise.all([createUser(api, 'operator', 'admin'), createUser(api, 'operator2', 'admin')]);
  });
  after(async () => {
    await Promise.all([api?.close(), worker?.stop(), pool?.end()]);
    await fs.rm(root, { recursive: true, force: true });
    await fs.rm(outside, { recursive: true, force: true });
  });

  const VALID = ['RGB.byte.tif', 'cogeo.tif', 'world.byte.tif', 'rgb1_fake_nir_epsg3857.tif', 'float32.tif', 'all-nodata.tif'];

  it('registers every valid fixture: 202 pending, then ready', async () => {
    for (const name of VALID) {
      const res = await upload(api, alice, path.join(GEOTIFF_DIR, name), name, { title: `Fixture ${name}` });
      const body = await json(res);
      assert.equal(res.status, 202, `${name}: ${JSON.stringify(body)}`);
      assert.equal(body.status, 'pending');
      assert.equal(res.headers.get('location'), body.links[0].href);
      const bytes = await fs.readFile(path.join(GEOTIFF_DIR, name));
      assert.equal(body.sha256, createHash('sha256').update(bytes).digest('hex'));
      assert.equal(body.checksum, `1220${body.sha256}`);
      assert.equal(body.size, bytes.length);
      ids[name] = body.id;
    }
    for (const name of VALID) {
      const body = await waitIngested(api, alice, ids[name]!);
      assert.equal(body.status, 'ready', `${name}: ${body.error}`);
      ready[name] = body;
    }
    assert.equal(ready['RGB.byte.tif'].crs, 'EPSG:32618');
    assert.equal(ready['rgb1_fake_nir_epsg3857.tif'].crs, 'EPSG:3857');
    assert.deepEqual([ready['RGB.byte.tif'].width, ready['RGB.byte.tif'].height, ready['RGB.byte.tif'].band_count], [791, 718, 3]);
    assert.deepEqual(
      ready['RGB.byte.tif'].bands.map((b: { data_type: string; nodata: number }) => [b.data_type, b.nodata]),
      [
        ['uint8', 0],
        ['uint8', 0],
        ['uint8', 0],
      ],
    );
    assert.equal(ready['cogeo.tif'].is_cog, true);
    assert.ok(ready['cogeo.tif'].overviews.length >= 3, 'cogeo.tif has overviews');
    assert.equal(ready['cogeo.tif'].has_mask, true);
    assert.ok(ready['cogeo.tif'].statistics_from.width < 1024, 'statistics come from an overview');
    assert.equal(ready['RGB.byte.tif'].is_cog, false);
    assert.equal(ready['float32.tif'].crs, null);
    assert.match(ready['float32.tif'].warnings.join(' '), /no coordinate reference system/);
    assert.equal(ready['float32.tif'].bands[0].data_type, 'float32');
    assert.match(ready['all-nodata.tif'].warnings.join(' '), /nodata/);
    assert.equal(ready['all-nodata.tif'].bands[0].statistics.valid_percent, 0);
    const stats = ready['RGB.byte.tif'].bands[0].statistics;
    assert.ok(stats.minimum >= 1 && stats.maximum <= 255 && stats.mean > 0 && stats.valid_percent > 50 && stats.valid_percent < 100, JSON.stringify(stats));
  });

  it('puts each footprint around the corners computed from the file’s own tags', async () => {
    for (const name of ['RGB.byte.tif', 'rgb1_fake_nir_epsg3857.tif', 'cogeo.tif', 'world.byte.tif']) {
      const truth = await tiffTruth(path.join(GEOTIFF_DIR, name));
      const res = await api.fetch(`/api/datasets/${ids[name]}/extent.geojson`);
      assert.equal(res.status, 200);
      assert.match(res.headers.get('content-type') ?? '', /application\/geo\+json/);
      const feature = await json(res);
      assert.equal(feature.type, 'Feature');
      const geometry = JSON.stringify(feature.geometry);
      // Centres of the corner pixels lie inside; the outer corners on the boundary (within 1e-6°).
      const inner = [truth.pixelCentre(0, 0), truth.pixelCentre(truth.width - 1, 0), truth.pixelCentre(truth.width - 1, truth.height - 1), truth.pixelCentre(0, truth.height - 1)];
      for (const [lon, lat] of inner) {
        const { rows } = await pool.query('SELECT ST_Covers(ST_SetSRID(ST_GeomFromGeoJSON($1), 4326), ST_SetSRID(ST_MakePoint($2, $3), 4326)) AS ok', [geometry, lon, lat]);
        assert.equal(rows[0].ok, true, `${name}: corner pixel centre ${lon},${lat} inside`);
      }
      for (const [lon, lat] of truth.corners()) {
        const { rows } = await pool.query('SELECT ST_Distance(ST_SetSRID(ST_GeomFromGeoJSON($1), 4326), ST_SetSRID(ST_MakePoint($2, $3), 4326)) AS d', [geometry, lon, lat]);
        assert.ok(rows[0].d < 1e-6, `${name}: corner ${lon},${lat} on the footprint (distance ${rows[0].d})`);
      }
      // A point well outside is not covered.
      const [lon0, lat0] = truth.toLonLat(truth.origin[0] - 50 * truth.scale[0], truth.origin[1] + 50 * truth.scale[1]);
      if (name !== 'world.byte.tif') {
        const { rows } = await pool.query('SELECT ST_Covers(ST_SetSRID(ST_GeomFromGeoJSON($1), 4326), ST_SetSRID(ST_MakePoint($2, $3), 4326)) AS ok', [geometry, lon0, lat0]);
        assert.equal(rows[0].ok, false);
      }
      await truth.close();
    }
    const notGeo = await api.fetch(`/api/datasets/${ids['float32.tif']}/extent.geojson`);
    assert.equal(notGeo.status, 404);
    assert.match((await json(notGeo)).message, /not georeferenced/);
  });

  it('samples every band at known pixel centres, with nodata as null', async () => {
    const cases: [string, [number, number][]][] = [
      [
        'RGB.byte.tif',
        [
          [395, 359],
          [120, 500],
          [700, 150],
          [0, 0],
        ],
      ],
      [
        'rgb1_fake_nir_epsg3857.tif',
        [
          [338, 340],
          [100, 600],
          [0, 0],
        ],
      ],
      [
        'cogeo.tif',
        [
          [10, 10],
          [512, 700],
          [1000, 1000],
        ],
      ],
    ];
    for (const [name, pixels] of cases) {
      const truth = await tiffTruth(path.join(GEOTIFF_DIR, name));
      for (const [col, row] of pixels) {
        const [lon, lat] = truth.pixelCentre(col, row);
        const res = await api.fetch(`/api/datasets/${ids[name]}/sample?lon=${lon}&lat=${lat}`);
        const body = await json(res);
        assert.equal(res.status, 200, JSON.stringify(body));
        const [s] = body.samples;
        assert.deepEqual([s.col, s.row], [col, row], `${name} pixel`);
        assert.deepEqual(s.values, await truth.values(col, row), `${name} at ${col},${row}`);
      }
      // The same points in one POST.
      const res = await postJson(api, undefined, `/api/datasets/${ids[name]}/sample`, {
        points: pixels.map(([c, r]) => ({ lon: truth.pixelCentre(c, r)[0], lat: truth.pixelCentre(c, r)[1] })).concat([{ lon: 0, lat: 0 }]),
      });
      const body = await json(res);
      assert.equal(res.status, 200);
      assert.equal(body.samples.length, pixels.length + 1);
      for (const [i, [c, r]] of pixels.entries()) assert.deepEqual(body.samples[i].values, await truth.values(c, r));
      assert.equal(body.samples[pixels.length].inside, false);
      assert.equal(body.samples[pixels.length].values, null);
      await truth.close();
    }
    assert.equal((await api.fetch(`/api/datasets/${ids['RGB.byte.tif']}/sample?lon=0&lat=0`)).status, 400, 'a point off the raster');
    const nodata = await json(await api.fetch(`/api/datasets/${ids['all-nodata.tif']}/sample?lon=-16.465&lat=14.47`));
    assert.deepEqual(nodata.samples[0].values, [null, null, null, null]);
    const tooMany = await postJson(api, undefined, `/api/datasets/${ids['RGB.byte.tif']}/sample`, { points: Array.from({ length: 1001 }, () => ({ lon: -77, lat: 24 })) });
    assert.equal(tooMany.status, 400);
    const noCrs = await api.fetch(`/api/datasets/${ids['float32.tif']}/sample?lon=0&lat=0`);
    assert.equal(noCrs.status, 400);
  });

  it('renders thumbnails of the right size that are not blank', async () => {
    for (const name of ['RGB.byte.tif', 'cogeo.tif', 'world.byte.tif', 'rgb1_fake_nir_epsg3857.tif', 'float32.tif']) {
      const d = ready[name];
      const size = 128;
      const res = await api.fetch(`/api/datasets/${d.id}/thumbnail.png?size=${size}`);
      assert.equal(res.status, 200);
      assert.equal(res.headers.get('content-type'), 'image/png');
      const png = await inspectPng(await res.arrayBuffer());
      const scale = Math.min(1, size / Math.max(d.width, d.height));
      assert.deepEqual([png.width, png.height], [Math.max(1, Math.round(d.width * scale)), Math.max(1, Math.round(d.height * scale))], name);
      assert.ok(png.varied, `${name}: the thumbnail shows something`);
      // Second request: served from the cache, same bytes.
      const again = await api.fetch(`/api/datasets/${d.id}/thumbnail.png?size=${size}`);
      assert.equal(
        Buffer.compare(Buffer.from(await again.arrayBuffer()), Buffer.from(await (await api.fetch(`/api/datasets/${d.id}/thumbnail.png?size=${size}`)).arrayBuffer())),
        0,
      );
    }
    assert.ok(
      listFiles(path.join(dataDir, 'datasets', ids['RGB.byte.tif']!)).some((f) => f.startsWith('cache/') && f.endsWith('thumbnail-128.png')),
      'cached in storage',
    );
    // RGB.byte.tif's nodata border is transparent.
    const rgb = await inspectPng(await (await api.fetch(`/api/datasets/${ids['RGB.byte.tif']}/thumbnail.png`)).arrayBuffer());
    assert.ok(rgb.visible < rgb.width * rgb.height * 0.9 && rgb.visible > rgb.width * rgb.height * 0.4, `nodata transparent (${rgb.visible} of ${rgb.width * rgb.height})`);
    assert.equal((await api.fetch(`/api/datasets/${ids['RGB.byte.tif']}/thumbnail.png?size=5000`)).status, 400);
  });

  it('serves Web Mercator tiles over the footprint and transparent ones outside it', async () => {
    for (const [name, z] of [
      ['RGB.byte.tif', 9],
      ['rgb1_fake_nir_epsg3857.tif', 8],
      ['cogeo.tif', 16],
      ['world.byte.tif', 2],
    ] as const) {
      const truth = await tiffTruth(path.join(GEOTIFF_DIR, name));
      const [lon, lat] = truth.pixelCentre(Math.floor(truth.width / 2), Math.floor(truth.height / 2));
      await truth.close();
      const [x, y] = tileOf(lon, lat, z);
      const res = await api.fetch(`/api/datasets/${ids[name]}/tiles/${z}/${x}/${y}.png`);
      assert.equal(res.status, 200, `${name} ${z}/${x}/${y}`);
      const png = await inspectPng(await res.arrayBuffer());
      assert.deepEqual([png.width, png.height], [256, 256]);
      assert.ok(png.varied, `${name}: the tile shows something`);
      const nearest = await api.fetch(`/api/datasets/${ids[name]}/tiles/${z}/${x}/${y}.png?resampling=nearest`);
      assert.equal(nearest.status, 200);
    }
    const [x, y] = tileOf(100, -40, 9);
    const far = await api.fetch(`/api/datasets/${ids['RGB.byte.tif']}/tiles/9/${x}/${y}.png`);
    assert.equal(far.status, 200, 'a map asks for every tile in view: outside the footprint, a transparent one');
    assert.equal((await inspectPng(await far.arrayBuffer())).visible, 0);
    assert.equal((await api.fetch(`/api/datasets/${ids['RGB.byte.tif']}/tiles/2/9/1.png`)).status, 400);
    assert.equal((await api.fetch(`/api/datasets/${ids['float32.tif']}/tiles/0/0/0.png`)).status, 404);
  });

  it('publishes STAC items that validate (projection, raster, file, web-map-links)', async (t) => {
    const items = [];
    for (const name of VALID) {
      const d = ready[name];
      const { rows } = await pool.query('SELECT id, collection_id, status, datetime, ST_AsGeoJSON(geom, 9)::json AS geometry, properties, assets FROM item WHERE id = $1', [d.id]);
      const row = rows[0];
      assert.equal(row.status, 'ready');
      assert.equal(row.assets.data['file:checksum'], `1220${d.sha256}`);
      assert.equal(row.assets.data['file:size'], d.size);
      assert.equal(row.assets.thumbnail.href, `datasets/${d.id}/thumbnail.png`);
      assert.equal(row.assets.data.href, `datasets/${d.id}/data.tif`);
      // As STAC clients read it: through the STAC API.
      const res = await api.fetch(`/api/collections/${row.collection_id}/items/${d.id}`, { headers: alice.headers });
      assert.equal(res.status, 200);
      items.push(await json(res));
    }
    const rgb = items[0] as { properties: Record<string, unknown>; assets: Record<string, Record<string, unknown>>; links: { rel: string; href: string }[] };
    assert.equal(rgb.properties['proj:code'], 'EPSG:32618');
    assert.deepEqual(rgb.properties['proj:shape'], [718, 791]);
    assert.equal((rgb.properties['proj:transform'] as number[])[2], 101985);
    assert.equal(rgb.assets.data!.type, 'image/tiff; application=geotiff');
    assert.equal((items[1] as typeof rgb).assets.data!.type, 'image/tiff; application=geotiff; profile=cloud-optimized');
    assert.ok(rgb.links.some((l) => l.rel === 'xyz' && l.href.endsWith(`/api/datasets/${ready['RGB.byte.tif'].id}/tiles/{z}/{x}/{y}.png`)));
    // With an item the validator must refuse, to show it does check.
    const bad = structuredClone(rgb);
    bad.assets.data!['file:checksum'] = 'not-hex';
    const { validator, skipReason } = await stacValidator();
    if (!validator) return t.skip(skipReason);
    for (const item of items) assert.deepEqual(await validator.validate(item, `item ${(item as { id: string }).id}`), []);
    assert.notDeepEqual(await validator.validate(bad, 'broken item', { count: false }), [], 'the validator refuses a broken checksum');
  });

  it('refuses bad files with a clear answer and leaves nothing behind', async () => {
    const before = listFiles(path.join(dataDir, 'datasets'));
    const count = async () => (await json(await api.fetch('/api/datasets?owner=me&limit=1000', { headers: alice.headers }))).total;
    const n0 = await count();
    const jpeg = sharedPath('fixtures', 'photos', 'gps', 'DSCN0010.jpg');
    const zero = path.join(outside, 'zero-bands.tif');
    await writeTiff(zero, { width: 4, height: 4, bands: 0, dataType: 'uint8', pixel: () => 0 });
    const single = path.join(outside, 'one-pixel.tif');
    await writeTiff(single, { width: 1, height: 1, bands: 1, dataType: 'uint8', geo: { epsg: 4326, geographic: true, transform: [1, 0, 10, 0, -1, 50] }, pixel: () => 7 });
    const cases: [string, Buffer, number, RegExp][] = [
      ['photo.tif', await fs.readFile(jpeg), 415, /not a TIFF.*JPEG/],
      ['empty.tif', Buffer.alloc(0), 400, /empty/],
      ['zero-bands.tif', await fs.readFile(zero), 422, /no bands/],
      ['one-pixel.tif', await fs.readFile(single), 422, /1×1/],
      ['truncated.tif', (await fs.readFile(path.join(GEOTIFF_DIR, 'RGB.byte.tif'))).subarray(0, 6), 422, /header/],
    ];
    for (const [name, bytes, status, message] of cases) {
      const res = await upload(api, alice, bytes, name);
      const body = await json(res);
      assert.equal(res.status, status, `${name}: ${JSON.stringify(body)}`);
      assert.match(body.message, message, name);
      assert.equal(body.statusCode, status);
    }
    // Not multipart, no file, an unknown field.
    assert.equal((await postJson(api, alice, '/api/datasets', { title: 'x' })).status, 415);
    const form = new FormData();
    form.append('title', 'no file');
    assert.equal((await api.fetch('/api/datasets', { method: 'POST', headers: alice.headers, body: form })).status, 400);
    const unknown = await upload(api, alice, path.join(GEOTIFF_DIR, 'float32.tif'), 'f.tif', { colour: 'red', allow_duplicate: 'true' });
    assert.equal(unknown.status, 400);
    assert.equal((await upload(api, undefined, path.join(GEOTIFF_DIR, 'float32.tif'), 'f.tif')).status, 401);
    // Files refused by the validation pipe are removed once the response is sent.
    await waitFor('storage to be as before', async () => JSON.stringify(listFiles(path.join(dataDir, 'datasets'))) === JSON.stringify(before), 5000).catch(() => undefined);
    assert.deepEqual(listFiles(path.join(dataDir, 'datasets')), before, 'no file left in storage');
    assert.deepEqual(listFiles(path.join(dataDir, 'tmp', 'writes')), [], 'no partial write left');
    assert.equal(await count(), n0, 'no dataset registered');

    // A TIFF whose header is fine but whose tiles are not: accepted, then broken with the reason.
    const res = await upload(api, alice, path.join(GEOTIFF_DIR, 'corrupt.tif'), 'corrupt.tif', { allow_duplicate: 'true' });
    assert.equal(res.status, 202);
    const corrupt = await waitIngested(api, alice, (await json(res)).id);
    assert.equal(corrupt.status, 'broken');
    assert.match(corrupt.error, /damaged or truncated.*tile 4 of the full-resolution image/);
    const { rows } = await pool.query('SELECT status, geom, properties FROM item WHERE id = $1', [corrupt.id]);
    assert.deepEqual([rows[0].status, rows[0].geom], ['broken', null], 'nothing published');
    assert.equal((await api.fetch(`/api/datasets/${corrupt.id}`, { headers: bob.headers })).status, 404, 'broken datasets are their owner’s');
    assert.equal((await api.fetch(`/api/datasets/${corrupt.id}/thumbnail.png`, { headers: alice.headers })).status, 409);
    // Its owner may have it read again (same outcome for the same bytes); nobody else may.
    assert.equal((await api.fetch(`/api/datasets/${corrupt.id}/ingest`, { method: 'POST', headers: bob.headers })).status, 404);
    const retry = await api.fetch(`/api/datasets/${corrupt.id}/ingest`, { method: 'POST', headers: alice.headers });
    assert.equal(retry.status, 202);
    assert.equal((await json(retry)).status, 'pending');
    const again = await waitIngested(api, alice, corrupt.id);
    assert.equal(again.status, 'broken');
    assert.match(again.error, /damaged/);
  });

  it('answers 413 past DATASET_MAX_BYTES and keeps nothing; 403 for from-path without roots', async () => {
    const small = await startApi({ env: { DATASET_MAX_BYTES: '200000', DATASET_ROOTS: '' } });
    try {
      const user = await createUser(small, 'carol');
      const operator = await createUser(small, 'carol-admin', 'admin');
      const before = listFiles(path.join(dataDir, 'datasets'));
      const res = await upload(small, user, path.join(GEOTIFF_DIR, 'RGB.byte.tif'), 'RGB.byte.tif');
      assert.equal(res.status, 413);
      const body = await json(res);
      assert.equal(body.details.limit, 200000);
      assert.deepEqual(listFiles(path.join(dataDir, 'datasets')), before);
      assert.deepEqual(listFiles(path.join(dataDir, 'tmp', 'writes')), []);
      const fromPath = await postJson(small, operator, '/api/datasets/from-path', { path: path.join(GEOTIFF_DIR, 'RGB.byte.tif') });
      assert.equal(fromPath.status, 403);
    } finally {
      await small.close();
    }
  });

  it('answers 409 for the same file twice, registers it with allow_duplicate, and lists the duplicates', async () => {
    const again = await upload(api, alice, path.join(GEOTIFF_DIR, 'RGB.byte.tif'), 'copy.tif');
    assert.equal(again.status, 409);
    const conflict = await json(again);
    assert.equal(conflict.details.existing_id, ids['RGB.byte.tif']);
    // Bob sees Alice's public dataset: he gets the 409 too.
    assert.equal((await upload(api, bob, path.join(GEOTIFF_DIR, 'RGB.byte.tif'), 'mine.tif')).status, 409);
    const forced = await upload(api, bob, path.join(GEOTIFF_DIR, 'RGB.byte.tif'), 'mine.tif', { allow_duplicate: 'true', title: 'Bob’s copy' });
    assert.equal(forced.status, 202);
    const copy = await waitIngested(api, bob, (await json(forced)).id);
    assert.equal(copy.status, 'ready');
    const dups = await json(await api.fetch('/api/datasets/duplicates'));
    const group = dups.items.find((g: { sha256: string }) => g.sha256 === ready['RGB.byte.tif'].sha256);
    assert.ok(group, JSON.stringify(dups));
    assert.deepEqual(
      group.datasets.map((d: { id: string }) => d.id),
      [ids['RGB.byte.tif'], copy.id],
    );
    assert.equal(group.count, 2);
    ids.bobCopy = copy.id;
  });

  it('publishes the license chosen at upload, keeps it across a re-read, and lets the owner change it', async () => {
    const res = await upload(api, alice, path.join(GEOTIFF_DIR, 'RGB.byte.tif'), 'licensed.tif', { allow_duplicate: 'true', license: 'CC0-1.0' });
    assert.equal(res.status, 202, await res.clone().text());
    const id = (await json(res)).id;
    const ready = await waitIngested(api, alice, id);
    const item = async () => json(await api.fetch(`/api/collections/${ready.collection_id}/items/${id}`, { headers: alice.headers }));
    assert.equal((await item()).properties.license, 'CC0-1.0');
    assert.equal((await postJson(api, alice, `/api/datasets/${id}/ingest`, {})).status, 202);
    await waitIngested(api, alice, id);
    assert.equal((await item()).properties.license, 'CC0-1.0', 'a re-read keeps the license');
    assert.equal((await postJson(api, alice, `/api/datasets/${id}`, { license: 'CC-BY-4.0' }, 'PATCH')).status, 200);
    assert.equal((await item()).properties.license, 'CC-BY-4.0');
    const bad = await upload(api, alice, path.join(GEOTIFF_DIR, 'RGB.byte.tif'), 'bad.tif', { allow_duplicate: 'true', license: 'no licence here' });
    assert.equal(bad.status, 400);
    assert.equal((await api.fetch(`/api/datasets/${id}`, { method: 'DELETE', headers: alice.headers })).status, 204);
  });

  it('registers files from DATASET_ROOTS where they are, and refuses every escape', async () => {
    // A raster across the antimeridian (UTM zone 60N, 178°E to about 176°W), written here.
    const crossing = path.join(root, 'pacific', 'crossing.tif');
    await fs.mkdir(path.dirname(crossing), { recursive: true });
    const pixel = (b: number, c: number, r: number) => (b === 0 ? 1 + (c % 250) : 1 + (r % 250));
    await writeTiff(crossing, {
      width: 600,
      height: 400,
      bands: 2,
      dataType: 'uint8',
      tile: 256,
      compression: 'deflate',
      overviews: [2, 4],
      nodata: '0',
      geo: { epsg: 32660, transform: [500, 0, 550_000, 0, -500, 7_000_000] },
      pixel,
    });
    // The operator's files: a user may not register them.
    const refused = await postJson(api, alice, '/api/datasets/from-path', { path: 'pacific/crossing.tif' });
    assert.equal(refused.status, 403);
    assert.equal((await json(refused)).statusCode, 403);
    const res = await postJson(api, admin, '/api/datasets/from-path', { path: 'pacific/crossing.tif', title: 'Across the antimeridian', visibility: 'owner-only' });
    const body = await json(res);
    assert.equal(res.status, 202, JSON.stringify(body));
    assert.equal(body.source, 'path');
    assert.match(body.sha256, /^[0-9a-f]{64}$/, 'hashed while the registration is answered');
    const d = await waitIngested(api, admin, body.id);
    assert.equal(d.status, 'ready', d.error);
    assert.equal(
      d.sha256,
      createHash('sha256')
        .update(await fs.readFile(crossing))
        .digest('hex'),
    );
    assert.ok(existsSync(crossing), 'the file stays where it is');
    assert.deepEqual(
      listFiles(path.join(dataDir, 'datasets', d.id)).filter((f) => f.endsWith('.tif')),
      [],
      'not copied',
    );

    // The path is registered once, whoever registered it and however private it is: another
    // registration could otherwise publish the first registrant's private file.
    for (const who of [admin, admin2]) {
      const twice = await postJson(api, who, '/api/datasets/from-path', { path: crossing, visibility: 'anyone' });
      assert.equal(twice.status, 409, who.name);
      assert.equal((await json(twice)).details.existing_id, d.id);
    }
    assert.equal((await api.fetch(`/api/datasets/${d.id}/data.tif`)).status, 404, 'still private');
    await api.fetch(`/api/datasets/${d.id}`, {
      method: 'PATCH',
      headers: { ...admin.headers, 'content-type': 'application/json' },
      body: JSON.stringify({ visibility: 'anyone' }),
    });
    assert.equal((await json(await api.fetch(`/api/datasets/${d.id}`, { headers: alice.headers }))).path, undefined, 'server paths are shown to admins only');

    const feature = await json(await api.fetch(`/api/datasets/${d.id}/extent.geojson`));
    assert.equal(feature.geometry.type, 'MultiPolygon');
    assert.ok(feature.bbox[0] > feature.bbox[2], 'bbox crosses the antimeridian');
    const utm = proj4(PROJ_DEFS[32660]!, PROJ_DEFS[4326]!);
    const centre = (c: number, r: number) => utm.forward([550_000 + (c + 0.5) * 500, 7_000_000 - (r + 0.5) * 500]) as [number, number];
    for (const [c, r] of [
      [0, 0],
      [599, 0],
      [599, 399],
      [0, 399],
    ]) {
      let [lon, lat] = centre(c, r);
      lon = ((lon + 540) % 360) - 180;
      const { rows } = await pool.query('SELECT ST_Covers(ST_SetSRID(ST_GeomFromGeoJSON($1), 4326), ST_SetSRID(ST_MakePoint($2, $3), 4326)) AS ok', [
        JSON.stringify(feature.geometry),
        lon,
        lat,
      ]);
      assert.equal(rows[0].ok, true, `corner pixel ${c},${r} at ${lon},${lat}`);
    }
    // Samples on both sides of 180°, and tiles on both sides.
    const points = [
      [10, 10],
      [590, 390],
      [300, 200],
    ].map(([c, r]) => {
      const [lon, lat] = centre(c!, r!);
      return { lon: ((lon + 540) % 360) - 180, lat, expected: [pixel(0, c!, r!), pixel(1, c!, r!)] };
    });
    assert.ok(points.some((p) => p.lon > 0) && points.some((p) => p.lon < 0));
    const sampled = await json(await postJson(api, undefined, `/api/datasets/${d.id}/sample`, { points: points.map(({ lon, lat }) => ({ lon, lat })) }));
    assert.deepEqual(
      sampled.samples.map((s: { values: number[] }) => s.values),
      points.map((p) => p.expected),
    );
    for (const p of points.slice(0, 2)) {
      const [x, y] = tileOf(p.lon, p.lat, 5);
      const tile = await api.fetch(`/api/datasets/${d.id}/tiles/5/${x}/${y}.png`);
      assert.equal(tile.status, 200);
      assert.ok((await inspectPng(await tile.arrayBuffer())).visible > 0);
    }

    // The same content under another path → 409 at once, like an upload, naming the existing dataset.
    const sameContent = await postJson(api, admin, '/api/datasets/from-path', { path: path.join(GEOTIFF_DIR, 'RGB.byte.tif') });
    assert.equal(sameContent.status, 409);
    assert.equal((await json(sameContent)).details.existing_id, ids['RGB.byte.tif']);

    // Escapes.
    await fs.writeFile(path.join(outside, 'secret.tif'), 'II*\0 not for you');
    await fs.symlink(path.join(outside, 'secret.tif'), path.join(root, 'link.tif'));
    await fs.symlink(outside, path.join(root, 'linked-dir'));
    const escapes: [string, RegExp][] = [
      ['../etc/passwd', /\.\./],
      ['pacific/../../etc/passwd', /\.\./],
      [`${root}/../${path.basename(outside)}/secret.tif`, /\.\./],
      ['/etc/passwd', /outside/],
      [path.join(outside, 'secret.tif'), /outside/],
      ['link.tif', /symbolic link/],
      [path.join(root, 'link.tif'), /symbolic link/],
      ['linked-dir/secret.tif', /symbolic link/],
      ['no/such/file.tif', /No such file/],
      ['pacific', /not a regular file/],
    ];
    for (const [p, message] of escapes) {
      const r = await postJson(api, admin, '/api/datasets/from-path', { path: p });
      const b = await json(r);
      assert.equal(r.status, 400, `${p}: ${JSON.stringify(b)}`);
      assert.match(b.message, message, p);
    }
    assert.equal((await postJson(api, undefined, '/api/datasets/from-path', { path: 'pacific/crossing.tif' })).status, 401);
    ids.crossing = d.id;
  });

  it('applies visibility to every route', async () => {
    const res = await upload(api, alice, path.join(GEOTIFF_DIR, 'rgb1_fake_nir_epsg3857.tif'), 'private.tif', {
      visibility: 'owner-only',
      allow_duplicate: 'true',
      title: 'Private',
    });
    const d = await waitIngested(api, alice, (await json(res)).id);
    assert.equal(d.status, 'ready');
    assert.equal(d.visibility, 'owner-only');
    // A private file never sits in a shared cache.
    const privateFile = await api.fetch(`/api/datasets/${d.id}/data.tif`, { headers: { ...alice.headers, range: 'bytes=0-15' } });
    assert.equal(privateFile.status, 206);
    assert.match(privateFile.headers.get('cache-control') ?? '', /^private/);
    assert.match(privateFile.headers.get('vary') ?? '', /Authorization/);
    await privateFile.arrayBuffer();
    const publicFile = await api.fetch(`/api/datasets/${ids['RGB.byte.tif']}/data.tif`, { headers: { range: 'bytes=0-15' } });
    assert.match(publicFile.headers.get('cache-control') ?? '', /^public/);
    await publicFile.arrayBuffer();
    const routes = ['', '/extent.geojson', '/thumbnail.png', '/tiles/8/72/109.png', '/sample?lon=-78&lat=25', '/data.tif'];
    for (const r of routes) {
      assert.equal((await api.fetch(`/api/datasets/${d.id}${r}`)).status, 404, `anonymous ${r}`);
      assert.equal((await api.fetch(`/api/datasets/${d.id}${r}`, { headers: bob.headers })).status, 404, `bob ${r}`);
      assert.notEqual((await api.fetch(`/api/datasets/${d.id}${r}`, { headers: alice.headers })).status, 404, `alice ${r}`);
    }
    const anonymous = await json(await api.fetch('/api/datasets?limit=1000'));
    assert.ok(!anonymous.items.some((x: { id: string }) => x.id === d.id));
    assert.ok((await json(await api.fetch('/api/datasets?limit=1000', { headers: alice.headers }))).items.some((x: { id: string }) => x.id === d.id));
    // Bob may read Alice's public dataset but not change or delete it.
    assert.equal((await postJson(api, bob, `/api/datasets/${ids['cogeo.tif']}`, { title: 'mine' }, 'PATCH')).status, 403);
    assert.equal((await api.fetch(`/api/datasets/${ids['cogeo.tif']}`, { method: 'DELETE', headers: bob.headers })).status, 403);
    assert.equal((await postJson(api, bob, `/api/datasets/${d.id}`, { title: 'mine' }, 'PATCH')).status, 404);
    // Making it public.
    const patched = await json(await postJson(api, alice, `/api/datasets/${d.id}`, { visibility: 'anyone', title: 'Now public', description: 'A fake NIR band' }, 'PATCH'));
    assert.deepEqual([patched.visibility, patched.title, patched.description], ['anyone', 'Now public', 'A fake NIR band']);
    assert.equal((await api.fetch(`/api/datasets/${d.id}`)).status, 200);
    const { rows } = await pool.query('SELECT properties FROM item WHERE id = $1', [d.id]);
    assert.equal(rows[0].properties.title, 'Now public');
    assert.equal((await postJson(api, alice, `/api/datasets/${d.id}`, { title: 'x', colour: 'red' }, 'PATCH')).status, 400);
    ids.private = d.id;
  });

  it('lists with paging, text search, bbox, crs, datetime and sort', async () => {
    const page = await json(await api.fetch('/api/datasets?limit=2&sort=title'));
    assert.equal(page.items.length, 2);
    assert.ok(page.total >= 8);
    assert.ok(page.links.some((l: { rel: string }) => l.rel === 'next'));
    assert.ok(page.items[0].title.toLowerCase() <= page.items[1].title.toLowerCase());
    const q = await json(await api.fetch('/api/datasets?q=cogeo'));
    assert.deepEqual(
      q.items.map((x: { id: string }) => x.id),
      [ids['cogeo.tif']],
    );
    const bahamas = await json(await api.fetch('/api/datasets?bbox=-78.5,24,-77.5,25&limit=100'));
    const found = bahamas.items.map((x: { id: string }) => x.id);
    assert.ok(found.includes(ids['RGB.byte.tif']) && found.includes(ids['rgb1_fake_nir_epsg3857.tif']));
    assert.ok(!found.includes(ids['cogeo.tif']));
    const across = await json(await api.fetch('/api/datasets?bbox=179,60,-179,64'));
    assert.ok(
      across.items.some((x: { id: string }) => x.id === ids.crossing),
      'a bbox across the antimeridian',
    );
    const utm = await json(await api.fetch('/api/datasets?crs=32618&limit=100'));
    assert.ok(utm.items.length >= 1 && utm.items.every((x: { crs: string }) => x.crs === 'EPSG:32618'));
    const future = await json(await api.fetch('/api/datasets?datetime=2999-01-01T00:00:00Z/..'));
    assert.equal(future.total, 0);
    const nodataDate = await json(await api.fetch('/api/datasets?datetime=2022-01-17T00:00:00Z/2022-01-18T00:00:00Z'));
    assert.deepEqual(
      nodataDate.items.map((x: { id: string }) => x.id),
      [ids['all-nodata.tif']],
      'the TIFF DateTime of all-nodata.tif',
    );
    const largest = await json(await api.fetch('/api/datasets?sort=-size&limit=1'));
    assert.ok(largest.items[0].size >= ready['RGB.byte.tif'].size);
    for (const bad of ['bbox=1,2,3', 'bbox=0,10,1,5', 'datetime=yesterday', 'crs=WGS84', 'sort=colour', 'limit=0', 'status=lost']) {
      assert.equal((await api.fetch(`/api/datasets?${bad}`)).status, 400, bad);
    }
    assert.equal((await api.fetch('/api/datasets?owner=me')).status, 400);
  });

  it('downloads the file with byte ranges', async () => {
    const id = ids['cogeo.tif']!;
    const bytes = await fs.readFile(path.join(GEOTIFF_DIR, 'cogeo.tif'));
    const full = await api.fetch(`/api/datasets/${id}/data.tif`);
    assert.equal(full.status, 200);
    assert.equal(full.headers.get('content-type'), 'image/tiff; application=geotiff; profile=cloud-optimized');
    assert.equal(full.headers.get('accept-ranges'), 'bytes');
    assert.equal(Buffer.compare(Buffer.from(await full.arrayBuffer()), bytes), 0);
    const part = await api.fetch(`/api/datasets/${id}/data.tif`, { headers: { range: 'bytes=100-199' } });
    assert.equal(part.status, 206);
    assert.equal(part.headers.get('content-range'), `bytes 100-199/${bytes.length}`);
    assert.equal(Buffer.compare(Buffer.from(await part.arrayBuffer()), bytes.subarray(100, 200)), 0);
    const tail = await api.fetch(`/api/datasets/${id}/data.tif`, { headers: { range: 'bytes=-10' } });
    assert.equal(Buffer.compare(Buffer.from(await tail.arrayBuffer()), bytes.subarray(bytes.length - 10)), 0);
    const beyond = await api.fetch(`/api/datasets/${id}/data.tif`, { headers: { range: `bytes=${bytes.length}-` } });
    assert.equal(beyond.status, 416);
    assert.equal(beyond.headers.get('content-range'), `bytes */${bytes.length}`);
    // A registered file is served from where it is.
    const crossing = await api.fetch(`/api/datasets/${ids.crossing}/data.tif`, { headers: { range: 'bytes=0-3' } });
    assert.deepEqual([...Buffer.from(await crossing.arrayBuffer())], [0x49, 0x49, 42, 0]);
  });

  it('deletes datasets: uploads with their files, registered files only when asked', async () => {
    const copy = ids.bobCopy!;
    assert.ok(existsSync(path.join(dataDir, 'datasets', copy, 'data.tif')));
    assert.equal((await api.fetch(`/api/datasets/${copy}`, { method: 'DELETE', headers: bob.headers })).status, 204);
    assert.equal((await api.fetch(`/api/datasets/${copy}`, { headers: bob.headers })).status, 404);
    assert.equal(existsSync(path.join(dataDir, 'datasets', copy)), false, 'file and cache removed');
    assert.equal((await pool.query('SELECT 1 FROM item WHERE id = $1', [copy])).rowCount, 0);
    const dups = await json(await api.fetch('/api/datasets/duplicates'));
    assert.ok(!dups.items.some((g: { sha256: string }) => g.sha256 === ready['RGB.byte.tif'].sha256), 'no longer a duplicate');

    const crossing = path.join(root, 'pacific', 'crossing.tif');
    // A user never deletes the operator's files, even from a dataset of theirs.
    await pool.query('UPDATE item SET owner_id = $1 WHERE id = $2', [alice.id, ids.crossing]);
    const userDelete = await api.fetch(`/api/datasets/${ids.crossing}?delete_file=true`, { method: 'DELETE', headers: alice.headers });
    assert.equal(userDelete.status, 403);
    assert.match((await json(userDelete)).message, /administrator/);
    assert.ok(existsSync(crossing));
    assert.equal((await api.fetch(`/api/datasets/${ids.crossing}?delete_file=true`, { method: 'DELETE', headers: admin.headers })).status, 204);
    assert.equal(existsSync(crossing), false, 'the registered file was deleted on request');
    const kept = await postJson(api, admin, '/api/datasets/from-path', { path: 'cogeo.tif', allow_duplicate: true });
    const keptId = (await json(kept)).id;
    await waitIngested(api, admin, keptId);
    assert.equal((await api.fetch(`/api/datasets/${keptId}`, { method: 'DELETE', headers: admin.headers })).status, 204);
    assert.ok(existsSync(path.join(GEOTIFF_DIR, 'cogeo.tif')), 'registered files stay by default');
  });
});
