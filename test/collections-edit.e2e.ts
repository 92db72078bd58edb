import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type pg from 'pg';
import { Visibility } from '../src/auth/visibility.js';
import { CatalogService } from '../src/catalog/catalog.service.js';
import { ManagementJobRunner } from '../src/management-jobs/management-job-runner.service.js';
import { startApi, TestApi } from './support/app.js';
import { createUser, TestUser } from './support/auth.js';
import { pointsNorth, randomSpot, seedSequence } from './support/collections-seed.js';
import { testPool } from './support/db.js';
import { json } from './support/net.js';

const JSON_HEADERS = { 'content-type': 'application/json' };

describe('collections: editing and deleting', () => {
  let api: TestApi;
  let db: pg.Pool;
  let owner: TestUser;
  let other: TestUser;
  let admin: TestUser;
  let service: CatalogService;

  const patch = (path: string, body: unknown, user?: TestUser) => api.fetch(path, { method: 'PATCH', headers: { ...JSON_HEADERS, ...user?.headers }, body: JSON.stringify(body) });
  const del = (path: string, user?: TestUser) => api.fetch(path, { method: 'DELETE', headers: { ...user?.headers } });
  const headings = async (collectionId: string) => {
    const { rows } = await db.query(
      `SELECT properties->>'original_file:name' AS name, rank, (properties->>'view:azimuth')::float AS heading,
              coalesce((properties->>'sightline:heading_computed')::boolean, false) AS computed
       FROM item WHERE collection_id = $1 ORDER BY rank`,
      [collectionId],
    );
    return rows as { name: string; rank: number; heading: number | null; computed: boolean }[];
  };

  before(async () => {
    api = await startApi();
    db = testPool();
    service = api.app.get(CatalogService);
    [owner, other, admin] = await Promise.all([createUser(api, 'owner'), createUser(api, 'other'), createUser(api, 'admin', 'admin')]);
  });
  after(async () => {
    await db.end();
    await api.close();
  });

  describe('PATCH /api/collections/{id}', () => {
    it('lets the owner change title, description and visibility, and answers the new state', async () => {
      const { collection } = await seedSequence(api, { ownerId: owner.id, pictures: pointsNorth(randomSpot(), 2) });
      const res = await patch(`/api/collections/${collection.id}`, { title: 'Along the river', description: 'Morning walk', visibility: 'logged-only' }, owner);
      assert.equal(res.status, 200);
      const body = await json(res);
      assert.equal(body.title, 'Along the river');
      assert.equal(body.description, 'Morning walk');
      assert.equal(body.visibility, 'logged-only');
      assert.equal(body.item_count, 2);
      assert.equal(body.extent.bbox.length, 4);
      assert.match(body.links[0].href, new RegExp(`/api/collections/${collection.id}$`));
      const stored = await service.findCollection(collection.id);
      assert.equal(stored?.title, 'Along the river');
      assert.equal(stored?.visibility, Visibility.LoggedOnly);
    });

    it('refuses anonymous callers (401), other users (403 when they see it, 404 when they do not), and lets an admin', async () => {
      const visible = await seedSequence(api, { ownerId: owner.id, pictures: pointsNorth(randomSpot(), 1) });
      const hidden = await seedSequence(api, { ownerId: owner.id, visibility: Visibility.OwnerOnly, pictures: pointsNorth(randomSpot(), 1) });
      assert.equal((await patch(`/api/collections/${visible.collection.id}`, { title: 'x' })).status, 401);
      const forbidden = await patch(`/api/collections/${visible.collection.id}`, { title: 'x' }, other);
      assert.equal(forbidden.status, 403);
      assert.equal((await json(forbidden)).statusCode, 403);
      assert.equal((await patch(`/api/collections/${hidden.collection.id}`, { title: 'x' }, other)).status, 404);
      const byAdmin = await patch(`/api/collections/${hidden.collection.id}`, { title: 'Fixed by an admin' }, admin);
      assert.equal(byAdmin.status, 200);
      assert.equal((await service.findCollection(hidden.collection.id))?.title, 'Fixed by an admin');
      assert.equal((await service.findCollection(visible.collection.id))?.title, visible.collection.title, 'refused patches changed nothing');
    });

    it('answers 404 for an unknown collection and 400 for an id that is not a UUID', async () => {
      assert.equal((await patch(`/api/collections/6c0c1b8e-2f0a-4a53-9d55-7d1d3c7c0000`, { title: 'x' }, admin)).status, 404);
      assert.equal((await patch(`/api/collections/not-a-uuid`, { title: 'x' }, admin)).status, 400);
    });

    it('refuses unknown fields, bad values and empty patches with 400 naming the problem', async () => {
      const { collection } = await seedSequence(api, { ownerId: owner.id, pictures: pointsNorth(randomSpot(), 1) });
      const unknown = await json(await patch(`/api/collections/${collection.id}`, { title: 'x', owner_id: other.id }, owner));
      assert.equal(unknown.statusCode, 400);
      assert.match(unknown.message, /owner_id/);
      const bad = await json(await patch(`/api/collections/${collection.id}`, { visibility: 'everyone', relative_heading: 200, sortby: 'size' }, owner));
      assert.deepEqual(bad.details.map((d: { field: string }) => d.field).sort(), ['relative_heading', 'sortby', 'visibility']);
      assert.equal((await patch(`/api/collections/${collection.id}`, { title: null }, owner)).status, 400);
      const empty = await json(await patch(`/api/collections/${collection.id}`, {}, owner));
      assert.equal(empty.statusCode, 400);
      assert.match(empty.message, /Nothing to change/);
    });

    it('refuses sequence-only fields on a dataset collection', async () => {
      const { collection } = await seedSequence(api, { ownerId: owner.id, kind: 'dataset', pictures: pointsNorth(randomSpot(), 1) });
      const res = await patch(`/api/collections/${collection.id}`, { sortby: '+datetime' }, owner);
      assert.equal(res.status, 400);
      assert.match((await json(res)).message, /sequences only/);
    });

    it('re-sorts by file name and recomputes only the derived headings; relative_heading recomputes them all', async () => {
      const spot = randomSpot();
      const pts = pointsNorth(spot, 4);
      const { collection } = await seedSequence(api, {
        ownerId: owner.id,
        pictures: [
          { ...pts[0]!, name: 'IMG_0001.jpg' },
          { ...pts[1]!, name: 'IMG_0002.jpg' },
          { ...pts[2]!, name: 'IMG_0003.jpg' },
          { ...pts[3]!, name: 'IMG_0004.jpg', heading: 300 },
        ],
      });
      // What the pipeline does when it finishes a sequence: derive the missing headings.
      assert.equal(await service.recomputeHeadings(collection.id, { onlyComputed: true }), 3);
      assert.deepEqual(
        (await headings(collection.id)).map((h) => [h.name, h.heading, h.computed]),
        [
          ['IMG_0001.jpg', 0, true],
          ['IMG_0002.jpg', 0, true],
          ['IMG_0003.jpg', 0, true],
          ['IMG_0004.jpg', 300, false],
        ],
      );

      const res = await patch(`/api/collections/${collection.id}`, { sortby: '-filename' }, owner);
      assert.equal(res.status, 200);
      assert.equal((await json(res)).sort_method, 'filename_desc');
      // Now travelling south: the derived headings turn around, the camera's stays.
      assert.deepEqual(
        (await headings(collection.id)).map((h) => [h.name, h.rank, h.heading]),
        [
          ['IMG_0004.jpg', 1, 300],
          ['IMG_0003.jpg', 2, 180],
          ['IMG_0002.jpg', 3, 180],
          ['IMG_0001.jpg', 4, 180],
        ],
      );
      const line = (await service.findCollection(collection.id))!.geom as { type: string; coordinates: number[][] };
      assert.equal(line.type, 'LineString');
      assert.ok(Math.abs(line.coordinates[0]![1]! - pts[3]!.lat) < 1e-9, 'the sequence line starts at the new first picture');

      const rel = await patch(`/api/collections/${collection.id}`, { relative_heading: 90 }, owner);
      assert.equal(rel.status, 200);
      assert.equal((await json(rel)).relative_heading, 90);
      assert.deepEqual(
        (await headings(collection.id)).map((h) => [h.name, h.heading, h.computed]),
        [
          ['IMG_0004.jpg', 270, true],
          ['IMG_0003.jpg', 270, true],
          ['IMG_0002.jpg', 270, true],
          ['IMG_0001.jpg', 270, true],
        ],
      );

      // A heading set by hand is the picture's own; the relative heading stays with the sequence.
      const item2 = (await headings(collection.id)).find((h) => h.name === 'IMG_0002.jpg')!;
      const id2 = (await db.query(`SELECT id FROM item WHERE collection_id = $1 AND rank = $2`, [collection.id, item2.rank])).rows[0].id;
      assert.equal((await patch(`/api/collections/${collection.id}/items/${id2}`, { heading: 10 }, owner)).status, 200);
      assert.equal((await patch(`/api/collections/${collection.id}`, { sortby: '+gpsdate' }, owner)).status, 200);
      assert.deepEqual(
        (await headings(collection.id)).map((h) => [h.name, h.heading]),
        [
          ['IMG_0001.jpg', 90],
          ['IMG_0002.jpg', 10],
          ['IMG_0003.jpg', 90],
          ['IMG_0004.jpg', 90],
        ],
      );
    });
  });

  describe('PATCH /api/collections/{cid}/items/{id}', () => {
    it('changes heading, capture time, position and visibility, and refreshes the collection extent', async () => {
      const spot = randomSpot();
      const { collection, items } = await seedSequence(api, { ownerId: owner.id, pictures: pointsNorth(spot, 3) });
      const target = items[1]!;
      const res = await patch(
        `/api/collections/${collection.id}/items/${target.id}`,
        {
          heading: 135.5,
          capture_time: '2030-01-02T03:04:05+01:00',
          position: { type: 'Point', coordinates: [spot.lon + 0.01, spot.lat] },
          visibility: 'logged-only',
        },
        owner,
      );
      assert.equal(res.status, 200);
      const body = await json(res);
      assert.equal(body.heading, 135.5);
      assert.equal(body.heading_computed, false);
      assert.equal(body.datetime, '2030-01-02T02:04:05.000Z');
      // Within a micro-degree (rounding twice, in the answer and here, may differ in the last digit).
      const [lon, lat] = body.geometry.coordinates as number[];
      assert.ok(Math.abs(lon! - (spot.lon + 0.01)) < 1e-6 && Math.abs(lat! - spot.lat) < 1e-6, `moved to ${lon}, ${lat}`);
      assert.equal(body.visibility, 'logged-only');
      assert.equal(body.properties['view:azimuth'], 135.5);

      // The collection's aggregates count the pictures its whole audience may see: not this one now.
      let c = (await service.findCollection(collection.id))!;
      assert.equal(c.itemCount, 2);
      assert.notEqual(c.datetimeEnd?.toISOString(), '2030-01-02T02:04:05.000Z');
      const line = () => (c.geom as { coordinates: number[][] }).coordinates.map((p) => p[0]!);
      assert.ok(Math.max(...line()) < spot.lon + 0.001, 'the line leaves out the picture only logged-in people may see');

      // Visible to everyone again, it is in the collection's extent, interval and line.
      assert.equal((await patch(`/api/collections/${collection.id}/items/${target.id}`, { visibility: 'anyone' }, owner)).status, 200);
      c = (await service.findCollection(collection.id))!;
      assert.equal(c.itemCount, 3);
      assert.equal(c.datetimeEnd?.toISOString(), '2030-01-02T02:04:05.000Z');
      assert.ok(Math.max(...line()) > spot.lon + 0.009, 'the sequence line goes through the moved picture');
    });

    it('refuses bad positions, times and unknown fields', async () => {
      const { collection, items } = await seedSequence(api, { ownerId: owner.id, pictures: pointsNorth(randomSpot(), 1) });
      const path = `/api/collections/${collection.id}/items/${items[0]!.id}`;
      const cases: [unknown, RegExp][] = [
        [{ position: { type: 'Point', coordinates: [200, 10] } }, /position\.coordinates/],
        [{ position: { type: 'LineString', coordinates: [1, 2] } }, /position\.type/],
        [{ position: { type: 'Point', coordinates: [1, 2], crs: 'x' } }, /position\.crs/],
        [{ capture_time: '2024-13-01' }, /capture_time/],
        [{ heading: 400 }, /heading/],
        [{ rank: 3 }, /rank/],
      ];
      for (const [body, pattern] of cases) {
        const res = await patch(path, body, owner);
        assert.equal(res.status, 400, JSON.stringify(body));
        const error = await json(res);
        assert.match(error.details.map((d: { field: string }) => d.field).join(','), pattern);
      }
    });

    it('hides items of a collection the caller may not see, and refuses other users', async () => {
      const open = await seedSequence(api, { ownerId: owner.id, pictures: pointsNorth(randomSpot(), 1) });
      const hidden = await seedSequence(api, { ownerId: owner.id, visibility: Visibility.OwnerOnly, pictures: pointsNorth(randomSpot(), 1) });
      const hiddenItem = await seedSequence(api, { ownerId: owner.id, pictures: [{ ...randomSpot(), visibility: Visibility.OwnerOnly }] });
      assert.equal((await patch(`/api/collections/${open.collection.id}/items/${open.items[0]!.id}`, { heading: 1 }, other)).status, 403);
      assert.equal((await patch(`/api/collections/${hidden.collection.id}/items/${hidden.items[0]!.id}`, { heading: 1 }, other)).status, 404);
      assert.equal((await patch(`/api/collections/${hiddenItem.collection.id}/items/${hiddenItem.items[0]!.id}`, { heading: 1 }, other)).status, 404);
      assert.equal((await patch(`/api/collections/${open.collection.id}/items/${open.items[0]!.id}`, { heading: 1 })).status, 401);
      // The item exists, but not in that collection.
      assert.equal((await patch(`/api/collections/${open.collection.id}/items/${hidden.items[0]!.id}`, { heading: 1 }, owner)).status, 404);
      assert.equal((await patch(`/api/collections/${hidden.collection.id}/items/${hidden.items[0]!.id}`, { heading: 2 }, admin)).status, 200);
    });
  });

  describe('DELETE', () => {
    it('deletes an item for its owner: ranks close up, counts follow, its files are queued for removal', async () => {
      const { collection, items } = await seedSequence(api, { ownerId: owner.id, pictures: pointsNorth(randomSpot(), 3) });
      const path = `/api/collections/${collection.id}/items/${items[1]!.id}`;
      assert.equal((await del(path)).status, 401);
      assert.equal((await del(path, other)).status, 403);
      const res = await del(path, owner);
      assert.equal(res.status, 204);
      assert.equal(await res.text(), '');
      assert.equal(await service.findItem(items[1]!.id), null);
      const { rows } = await db.query(`SELECT id, rank FROM item WHERE collection_id = $1 ORDER BY rank`, [collection.id]);
      assert.deepEqual(rows, [
        { id: items[0]!.id, rank: 1 },
        { id: items[2]!.id, rank: 2 },
      ]);
      assert.equal((await service.findCollection(collection.id))?.itemCount, 2);
      const purge = await db.query(`SELECT reason FROM file_purge WHERE $1 = ANY(item_ids)`, [items[1]!.id]);
      assert.equal(purge.rowCount, 1);
      assert.equal((await del(path, owner)).status, 404, 'a second delete finds nothing');
    });

    it('deletes a collection with its items for its owner or an admin; others get 401, 403 or 404', async () => {
      const mine = await seedSequence(api, { ownerId: owner.id, pictures: pointsNorth(randomSpot(), 2) });
      const hidden = await seedSequence(api, { ownerId: owner.id, visibility: Visibility.OwnerOnly, pictures: pointsNorth(randomSpot(), 1) });
      assert.equal((await del(`/api/collections/${mine.collection.id}`)).status, 401);
      assert.equal((await del(`/api/collections/${mine.collection.id}`, other)).status, 403);
      assert.equal((await del(`/api/collections/${hidden.collection.id}`, other)).status, 404);
      assert.equal((await del(`/api/collections/${mine.collection.id}`, owner)).status, 204);
      assert.equal((await del(`/api/collections/${hidden.collection.id}`, admin)).status, 204);
      for (const seeded of [mine, hidden]) {
        assert.equal(await service.findCollection(seeded.collection.id), null);
        assert.deepEqual(await service.findItems(seeded.items.map((i) => i.id)), []);
      }
      assert.equal((await del(`/api/collections/${mine.collection.id}`, owner)).status, 404);
    });
  });

  describe('POST /api/admin/collections/recompute', () => {
    // eslint-disable-next-line @typescript-eslint/no-explicit-any
    const readJob = async (location: string): Promise<any> => json(await api.fetch(new URL(location).pathname, { headers: admin.headers }));
    /** The job the route created, run here as a worker would run it, then read back as an admin sees it. */
    const runJob = async (res: Response) => {
      const created = await json(res);
      assert.equal(res.status, 201, JSON.stringify(created));
      const location = res.headers.get('location')!;
      assert.equal(location, `${api.baseUrl}/api/management/jobs/${created.id}`);
      assert.equal(created.command, 'collections.recompute');
      assert.equal(created.status, 'queued');
      assert.equal(created.user_id, admin.id);
      await api.app.get(ManagementJobRunner).runQueued(created.id, created.attempt);
      return { created, done: await readJob(location) };
    };

    it('creates a collections.recompute management job that recomputes one collection or all, for admins only', async () => {
      const { collection } = await seedSequence(api, { ownerId: owner.id, pictures: pointsNorth(randomSpot(), 3) });
      await db.query(`UPDATE collection SET item_count = 99, geom = NULL, datetime_start = NULL WHERE id = $1`, [collection.id]);
      const post = (body: unknown, user?: TestUser) =>
        api.fetch('/api/admin/collections/recompute', { method: 'POST', headers: { ...JSON_HEADERS, ...user?.headers }, body: JSON.stringify(body) });
      assert.equal((await post({ collection_id: collection.id }, owner)).status, 403);
      assert.equal((await post({ collection_id: collection.id })).status, 401);
      assert.equal((await post({ collection_id: 'not-a-uuid' }, admin)).status, 400);

      const one = await runJob(await post({ collection_id: collection.id }, admin));
      assert.deepEqual(one.created.args, { collection_id: collection.id });
      assert.equal(one.done.status, 'succeeded', one.done.error);
      assert.equal(one.done.progress, 100);
      assert.equal(one.done.result.collections, 1);
      let c = (await service.findCollection(collection.id))!;
      assert.equal(c.itemCount, 3);
      assert.equal(c.geom?.type, 'LineString');
      assert.ok(c.datetimeStart);

      await db.query(`UPDATE collection SET item_count = 42 WHERE id = $1`, [collection.id]);
      const all = await runJob(await post({}, admin));
      const total = (await db.query(`SELECT count(*)::int AS n FROM collection`)).rows[0].n;
      assert.equal(all.done.status, 'succeeded', all.done.error);
      assert.equal(all.done.result.collections, total);
      assert.match(all.done.output_tail.at(-1), new RegExp(`${total} / ${total}`));
      c = (await service.findCollection(collection.id))!;
      assert.equal(c.itemCount, 3);
    });

    it('records an unknown collection as a failed job', async () => {
      const post = await api.fetch('/api/admin/collections/recompute', {
        method: 'POST',
        headers: { ...JSON_HEADERS, ...admin.headers },
        body: JSON.stringify({ collection_id: '6c0c1b8e-2f0a-4a53-9d55-7d1d3c7c0000' }),
      });
      const { done } = await runJob(post);
      assert.equal(done.status, 'failed');
      assert.match(done.error, /not found/);
    });
  });
});
