import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type pg from 'pg';
import { CatalogService } from '../src/catalog/catalog.service.js';
import { point } from '../src/database/geometry.js';
import { startApi, type TestApi } from './support/app.js';
import { createUser, type TestUser } from './support/auth.js';
import { seedSequence } from './support/collections-seed.js';
import { testPool } from './support/db.js';
import { harvestClient, startRemoteSightline, type RemoteSightline } from './support/harvest.js';
import { waitFor } from './support/net.js';
import { startWorker, type ChildHandle } from './support/processes.js';
import { RemoteServer } from './support/remote-server.js';

// Short stall detection, so that a killed worker's session is noticed in seconds.
const ENV = { HARVEST_STALL_SECONDS: '3', RECONCILE_INTERVAL_SECONDS: '1' };

const ITEM_SEARCH = 'https://api.stacspec.org/v1.0.0/item-search';

describe('harvesting a remote STAC API', () => {
  let remote: RemoteSightline;
  let api: TestApi;
  let admin: TestUser;
  let worker: ChildHandle;
  let db: pg.Pool;
  let client: ReturnType<typeof harvestClient>;
  const stub = new RemoteServer();

  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  let pictures: any;
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  let rasters: any;
  let harvesterId: string;

  before(async () => {
    remote = await startRemoteSightline('remote_stac');
    pictures = await seedSequence(remote.api, {
      ownerId: null,
      title: 'Remote street pictures',
      pictures: Array.from({ length: 20 }, (_, i) => ({ lon: 2.35 + i * 0.0001, lat: 48.85 + i * 0.0001, name: `p${i}.jpg`, heading: i * 10 })),
    });
    rasters = await seedSequence(remote.api, {
      ownerId: null,
      kind: 'dataset',
      title: 'Remote rasters',
      pictures: Array.from({ length: 6 }, (_, i) => ({ lon: -1.5 + i * 0.01, lat: 47.2, name: `r${i}.tif` })),
    });
    api = await startApi({ env: ENV });
    worker = await startWorker(ENV);
    admin = await createUser(api, 'harvest-admin', 'admin');
    client = harvestClient(api, admin);
    db = testPool();
    await stub.start();
  });

  after(async () => {
    await worker?.stop();
    await api?.close();
    await remote?.close();
    await stub.stop();
    await db?.end();
  });

  const localItems = async (collectionId: string) => {
    const res = await api.fetch(`/api/collections/${collectionId}/items?limit=1000`, { headers: admin.headers });
    assert.equal(res.status, 200);
    // eslint-disable-next-line @typescript-eslint/no-explicit-any
    return ((await res.json()) as any).features as any[];
  };

  const resources = async (id = harvesterId) => (await client.call('GET', `/api/harvesters/${id}/harvestable-resources?limit=100`)).body.items;

  it('publishes the harvester types with their configuration schemas', async () => {
    const res = await client.call('GET', '/api/harvester-types');
    assert.equal(res.status, 200);
    const stac = res.body.types.find((t: { id: string }) => t.id === 'stac-api');
    assert.ok(stac, JSON.stringify(res.body));
    assert.equal(stac.config_schema.type, 'object');
    assert.equal(stac.config_schema.properties.page_size.type, 'integer');
    const anonymous = await api.fetch('/api/harvester-types');
    assert.equal(anonymous.status, 401);
    const user = await createUser(api, 'not-admin');
    assert.equal((await api.fetch('/api/harvesters', { headers: user.headers })).status, 403);
  });

  it('refuses bad harvesters with a 400 naming the problem', async () => {
    const bad = async (body: Record<string, unknown>, pattern: RegExp) => {
      const res = await client.call('POST', '/api/harvesters', { name: `bad ${Math.random()}`, type: 'stac-api', url: `${remote.api.baseUrl}/api`, ...body });
      assert.equal(res.status, 400, JSON.stringify(res.body));
      assert.match(JSON.stringify(res.body), pattern);
    };
    await bad({ config: { page_size: 0 } }, /page_size/);
    await bad({ config: { no_such_setting: 1 } }, /additional/);
    await bad({ type: 'gopher' }, /Unknown harvester type/);
    await bad({ url: 'http://169.254.169.254/latest/meta-data/' }, /deny list/);
    await bad({ url: 'http://metadata.google.internal/' }, /deny list/);
    await bad({ deletion_policy: 'shred' }, /deletion_policy/);
  });

  it('checks, discovers and harvests a second Sightline into local collections with via links', async () => {
    const created = await client.call('POST', '/api/harvesters', {
      name: 'Remote Sightline',
      type: 'stac-api',
      url: `${remote.api.baseUrl}/api`,
      config: { page_size: 7, overlap_seconds: 0 },
      schedule: { list_ids_every_hours: 0 },
      deletion_grace_runs: 2,
      mass_delete_max_percent: 30,
    });
    assert.equal(created.status, 201, JSON.stringify(created.body));
    assert.equal(created.body.config.id_page_size, 2000, 'schema defaults are filled in');
    assert.equal(created.body.status, 'ready');
    harvesterId = created.body.id;

    const check = await client.run(harvesterId, 'check');
    assert.equal(check.status, 'succeeded', JSON.stringify(check));
    assert.match(check.result.message, /item search, filter, sort, fields, updated queryable/);
    const harvester = (await client.call('GET', `/api/harvesters/${harvesterId}`)).body;
    assert.equal(harvester.availability, 'available');
    assert.ok(harvester.last_checked_at);

    const discover = await client.run(harvesterId, 'discover');
    assert.equal(discover.status, 'succeeded', JSON.stringify(discover));
    assert.equal(discover.counters.created, 2);
    const found = await resources();
    assert.deepEqual(found.map((r: { remote_id: string }) => r.remote_id).sort(), [pictures.collection.id, rasters.collection.id].sort());
    assert.ok(found.every((r: { selected: boolean }) => !r.selected));

    const nothing = await client.run(harvesterId, 'harvest');
    assert.equal(nothing.status, 'failed');
    assert.match(nothing.error, /no harvestable resource is selected/);

    const selected = await client.call('PATCH', `/api/harvesters/${harvesterId}/harvestable-resources`, { filter: {}, selected: true });
    assert.deepEqual(selected.body, { changed: 2 });

    const dry = await client.run(harvesterId, 'harvest', { dry_run: true });
    assert.equal(dry.status, 'succeeded', JSON.stringify(dry));
    assert.equal(dry.counters.created, 26);
    assert.equal(dry.result.plan.would_create.length, 26);
    assert.equal((await db.query(`SELECT count(*)::int AS n FROM item WHERE kind = 'harvested'`)).rows[0].n, 0, 'a dry run changes nothing');

    const first = await client.run(harvesterId, 'harvest');
    assert.equal(first.status, 'succeeded', JSON.stringify(first));
    assert.deepEqual({ ...first.counters }, { total: 26, done: 26, created: 26, updated: 0, unchanged: 0, deleted: 0, failed: 0, skipped: 0 });
    const records = (await client.call('GET', `/api/harvesting-sessions/${first.id}/records?action=created&limit=1000`)).body;
    assert.equal(records.items.length, 26);

    const [picturesResource] = (await resources()).filter((r: { remote_id: string }) => r.remote_id === pictures.collection.id);
    assert.ok(picturesResource.collection_id);
    assert.ok(picturesResource.watermark, 'the watermark is saved after a successful run');
    const items = await localItems(picturesResource.collection_id);
    assert.equal(items.length, 20);
    const remoteItem = pictures.items[3];
    const local = items.find((f) => f.properties['harvest:remote_id'] === remoteItem.id);
    assert.ok(local, 'each remote item is a local item');
    assert.notEqual(local.id, remoteItem.id);
    assert.ok(
      Math.abs(local.geometry.coordinates[0] - (2.35 + 3 * 0.0001)) < 1e-9 && Math.abs(local.geometry.coordinates[1] - (48.85 + 3 * 0.0001)) < 1e-9,
      JSON.stringify(local.geometry),
    );
    assert.equal(local.properties['view:azimuth'], 30);
    assert.equal(local.properties['harvest:harvester_id'], harvesterId);
    assert.equal(local.properties['harvest:session_id'], first.id);
    const via = local.links.find((l: { rel: string }) => l.rel === 'via');
    assert.equal(via.href, `${remote.api.baseUrl}/api/collections/${pictures.collection.id}/items/${remoteItem.id}`);
    assert.match(local.assets.hd.href, new RegExp(`^${remote.api.baseUrl}/api/pictures/`), 'assets stay remote links');

    // Searchable with everything else, and listed as a collection.
    const search = await api.fetch(`/api/search?collections=${picturesResource.collection_id}&limit=100`);
    assert.equal(search.status, 200);
    // eslint-disable-next-line @typescript-eslint/no-explicit-any
    assert.equal(((await search.json()) as any).features.length, 20);
    const collection = await (await api.fetch(`/api/collections/${picturesResource.collection_id}`)).json();
    // eslint-disable-next-line @typescript-eslint/no-explicit-any
    assert.equal((collection as any).title, 'Remote street pictures');
  });

  it('re-harvests incrementally: unchanged records are not rewritten, and a second action is a 409', async () => {
    const before = (await db.query(`SELECT max(updated_at) AS at FROM item WHERE kind = 'harvested'`)).rows[0].at;
    const session = await client.start(harvesterId, 'harvest');
    const busy = await client.call('POST', `/api/harvesters/${harvesterId}/discover`, {});
    if (busy.status === 409) assert.equal(busy.body.details.session_id, session.id);
    else assert.equal(busy.status, 202, 'the first session may have ended already');
    const second = await client.ended(session.id);
    assert.equal(second.status, 'succeeded', JSON.stringify(second));
    assert.equal(second.counters.created, 0);
    assert.equal(second.counters.updated, 0);
    assert.ok(second.counters.total < 26, `incremental: only records updated since the watermark are listed (${second.counters.total})`);
    const afterRun = (await db.query(`SELECT max(updated_at) AS at FROM item WHERE kind = 'harvested'`)).rows[0].at;
    assert.equal(afterRun.getTime(), before.getTime(), 'no item rewritten');
    if (busy.status === 202) await client.ended(busy.body.id);
  });

  it('follows remote changes: additions, edits, and deletions after the grace period', async () => {
    const catalog = remote.api.app.get(CatalogService);
    for (let i = 0; i < 3; i++) {
      await catalog.createItem({
        collectionId: pictures.collection.id,
        kind: 'picture',
        ownerId: null,
        datetime: new Date(),
        geometry: point(2.4 + i * 0.001, 48.9),
        properties: { title: `new ${i}` },
      });
    }
    for (const item of pictures.items.slice(0, 2)) await catalog.updateItem(item.id, { properties: { ...item.properties, title: 'renamed remotely' } });
    for (const item of rasters.items.slice(0, 4)) await catalog.deleteItem(item.id);

    const third = await client.run(harvesterId, 'harvest');
    assert.equal(third.status, 'succeeded', JSON.stringify(third));
    assert.equal(third.counters.created, 3);
    assert.equal(third.counters.updated, 2);
    assert.equal(third.counters.deleted, 0, 'missing once: within the grace period');
    const renamed = (await db.query(`SELECT count(*)::int AS n FROM item WHERE kind = 'harvested' AND properties->>'title' = 'renamed remotely'`)).rows[0].n;
    assert.equal(renamed, 2);

    const fourth = await client.run(harvesterId, 'harvest');
    assert.equal(fourth.status, 'succeeded', JSON.stringify(fourth));
    assert.equal(fourth.counters.deleted, 4, 'missing twice: deleted');
    assert.equal(fourth.counters.created + fourth.counters.updated, 0);
    const deleted = await client.call('GET', `/api/harvesting-sessions/${fourth.id}/records?action=deleted`);
    assert.deepEqual(
      deleted.body.items.map((r: { remote_id: string }) => r.remote_id).sort(),
      rasters.items
        .slice(0, 4)
        .map((i: { id: string }) => i.id)
        .sort(),
    );
    const [rasterResource] = (await resources()).filter((r: { remote_id: string }) => r.remote_id === rasters.collection.id);
    assert.equal((await localItems(rasterResource.collection_id)).length, 2);
  });

  it('holds back a mass delete and says so', async () => {
    const catalog = remote.api.app.get(CatalogService);
    assert.equal((await client.call('PATCH', `/api/harvesters/${harvesterId}`, { deletion_grace_runs: 1 })).status, 200);
    for (const item of pictures.items.slice(5, 20)) await catalog.deleteItem(item.id);
    const run = await client.run(harvesterId, 'harvest');
    assert.equal(run.status, 'partially_failed', JSON.stringify(run));
    assert.match(run.error, /mass-delete guard: 15 of 25 records \(60\.0 %\)/);
    assert.equal(run.counters.deleted, 0);
    assert.equal(run.counters.skipped, 15);
    assert.equal((await db.query(`SELECT count(*)::int AS n FROM item WHERE kind = 'harvested'`)).rows[0].n, 25, 'nothing deleted');
    const log = await client.call('GET', `/api/harvesting-sessions/${run.id}/log`);
    assert.ok(log.body.items.some((l: { message: string }) => /mass-delete guard/.test(l.message)));
  });

  it('cancels a session whose remote never answers within 2 s', async () => {
    stub.hang('/hang');
    const created = await client.call('POST', '/api/harvesters', { name: 'Hanging remote', type: 'stac-api', url: `${stub.url}/hang` });
    assert.equal(created.status, 201);
    const session = await client.start(created.body.id, 'check');
    await waitFor('the session to run', async () => (await client.call('GET', `/api/harvesting-sessions/${session.id}`)).body.status === 'running');
    await waitFor('the request to reach the remote', async () => stub.requests.some((r) => r.url === '/hang'));
    const asked = Date.now();
    const cancel = await client.call('POST', `/api/harvesting-sessions/${session.id}/cancel`);
    assert.equal(cancel.status, 202);
    const ended = await client.ended(session.id, 5000);
    const took = Date.now() - asked;
    assert.equal(ended.status, 'cancelled');
    assert.ok(took < 2000, `cancelled in ${took} ms`);
    assert.equal((await client.call('POST', `/api/harvesting-sessions/${session.id}/cancel`)).status, 409);
    const harvester = (await client.call('GET', `/api/harvesters/${created.body.id}`)).body;
    assert.equal(harvester.status, 'ready');
    assert.equal(harvester.consecutive_failures, 0, 'a cancel is not a failure');
  });

  it('ends a session whose worker was killed as timed_out; the next one completes without duplicates', async () => {
    const feature = (id: string, i: number) => ({
      type: 'Feature',
      stac_version: '1.0.0',
      id,
      geometry: { type: 'Point', coordinates: [10 + i, 50] },
      properties: { datetime: '2024-05-01T10:00:00Z' },
      assets: { data: { href: `data/${id}.tif`, type: 'image/tiff; application=geotiff' } },
      links: [{ rel: 'self', href: `${stub.url}/slow/collections/c1/items/${id}` }],
    });
    stub.route('GET /slow', { body: { links: [{ rel: 'data', href: `${stub.url}/slow/collections` }], conformsTo: [ITEM_SEARCH], title: 'Slow' } });
    stub.route('GET /slow/collections', { body: { collections: [{ id: 'c1', title: 'C1', links: [] }], links: [] } });
    stub.hang('POST /slow/search');
    const created = await client.call('POST', '/api/harvesters', { name: 'Slow remote', type: 'stac-api', url: `${stub.url}/slow`, config: { select_new_resources: true } });
    const id = created.body.id;
    assert.equal((await client.run(id, 'discover')).status, 'succeeded');
    const session = await client.start(id, 'harvest');
    await waitFor('the search to reach the remote', async () => stub.requests.some((r) => r.url === '/slow/search'));
    await worker.kill('SIGKILL');
    const ended = await client.ended(session.id, 20_000);
    assert.equal(ended.status, 'timed_out');
    assert.match(ended.error, /no heartbeat/);

    stub.route('POST /slow/search', { body: { type: 'FeatureCollection', features: [feature('a', 0), feature('b', 1), feature('c', 2)], links: [] } });
    worker = await startWorker(ENV);
    const again = await client.run(id, 'harvest');
    assert.equal(again.status, 'succeeded', JSON.stringify(again));
    assert.equal(again.counters.created, 3);
    const once = await client.run(id, 'harvest');
    assert.equal(once.counters.unchanged, 3);
    const rows = (await db.query(`SELECT count(*)::int AS n FROM item WHERE properties->>'harvest:harvester_id' = $1`, [id])).rows[0].n;
    assert.equal(rows, 3, 'nothing duplicated');
    const item = (await db.query(`SELECT assets FROM item WHERE properties->>'harvest:harvester_id' = $1 AND properties->>'harvest:remote_id' = 'a'`, [id])).rows[0];
    assert.equal(item.assets.data.href, `${stub.url}/slow/collections/c1/items/data/a.tif`, 'relative asset hrefs are resolved against the item');
  });

  it('accepts GeoNode’s way of starting and aborting actions', async () => {
    const started = await client.call('PATCH', `/api/harvesters/${harvesterId}`, { status: 'checking-availability' });
    assert.equal(started.status, 202, JSON.stringify(started.body));
    assert.equal(started.body.type, 'check');
    await client.ended(started.body.id);
    const cleared = await client.run(harvesterId, 'clear', { delete_local: true });
    assert.equal(cleared.status, 'succeeded', JSON.stringify(cleared));
    assert.equal(cleared.counters.deleted, 25);
    assert.equal((await db.query(`SELECT count(*)::int AS n FROM item WHERE properties->>'harvest:harvester_id' = $1`, [harvesterId])).rows[0].n, 0);
    assert.ok((await resources()).every((r: { collection_id: string | null; watermark: string | null }) => !r.collection_id && !r.watermark));
  });
});
