import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { after, before, describe, it } from 'node:test';
import { sharedPath } from '../../../../test/support/env.js';
import { drain, harvestContext } from '../../../../test/support/harvest-context.js';
import { RemoteServer } from '../../../../test/support/remote-server.js';
import type { RemoteRecord, RemoteResource } from '../../harvester-type.js';
import { StacApiHarvesterType } from './stac-api.type.js';

/**
 * The remote STAC API type against responses recorded from Earth Search, Planetary Computer and
 * FedEO (../shared/fixtures/harvest/stac-api, see its README), served over HTTP with their hosts
 * rewritten to the test server. Pages after the last recorded one are constructed (empty, no
 * `next`) and say so.
 */
describe('remote STAC API type on recorded public APIs', () => {
  const server = new RemoteServer();
  const type = new StacApiHarvesterType();
  const fixture = (name: string, from: string, to: string) => JSON.parse(readFileSync(sharedPath('fixtures/harvest/stac-api', name), 'utf8').split(from).join(to));
  const LAST_PAGE = { type: 'FeatureCollection', features: [], links: [], note: 'constructed: the page after the last recorded one' };

  before(async () => {
    await server.start();
    // Earth Search: POST /search pages chained by a `next` token in the body.
    const es = `${server.url}/es`;
    const esFrom = 'https://earth-search.aws.element84.com/v1';
    const page1 = fixture('earth-search-v1/search-page1.json', esFrom, es);
    const page2 = fixture('earth-search-v1/search-page2.json', esFrom, es);
    server.route('GET /es', { body: fixture('earth-search-v1/landing.json', esFrom, es) });
    server.route('GET /es/collections', { body: fixture('earth-search-v1/collections.json', esFrom, es) });
    server.route('POST /es/search', (request, res) => {
      const body = JSON.parse(request.body) as { next?: string };
      const answer = !body.next ? page1 : body.next === page1.links[0].body.next ? page2 : LAST_PAGE;
      res.writeHead(200, { 'content-type': 'application/geo+json' }).end(JSON.stringify(answer));
    });
    // Planetary Computer: the next link carries the whole body with a token.
    const pc = `${server.url}/pc/`;
    const pcFrom = 'https://planetarycomputer.microsoft.com/api/stac/v1/';
    const pages = [1, 2, 3].map((n) => fixture(`planetary-computer/search-page${n}.json`, pcFrom, pc));
    server.route('GET /pc/', { body: fixture('planetary-computer/landing.json', pcFrom, pc) });
    server.route('POST /pc/search', (request, res) => {
      const body = JSON.parse(request.body) as { token?: string };
      const index = body.token ? pages.findIndex((p) => p.links.find((l: { rel: string }) => l.rel === 'next').body.token === body.token) + 1 : 0;
      res.writeHead(200, { 'content-type': 'application/geo+json' }).end(JSON.stringify(pages[index] ?? LAST_PAGE));
    });
    // FedEO: collections paged with GET startRecord; its landing also links an OpenSearch description as `search`.
    const fe = `${server.url}/fe`;
    server.route('GET /fe', { body: fixture('fedeo-spacebel/landing.json', 'https://emc.spacebel.be', fe) });
    server.route('GET /fe/collections', (request, res) => {
      const start = new URL(request.url, server.url).searchParams.get('startRecord');
      const body =
        start === '11'
          ? fixture('fedeo-spacebel/collections-page2.json', 'https://emc.spacebel.be', fe)
          : start === '21'
            ? { collections: [], links: [], note: 'constructed: the page after the last recorded one' }
            : fixture('fedeo-spacebel/collections-page1.json', 'https://emc.spacebel.be', fe);
      res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(body));
    });
  });

  after(() => server.stop());

  const resourceNamed = async (url: string, id: string): Promise<RemoteResource> => {
    const { context } = harvestContext(url);
    for await (const resource of type.discover(context)) if (resource.remoteId === id) return resource;
    throw new Error(`no ${id}`);
  };

  it('discovers Earth Search collections and describes their local collection from the remote extent', async () => {
    const resource = await resourceNamed(`${server.url}/es`, 'sentinel-2-l2a');
    assert.equal(resource.type, 'stac-collection');
    const local = type.collection(resource);
    assert.match(local.title, /Sentinel-2/);
    assert.equal(local.geometry?.type, 'Polygon');
    assert.ok(local.datetimeStart instanceof Date);
    assert.ok((local.keywords ?? []).length > 0);
  });

  it('pages Earth Search with the POST bodies its next links give, and refuses items of other collections', async () => {
    const resource = await resourceNamed(`${server.url}/es`, 'sentinel-2-l2a');
    const { context, logs } = harvestContext(`${server.url}/es`);
    const before = server.requests.length;
    const { listed, end } = await drain(type.harvest(context, resource, { since: null, full: true }));
    const searches = server.requests.slice(before).filter((r) => r.method === 'POST');
    assert.equal(searches.length, 3, 'page 1, page 2, then the constructed last page');
    assert.deepEqual(JSON.parse(searches[0].body), { collections: ['sentinel-2-l2a'], limit: 250 });
    assert.equal(JSON.parse(searches[1].body).next, '2025-07-31T13:03:25.899000Z,S2B_T24MVV_20250731T130245_L2A,sentinel-2-c1-l2a');
    assert.equal(listed.length, 20);
    const records = listed.filter((l): l is { record: RemoteRecord } => 'record' in l).map((l) => l.record);
    const failures = listed.filter((l) => 'failure' in l);
    assert.ok(records.length > 0 && failures.length > 0, `${records.length} records, ${failures.length} failures`);
    assert.ok(failures.every((f) => 'failure' in f && /listed for collection sentinel-2-l2a but belongs to /.test(f.failure.error)));
    const first = records[0];
    assert.match(first.remoteUrl ?? '', new RegExp(`^${server.url}/es/collections/sentinel-2-l2a/items/`));
    // Earth Search gives some assets as s3:// URLs; they are absolute too.
    assert.ok(Object.values(first.assets ?? {}).every((a) => /^(https?|s3):\/\//.test(String(a.href))));
    assert.equal(first.geometry?.type, 'Polygon');
    assert.equal(end.exhaustive, true);
    assert.ok(logs.length === 0 || logs.every((l) => !/error/i.test(l)));
  });

  it('pages Planetary Computer by token and keeps the newest updated time as the watermark', async () => {
    const resource: RemoteResource = { remoteId: 'naip', title: 'NAIP', type: 'stac-collection', remoteUrl: `${server.url}/pc/collections/naip` };
    const { context, logs } = harvestContext(`${server.url}/pc/`);
    const { listed, end } = await drain(type.harvest(context, resource, { since: '2000-01-01T00:00:00Z', full: false }));
    assert.equal(listed.length, 30);
    assert.ok(listed.every((l) => 'record' in l));
    const ids = listed.map((l) => ('record' in l ? l.record.remoteId : ''));
    assert.equal(new Set(ids).size, 30);
    // No queryables recorded: the type says it lists everything, and the listing is complete.
    assert.ok(logs.some((l) => /queryables not readable/.test(l)));
    assert.ok(logs.some((l) => /every item is listed and compared/.test(l)));
    assert.equal(end.exhaustive, true);
    assert.ok(end.watermark && !Number.isNaN(Date.parse(end.watermark)));
  });

  it('pages FedEO collections with startRecord and ignores its OpenSearch search link', async () => {
    const { context } = harvestContext(`${server.url}/fe`);
    const found: RemoteResource[] = [];
    for await (const resource of type.discover(context)) found.push(resource);
    assert.equal(found.length, 20);
    assert.equal(new Set(found.map((r) => r.remoteId)).size, 20);
    const check = await type.check(context);
    assert.equal(check.available, true);
    assert.match(check.message, /item search, filter, sort/);
  });

  it('says plainly when the remote is not a STAC API', async () => {
    server.route('GET /html', { body: '<html><body>Welcome</body></html>', headers: { 'content-type': 'text/html' } });
    server.route('GET /notstac', { body: { hello: 'world' } });
    await assert.rejects(type.check(harvestContext(`${server.url}/html`).context), /expected JSON from .*\/html, got text\/html/);
    await assert.rejects(type.check(harvestContext(`${server.url}/notstac`).context), /is not a STAC API landing page/);
  });
});
