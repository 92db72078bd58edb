import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import type { ServerResponse } from 'node:http';
import { Ajv } from 'ajv';
import { after, before, describe, it } from 'node:test';
import { sharedPath } from '../../../../test/support/env.js';
import { drain, harvestContext, remoteHttp } from '../../../../test/support/harvest-context.js';
import { RemoteServer, type ReceivedRequest } from '../../../../test/support/remote-server.js';
import type { Listed, RemoteRecord, RemoteResource } from '../../harvester-type.js';
import { geonodeRecord } from './geonode-record.js';
import { GeoNodeHarvesterType } from './geonode.type.js';

const fixture = (name: string) => JSON.parse(readFileSync(sharedPath('fixtures', 'harvest', 'geonode', name), 'utf8')) as Record<string, unknown>;
const records = (listed: Listed[]) => listed.filter((l): l is { record: RemoteRecord } => 'record' in l).map((l) => l.record);
const collect = async <T>(iterable: AsyncIterable<T>) => {
  const out: T[] = [];
  for await (const value of iterable) out.push(value);
  return out;
};
const json = (res: ServerResponse, body: unknown, status = 200): void => {
  res.writeHead(status, { 'content-type': 'application/json' }).end(JSON.stringify(body));
};

const type = new GeoNodeHarvesterType();

describe('GeoNode 3 (recorded API v2 answers of master.demo.geonode.org)', () => {
  const server = new RemoteServer();
  const layers = fixture('geonode3x-api-v2-layers-page1.json');
  const detail = fixture('geonode3x-api-v2-layers-184-detail.json');
  const maps = fixture('geonode3x-api-v2-maps-page1.json');

  before(async () => {
    await server.start();
    // The recorded `links.next` points at master.demo.geonode.org; this copy points at the test
    // server, the rest of the page is as recorded.
    const page1 = { ...layers, links: { next: `${server.url}/api/v2/layers/?format=json&page=2&page_size=2`, previous: null } };
    // No second page was recorded: this one is built from the recorded detail of layer 184, as a
    // page that shifted while listing would give it again.
    const page2 = { links: { next: null, previous: `${server.url}/api/v2/layers/?format=json&page=1&page_size=2` }, total: 121, page: 2, page_size: 2, layers: [detail.layer] };
    server.route('GET /api/v2/layers/', { body: page1 });
    server.route('GET /api/v2/layers/?format=json&page=2&page_size=2', { body: page2 });
    server.route('GET /api/v2/maps/', { body: { ...maps, links: { next: null, previous: null } } });
  });
  after(() => server.stop());

  it('discovers one resource per kind, titled with the remote count', async () => {
    const { context } = harvestContext(`${server.url}/`, { api_version: '3' });
    assert.deepEqual(await type.check(context), { available: true, message: `GeoNode 3 at ${server.url}/: 121 layers` });
    const found = await collect(type.discover(context));
    assert.deepEqual(
      found.map((r) => [r.remoteId, r.title, r.type]),
      [
        ['layers', 'Layers (121)', 'layer'],
        ['maps', 'Maps (8)', 'map'],
      ],
    );
    assert.equal(found[0].remoteUrl, `${server.url}/api/v2/layers/`);
    const collection = type.collection(found[0]);
    assert.equal(collection.title, `GeoNode ${new URL(server.url).host}: layers`);
    assert.deepEqual(collection.providers, [{ name: new URL(server.url).host, url: `${server.url}/`, roles: ['host', 'licensor'] }]);
  });

  it('pages through links.next and maps layers: uuid, footprint, text abstract, keywords, dates, thumbnail', async () => {
    server.requests.length = 0;
    const { context } = harvestContext(`${server.url}/`, { api_version: '3', page_size: 2 });
    const resource: RemoteResource = { remoteId: 'layers', title: 'Layers', type: 'layer', description: { api_version: 3 } };
    const { listed, end } = await drain(type.harvest(context, resource, { since: null, full: false }));
    assert.deepEqual(
      server.requests.map((r) => r.url),
      ['/api/v2/layers/?page=1&page_size=2', '/api/v2/layers/?format=json&page=2&page_size=2'],
    );
    assert.equal(end.exhaustive, true);
    // Layer 184 listed again on page 2 is given once.
    assert.deepEqual(
      listed.map((l) => ('record' in l ? l.record.remoteId : l)),
      ['818898b8-5c1a-11eb-b604-0242ac150007', 'a465ba76-5a69-11eb-8f0b-0242ac150007'],
    );
    const [temperature, km] = records(listed);
    assert.deepEqual(temperature.geometry, (layers.layers as Record<string, unknown>[])[0].bbox_polygon);
    assert.equal(temperature.remoteUrl, `${server.url}/api/v2/layers/184/`);
    assert.equal(temperature.remoteUpdated, '2021-01-21T19:19:49.765Z');
    assert.equal(temperature.properties.title, 'TEMPERATURAS MIN ENERO 2030');
    assert.equal(temperature.properties.description, 'No abstract provided', 'the HTML abstract becomes text');
    assert.deepEqual(temperature.properties.keywords, ['GeoTIFF', 'TEMPERATURASMINENERO2030', 'WCS']);
    assert.equal(temperature.properties.datetime, '2021-01-21T18:57:00.000Z');
    assert.equal(temperature.properties['geonode:date_type'], 'publication');
    assert.equal(temperature.properties.created, '2021-01-21T18:57:27.717Z');
    assert.equal(temperature.properties['geonode:srid'], 'EPSG:4326');
    assert.equal(temperature.properties['geonode:subtype'], 'coverageStore');
    assert.equal(temperature.properties.license, undefined, 'not_specified is no license');
    assert.deepEqual(temperature.assets?.thumbnail, {
      href: 'https://master.demo.geonode.org/static/thumbs/layer-818898b8-5c1a-11eb-b604-0242ac150007-thumb.15fffae196e4.png?v=885131f3',
      type: 'image/png',
      title: 'Thumbnail',
      roles: ['thumbnail'],
    });
    assert.deepEqual(temperature.links, [
      { rel: 'alternate', href: `${server.url}/layers/TEMPERATURASMINENERO2030:geonode:TEMPERATURASMINENERO2030`, type: 'text/html', title: 'GeoNode page' },
    ]);
    assert.equal(km.properties.description, 'No abstract provided');
    assert.deepEqual(km.properties.keywords, []);
  });

  it('maps GeoNode 3 maps, and a map without any footprint gets a null geometry', async () => {
    const { context } = harvestContext(`${server.url}/`, { api_version: '3' });
    const { listed } = await drain(type.harvest(context, { remoteId: 'maps', title: 'Maps', type: 'map' }, { since: null, full: false }));
    const [test, airport] = records(listed);
    assert.equal(test.remoteId, 'beb15732-564f-11eb-8d42-0242ac150007');
    assert.equal(test.remoteUrl, `${server.url}/api/v2/maps/43/`);
    assert.equal(airport.properties.title, 'AIRPORT');
    assert.equal((airport.geometry as { type: string }).type, 'Polygon');

    // A map recorded from staging.webgis.adbpo.it: null bbox polygons, thesaurus keywords, a category.
    const adbpo = geonodeRecord(
      fixture('geonode3x-api-v2-map-647-adbpo.json'),
      { base: 'https://staging.webgis.adbpo.it/', pageUrl: 'https://staging.webgis.adbpo.it/api/v2/maps/', apiVersion: 3, endpoint: 'maps' },
      'x',
    );
    assert.ok('record' in adbpo);
    const map = adbpo.record;
    assert.equal(map.remoteId, 'c711b892-60bb-11eb-a589-0242c0a83007');
    assert.equal(map.geometry, null);
    assert.equal(map.remoteUrl, 'https://staging.webgis.adbpo.it/api/v2/maps/647', 'the resource link is its address');
    assert.equal(map.properties['geonode:category'], 'environment');
    assert.deepEqual(map.properties.keywords, [
      'pgra',
      'Flooded areas (Floods Directive)',
      'pgra-mappe-di-pericolosita',
      'pai-mappe-del-dissesto',
      'Natural risk zones',
      'Habitats and biotopes',
    ]);
    assert.deepEqual(
      map.links?.map((l) => l.href),
      ['https://staging.webgis.adbpo.it/maps/647', 'https://staging.webgis.adbpo.it/maps/647/embed'],
    );
  });

  it('a second page that fails makes the listing throw, after the first page was given', async () => {
    const failing = new RemoteServer();
    await failing.start();
    try {
      failing.route('GET /api/v2/layers/', { body: { ...layers, links: { next: `${failing.url}/api/v2/layers/?page=2&page_size=2`, previous: null } } });
      failing.route('GET /api/v2/layers/?page=2&page_size=2', { status: 500, body: 'Internal Server Error', headers: { 'content-type': 'text/plain' } });
      const { context } = harvestContext(`${failing.url}/`, { api_version: '3', page_size: 2 }, { http: remoteHttp({ HARVEST_HTTP_RETRIES: '0' }) });
      const listing = type.harvest(context, { remoteId: 'layers', title: 'Layers', type: 'layer' }, { since: null, full: false });
      const given: Listed[] = [];
      await assert.rejects(
        (async () => {
          for (;;) {
            const next = await listing.next();
            if (next.done) return next.value;
            given.push(next.value);
          }
        })(),
        /HTTP 500/,
      );
      assert.equal(records(given).length, 2);
    } finally {
      await failing.stop();
    }
  });

  it('a cancelled harvest stops at once while a page hangs', async () => {
    const hanging = new RemoteServer();
    await hanging.start();
    try {
      hanging.hang('GET /api/v2/layers/');
      const controller = new AbortController();
      const { context } = harvestContext(`${hanging.url}/`, { api_version: '3' }, { signal: controller.signal });
      const started = Date.now();
      setTimeout(() => controller.abort(new Error('cancelled')), 200);
      await assert.rejects(drain(type.harvest(context, { remoteId: 'layers', title: 'Layers', type: 'layer' }, { since: null, full: false })), /cancelled/);
      assert.ok(Date.now() - started < 2000);
    } finally {
      await hanging.stop();
    }
  });

  it('converts a Web Mercator bbox_polygon to lon/lat, exactly', () => {
    const listed = geonodeRecord(
      {
        uuid: 'u',
        date: '2020-01-01T00:00:00Z',
        srid: 'EPSG:3857',
        bbox_polygon: {
          type: 'Polygon',
          coordinates: [
            [
              [0, 0],
              [111319.49079327357, 0],
              [111319.49079327357, 111325.14286638486],
              [0, 111325.14286638486],
              [0, 0],
            ],
          ],
        },
      },
      { base: 'http://h/', pageUrl: 'http://h/api/v2/layers/', apiVersion: 3, endpoint: 'layers' },
      'x',
    );
    assert.ok('record' in listed);
    const corner = (listed.record.geometry as { coordinates: number[][][] }).coordinates[0][2];
    assert.ok(Math.abs(corner[0] - 1) < 1e-9 && Math.abs(corner[1] - 1) < 1e-9, String(corner));
    assert.equal(listed.record.remoteUrl, null, 'no pk, no link: no address to give');
  });

  it('says the remote is unavailable when it is no GeoNode', async () => {
    const other = new RemoteServer();
    await other.start();
    try {
      other.route('GET /api/v2/', { status: 200, body: '<html>hello</html>', headers: { 'content-type': 'text/html' } });
      other.route('GET /api/v2/resources/', { status: 404, body: 'nope' });
      const { context } = harvestContext(`${other.url}/`, {}, { http: remoteHttp({ HARVEST_HTTP_RETRIES: '0' }) });
      const checked = await type.check(context);
      assert.equal(checked.available, false);
      assert.match(checked.message, /HTTP 404/);
    } finally {
      await other.stop();
    }
  });
});

describe('GeoNode 4 (answers constructed from the documented API v2; no GeoNode 4 recording exists)', () => {
  const server = new RemoteServer();
  let base = '';

  // Constructed, not recorded: the fields GeoNode 4 documents for /api/v2/resources (ll_bbox_polygon,
  // links[] with link_type, link, download_url, last_updated).
  const dataset = (pk: number, extra: Record<string, unknown>) => ({
    pk: String(pk),
    uuid: `00000000-0000-4000-8000-${String(pk).padStart(12, '0')}`,
    resource_type: 'dataset',
    subtype: 'raster',
    title: `Orthophoto ${pk}`,
    abstract: '<p>Land &amp; cover, r&eacute;sum&eacute;</p><ul><li>one</li></ul>',
    date: '2023-05-02T10:00:00Z',
    date_type: 'creation',
    created: '2023-05-03T08:00:00Z',
    last_updated: '2024-01-09T12:30:00Z',
    keywords: [{ name: 'orthophoto', slug: 'orthophoto' }],
    category: { identifier: 'imageryBaseMapsEarthCover' },
    license: { identifier: 'CC-BY-4.0' },
    alternate: `geonode:ortho_${pk}`,
    srid: 'EPSG:32632',
    bbox_polygon: {
      type: 'Polygon',
      coordinates: [
        [
          [500000, 5000000],
          [510000, 5000000],
          [510000, 5010000],
          [500000, 5010000],
          [500000, 5000000],
        ],
      ],
    },
    thumbnail_url: `/uploaded/thumbs/dataset-${pk}-thumb.jpg`,
    detail_url: `/catalogue/#/dataset/${pk}`,
    link: `${base}/api/v2/resources/${pk}`,
    ...extra,
  });

  before(async () => {
    base = await server.start();
    server.route('GET /api/v2/', {
      body: { resources: `${base}/api/v2/resources`, datasets: `${base}/api/v2/datasets`, maps: `${base}/api/v2/maps`, documents: `${base}/api/v2/documents` },
    });
    server.route('GET /api/v2/resources/', (request: ReceivedRequest, res) => {
      const query = new URL(request.url, base).searchParams;
      const kind = query.get('filter{resource_type}');
      if (kind === 'map') return json(res, { links: { next: null, previous: null }, total: 0, page: 1, page_size: 50, resources: [] });
      if (kind !== 'dataset') return json(res, { detail: 'unknown' }, 400);
      if (query.get('page') === '2') {
        return json(res, {
          links: { next: null, previous: null },
          total: 3,
          page: 2,
          page_size: 2,
          resources: [dataset(3, { ll_bbox_polygon: { type: 'Polygon', coordinates: [[[500, 0]]] } })],
        });
      }
      return json(res, {
        // A relative next link is resolved against the page.
        links: { next: '/api/v2/resources/?filter%7Bresource_type%7D=dataset&page=2&page_size=2', previous: null },
        total: 3,
        page: 1,
        page_size: 2,
        resources: [
          dataset(1, {
            ll_bbox_polygon: {
              type: 'Polygon',
              coordinates: [
                [
                  [9, 45.1],
                  [9.13, 45.1],
                  [9.13, 45.2],
                  [9, 45.2],
                  [9, 45.1],
                ],
              ],
            },
            download_url: `${base}/datasets/geonode:ortho_1/dataset_download`,
            links: [
              {
                extension: 'tiff',
                link_type: 'data',
                name: 'GeoTIFF',
                mime: 'image/tiff',
                url: `${base}/geoserver/ows?service=WCS&format=image%2Ftiff&coverageid=geonode__ortho_1`,
              },
              { extension: 'html', link_type: 'OGC:WMS', name: 'OGC WMS: geonode Service', mime: 'image/png', url: `${base}/geoserver/ows` },
              { extension: 'html', link_type: 'OGC:WFS', name: 'OGC WFS: geonode Service', mime: 'application/json', url: `${base}/geoserver/ows` },
              { extension: 'xml', link_type: 'metadata', name: 'ISO', mime: 'text/xml', url: `${base}/catalogue/csw?outputschema=iso` },
              { extension: 'png', link_type: 'image', name: 'PNG', mime: 'image/png', url: `${base}/geoserver/wms?format=image/png` },
            ],
          }),
          dataset(2, {}),
        ],
      });
    });
  });
  after(() => server.stop());

  it('recognises GeoNode 4 by its API root and discovers its kinds', async () => {
    const { context } = harvestContext(`${base}/api/v2/`, { resource_types: ['datasets', 'maps', 'layers'] });
    assert.deepEqual(await type.check(context), { available: true, message: `GeoNode 4 at ${base}/: 3 datasets` });
    const found = await collect(type.discover(context));
    assert.deepEqual(
      found.map((r) => [r.remoteId, r.title]),
      [
        ['datasets', 'Datasets (3)'],
        ['maps', 'Maps (0)'],
      ],
    );
    assert.equal(found[0].remoteUrl, `${base}/api/v2/resources/?filter%7Bresource_type%7D=dataset`);
  });

  it('maps resources: ll_bbox_polygon, GeoTIFF download, WMS/WFS links, SPDX license; other CRSs give no footprint; bad ones fail', async () => {
    const { context, logs } = harvestContext(`${base}/`, { page_size: 2 });
    const { listed, end } = await drain(type.harvest(context, { remoteId: 'datasets', title: 'Datasets', type: 'dataset' }, { since: null, full: false }));
    assert.equal(end.exhaustive, true);
    assert.equal(listed.length, 3, logs.join('\n'));
    assert.ok(
      server.requests.some((r) => r.url.startsWith('/api/v2/resources/?page=1&page_size=2&filter%7Bresource_type%7D=dataset&include%5B%5D=links')),
      'list pages ask for the links',
    );
    const [one, two] = records(listed);
    assert.equal(one.remoteId, '00000000-0000-4000-8000-000000000001');
    assert.equal(one.remoteUrl, `${base}/api/v2/resources/1`);
    assert.equal(one.remoteUpdated, '2024-01-09T12:30:00.000Z');
    assert.deepEqual((one.geometry as { coordinates: number[][][] }).coordinates[0][0], [9, 45.1]);
    assert.equal(one.properties.description, 'Land & cover, résumé\n- one');
    assert.equal(one.properties.license, 'CC-BY-4.0');
    assert.equal(one.properties['geonode:category'], 'imageryBaseMapsEarthCover');
    assert.equal(one.properties['geonode:subtype'], 'raster');
    assert.deepEqual(one.assets?.geotiff, {
      href: `${base}/geoserver/ows?service=WCS&format=image%2Ftiff&coverageid=geonode__ortho_1`,
      type: 'image/tiff; application=geotiff',
      title: 'GeoTIFF',
      roles: ['data'],
    });
    assert.deepEqual(one.assets?.download, { href: `${base}/datasets/geonode:ortho_1/dataset_download`, title: 'Download', roles: ['data'] });
    assert.deepEqual(one.assets?.thumbnail, { href: `${base}/uploaded/thumbs/dataset-1-thumb.jpg`, type: 'image/jpeg', title: 'Thumbnail', roles: ['thumbnail'] });
    assert.deepEqual(
      one.links?.map((l) => [l.rel, l.href]),
      [
        ['wms', `${base}/geoserver/ows`],
        ['wfs', `${base}/geoserver/ows`],
        ['describedby', `${base}/catalogue/csw?outputschema=iso`],
        ['alternate', `${base}/catalogue/#/dataset/1`],
      ],
    );
    assert.equal(two.geometry, null, 'a bbox in EPSG:32632 alone is not guessed into lon/lat');
    assert.match(String(two.properties['geonode:footprint']), /EPSG:32632/);
    const failed = listed[2];
    assert.ok('failure' in failed);
    assert.equal(failed.failure.remoteId, '00000000-0000-4000-8000-000000000003');
    assert.match(failed.failure.error, /ll_bbox_polygon/);
  });
});

describe('GeoNode configuration schema', () => {
  it('compiles in strict mode, fills defaults and refuses values out of range', () => {
    const validate = new Ajv({ strict: true, useDefaults: true }).compile(type.configSchema);
    const config: Record<string, unknown> = {};
    assert.equal(validate(config), true);
    assert.deepEqual(config, { api_version: 'auto', page_size: 50 });
    assert.equal(validate({ api_version: '4', resource_types: ['datasets'], keyword: 'ortho' }), true);
    assert.equal(validate({ page_size: 500 }), false);
    assert.equal(validate({ unknown: 1 }), false);
  });
});
