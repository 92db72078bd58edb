import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type pg from 'pg';
import { Visibility } from '../src/auth/visibility.js';
import { MapGridProcessor } from '../src/map/map-grid.processor.js';
import { startApi, TestApi } from './support/app.js';
import { createUser, TestUser } from './support/auth.js';
import { pointsNorth, randomSpot, seedSequence, SeededSequence } from './support/collections-seed.js';
import { testPool } from './support/db.js';
import { decodeMvt, MvtLayer, tileCentre, tileOf, vertices } from './support/mvt.js';
import { json } from './support/net.js';
import { inProcessJobContext } from './support/jobs.js';

const MVT = 'application/vnd.mapbox-vector-tile';

describe('map: vector tiles and style', () => {
  let api: TestApi;
  let db: pg.Pool;
  let owner: TestUser;
  let other: TestUser;
  // Features reach 0.0006° north of the spot: from the centre of its zoom-15 tile they stay in that tile (and in its parents).
  const spot = tileCentre(randomSpot(), 15);
  let open: SeededSequence;
  let hidden: SeededSequence;
  let mixed: SeededSequence;

  const tile = async (z: number, user?: TestUser, headers: Record<string, string> = {}) => {
    const t = tileOf(spot.lon, spot.lat, z);
    return api.fetch(`/api/map/${t.z}/${t.x}/${t.y}.mvt`, { headers: { ...headers, ...user?.headers } });
  };
  const layers = async (res: Response): Promise<Record<string, MvtLayer>> => {
    assert.equal(res.status, 200);
    assert.equal(res.headers.get('content-type'), MVT);
    return decodeMvt(new Uint8Array(await res.arrayBuffer()));
  };
  const ids = (layer: MvtLayer | undefined) => (layer?.features.map((f) => String(f.properties.id)) ?? []).sort();

  /** The count of the grid cell holding the spot in the tile of zoom z (0 when the cell is empty). */
  const gridCount = async (z: number): Promise<number> => {
    const res = await tile(z);
    if (res.status === 204) return 0;
    const grid = (await layers(res)).grid;
    // Cells are 16 × 16 per tile: find the one whose box holds the spot.
    const t = tileOf(spot.lon, spot.lat, z);
    const fine = tileOf(spot.lon, spot.lat, z + 4);
    const [col, row] = [fine.x - t.x * 16, fine.y - t.y * 16];
    const cell = grid?.features.find((f) => {
      const v = vertices(f);
      const minX = Math.min(...v.map((p) => p[0]));
      const minY = Math.min(...v.map((p) => p[1]));
      return Math.round(minX / 256) === col && Math.round(minY / 256) === row;
    });
    return cell ? Number(cell.properties.count) : 0;
  };
  const refreshGrid = () => api.app.get(MapGridProcessor).refresh({}, inProcessJobContext());

  before(async () => {
    api = await startApi();
    db = testPool();
    [owner, other] = await Promise.all([createUser(api, 'owner'), createUser(api, 'other')]);
    const pts = pointsNorth(spot, 7, 0.0001);
    open = await seedSequence(api, { ownerId: owner.id, title: 'Open walk', pictures: pts.slice(0, 3).map((p, i) => ({ ...p, heading: 90 + i })) });
    hidden = await seedSequence(api, { ownerId: owner.id, visibility: Visibility.OwnerOnly, pictures: pts.slice(3, 5) });
    mixed = await seedSequence(api, {
      ownerId: owner.id,
      pictures: [pts[5]!, { ...pts[6]!, visibility: Visibility.OwnerOnly }, { ...pts[6]!, status: 'pending' }],
    });
  });
  after(async () => {
    await db.end();
    await api.close();
  });

  it('refuses coordinates outside the tile pyramid with 400', async () => {
    for (const path of ['23/0/0', '1/2/0', '1/0/2', '0/0/-1', 'a/0/0', '3/1.5/0']) {
      const res = await api.fetch(`/api/map/${path}.mvt`);
      assert.equal(res.status, 400, path);
      assert.equal((await json(res)).statusCode, 400);
    }
    assert.equal((await api.fetch('/api/map/1/0/0.png')).status, 404);
  });

  it('answers 204 for a tile with nothing visible', async () => {
    const t = tileOf(spot.lon + 0.05, spot.lat, 20);
    const res = await api.fetch(`/api/map/${t.z}/${t.x}/${t.y}.mvt`);
    assert.equal(res.status, 204);
    assert.equal((await res.arrayBuffer()).byteLength, 0);
  });

  it('shows anonymous callers the public sequences and pictures from zoom 14, with their attributes', async () => {
    const l = await layers(await tile(15));
    assert.deepEqual(Object.keys(l).sort(), ['pictures', 'sequences']);
    assert.deepEqual(ids(l.sequences), [open.collection.id, mixed.collection.id].sort());
    assert.deepEqual(ids(l.pictures), [...open.items.map((i) => i.id), mixed.items[0]!.id].sort());
    const first = l.pictures!.features.find((f) => f.properties.id === open.items[0]!.id)!;
    assert.equal(first.type, 1);
    assert.equal(first.properties.heading, 90);
    assert.equal(first.properties.sequence_id, open.collection.id);
    assert.equal(first.properties.datetime, '2024-05-01T10:00:00Z');
    const seq = l.sequences!.features.find((f) => f.properties.id === open.collection.id)!;
    assert.equal(seq.type, 2, 'a sequence is a line');
    assert.equal(seq.properties.title, 'Open walk');
    assert.equal(seq.properties.date, '2024-05-01');
  });

  it('shows the owner their hidden sequences and pictures too, other users only what they may see', async () => {
    const mine = await layers(await tile(15, owner));
    assert.deepEqual(ids(mine.sequences), [open.collection.id, hidden.collection.id, mixed.collection.id].sort());
    assert.deepEqual(ids(mine.pictures), [...open.items, ...hidden.items, mixed.items[0]!, mixed.items[1]!].map((i) => i.id).sort(), 'not the pending one');
    const theirs = await layers(await tile(15, other));
    assert.deepEqual(ids(theirs.pictures), [...open.items.map((i) => i.id), mixed.items[0]!.id].sort());
  });

  it('has only sequences between zoom 6 and 13', async () => {
    const l = await layers(await tile(10));
    assert.deepEqual(Object.keys(l), ['sequences']);
    assert.ok(ids(l.sequences).includes(open.collection.id));
  });

  it('caches anonymous tiles publicly, authenticated ones privately, and answers If-None-Match with 304', async () => {
    const anon = await tile(14);
    assert.equal(anon.headers.get('cache-control'), 'public, max-age=60');
    const etag = anon.headers.get('etag');
    assert.ok(etag);
    await anon.arrayBuffer();
    const again = await tile(14, undefined, { 'if-none-match': etag! });
    assert.equal(again.status, 304, `${etag} vs ${again.headers.get('etag')}`);
    const mine = await tile(14, owner);
    assert.equal(mine.headers.get('cache-control'), 'private, no-cache');
    assert.match(mine.headers.get('vary') ?? '', /Authorization/);
    await mine.arrayBuffer();
  });

  it('counts public pictures per grid cell below zoom 6, kept fresh as pictures change', async () => {
    await refreshGrid();
    // Public and ready: the open sequence's 3 and the mixed sequence's first.
    const counts = [await gridCount(2), await gridCount(5)];
    assert.ok(
      counts.every((n) => n >= 4),
      `counts ${counts}`,
    );

    const before = await gridCount(5);
    const del = await api.fetch(`/api/collections/${open.collection.id}`, { method: 'DELETE', headers: owner.headers });
    assert.equal(del.status, 204);
    const patch = await api.fetch(`/api/collections/${mixed.collection.id}`, {
      method: 'PATCH',
      headers: { 'content-type': 'application/json', ...owner.headers },
      body: JSON.stringify({ visibility: 'logged-only' }),
    });
    assert.equal(patch.status, 200);
    const dirty = (await db.query(`SELECT count(*)::int AS n FROM map_grid_dirty`)).rows[0].n;
    assert.ok(dirty > 0, 'the changes marked their cells');
    const result = await refreshGrid();
    assert.ok(result.cells >= 1);
    assert.equal(await gridCount(5), before - 4);
    assert.equal((await db.query(`SELECT count(*)::int AS n FROM map_grid_dirty`)).rows[0].n, 0);

    // A full rebuild (what the job does when much of the grid is dirty) agrees with the recounts.
    const cellsBefore = (await db.query(`SELECT x, y, count FROM map_grid ORDER BY x, y`)).rows;
    const full = await api.app.get(MapGridProcessor).refresh({ full: true }, inProcessJobContext());
    assert.equal(full.cells, cellsBefore.length);
    assert.deepEqual((await db.query(`SELECT x, y, count FROM map_grid ORDER BY x, y`)).rows, cellsBefore);
  });

  it('gives the same public grid to everybody', async () => {
    const res = await tile(3, owner);
    if (res.status === 200) assert.equal(res.headers.get('cache-control'), 'public, max-age=60');
    else assert.equal(res.status, 204);
  });

  it('serves a MapLibre style pointing to the tiles on PUBLIC_URL', async () => {
    const res = await api.fetch('/api/map/style.json');
    assert.equal(res.status, 200);
    assert.match(res.headers.get('cache-control') ?? '', /public/);
    const style = await json(res);
    assert.equal(style.version, 8);
    assert.deepEqual(style.sources.sightline.tiles, [`${api.baseUrl}/api/map/{z}/{x}/{y}.mvt`]);
    assert.deepEqual(style.sources['sightline-footprints'].tiles, [`${api.baseUrl}/api/map/footprints/{z}/{x}/{y}.mvt`]);
    assert.equal(style.sources.sightline.type, 'vector');
    assert.deepEqual(
      style.layers.map((l: { 'source-layer': string }) => l['source-layer']),
      ['grid', 'footprints', 'sequences', 'pictures'],
    );
    for (const layer of style.layers) assert.equal(layer.source, layer['source-layer'] === 'footprints' ? 'sightline-footprints' : 'sightline');
  });
});
