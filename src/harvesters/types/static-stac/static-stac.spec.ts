import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { Ajv } from 'ajv';
import { after, before, describe, it } from 'node:test';
import { sharedPath } from '../../../../test/support/env.js';
import { drain, harvestContext } from '../../../../test/support/harvest-context.js';
import { RemoteServer } from '../../../../test/support/remote-server.js';
import type { HarvestContext, Listed, RemoteRecord, RemoteResource } from '../../harvester-type.js';
import { StaticStacHarvesterType } from './static-stac.type.js';

const FIXTURES = sharedPath('fixtures', 'stac');
const type = new StaticStacHarvesterType();
const records = (listed: Listed[]) => listed.filter((l): l is { record: RemoteRecord } => 'record' in l).map((l) => l.record);
const collect = async <T>(iterable: AsyncIterable<T>) => {
  const out: T[] = [];
  for await (const value of iterable) out.push(value);
  return out;
};
const harvest = (context: HarvestContext, resource: RemoteResource, full = false) => drain(type.harvest(context, resource, { since: null, full }));

/** Every file under `dir`, relative to it, with forward slashes. */
function files(dir: string, prefix = ''): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) =>
    entry.isDirectory() ? files(path.join(dir, entry.name), `${prefix}${entry.name}/`) : entry.name.endsWith('.json') ? [`${prefix}${entry.name}`] : [],
  );
}

describe('static STAC catalog: ../shared/fixtures/stac served over HTTP with ETags', () => {
  const server = new RemoteServer();
  let context: HarvestContext;
  let logs: string[];
  let resources: RemoteResource[];

  before(async () => {
    await server.start();
    for (const file of files(FIXTURES)) server.route(`GET /${file}`, { file: path.join(FIXTURES, file), etag: true });
    ({ context, logs } = harvestContext(`${server.url}/catalog.json`));
  });
  after(() => server.stop());

  it('discovers the collections below catalog.json, and the items outside collections as one more resource', async () => {
    resources = await collect(type.discover(context));
    assert.deepEqual(
      resources.map((r) => [r.remoteId, r.type, r.remoteUrl]),
      [
        ['extensions-collection', 'stac-collection', `${server.url}/extensions-collection/collection.json`],
        ['sentinel-2', 'stac-collection', `${server.url}/collection-only/collection.json`],
        ['catalog-items:examples', 'stac-catalog-items', `${server.url}/catalog.json`],
      ],
    );
    // collection-with-schemas.json reuses the id sentinel-2: one resource per remote id.
    assert.ok(logs.some((l) => /collection sentinel-2 at .*collection-with-schemas\.json has the id of the collection at/.test(l)));
    // Only descriptive links are kept with the description, made absolute.
    assert.deepEqual(resources[0].description?.links, [{ rel: 'license', href: 'https://remotedata.io/license.html', title: 'Remote Data License Terms' }]);
    const collection = type.collection(resources[0]);
    assert.equal(collection.title, 'Collection of Extension Items');
    assert.equal(collection.license, 'PDDL-1.0');
    assert.deepEqual(collection.keywords, ['examples', 'sar', 'projection']);
    assert.deepEqual(collection.providers, [{ name: 'Remote Data, Inc.', roles: ['producer', 'licensor'], url: 'https://remotedata.io' }]);
    assert.deepEqual(collection.geometry, {
      type: 'Polygon',
      coordinates: [
        [
          [-180, -56],
          [180, -56],
          [180, 83],
          [-180, 83],
          [-180, -56],
        ],
      ],
    });
    assert.equal(collection.datetimeStart?.toISOString(), '2009-05-20T02:40:01.042Z');
    assert.equal(collection.datetimeEnd?.toISOString(), '2018-11-03T23:59:55.112Z');
    assert.deepEqual(collection.properties?.stac_extensions, []);
    assert.deepEqual(collection.properties?.links, [{ rel: 'license', href: 'https://remotedata.io/license.html', title: 'Remote Data License Terms' }]);
    const sentinel = type.collection(resources[1]);
    assert.ok(sentinel.summaries && 'eo:bands' in sentinel.summaries);
    assert.ok(sentinel.properties && 'assets' in sentinel.properties, 'fields without a place of their own are kept as properties');
  });

  it('harvests items: properties and extensions kept, hrefs absolute, structural links left out', async () => {
    const extensions = await harvest(context, resources[0]);
    assert.equal(extensions.end.exhaustive, true);
    const [proj] = records(extensions.listed);
    assert.equal(extensions.listed.length, 1);
    assert.equal(proj.remoteId, 'proj-example');
    assert.equal(proj.remoteUrl, `${server.url}/extensions-collection/proj-example/proj-example.json`);
    assert.equal(proj.properties.datetime, '2018-10-01T01:08:32.033000Z');
    assert.ok(proj.stac_extensions?.includes('https://stac-extensions.github.io/projection/v1.0.0/schema.json'));
    assert.match(String(proj.assets?.B1.href), /^https:\/\/landsat-pds\.s3\.amazonaws\.com\//);
    assert.deepEqual(proj.links, [], 'root, parent and collection links are replaced by local ones');

    const loose = await harvest(context, resources[2]);
    assert.deepEqual(
      loose.listed.map((l) => ('record' in l ? l.record.remoteId : l)),
      ['CS3-20160503_132131_08'],
    );
    assert.deepEqual(
      records(loose.listed)[0].links?.map((l) => l.rel),
      ['alternate', 'license'],
    );
    const sentinel = await harvest(context, resources[1]);
    assert.deepEqual(sentinel, { listed: [], end: { exhaustive: true } });
  });

  it('a second run asks with If-None-Match and finds every item unchanged', async () => {
    server.requests.length = 0;
    const listed: Listed[] = [];
    for (const resource of resources) {
      const run = await harvest(context, resource);
      assert.equal(run.end.exhaustive, true);
      listed.push(...run.listed);
    }
    assert.deepEqual(listed, [{ unchanged: { remoteId: 'proj-example' } }, { unchanged: { remoteId: 'CS3-20160503_132131_08' } }]);
    assert.ok(server.requests.length >= 5);
    for (const request of server.requests) assert.match(String(request.headers['if-none-match']), /^"[0-9a-f]{16}"$/, `${request.url} was asked conditionally`);
    assert.ok(server.requests.some((r) => r.url === '/extensions-collection/proj-example/proj-example.json'));
  });

  it('a changed item file is read again; a full run reads everything', async () => {
    const changed = JSON.parse(readFileSync(path.join(FIXTURES, 'extensions-collection/proj-example/proj-example.json'), 'utf8')) as { properties: Record<string, unknown> };
    changed.properties.title = 'Proj example, edited';
    server.route('GET /extensions-collection/proj-example/proj-example.json', { body: changed, etag: true });
    const run = await harvest(context, resources[0]);
    assert.equal(records(run.listed)[0].properties.title, 'Proj example, edited');
    const again = await harvest(context, resources[0]);
    assert.deepEqual(again.listed, [{ unchanged: { remoteId: 'proj-example' } }]);
    server.requests.length = 0;
    const full = await harvest(context, resources[0], true);
    assert.equal(records(full.listed).length, 1);
    assert.ok(server.requests.every((r) => r.headers['if-none-match'] === undefined));
  });

  it('a collection as root: its items, ids used twice are failures', async () => {
    const { context: simple } = harvestContext(`${server.url}/collection.json`);
    const found = await collect(type.discover(simple));
    assert.deepEqual(
      found.map((r) => r.remoteId),
      ['simple-collection'],
    );
    const { listed, end } = await harvest(simple, found[0]);
    assert.equal(end.exhaustive, true);
    // simple-item, core-item and extended-item all say 20201211_223832_CS2.
    assert.equal(records(listed).length, 1);
    const failures = listed.filter((l) => 'failure' in l).map((l) => ('failure' in l ? l.failure : null));
    assert.deepEqual(
      failures.map((f) => f?.remoteId),
      [`${server.url}/core-item.json`, `${server.url}/extended-item.json`],
    );
    assert.match(String(failures[0]?.error), /item id 20201211_223832_CS2 is already used by .*simple-item\.json/);
  });
});

describe('static STAC catalogs built for the test: loops, depth limit, invalid and missing items', () => {
  const server = new RemoteServer();
  const catalog = (id: string, links: { rel: string; href: string }[]) => ({ type: 'Catalog', stac_version: '1.0.0', id, description: id, links });
  const item = (id: string | undefined, ring: number[][]) => ({
    type: 'Feature',
    stac_version: '1.0.0',
    ...(id === undefined ? {} : { id }),
    geometry: { type: 'Polygon', coordinates: [ring] },
    properties: { datetime: '2024-01-01T00:00:00Z' },
    assets: { data: { href: `./${id ?? 'x'}.tif`, type: 'image/tiff; application=geotiff', roles: ['data'] } },
    links: [{ rel: 'root', href: '/root.json' }],
  });
  const square = [
    [0, 0],
    [1, 0],
    [1, 1],
    [0, 1],
    [0, 0],
  ];

  before(async () => {
    await server.start();
    // root → a → b → c, with links back up (a loop) and a catalog linking itself.
    server.route('GET /root.json', {
      body: catalog('loop', [
        { rel: 'child', href: './a/catalog.json' },
        { rel: 'child', href: './root.json' },
        { rel: 'item', href: './i1.json' },
      ]),
    });
    server.route('GET /a/catalog.json', {
      body: catalog('a', [
        { rel: 'child', href: '../root.json' },
        { rel: 'child', href: './b/catalog.json#again' },
        { rel: 'item', href: './i2.json' },
      ]),
    });
    server.route('GET /a/b/catalog.json', {
      body: catalog('b', [
        { rel: 'child', href: './c/catalog.json' },
        { rel: 'child', href: '/a/catalog.json' },
        { rel: 'item', href: './i3.json' },
      ]),
    });
    server.route('GET /a/b/c/catalog.json', { body: catalog('c', [{ rel: 'item', href: './i4.json' }]) });
    server.route('GET /i1.json', { body: item('i1', square) });
    server.route('GET /a/i2.json', { body: item(undefined, square) });
    server.route('GET /a/b/i3.json', { body: item('i3', square.slice(0, 4)) });
    server.route('GET /a/b/c/i4.json', { body: item('i4', square) });
    server.route('GET /broken.json', {
      body: catalog('broken', [
        { rel: 'item', href: './i1.json' },
        { rel: 'item', href: './gone.json' },
        { rel: 'item', href: './page.html' },
      ]),
    });
    server.route('GET /page.html', { body: '<!doctype html><p>Not found, but 200</p>', headers: { 'content-type': 'text/html' } });
  });
  after(() => server.stop());

  it('follows loops once and maps what is valid; an item without id or with an open ring is a failure', async () => {
    const { context } = harvestContext(`${server.url}/root.json`);
    const [resource] = await collect(type.discover(context));
    assert.equal(resource.remoteId, 'catalog-items:loop');
    const { listed, end } = await harvest(context, resource);
    assert.equal(end.exhaustive, true);
    assert.deepEqual(
      records(listed).map((r) => [r.remoteId, r.assets?.data.href]),
      [
        ['i1', `${server.url}/i1.tif`],
        ['i4', `${server.url}/a/b/c/i4.tif`],
      ],
    );
    const failures = listed.flatMap((l) => ('failure' in l ? [l.failure] : []));
    assert.deepEqual(
      failures.map((f) => [f.remoteId, f.stage]),
      [
        [`${server.url}/a/i2.json`, 'map'],
        ['i3', 'map'],
      ],
    );
    assert.match(failures[0].error, /no id/);
    assert.match(failures[1].error, /invalid geometry: Polygon coordinates\[0\] has 4 positions|not closed/);
    assert.equal(server.requests.filter((r) => r.url === '/a/b/catalog.json').length, 2, 'read once by discovery and once by the harvest');
  });

  it('stops at max_depth and says the listing is not exhaustive', async () => {
    const { context, logs } = harvestContext(`${server.url}/root.json`, { max_depth: 1 });
    const { listed, end } = await harvest(context, { remoteId: 'catalog-items:loop', title: 'x', type: 'stac-catalog-items', remoteUrl: `${server.url}/root.json` });
    assert.equal(end.exhaustive, false);
    assert.deepEqual(
      listed.map((l) => ('record' in l ? l.record.remoteId : 'failure' in l ? l.failure.remoteId : l.unchanged.remoteId)),
      ['i1', `${server.url}/a/i2.json`],
    );
    assert.ok(logs.some((l) => l.includes(`${server.url}/a/b/catalog.json is deeper than max_depth 1`)));
  });

  it('a cancelled harvest stops at once while the remote hangs', async () => {
    server.route('GET /hanging.json', {
      body: catalog('hanging', [
        { rel: 'item', href: './i1.json' },
        { rel: 'item', href: './never.json' },
      ]),
    });
    server.hang('GET /never.json');
    const controller = new AbortController();
    const { context } = harvestContext(`${server.url}/hanging.json`, {}, { signal: controller.signal });
    const started = Date.now();
    setTimeout(() => controller.abort(new Error('cancelled')), 200);
    await assert.rejects(harvest(context, { remoteId: 'catalog-items:hanging', title: 'x', type: 'stac-catalog-items', remoteUrl: `${server.url}/hanging.json` }), /cancelled/);
    assert.ok(Date.now() - started < 2000);
  });

  it('an item file that cannot be read or is no JSON is a failure; a missing one makes the listing not exhaustive', async () => {
    const { context } = harvestContext(`${server.url}/broken.json`);
    const { listed, end } = await harvest(context, { remoteId: 'catalog-items:broken', title: 'x', type: 'stac-catalog-items', remoteUrl: `${server.url}/broken.json` });
    assert.equal(end.exhaustive, false);
    assert.equal(records(listed).length, 1);
    const [gone, page] = listed.flatMap((l) => ('failure' in l ? [l.failure] : []));
    assert.equal(gone.stage, 'fetch');
    assert.equal(gone.remoteId, `${server.url}/gone.json`);
    assert.match(gone.error, /HTTP 404/);
    // An HTML page where an item should be is a bad record, not a crash.
    assert.equal(page.stage, 'parse');
    assert.match(page.error, /expected JSON .* got text\/html/);
  });
});

describe('static STAC configuration schema', () => {
  it('compiles in strict mode, fills defaults and refuses values out of range', () => {
    const validate = new Ajv({ strict: true, useDefaults: true }).compile(type.configSchema);
    const config: Record<string, unknown> = {};
    assert.equal(validate(config), true);
    assert.deepEqual(config, { max_depth: 8, catalog_items: true, concurrency: 4 });
    assert.equal(validate({ max_depth: 3 }), true);
    assert.equal(validate({ max_depth: -1 }), false);
    assert.equal(validate({ unknown: 1 }), false);
  });
});
