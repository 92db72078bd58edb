import assert from 'node:assert/strict';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import type pg from 'pg';
import { startApi, type TestApi } from './support/app.js';
import { createUser, type TestUser } from './support/auth.js';
import { testPool } from './support/db.js';
import { sharedPath } from './support/env.js';
import { harvestClient } from './support/harvest.js';
import { waitFor } from './support/net.js';
import { decodeMvt, tileOf } from './support/mvt.js';
import { startWorker, type ChildHandle } from './support/processes.js';
import { RemoteServer } from './support/remote-server.js';
import { stacValidator } from './support/stac-validate.js';

/**
 * Every harvester type through the HTTP API and a real worker, against recorded answers served
 * over HTTP: a static STAC catalog (with ETags), GeoNode 3 and a pycsw CSW. What they harvest is
 * searchable, valid STAC, and drawn in the vector tiles like any other item.
 */
describe('harvesting static catalogs, GeoNode and CSW into the catalog', () => {
  const remote = new RemoteServer();
  let api: TestApi;
  let admin: TestUser;
  let worker: ChildHandle;
  let db: pg.Pool;
  let client: ReturnType<typeof harvestClient>;

  const files = (dir: string, prefix = ''): string[] =>
    readdirSync(dir).flatMap((name) => (statSync(path.join(dir, name)).isDirectory() ? files(path.join(dir, name), `${prefix}${name}/`) : [`${prefix}${name}`]));

  before(async () => {
    await remote.start();
    const stac = sharedPath('fixtures/stac');
    for (const file of files(stac).filter((f) => f.endsWith('.json'))) remote.route(`GET /static/${file}`, { file: path.join(stac, file), etag: true });
    // GeoNode 3: the recorded first page of layers, with its `next` link (to the real host) removed.
    const geonode = (name: string) => JSON.parse(readFileSync(sharedPath('fixtures/harvest/geonode', name), 'utf8'));
    remote.route('GET /geonode/api/v2/layers/', { body: { ...geonode('geonode3x-api-v2-layers-page1.json'), links: { next: null, previous: null } } });
    remote.route('GET /geonode/api/v2/maps/', { body: { ...geonode('geonode3x-api-v2-maps-page1.json'), links: { next: null, previous: null } } });
    // pycsw: capabilities and the recorded last page of records for every GetRecords.
    const csw = (name: string) => readFileSync(sharedPath('fixtures/harvest/csw', name));
    remote.route('/csw', (request, res) => {
      const capabilities = request.method === 'GET' && /getcapabilities/i.test(request.url);
      res.writeHead(200, { 'content-type': 'application/xml' }).end(csw(capabilities ? '01-GetCapabilities.xml' : '03-GetRecords-csw-Record-full-lastpage.xml'));
    });
    // A CSW record linking a GeoTIFF (constructed: no recorded record links a file served here).
    remote.route('GET /files/float32.tif', { file: sharedPath('fixtures/geotiff/float32.tif'), headers: { 'content-type': 'image/tiff' } });
    remote.route('/csw-tiff', (_request, res) => {
      res.writeHead(200, { 'content-type': 'application/xml' }).end(
        `<?xml version="1.0" encoding="UTF-8"?>
<csw:GetRecordByIdResponse xmlns:csw="http://www.opengis.net/cat/csw/2.0.2" xmlns:dc="http://purl.org/dc/elements/1.1/" xmlns:dct="http://purl.org/dc/terms/">
  <csw:Record>
    <dc:identifier>tiff-record</dc:identifier>
    <dc:title>A float raster</dc:title>
    <dct:references scheme="WWW:DOWNLOAD-1.0-http--download">${remote.url}/files/float32.tif</dct:references>
    <dct:references scheme="WWW:LINK-1.0-http--link">${remote.url}/about.html</dct:references>
  </csw:Record>
</csw:GetRecordByIdResponse>`,
      );
    });
    // A minimal STAC API whose one item has a GeoTIFF asset (constructed), for the asset mode copy.
    remote.route('GET /copy', {
      body: { links: [{ rel: 'search', href: `${remote.url}/copy/search`, method: 'POST' }], conformsTo: ['https://api.stacspec.org/v1.0.0/item-search'] },
    });
    remote.route('GET /copy/collections', { body: { collections: [{ id: 'rasters', title: 'Rasters', links: [] }], links: [] } });
    remote.route('POST /copy/search', {
      body: {
        type: 'FeatureCollection',
        features: [
          {
            type: 'Feature',
            stac_version: '1.0.0',
            id: 'float-raster',
            collection: 'rasters',
            geometry: { type: 'Point', coordinates: [5, 45] },
            properties: { datetime: '2024-01-01T00:00:00Z', title: 'Float raster' },
            assets: { data: { href: `${remote.url}/files/float32.tif`, type: 'image/tiff; application=geotiff', roles: ['data'] } },
            links: [],
          },
        ],
        links: [],
      },
    });
    api = await startApi();
    worker = await startWorker();
    admin = await createUser(api, 'types-admin', 'admin');
    client = harvestClient(api, admin);
    db = testPool();
  });

  after(async () => {
    await worker?.stop();
    await api?.close();
    await remote.stop();
    await db?.end();
  });

  const harvester = async (name: string, type: string, url: string, config: Record<string, unknown> = {}) => {
    const res = await client.call('POST', '/api/harvesters', { name, type, url, config: { select_new_resources: true, ...config } });
    assert.equal(res.status, 201, JSON.stringify(res.body));
    const id = res.body.id as string;
    assert.equal((await client.run(id, 'check')).status, 'succeeded');
    const discover = await client.run(id, 'discover');
    assert.equal(discover.status, 'succeeded', JSON.stringify(discover));
    return id;
  };

  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  const harvestedItems = async (harvesterId: string): Promise<any[]> => {
    const rows = (await db.query(`SELECT id, collection_id FROM item WHERE properties->>'harvest:harvester_id' = $1`, [harvesterId])).rows;
    // eslint-disable-next-line @typescript-eslint/no-explicit-any
    const features: any[] = [];
    for (const collection of new Set(rows.map((r) => r.collection_id as string))) {
      const res = await api.fetch(`/api/search?collections=${collection}&limit=1000`, { headers: admin.headers });
      assert.equal(res.status, 200);
      // eslint-disable-next-line @typescript-eslint/no-explicit-any
      features.push(...((await res.json()) as any).features);
    }
    assert.equal(features.length, rows.length, 'every harvested item is published');
    return features;
  };

  const assertValid = async (features: unknown[]) => {
    const { validator, skipReason } = await stacValidator();
    if (!validator) return console.log(skipReason);
    for (const feature of features.slice(0, 10)) {
      const problems = await validator.validate(feature as Record<string, unknown>);
      assert.deepEqual(problems, [], JSON.stringify(feature).slice(0, 500));
    }
  };

  it('a static STAC catalog: items with via links; a second harvest finds every item unchanged by ETag', async () => {
    const id = await harvester('Static catalog', 'stac-static', `${remote.url}/static/catalog.json`);
    const first = await client.run(id, 'harvest');
    assert.ok(['succeeded', 'partially_failed'].includes(first.status), JSON.stringify(first));
    assert.ok(first.counters.created > 0, JSON.stringify(first.counters));
    const features = await harvestedItems(id);
    for (const feature of features) {
      const via = feature.links.find((l: { rel: string }) => l.rel === 'via');
      assert.match(via.href, new RegExp(`^${remote.url}/static/`));
    }
    await assertValid(features);

    const before = remote.requests.length;
    const second = await client.run(id, 'harvest');
    assert.equal(second.counters.created + second.counters.updated, 0, JSON.stringify(second.counters));
    assert.equal(second.counters.unchanged, first.counters.created);
    const conditional = remote.requests.slice(before).filter((r) => r.url.startsWith('/static/') && r.headers['if-none-match']);
    assert.ok(conditional.length >= first.counters.created, 'conditional GETs');
  });

  it('GeoNode 3 layers and maps: footprints searchable and drawn in the vector tiles', async () => {
    const id = await harvester('GeoNode demo', 'geonode', `${remote.url}/geonode/`, { api_version: '3' });
    const run = await client.run(id, 'harvest');
    assert.ok(['succeeded', 'partially_failed'].includes(run.status), JSON.stringify(run));
    assert.ok(run.counters.created >= 2, JSON.stringify(run.counters));
    const features = await harvestedItems(id);
    const located = features.find((f) => f.geometry && f.geometry.type === 'Polygon');
    assert.ok(located, 'a layer with a footprint');
    assert.ok(located.properties['harvest:remote_id']);
    await assertValid(features);

    const [lon, lat] = located.geometry.coordinates[0][0] as [number, number];
    const t = tileOf(lon, lat, 8);
    const tile = await api.fetch(`/api/map/footprints/${t.z}/${t.x}/${t.y}.mvt`);
    assert.equal(tile.status, 200);
    const layers = decodeMvt(new Uint8Array(await tile.arrayBuffer()));
    assert.ok(
      layers.footprints?.features.some((f) => f.properties.id === located.id && f.properties.kind === 'harvested'),
      JSON.stringify(Object.keys(layers)),
    );
  });

  it('CSW records: kept with their references, dated or not', async () => {
    const id = await harvester('pycsw', 'csw', `${remote.url}/csw`, { output_schema: 'dc', page_size: 5 });
    const run = await client.run(id, 'harvest');
    assert.ok(['succeeded', 'partially_failed'].includes(run.status), JSON.stringify(run));
    assert.equal(run.counters.created, 3, JSON.stringify(run.counters));
    const features = await harvestedItems(id);
    assert.ok(features.every((f) => f.links.some((l: { rel: string; href: string }) => l.rel === 'via' && l.href.startsWith(`${remote.url}/csw`))));
    await assertValid(features);
    const again = await client.run(id, 'harvest');
    assert.equal(again.counters.unchanged, 3);
  });

  it('registers the GeoTIFFs a CSW record links to as datasets (a management job), once', async () => {
    const runJob = async () => {
      const created = await client.call('POST', '/api/management/commands/csw.register-geotiffs/jobs', {
        args: { endpoint: `${remote.url}/csw-tiff`, identifiers: ['tiff-record'], visibility: 'owner-only' },
      });
      assert.equal(created.status, 201, JSON.stringify(created.body));
      return waitFor(
        'the registration job to end',
        async () => {
          const job = (await client.call('GET', `/api/management/jobs/${created.body.id}`)).body;
          return ['succeeded', 'failed', 'cancelled'].includes(job.status) ? job : null;
        },
        60_000,
      );
    };
    const job = await runJob();
    assert.equal(job.status, 'succeeded', JSON.stringify(job));
    // Other tests of the run may have registered the same fixture already: then it is reported, not copied.
    assert.equal(job.result.registered + job.result.already, 1, JSON.stringify(job.result));
    const datasetId = (job.result.results[0].dataset_id ?? job.result.results[0].existing_id) as string;
    const dataset = await waitFor('the dataset to be read', async () => {
      const body = (await client.call('GET', `/api/datasets/${datasetId}`)).body;
      return body.status !== 'pending' ? body : null;
    });
    assert.equal(dataset.status, 'ready', JSON.stringify(dataset));
    const again = await runJob();
    assert.equal(again.result.already, 1, 'the same content is not copied twice');
    assert.equal(again.result.results[0].existing_id, datasetId);
  });

  it('asset mode copy: the GeoTIFF assets of harvested items become datasets, linked from the item', async () => {
    const id = await harvester('Copying remote', 'stac-api', `${remote.url}/copy`);
    assert.equal((await client.call('PATCH', `/api/harvesters/${id}`, { asset_mode: 'copy', visibility: 'owner-only' })).status, 200);
    const run = await client.run(id, 'harvest');
    assert.equal(run.status, 'succeeded', JSON.stringify(run));
    const [item] = await harvestedItems(id);
    assert.equal(item.assets.data.href, `${remote.url}/files/float32.tif`, 'the asset itself stays the remote file');
    const copy = item.links.find((l: { rel: string; href: string }) => l.rel === 'alternate' && /\/api\/datasets\//.test(l.href));
    assert.ok(copy, JSON.stringify(item.links));
    const datasetId = copy.href.split('/').pop();
    const dataset = await waitFor('the copy to be read', async () => {
      const body = (await client.call('GET', `/api/datasets/${datasetId}`)).body;
      return body.status !== 'pending' ? body : null;
    });
    assert.equal(dataset.status, 'ready', JSON.stringify(dataset));
    const again = await client.run(id, 'harvest', { full: true });
    assert.equal(again.counters.unchanged, 1);
    const copies = (await db.query(`SELECT count(*)::int AS n FROM dataset WHERE sha256 = (SELECT sha256 FROM dataset WHERE id = $1)`, [datasetId])).rows[0].n;
    assert.equal(copies, 1, 'copied once');
  });
});
