import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { Visibility } from '../src/auth/visibility.js';
import { CatalogService } from '../src/catalog/catalog.service.js';
import { CONFORMANCE_CLASSES } from '../src/stac/conformance.js';
import { startApi, type TestApi } from './support/app.js';
import { get, linkOf, pathOf } from './support/stac-client.js';
import { seedStacWorld, type StacWorld } from './support/stac-seed.js';
import { stacValidator } from './support/stac-validate.js';

/*
 * The landing page, conformance, collections and items: the core, collections and features
 * checks of stac-api-validator, ported, plus what STAC Browser and pystac-client rely on.
 */
describe('STAC API: landing page, collections and items', () => {
  let api: TestApi;
  let w: StacWorld;

  before(async () => {
    api = await startApi();
    w = await seedStacWorld(api);
  });
  after(() => api.close());

  it('validates every STAC document against ../shared/stac-schemas', async (t) => {
    const { validator, skipReason } = await stacValidator();
    if (!validator) return t.skip(skipReason);
    // A known-good example and a broken one: the validator itself tells them apart.
    const quiet = { count: false };
    const ok = await validator.validate({ type: 'Catalog', stac_version: '1.0.0', id: 'x', description: 'x', links: [] }, 'sample', quiet);
    assert.deepEqual(ok, []);
    const bad = await validator.validate({ type: 'Feature', stac_version: '1.0.0', id: 'x', properties: {}, links: [], assets: {} }, 'sample', quiet);
    assert.ok(bad.length > 0);
    const badView = await validator.validate(
      {
        type: 'Feature',
        stac_version: '1.0.0',
        stac_extensions: ['https://stac-extensions.github.io/view/v1.0.0/schema.json'],
        id: 'x',
        geometry: null,
        properties: { datetime: '2020-01-01T00:00:00Z', 'view:azimuth': 10, 'view:pitch': 3 },
        links: [],
        assets: {},
      },
      'sample',
      quiet,
    );
    assert.match(badView.join(), /view\/v1\.0\.0/, 'a field the view extension does not define is refused');
    await assert.rejects(
      validator.validate(
        { type: 'Catalog', stac_version: '1.0.0', id: 'x', description: 'x', links: [], stac_extensions: ['https://stac-extensions.github.io/nope/v1.0.0/schema.json'] },
        'sample',
        quiet,
      ),
      /not in \.\.\/shared\/stac-schemas/,
    );
  });

  it('serves the landing page with the links and conformance classes clients need (core checks)', async () => {
    const res = await get(api, '/api/');
    assert.equal(res.status, 200);
    assert.match(res.headers.get('content-type')!, /^application\/json/);
    const lp = res.body;
    assert.equal(lp.type, 'Catalog');
    assert.ok(lp.conformsTo.length > 0);
    assert.deepEqual(lp.conformsTo, [...CONFORMANCE_CLASSES]);
    for (const re of [
      /^https:\/\/api\.stacspec\.org\/.+\/core$/,
      /^https:\/\/api\.stacspec\.org\/.+\/collections$/,
      /^https:\/\/api\.stacspec\.org\/.+\/ogcapi-features$/,
      /^https:\/\/api\.stacspec\.org\/.+\/item-search$/,
    ]) {
      assert.ok(
        lp.conformsTo.some((c: string) => re.test(c)),
        `conformsTo has ${re}`,
      );
    }
    for (const uri of [
      'https://api.stacspec.org/v1.0.0/item-search#filter',
      'https://api.stacspec.org/v1.0.0-rc.2/item-search#filter',
      'http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/core',
      'http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/geojson',
      'http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/oas30',
      'http://www.opengis.net/spec/cql2/1.0/conf/cql2-text',
      'http://www.opengis.net/spec/cql2/1.0/conf/cql2-json',
      'https://api.stacspec.org/v1.0.0-rc.1/collection-search#free-text',
      // Final CQL2 names and the pre-1.0 ones older clients (QGIS, stac-api-validator) look for.
      'http://www.opengis.net/spec/cql2/1.0/conf/basic-spatial-functions',
      'http://www.opengis.net/spec/cql2/1.0/conf/basic-spatial-operators',
      'http://www.opengis.net/spec/cql2/1.0/conf/spatial-functions',
      'http://www.opengis.net/spec/cql2/1.0/conf/spatial-operators',
      'http://www.opengis.net/spec/cql2/1.0/conf/temporal-functions',
      'http://www.opengis.net/spec/cql2/1.0/conf/temporal-operators',
    ]) {
      assert.ok(lp.conformsTo.includes(uri), uri);
    }
    assert.deepEqual((await get(api, '/api/conformance')).body.conformsTo, lp.conformsTo);
    assert.equal(lp.conformsTo.filter((c: string) => c.startsWith('http://www.opengis.net/spec/ogcapi-features-1/1.0/req/')).length, 0);

    const root = linkOf(lp, 'root');
    assert.equal(root.type, 'application/json');
    assert.equal(linkOf(lp, 'self').type, 'application/json');
    assert.equal(root.href, `${api.baseUrl}/api/`);
    for (const l of lp.links) assert.match(l.href, /^http:\/\/127\.0\.0\.1:\d+\//, `${l.rel} is absolute`);
    assert.equal(linkOf(lp, 'collections'), undefined, 'no non-standard rel=collections');
    assert.ok(linkOf(lp, 'data').href.endsWith('/api/collections'));
    assert.ok(linkOf(lp, 'conformance').href.endsWith('/conformance'));
    assert.equal(linkOf(lp, 'http://www.opengis.net/def/rel/ogc/1.0/queryables').type, 'application/schema+json');

    const search = lp.links.filter((l: { rel: string }) => l.rel === 'search');
    assert.equal(search.length, 2);
    assert.deepEqual(search.map((l: { method: string }) => l.method).sort(), ['GET', 'POST']);
    assert.equal(search[0].href, search[1].href);
    for (const l of search) assert.equal(l.type, 'application/geo+json');

    const children = lp.links.filter((l: { rel: string }) => l.rel === 'child').map((l: { href: string }) => l.href);
    assert.ok(children.includes(`${api.baseUrl}/api/collections/${w.walk.id}`));
    assert.ok(!children.includes(`${api.baseUrl}/api/collections/${w.hidden.id}`), 'an owner-only collection is not a child for anonymous callers');
    assert.ok(!children.includes(`${api.baseUrl}/api/collections/${w.preparing.id}`), 'a collection in preparation is not published');
  });

  it('answers /api without the trailing slash too', async () => {
    const res = await get(api, '/api');
    assert.equal(res.status, 200);
    assert.equal(res.body.type, 'Catalog');
  });

  it('answers service-desc with the media type it advertises and service-doc with HTML', async () => {
    const lp = (await get(api, '/api/')).body;
    const desc = linkOf(lp, 'service-desc');
    assert.equal(desc.type, 'application/vnd.oai.openapi+json;version=3.0');
    const res = await api.fetch(pathOf(desc.href), { headers: { accept: desc.type } });
    assert.equal(res.status, 200);
    assert.equal(res.headers.get('content-type')!.split(';')[0], 'application/vnd.oai.openapi+json');
    const doc = (await res.json()) as { openapi: string; paths: Record<string, unknown> };
    assert.match(doc.openapi, /^3\.0/);
    assert.ok(doc.paths['/api/search']);
    const plain = await api.fetch(pathOf(desc.href));
    assert.match(plain.headers.get('content-type')!, /^application\/json/, 'without that Accept it stays plain JSON');

    const docLink = linkOf(lp, 'service-doc');
    assert.equal(docLink.type, 'text/html');
    const html = await api.fetch(pathOf(docLink.href));
    assert.equal(html.status, 200);
    assert.match(html.headers.get('content-type')!, /^text\/html/);
  });

  it('serves /conformance with the same classes as the landing page', async () => {
    const res = await get(api, '/api/conformance');
    assert.equal(res.status, 200);
    assert.match(res.headers.get('content-type')!, /^application\/json/);
    assert.deepEqual(new Set(res.body.conformsTo), new Set((await get(api, '/api/')).body.conformsTo));
  });

  it('lets a STAC Browser on another origin read anonymously (CORS)', async () => {
    const res = await api.fetch('/api/search', { headers: { origin: 'https://radiantearth.github.io' } });
    assert.equal(res.status, 200);
    assert.equal(res.headers.get('access-control-allow-origin'), '*');
    const pre = await api.fetch('/api/search', {
      method: 'OPTIONS',
      headers: { origin: 'https://radiantearth.github.io', 'access-control-request-method': 'POST', 'access-control-request-headers': 'content-type' },
    });
    assert.equal(pre.status, 204);
    assert.match(pre.headers.get('access-control-allow-methods')!, /POST/);
  });

  it('lists collections with self and root links, only published and visible ones (collections checks)', async () => {
    const res = await get(api, `/api/collections?q=${w.tag}&limit=50`);
    assert.equal(res.status, 200);
    assert.match(res.headers.get('content-type')!, /^application\/json/);
    assert.equal(linkOf(res.body, 'self').href, `${api.baseUrl}/api/collections?q=${w.tag}&limit=50`);
    assert.ok(linkOf(res.body, 'root'));
    const ids = res.body.collections.map((c: { id: string }) => c.id).sort();
    assert.deepEqual(ids, [w.walk.id, w.datasets.id, w.harvested.id].sort(), 'hidden, members-only and preparing collections are not listed anonymously');
    assert.equal(res.body.numberReturned, 3);
    assert.equal(res.body.numberMatched, 3);
    assert.equal(res.body.numberMatchedEstimated, false);

    const asMember = await get(api, `/api/collections?q=${w.tag}&limit=50`, w.other.headers);
    assert.deepEqual(asMember.body.collections.map((c: { id: string }) => c.id).sort(), [w.walk.id, w.datasets.id, w.harvested.id, w.members.id].sort());
    const asOwner = await get(api, `/api/collections?q=${w.tag}&limit=50`, w.owner.headers);
    assert.deepEqual(asOwner.body.collections.map((c: { id: string }) => c.id).sort(), [w.walk.id, w.datasets.id, w.harvested.id, w.members.id, w.hidden.id].sort());
  });

  it('serves a sequence as a collection with extent, thumbnail, counts, license and links', async () => {
    const res = await get(api, `/api/collections/${w.walk.id}`);
    assert.equal(res.status, 200);
    const c = res.body;
    assert.equal(linkOf(c, 'self').href, `${api.baseUrl}/api/collections/${w.walk.id}`);
    assert.equal(linkOf(c, 'self').title, c.title);
    for (const rel of ['root', 'parent']) {
      assert.equal(linkOf(c, rel).href, `${api.baseUrl}/api/`, rel);
      assert.equal(linkOf(c, rel).title, 'Sightline STAC API', `${rel} has a title`);
    }
    assert.equal(linkOf(c, 'items').href, `${api.baseUrl}/api/collections/${w.walk.id}/items`);
    assert.equal(linkOf(c, 'items').type, 'application/geo+json');
    assert.equal(linkOf(c, 'http://www.opengis.net/def/rel/ogc/1.0/queryables').href, `${api.baseUrl}/api/collections/${w.walk.id}/queryables`);
    assert.equal(linkOf(c, 'license').href, 'https://spdx.org/licenses/CC-BY-SA-4.0.html');
    assert.equal(c.license, 'CC-BY-SA-4.0');
    assert.equal(c['sightline:kind'], 'sequence');
    assert.equal(c['stats:items'].count, 28, '30 pictures, one still pending, one only its owner may see');
    const [[west, south, east, north]] = c.extent.spatial.bbox;
    assert.ok(west >= 2.33 && east <= 2.34 && south >= 48.86 && north <= 48.862 && west < east);
    assert.deepEqual(c.extent.temporal.interval, [['2021-06-01T10:00:10Z', '2021-06-01T10:05:00Z']]);
    assert.equal(c.assets.thumbnail.href, `${api.baseUrl}/api/pictures/${w.walkItems[0].id}/thumb.jpg`);
    assert.deepEqual(c.assets.thumbnail.roles, ['thumbnail']);
    assert.deepEqual(c.keywords, ['street', 'walk']);
    assert.equal(c.providers[0].name, 'Sightline tests');
    assert.equal(c['sightline:sort_method'], 'time_asc');
    assert.ok(c.stac_extensions.includes('https://stac-extensions.github.io/perspective-imagery/v1.0.0/schema.json'));
  });

  it('links a proprietary license to its stored URL and keeps prefixed fields of harvested collections', async () => {
    const ds = (await get(api, `/api/collections/${w.datasets.id}`)).body;
    assert.equal(ds.license, 'proprietary');
    assert.equal(linkOf(ds, 'license').href, 'https://example.org/license.html');
    assert.ok(ds.stac_extensions.includes('https://stac-extensions.github.io/eo/v1.1.0/schema.json'));
    const hv = (await get(api, `/api/collections/${w.harvested.id}`)).body;
    assert.equal(hv['sci:doi'], '10.1000/xyz');
    assert.equal(hv['sightline:source'], 'https://remote.example.org/stac');
  });

  it('answers 404 for unknown, malformed, hidden and unpublished collections', async () => {
    for (const id of ['non-existent-collection', '00000000-0000-4000-8000-000000000000', w.hidden.id, w.preparing.id]) {
      const res = await get(api, `/api/collections/${id}`);
      assert.equal(res.status, 404, id);
      assert.equal(res.body.statusCode, 404);
      assert.equal((await get(api, `/api/collections/${id}/items`)).status, 404);
      assert.equal((await get(api, `/api/collections/${id}/queryables`)).status, 404);
    }
    assert.equal((await get(api, `/api/collections/${w.hidden.id}`, w.other.headers)).status, 404);
    assert.equal((await get(api, `/api/collections/${w.hidden.id}`, w.owner.headers)).status, 200);
    assert.equal((await get(api, `/api/collections/${w.hidden.id}`, w.admin.headers)).status, 200);
    assert.equal((await get(api, `/api/collections/${w.members.id}`)).status, 404);
    assert.equal((await get(api, `/api/collections/${w.members.id}`, w.other.headers)).status, 200);
  });

  it('lists the items of a sequence in order, with self/root links, and pages them (features checks)', async () => {
    const itemsLink = `/api/collections/${w.walk.id}/items`;
    const res = await get(api, itemsLink);
    assert.equal(res.status, 200);
    assert.equal(res.headers.get('content-type')!.split(';')[0], 'application/geo+json');
    assert.equal(linkOf(res.body, 'self').href, `${api.baseUrl}${itemsLink}`);
    assert.ok(linkOf(res.body, 'root'));
    assert.equal(linkOf(res.body, 'collection').href, `${api.baseUrl}/api/collections/${w.walk.id}`);
    assert.equal(res.body.numberReturned, 10);
    assert.equal(res.body.numberMatched, 28, 'the pending and the owner-only pictures are left out');
    const visible = w.walkItems.filter((i) => i.id !== w.pendingPicture.id && i.id !== w.privatePicture.id).map((i) => i.id);
    assert.deepEqual(
      res.body.features.map((f: { id: string }) => f.id),
      visible.slice(0, 10),
    );
    const seen = [...res.body.features.map((f: { id: string }) => f.id)];
    let next = linkOf(res.body, 'next');
    assert.equal(next.method ?? 'GET', 'GET');
    while (next) {
      const page = await get(api, pathOf(next.href));
      assert.equal(page.status, 200);
      seen.push(...page.body.features.map((f: { id: string }) => f.id));
      next = linkOf(page.body, 'next');
    }
    assert.deepEqual(seen, visible, 'every visible picture once, in sequence order');

    const asOwner = await get(api, `${itemsLink}?limit=100`, w.owner.headers);
    assert.equal(asOwner.body.numberReturned, 29, 'the owner also sees the owner-only picture (never the pending one)');

    assert.equal((await get(api, `${itemsLink}/non-existent-item`)).status, 404);
  });

  it('renders a picture as an item with view and perspective-imagery, absolute assets and neighbour links', async () => {
    const pic = w.walkItems[2];
    const res = await get(api, `/api/collections/${w.walk.id}/items/${pic.id}`);
    assert.equal(res.status, 200);
    assert.equal(res.headers.get('content-type')!.split(';')[0], 'application/geo+json');
    const item = res.body;
    assert.equal(item.id, pic.id);
    assert.equal(item.collection, w.walk.id);
    assert.equal(linkOf(item, 'self').href, `${api.baseUrl}/api/collections/${w.walk.id}/items/${pic.id}`);
    assert.ok(linkOf(item, 'root'));
    assert.equal(linkOf(item, 'parent').href, `${api.baseUrl}/api/collections/${w.walk.id}`);
    assert.equal(linkOf(item, 'collection').href, `${api.baseUrl}/api/collections/${w.walk.id}`);
    assert.equal(linkOf(item, 'prev').href, `${api.baseUrl}/api/collections/${w.walk.id}/items/${w.walkItems[1].id}`);
    assert.equal(linkOf(item, 'next').href, `${api.baseUrl}/api/collections/${w.walk.id}/items/${w.walkItems[3].id}`);
    assert.deepEqual(item.stac_extensions.sort(), [
      'https://stac-extensions.github.io/perspective-imagery/v1.0.0/schema.json',
      'https://stac-extensions.github.io/view/v1.0.0/schema.json',
    ]);
    assert.equal(item.properties['view:azimuth'], (3 * 37) % 360);
    assert.deepEqual(item.properties['pers:interior_orientation'], { camera_manufacturer: 'GoPro', camera_model: 'MAX', focal_length: 3, field_of_view: 360 });
    assert.equal(item.properties['pers:pitch'], undefined);
    assert.equal(item.properties['sightline:pitch'], 2.5);
    assert.equal(item.properties.datetime, '2021-06-01T10:00:30Z');
    assert.match(item.properties.created, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?Z$/);
    assert.ok(item.properties.updated);
    assert.equal(item.properties.license, 'CC-BY-SA-4.0');
    assert.deepEqual(item.geometry, { type: 'Point', coordinates: [2.3303, 48.86015] });
    assert.deepEqual(item.bbox, [2.3303, 48.86015, 2.3303, 48.86015]);
    for (const [key, role] of [
      ['hd', 'data'],
      ['sd', 'visual'],
      ['thumb', 'thumbnail'],
    ]) {
      assert.equal(item.assets[key].href, `${api.baseUrl}/api/pictures/${pic.id}/${key}.jpg`);
      assert.equal(item.assets[key].type, 'image/jpeg');
      assert.deepEqual(item.assets[key].roles, [role]);
    }
  });

  it('skips hidden and unpublished pictures in neighbour links, except for who may see them', async () => {
    const before = w.walkItems[5]; // rank 6; rank 7 is pending
    const anon = (await get(api, `/api/collections/${w.walk.id}/items/${before.id}`)).body;
    assert.equal(linkOf(anon, 'next').href.split('/').pop(), w.walkItems[7].id);
    const beforePrivate = w.walkItems[10]; // rank 11; rank 12 is owner-only
    assert.equal(
      linkOf((await get(api, `/api/collections/${w.walk.id}/items/${beforePrivate.id}`)).body, 'next')
        .href.split('/')
        .pop(),
      w.walkItems[12].id,
    );
    assert.equal(
      linkOf((await get(api, `/api/collections/${w.walk.id}/items/${beforePrivate.id}`, w.owner.headers)).body, 'next')
        .href.split('/')
        .pop(),
      w.privatePicture.id,
    );
    const first = (await get(api, `/api/collections/${w.walk.id}/items/${w.walkItems[0].id}`)).body;
    assert.equal(linkOf(first, 'prev'), undefined);
  });

  it('answers 404 for hidden, pending, misplaced and unknown items', async () => {
    assert.equal((await get(api, `/api/collections/${w.walk.id}/items/${w.privatePicture.id}`)).status, 404);
    assert.equal((await get(api, `/api/collections/${w.walk.id}/items/${w.privatePicture.id}`, w.other.headers)).status, 404);
    assert.equal((await get(api, `/api/collections/${w.walk.id}/items/${w.privatePicture.id}`, w.owner.headers)).status, 200);
    assert.equal((await get(api, `/api/collections/${w.walk.id}/items/${w.pendingPicture.id}`, w.owner.headers)).status, 404);
    assert.equal((await get(api, `/api/collections/${w.datasets.id}/items/${w.walkItems[0].id}`)).status, 404, 'an item under another collection');
    assert.equal((await get(api, `/api/collections/${w.hidden.id}/items/${w.hiddenItems[0].id}`)).status, 404);
    assert.equal((await get(api, `/api/collections/${w.hidden.id}/items/${w.hiddenItems[0].id}`, w.owner.headers)).status, 200);
  });

  it('renders datasets and harvested items generically (extensions from prefixes, absolute hrefs kept)', async () => {
    const ds = (await get(api, `/api/collections/${w.datasets.id}/items/${w.datasetItems[1].id}`)).body;
    assert.deepEqual(ds.stac_extensions.sort(), [
      'https://stac-extensions.github.io/eo/v1.1.0/schema.json',
      'https://stac-extensions.github.io/file/v2.1.0/schema.json',
      'https://stac-extensions.github.io/projection/v2.0.0/schema.json',
      'https://stac-extensions.github.io/raster/v1.1.0/schema.json',
    ]);
    assert.equal(ds.assets.data.href, `${api.baseUrl}/api/datasets/${w.tag}-1.tif`);
    assert.equal(ds.properties.license, 'proprietary');
    assert.equal(ds.geometry.type, 'Polygon');
    const hv = (await get(api, `/api/collections/${w.harvested.id}/items/${w.harvestedItem.id}`)).body;
    assert.equal(hv.assets.visual.href, 'https://remote.example.org/data/visual.tif');
    assert.deepEqual(hv.stac_extensions, ['https://stac-extensions.github.io/view/v1.1.0/schema.json'], 'the stored extension list wins over the computed one');
    assert.equal(hv.properties.datetime, '2019-05-05T05:05:05.123Z');
    assert.equal(hv.properties.stac_extensions, undefined);
  });

  it('serves queryables as JSON Schema with $id equal to their URL', async () => {
    for (const path of ['/api/queryables', `/api/collections/${w.datasets.id}/queryables`, '/api/collections-queryables']) {
      const res = await get(api, path);
      assert.equal(res.status, 200, path);
      assert.equal(res.headers.get('content-type')!.split(';')[0], 'application/schema+json');
      assert.ok(['https://json-schema.org/draft/2019-09/schema', 'http://json-schema.org/draft-07/schema#'].includes(res.body.$schema));
      assert.equal(res.body.$id, `${api.baseUrl}${path}`);
      assert.equal(res.body.type, 'object');
      assert.ok(res.body.properties.id);
    }
    const ds = (await get(api, `/api/collections/${w.datasets.id}/queryables`)).body;
    assert.deepEqual(ds.properties['sightline:band_count'], { title: 'sightline:band_count', type: 'number' }, 'summaries add queryables');
    const items = (await get(api, '/api/queryables')).body;
    assert.equal(items.properties['sightline:band_count'], undefined);
    assert.deepEqual(items.properties.geometry.$ref, 'https://geojson.org/schema/Geometry.json');
  });

  it('lists as queryables the fields that items the caller may see carry, and still filters on known ones', async () => {
    const svc = api.app.get(CatalogService);
    // An owner-only collection whose item alone carries eo:snow_cover (and the deprecated proj:epsg).
    const snow = await svc.createCollection({
      kind: 'sequence',
      extent: 'items-line',
      ordered: true,
      title: 'Snow survey',
      ownerId: w.owner.id,
      status: 'ready',
      visibility: Visibility.OwnerOnly,
    });
    const snowItem = await svc.createItem({
      collectionId: snow.id,
      kind: 'picture',
      ownerId: w.owner.id,
      status: 'ready',
      visibility: Visibility.OwnerOnly,
      datetime: new Date('2022-02-02T02:02:02Z'),
      geometry: { type: 'Point', coordinates: [6.9, 45.9] },
      rank: 1,
      properties: { 'eo:snow_cover': 80, 'proj:epsg': 2154 },
    });
    const names = async (path: string, headers: Record<string, string> = {}) => Object.keys((await get(api, path, headers)).body.properties);

    const anonymous = await names('/api/queryables');
    for (const core of ['id', 'collection', 'geometry', 'datetime', 'created', 'updated', 'sightline:kind', 'sightline:rank']) assert.ok(anonymous.includes(core), core);
    for (const carried of ['view:azimuth', 'eo:cloud_cover', 'platform', 'proj:code', 'view:sun_elevation']) assert.ok(anonymous.includes(carried), carried);
    for (const absent of ['constellation', 'view:off_nadir', 'proj:epsg', 'eo:snow_cover']) assert.ok(!anonymous.includes(absent), `${absent} is not offered`);
    const owner = await names('/api/queryables', w.owner.headers);
    assert.ok(owner.includes('eo:snow_cover'), 'the owner sees the field of their private item');
    assert.ok(!(await names('/api/queryables', w.other.headers)).includes('eo:snow_cover'), 'nobody else does');
    assert.ok(!owner.includes('proj:epsg'), 'a deprecated field is never offered');

    const walk = await names(`/api/collections/${w.walk.id}/queryables`);
    assert.ok(walk.includes('view:azimuth') && walk.includes('datetime'));
    assert.ok(!walk.includes('eo:cloud_cover') && !walk.includes('platform'), 'only what the collection’s items carry');
    const datasets = await names(`/api/collections/${w.datasets.id}/queryables`);
    assert.ok(datasets.includes('eo:cloud_cover') && datasets.includes('sightline:band_count') && !datasets.includes('view:azimuth'));
    assert.deepEqual(
      (await names(`/api/collections/${snow.id}/queryables`, w.owner.headers)).filter((n) => n.includes(':') && !n.startsWith('sightline:')),
      ['eo:snow_cover'],
    );

    // Known fields no visible item carries still filter (matching nothing); unknown ones are a 400.
    // Within this test's collections: other tests of the run may register rasters in EPSG:2154 too.
    const byEpsg = await get(api, `/api/search?${new URLSearchParams({ filter: 'proj:epsg = 2154', collections: [snow.id, w.datasets.id].join(',') })}`, w.owner.headers);
    assert.deepEqual(
      byEpsg.body.features.map((f: { id: string }) => f.id),
      [snowItem.id],
    );
    const none = await get(api, `/api/search?${new URLSearchParams({ filter: "constellation = 'sentinel-2'" })}`);
    assert.equal(none.status, 200);
    assert.equal(none.body.features.length, 0);
    assert.equal((await get(api, `/api/search?${new URLSearchParams({ filter: 'nosuchfield = 1' })}`)).status, 400);
  });

  it('reports how many documents were validated', async (t) => {
    const { validator, skipReason } = await stacValidator();
    if (!validator) return t.skip(skipReason);
    assert.ok(validator.report.validated > 50, `validated ${validator.report.validated}`);
    assert.equal(validator.report.invalid, 0);
  });
});
