import assert from 'node:assert/strict';
import { existsSync, readdirSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import type pg from 'pg';
import sharp from 'sharp';
import { gpanoXmp, syntheticJpeg } from '../scripts/bench/ingest-images.js';
import { pictureKey, pictureTileKey } from '../src/pictures/picture-storage.js';
import { startApi, TestApi } from './support/app.js';
import { createUser, TestUser } from './support/auth.js';
import { testPool } from './support/db.js';
import { sharedPath } from './support/env.js';
import { json } from './support/net.js';
import { ChildHandle, startWorker } from './support/processes.js';
import { createUploadSet, getFiles, uploadPicture, waitUntilReady } from './upload-support.js';

const ORIENTATION_DIR = sharedPath('fixtures/photos/orientation');
const dataDir = process.env.DATA_DIR!;
const stored = (key: string) => path.join(dataDir, key);

/** Mean absolute difference of two images' grey levels, once brought to the same size. */
async function difference(a: Buffer | string, b: Buffer | string, width: number, height: number): Promise<number> {
  const grey = (x: Buffer | string) => sharp(x).rotate().resize(width, height, { fit: 'fill' }).greyscale().raw().toBuffer();
  const [pa, pb] = await Promise.all([grey(a), grey(b)]);
  let sum = 0;
  for (let i = 0; i < pa.length; i++) sum += Math.abs(pa[i]! - pb[i]!);
  return sum / pa.length;
}

describe('derivatives', () => {
  let api: TestApi;
  let worker: ChildHandle;
  let user: TestUser;
  let pool: pg.Pool;

  before(async () => {
    api = await startApi();
    worker = await startWorker();
    user = await createUser(api, 'photographer');
    pool = testPool();
  });
  after(async () => {
    await worker?.stop();
    await api?.close();
    await pool?.end();
  });

  it(
    'the 16 orientation photos: every sd and thumb is upright, with the right size',
    { skip: existsSync(ORIENTATION_DIR) ? false : `${ORIENTATION_DIR} is absent (../shared is not beside the project)` },
    async () => {
      const names = readdirSync(ORIENTATION_DIR).sort();
      assert.equal(names.length, 16);
      const set = await createUploadSet(api, user, { title: 'Orientations', estimated_nb_files: 16, no_deduplication: true });
      for (const [i, name] of names.entries()) {
        // The photos carry no position nor time: the overrides provide them.
        const res = await uploadPicture(api, user, set.id, path.join(ORIENTATION_DIR, name), {
          override_capture_time: new Date(Date.UTC(2024, 4, 1, 10, 0, i)).toISOString(),
          override_longitude: String(2.35 + i * 0.0001),
          override_latitude: '48.85',
        });
        assert.equal(res.status, 202, await res.clone().text());
      }
      await waitUntilReady(api, user, set.id);
      const files = await getFiles(api, user, set.id);
      for (const f of files) {
        const kind = f.file_name.startsWith('landscape') ? 'landscape' : 'portrait';
        const reference = path.join(ORIENTATION_DIR, `${kind}_1.jpg`);
        const [w, h] = kind === 'landscape' ? [600, 450] : [450, 600];
        const sd = await readFile(stored(pictureKey(f.picture_id, 'sd')));
        const thumb = await readFile(stored(pictureKey(f.picture_id, 'thumb')));
        const sdMeta = await sharp(sd).metadata();
        const thumbMeta = await sharp(thumb).metadata();
        // Smaller than 2048 px: no enlargement; the thumbnail is 500 px wide at most.
        assert.deepEqual([sdMeta.width, sdMeta.height], [w, h], `${f.file_name} sd size`);
        assert.deepEqual([thumbMeta.width, thumbMeta.height], kind === 'landscape' ? [500, 375] : [450, 600], `${f.file_name} thumb size`);
        assert.ok(!sdMeta.orientation || sdMeta.orientation === 1, `${f.file_name}: derivatives carry no rotation to apply`);
        const same = await difference(sd, reference, 120, 90);
        const flipped = await difference(sd, await sharp(reference).rotate(180).toBuffer(), 120, 90);
        assert.ok(same < 12, `${f.file_name} sd differs from the upright reference by ${same.toFixed(1)}`);
        assert.ok(flipped > same * 2, `${f.file_name}: the comparison tells orientations apart (${same.toFixed(1)} vs ${flipped.toFixed(1)})`);
        assert.ok((await difference(thumb, reference, 120, 90)) < 12, `${f.file_name} thumb is upright`);
      }
    },
  );

  it('a 360° picture: equirectangular, 8×4 tiles, a 500×300 centre thumbnail, 2048 px sd', async () => {
    const [width, height] = [4096, 2048];
    const data = await syntheticJpeg({ width, height, lon: 2.3, lat: 48.8, time: new Date('2024-06-01T10:00:00Z'), seed: 360, xmp: gpanoXmp(width, height) });
    const set = await createUploadSet(api, user, { title: 'Sphere', estimated_nb_files: 1 });
    const res = await uploadPicture(api, user, set.id, { name: 'sphere.jpg', data });
    assert.equal(res.status, 202, await res.clone().text());
    const id = (await json(res)).picture_id;
    await waitUntilReady(api, user, set.id);
    assert.deepEqual(
      await sharp(stored(pictureKey(id, 'thumb')))
        .metadata()
        .then((m) => [m.width, m.height]),
      [500, 300],
    );
    assert.deepEqual(
      await sharp(stored(pictureKey(id, 'sd')))
        .metadata()
        .then((m) => [m.width, m.height]),
      [2048, 1024],
    );
    for (let col = 0; col < 8; col++) {
      for (let row = 0; row < 4; row++) {
        const m = await sharp(stored(pictureTileKey(id, col, row))).metadata();
        assert.deepEqual([m.width, m.height], [512, 512], `tile ${col}_${row}`);
      }
    }
    assert.equal(existsSync(stored(pictureTileKey(id, 8, 0))), false, 'no ninth column');
    // The thumbnail is the centre of the panorama.
    const centre = await sharp(data).resize(2000, 1000).extract({ left: 750, top: 350, width: 500, height: 300 }).toBuffer();
    assert.ok((await difference(stored(pictureKey(id, 'thumb')), centre, 100, 60)) < 8);
    const { rows } = await pool.query(`SELECT properties FROM item WHERE id = $1`, [id]);
    const props = rows[0].properties;
    assert.equal(props['sightline:projection'], 'equirectangular');
    assert.deepEqual(props.tiles, { cols: 8, rows: 4, width, height });
    assert.equal(props['pers:interior_orientation'].field_of_view, 360);
    assert.deepEqual(props['pers:interior_orientation'].sensor_array_dimensions, [width, height]);
  });
});
