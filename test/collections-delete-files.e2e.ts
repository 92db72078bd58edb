import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type pg from 'pg';
import { CatalogRepository } from '../src/catalog/catalog.repository.js';
import { picturePrefix } from '../src/pictures/picture-storage.js';
import { CatalogService } from '../src/catalog/catalog.service.js';
import { pictureKey, pictureTileKey } from '../src/pictures/picture-storage.js';
import { StorageService } from '../src/storage/storage.service.js';
import { startApi, TestApi } from './support/app.js';
import { createUser, TestUser } from './support/auth.js';
import { pointsNorth, randomSpot, seedPictureFiles, seedSequence } from './support/collections-seed.js';
import { testPool } from './support/db.js';
import { decodeMvt, tileCentre, tileOf, vertices } from './support/mvt.js';
import { waitFor } from './support/net.js';
import { ChildHandle, startWorker } from './support/processes.js';

describe('collections: files removed in the background by the worker', () => {
  let api: TestApi;
  let worker: ChildHandle;
  let db: pg.Pool;
  let owner: TestUser;
  let storage: StorageService;

  const keysOf = (id: string) => [pictureKey(id, 'hd'), pictureKey(id, 'sd'), pictureKey(id, 'thumb'), pictureTileKey(id, 0, 0), pictureTileKey(id, 1, 0)];
  const present = async (id: string) => (await Promise.all(keysOf(id).map((k) => storage.stat(k)))).filter(Boolean).length;
  const del = (path: string) => api.fetch(path, { method: 'DELETE', headers: owner.headers });

  before(async () => {
    api = await startApi();
    db = testPool();
    storage = api.app.get(StorageService);
    owner = await createUser(api, 'owner');
    worker = await startWorker({ RECONCILE_INTERVAL_SECONDS: '1', MAP_GRID_REFRESH_SECONDS: '1' });
  });
  after(async () => {
    await worker?.stop();
    await db.end();
    await api.close();
  });

  it('removes the files of a deleted collection, and its pictures from the map grid', async () => {
    // Both pictures in one grid cell (zoom 9): start from the centre of one.
    const spot = tileCentre(randomSpot(), 9);
    const { collection, items } = await seedSequence(api, { ownerId: owner.id, pictures: pointsNorth(spot, 2) });
    for (const item of items) await seedPictureFiles(api, item.id, 1000);

    // The scheduled grid refresh counts the two public pictures.
    const t = tileOf(spot.lon, spot.lat, 5);
    const fine = tileOf(spot.lon, spot.lat, 9);
    const cellCount = async () => {
      const res = await api.fetch(`/api/map/5/${t.x}/${t.y}.mvt`);
      if (res.status === 204) return 0;
      const grid = decodeMvt(new Uint8Array(await res.arrayBuffer())).grid;
      const cell = grid?.features.find((f) => {
        const v = vertices(f);
        return Math.round(Math.min(...v.map((p) => p[0])) / 256) === fine.x - t.x * 16 && Math.round(Math.min(...v.map((p) => p[1])) / 256) === fine.y - t.y * 16;
      });
      return cell ? Number(cell.properties.count) : 0;
    };
    const counted = await waitFor('the worker to count the pictures in the grid', async () => ((await cellCount()) >= 2 ? cellCount() : undefined), 20_000, 250);

    assert.equal((await del(`/api/collections/${collection.id}`)).status, 204);
    await waitFor('the files to be removed', async () => (await Promise.all(items.map((i) => present(i.id)))).every((n) => n === 0), 20_000, 200);
    const purges = await db.query(`SELECT 1 FROM file_purge WHERE $1 = ANY(item_ids)`, [items[0]!.id]);
    assert.equal(purges.rowCount, 0, 'the purge is done and forgotten');
    await waitFor('the grid to forget the pictures', async () => (await cellCount()) === counted - 2, 20_000, 250);
  });

  it('removes the files of a deleted item and keeps its neighbours', async () => {
    const { collection, items } = await seedSequence(api, { ownerId: owner.id, pictures: pointsNorth(randomSpot(), 2) });
    for (const item of items) await seedPictureFiles(api, item.id, 1000);
    assert.equal((await del(`/api/collections/${collection.id}/items/${items[0]!.id}`)).status, 204);
    await waitFor('the item files to be removed', async () => (await present(items[0]!.id)) === 0, 20_000, 200);
    assert.equal(await present(items[1]!.id), 5, 'the other picture keeps its files');
  });

  it('finishes a purge whose job was lost, through the reconciler', async () => {
    const { collection, items } = await seedSequence(api, { ownerId: owner.id, pictures: pointsNorth(randomSpot(), 1) });
    await seedPictureFiles(api, items[0]!.id, 1000);
    // Deleted without enqueuing the job, as if Redis had lost it; older than the grace period.
    const { purgeId } = await api.app.get(CatalogService).deleteCollectionWithFiles(collection.id);
    await db.query(`UPDATE file_purge SET created_at = now() - interval '10 minutes' WHERE id = $1`, [purgeId]);
    await waitFor('the reconciler to purge the files', async () => (await present(items[0]!.id)) === 0, 30_000, 250);
    assert.equal((await db.query(`SELECT 1 FROM file_purge WHERE id = $1`, [purgeId])).rowCount, 0);
  });

  it('keeps the files of a picture that is an item again (moved to another sequence)', async () => {
    const { items } = await seedSequence(api, { ownerId: owner.id, pictures: pointsNorth(randomSpot(), 1) });
    await seedPictureFiles(api, items[0]!.id, 1000);
    const purgeId = await api.app
      .get(CatalogRepository)
      .insertPurge({ reason: 'test: picture moved', itemFolders: [{ itemId: items[0]!.id, prefix: picturePrefix(items[0]!.id) }], prefixes: [] });
    await db.query(`UPDATE file_purge SET created_at = now() - interval '10 minutes' WHERE id = $1`, [purgeId]);
    await waitFor('the purge to be processed', async () => (await db.query(`SELECT 1 FROM file_purge WHERE id = $1`, [purgeId])).rowCount === 0, 30_000, 250);
    assert.equal(await present(items[0]!.id), 5);
  });
});
