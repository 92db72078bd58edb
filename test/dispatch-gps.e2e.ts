import assert from 'node:assert/strict';
import { existsSync, readdirSync } from 'node:fs';
import { after, before, describe, it } from 'node:test';
import type pg from 'pg';
import { startApi, TestApi } from './support/app.js';
import { createUser, TestUser } from './support/auth.js';
import { testPool } from './support/db.js';
import { sharedPath } from './support/env.js';
import { json } from './support/net.js';
import { ChildHandle, startWorker } from './support/processes.js';
import { createUploadSet, getFiles, getUploadSet, uploadPicture, waitUntilReady } from './upload-support.js';

const GPS_DIR = sharedPath('fixtures/photos/gps');
const skip = existsSync(GPS_DIR) ? false : `${GPS_DIR} is absent (../shared is not beside the project): no real photos to dispatch`;

/*
 * The nine photos of one walk (2008-10-22), as their EXIF says (GPS clock; the GPS date stamp
 * says 10-23 and is repaired from the camera date):
 *
 *   file  GPS time     gap to previous (GPS / camera)   distance to previous
 *   0010  14:27:07.24
 *   0012  14:28:17.24   70.0 s /  70 s                   39.0 m
 *   0021  14:36:47.23  510.0 s / 511 s                   69.6 m
 *   0025  14:41:49.03  301.8 s / 301 s                  274.3 m
 *   0027  14:42:29.03   40.0 s /  40 s                   12.9 m
 *   0029  14:45:20.91  171.9 s / 172 s                  110.6 m
 *   0038  14:50:40.90  320.0 s / 322 s                  134.4 m
 *   0040  14:54:00.19  199.3 s / 202 s                  138.5 m
 *   0042  14:57:41.37  221.2 s / 270 s                  257.8 m
 *
 * No two photos are within 40 m except 0010–0012 (39.0 m) and 0025–0027 (12.9 m); none has a
 * recorded heading.
 */
describe('dispatch of the nine GPS photos into sequences', { skip }, () => {
  let api: TestApi;
  let worker: ChildHandle;
  let user: TestUser;
  let pool: pg.Pool;
  let setId: string;
  const TITLE = 'Walk 2008-10-22';

  before(async () => {
    api = await startApi();
    worker = await startWorker();
    user = await createUser(api, 'walker');
    pool = testPool();
  });
  after(async () => {
    await worker?.stop();
    await api?.close();
    await pool?.end();
  });

  /** Sequences as lists of photo numbers in rank order, with their titles, from what the API shows. */
  async function layout(id: string): Promise<{ title: string; photos: string[] }[]> {
    const set = await getUploadSet(api, user, id);
    const files = await getFiles(api, user, id);
    const bySequence = new Map<string, { rank: number; photo: string }[]>();
    for (const f of files.filter((x) => x.picture_id && !x.rejected)) {
      const status = await json(await api.fetch(`/api/pictures/${f.picture_id}/status`, { headers: user.headers }));
      assert.equal(status.status, 'ready');
      const list = bySequence.get(status.collection_id) ?? [];
      list.push({ rank: status.rank, photo: f.file_name.slice(4, 8) });
      bySequence.set(status.collection_id, list);
    }
    assert.equal(set.associated_collections.length, bySequence.size);
    return set.associated_collections.map((c: { id: string; title: string; nb_items: number }) => {
      const photos = bySequence.get(c.id)!.sort((a, b) => a.rank - b.rank);
      assert.deepEqual(
        photos.map((p) => p.rank),
        photos.map((_, i) => i + 1),
        'ranks run from 1 without gaps',
      );
      assert.equal(c.nb_items, photos.length);
      return { title: c.title, photos: photos.map((p) => p.photo) };
    });
  }

  async function redispatch(patch: Record<string, unknown>) {
    const res = await api.fetch(`/api/upload_sets/${setId}`, { method: 'PATCH', headers: { ...user.headers, 'content-type': 'application/json' }, body: JSON.stringify(patch) });
    assert.equal(res.status, 200, await res.clone().text());
    const body = await json(res);
    assert.equal(body.dispatched, false, 'new parameters ask for a new dispatch');
    return waitUntilReady(api, user, setId);
  }

  it('defaults (100 m, 5 min): seven sequences, split on GPS time and distance', async () => {
    const set = await createUploadSet(api, user, { title: TITLE, estimated_nb_files: 9 });
    setId = set.id;
    assert.equal(set.split_distance, 100);
    assert.equal(set.split_time, 300);
    assert.equal(set.duplicate_distance, 1);
    assert.equal(set.duplicate_rotation, 60);
    for (const name of readdirSync(GPS_DIR).sort()) {
      const res = await uploadPicture(api, user, setId, `${GPS_DIR}/${name}`);
      assert.equal(res.status, 202, await res.clone().text());
    }
    const ready = await waitUntilReady(api, user, setId);
    assert.equal(ready.completed, true, 'completed by reaching estimated_nb_files');
    assert.deepEqual(ready.items_status, { prepared: 9, preparing: 0, broken: 0, not_processed: 0, rejected: 0 });
    assert.deepEqual(await layout(setId), [
      { title: `${TITLE}-1`, photos: ['0010', '0012'] },
      { title: `${TITLE}-2`, photos: ['0021'] },
      { title: `${TITLE}-3`, photos: ['0025', '0027'] },
      { title: `${TITLE}-4`, photos: ['0029'] },
      { title: `${TITLE}-5`, photos: ['0038'] },
      { title: `${TITLE}-6`, photos: ['0040'] },
      { title: `${TITLE}-7`, photos: ['0042'] },
    ]);
    // The capture time is the GPS clock with the date repaired from the camera's.
    const { rows } = await pool.query(
      `SELECT i.datetime FROM item i JOIN picture p ON p.id = i.id WHERE p.source_kind = 'upload-set' AND p.source_id = $1 AND p.file_name = 'DSCN0010.jpg'`,
      [setId],
    );
    assert.equal(rows[0].datetime.toISOString(), '2008-10-22T14:27:07.240Z');
    // No recorded heading: both photos of the first sequence look along the path 0010 → 0012.
    const headings = await pool.query(
      `SELECT p.file_name, i.properties->'view:azimuth' AS azimuth, i.properties->>'sightline:heading_source' AS source
       FROM item i JOIN picture p ON p.id = i.id WHERE p.source_kind = 'upload-set' AND p.source_id = $1 ORDER BY p.file_name`,
      [setId],
    );
    const az = Object.fromEntries(headings.rows.map((r) => [r.file_name.slice(4, 8), r]));
    assert.ok(Math.abs(az['0010'].azimuth - 146.3) < 2, `0010 looks south-east along the path, got ${az['0010'].azimuth}`);
    assert.equal(az['0012'].azimuth, az['0010'].azimuth);
    assert.equal(az['0010'].source, 'computed');
    assert.equal(az['0021'].azimuth, null, 'a lone picture has no path to look along');
  });

  it('300 m and 10 min: one sequence of nine, its line broken where photos are more than 75 m apart', async () => {
    await redispatch({ split_distance: 300, split_time: 600 });
    const sequences = await layout(setId);
    assert.deepEqual(sequences, [{ title: TITLE, photos: ['0010', '0012', '0021', '0025', '0027', '0029', '0038', '0040', '0042'] }]);
    const set = await getUploadSet(api, user, setId);
    const { rows } = await pool.query(`SELECT ST_AsGeoJSON(geom)::json AS g, item_count, status FROM collection WHERE id = $1`, [set.associated_collections[0].id]);
    assert.equal(rows[0].status, 'ready');
    assert.equal(rows[0].item_count, 9);
    assert.equal(rows[0].g.type, 'MultiLineString');
    // 39, 70 | 274 | 13 | 111 | 134 | 138 | 258 m: parts 0010-0012-0021, 0025-0027, then four lone photos.
    assert.deepEqual(
      rows[0].g.coordinates.map((part: unknown[]) => part.length),
      [3, 2, 2, 2, 2, 2],
    );
  });

  it('300 m and PT250S: four sequences, because the GPS clock is used (the camera clock would cut 0040 | 0042 too)', async () => {
    await redispatch({ split_distance: 300, split_time: 'PT250S' });
    assert.equal((await getUploadSet(api, user, setId)).split_time, 250);
    assert.deepEqual(
      (await layout(setId)).map((s) => s.photos),
      [['0010', '0012'], ['0021'], ['0025', '0027', '0029'], ['0038', '0040', '0042']],
    );
  });

  it('no split, 40 m duplicates, filename-desc: one sequence of seven; 0025 and 0010 are capture duplicates', async () => {
    const ready = await redispatch({ no_split: true, duplicate_distance: 40, sort_method: 'filename-desc' });
    assert.equal(ready.split_distance, null);
    assert.equal(ready.split_time, null);
    assert.deepEqual(await layout(setId), [{ title: TITLE, photos: ['0042', '0040', '0038', '0029', '0027', '0021', '0012'] }]);
    assert.equal(ready.items_status.rejected, 2);
    assert.equal(ready.nb_items, 7);
    const files = await getFiles(api, user, setId);
    const rejected = Object.fromEntries(files.filter((f) => f.rejected).map((f) => [f.file_name, f.rejected]));
    assert.deepEqual(Object.keys(rejected).sort(), ['DSCN0010.jpg', 'DSCN0025.jpg']);
    const ids = Object.fromEntries(files.map((f) => [f.file_name, f.picture_id]));
    const r25 = rejected['DSCN0025.jpg'];
    assert.equal(r25.reason, 'capture_duplicate');
    assert.equal(r25.severity, 'info');
    assert.equal(r25.details.duplicate_of, ids['DSCN0027.jpg']);
    assert.ok(Math.abs(r25.details.distance - 12.9) < 0.1);
    assert.equal(r25.details.angle, null, 'no recorded heading: duplicates by distance alone');
    assert.equal(rejected['DSCN0010.jpg'].details.duplicate_of, ids['DSCN0012.jpg']);
    assert.ok(Math.abs(rejected['DSCN0010.jpg'].details.distance - 39.0) < 0.1);
  });

  it('other users see none of it', async () => {
    const other = await createUser(api, 'stranger');
    assert.equal((await api.fetch(`/api/upload_sets/${setId}`, { headers: other.headers })).status, 404);
    assert.equal((await api.fetch(`/api/upload_sets/${setId}/files`, { headers: other.headers })).status, 404);
  });
});
