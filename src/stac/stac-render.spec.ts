import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { collectionExtensions, itemExtensions } from './stac-extensions.js';
import { antimeridianBbox, applyItemFields, derivedTitle, type StacItem } from './stac-item.dto.js';
import { searchFromBody, searchFromQuery } from './search-request.js';
import { StacLinks, utcText } from './stac-links.js';

describe('STAC extensions from field prefixes', () => {
  it('lists the extensions whose fields are present and moves undefined prefixed fields aside', () => {
    const r = itemExtensions({ 'view:azimuth': 10, 'pers:pitch': 3, 'pers:interior_orientation': { focal_length: 3 }, title: 'x' }, { hd: { href: 'a', 'file:size': 3 } });
    assert.deepEqual(r.stacExtensions, [
      'https://stac-extensions.github.io/view/v1.0.0/schema.json',
      'https://stac-extensions.github.io/perspective-imagery/v1.0.0/schema.json',
      'https://stac-extensions.github.io/file/v2.1.0/schema.json',
    ]);
    assert.equal(r.properties['pers:pitch'], undefined);
    assert.equal(r.properties['sightline:pitch'], 3);
  });

  it('picks the projection version by its fields and lets a stored list win per extension', () => {
    assert.deepEqual(itemExtensions({ 'proj:epsg': 4326 }, {}).stacExtensions, ['https://stac-extensions.github.io/projection/v1.1.0/schema.json']);
    assert.deepEqual(itemExtensions({ 'proj:code': 'EPSG:4326' }, {}).stacExtensions, ['https://stac-extensions.github.io/projection/v2.0.0/schema.json']);
    const both = itemExtensions({ 'proj:code': 'EPSG:4326', 'proj:epsg': 4326 }, {});
    assert.deepEqual(both.stacExtensions, ['https://stac-extensions.github.io/projection/v1.2.0/schema.json']);
    assert.deepEqual(both.properties, { 'proj:code': 'EPSG:4326', 'proj:epsg': 4326 }, 'both kept: v1.2.0 defines both');
    const stored = itemExtensions(
      { stac_extensions: ['https://stac-extensions.github.io/view/v1.1.0/schema.json', 'https://example.org/x/v1.0.0/schema.json'], 'view:azimuth': 1 },
      {},
    );
    assert.deepEqual(stored.stacExtensions, ['https://stac-extensions.github.io/view/v1.1.0/schema.json', 'https://example.org/x/v1.0.0/schema.json']);
    assert.equal(stored.properties.stac_extensions, undefined);
  });

  it('declares collection extensions only for fields the extension defines', () => {
    const r = collectionExtensions({ 'eo:cloud_cover': { minimum: 0, maximum: 10 }, 'view:foo': [1] }, undefined);
    assert.deepEqual(r.stacExtensions, ['https://stac-extensions.github.io/eo/v1.1.0/schema.json']);
    assert.deepEqual(Object.keys(r.summaries).sort(), ['eo:cloud_cover', 'sightline:foo']);
  });
});

describe('item rendering', () => {
  it('gives a footprint split at the antimeridian an RFC 7946 bbox, west greater than east', () => {
    const split = {
      type: 'MultiPolygon',
      coordinates: [
        [
          [
            [174.57, -41.4],
            [180, -41.4],
            [180, -40.2],
            [174.57, -40.2],
            [174.57, -41.4],
          ],
        ],
        [
          [
            [-180, -41.4],
            [-178.14, -41.4],
            [-178.14, -40.2],
            [-180, -40.2],
            [-180, -41.4],
          ],
        ],
      ],
    };
    assert.deepEqual(antimeridianBbox(split, [-180, -41.4, 180, -40.2]), [174.57, -41.4, -178.14, -40.2]);
    const polygon = {
      type: 'Polygon',
      coordinates: [
        [
          [1, 1],
          [2, 1],
          [2, 2],
          [1, 1],
        ],
      ],
    };
    assert.deepEqual(antimeridianBbox(polygon, [1, 1, 2, 2]), [1, 1, 2, 2]);
    const world = {
      type: 'MultiPolygon',
      coordinates: [
        [
          [
            [-180, -10],
            [180, -10],
            [180, 10],
            [-180, 10],
            [-180, -10],
          ],
        ],
      ],
    };
    assert.deepEqual(antimeridianBbox(world, [-180, -10, 180, 10]), [-180, -10, 180, 10]);
  });

  it('titles an untitled item by its collection, its padded position and its time, so that titles sort like ranks', () => {
    const base = { collection_title: 'Rue de la Paix', collection_item_count: 120, datetime: '2021-06-01T10:00:10.500000', id: 'i' };
    assert.equal(derivedTitle({ ...base, rank: 7 }), 'Rue de la Paix · 007/120 · 2021-06-01 10:00:10 UTC');
    const titles = [100, 7, 20].map((rank) => derivedTitle({ ...base, rank }));
    assert.deepEqual(
      [...titles].sort(),
      [7, 20, 100].map((rank) => derivedTitle({ ...base, rank })),
    );
    assert.equal(derivedTitle({ ...base, rank: null, datetime: null }), 'Rue de la Paix · i');
  });

  it('brings a heading outside [0, 360] back into the view extension range', async () => {
    const { toStacItem } = await import('./stac-item.dto.js');
    const row = {
      id: 'i',
      collection_id: 'c',
      kind: 'picture',
      datetime: '2021-01-01T00:00:00.000000',
      created: '2021-01-01T00:00:00.000000',
      updated: '2021-01-01T00:00:00.000000',
      rank: 1,
      properties: { 'view:azimuth': -10 },
      assets: {},
      geometry: null,
      bbox: null,
      collection_license: 'CC0-1.0',
      prev_id: null,
      next_id: null,
      links: [],
      stac_extensions: [],
      collection_title: 'Walk',
      collection_item_count: 12,
      keys: [],
    };
    assert.equal(toStacItem(row, new StacLinks('http://x')).properties['view:azimuth'], 350);
  });
});

describe('links and times', () => {
  it('makes relative asset hrefs absolute and keeps absolute ones', () => {
    const links = new StacLinks('https://example.org/');
    assert.equal(links.assetHref('pictures/x/hd.jpg'), 'https://example.org/api/pictures/x/hd.jpg');
    assert.equal(links.assetHref('s3://bucket/key'), 's3://bucket/key');
    assert.equal(links.root, 'https://example.org/api/');
  });

  it('writes UTC times without needless zeros', () => {
    assert.equal(utcText('2021-06-01T10:00:00.000000'), '2021-06-01T10:00:00Z');
    assert.equal(utcText('2021-06-01T10:00:00.120000'), '2021-06-01T10:00:00.12Z');
    assert.equal(utcText(null), null);
  });
});

describe('fields extension', () => {
  const item = {
    type: 'Feature',
    stac_version: '1.0.0',
    stac_extensions: ['https://stac-extensions.github.io/view/v1.0.0/schema.json'],
    id: 'a',
    collection: 'c',
    geometry: { type: 'Point', coordinates: [0, 0] },
    bbox: [0, 0, 0, 0],
    properties: { datetime: '2020-01-01T00:00:00Z', 'view:azimuth': 3, foo: 1 },
    assets: { hd: { href: 'x' } },
    links: [],
  } as unknown as StacItem;

  it('keeps the default set plus includes, minus excludes', () => {
    assert.deepEqual(applyItemFields(item, { include: [], exclude: [] }).properties, { datetime: '2020-01-01T00:00:00Z' });
    assert.deepEqual(applyItemFields(item, { include: [], exclude: [] }).stac_extensions, []);
    const some = applyItemFields(item, { include: ['properties'], exclude: ['properties.foo', 'assets'] });
    assert.deepEqual(some.properties, { datetime: '2020-01-01T00:00:00Z', 'view:azimuth': 3 });
    assert.equal(some.assets, undefined);
    assert.deepEqual(some.stac_extensions, ['https://stac-extensions.github.io/view/v1.0.0/schema.json']);
    assert.equal(applyItemFields(item, { include: [], exclude: ['geometry'] }).geometry, undefined);
  });

  it('decides the cases clients disagree on by the Fields extension text', () => {
    // Rule 5.1: an excluded object keeps only its included children (not even the default datetime).
    const azimuthOnly = applyItemFields(item, { include: ['properties.view:azimuth'], exclude: ['properties'] });
    assert.deepEqual(azimuthOnly.properties, { 'view:azimuth': 3 });
    assert.ok(azimuthOnly.geometry && azimuthOnly.assets, 'the rest of the default set stays');
    // Rule 3: JSON `exclude` without an `include` member starts from the whole item.
    const allButGeometry = applyItemFields(item, { include: [], exclude: ['geometry'], fromAll: true });
    assert.equal(allButGeometry.geometry, undefined);
    assert.deepEqual(allButGeometry.properties, item.properties);
    assert.deepEqual(Object.keys(allButGeometry).sort(), ['assets', 'bbox', 'collection', 'id', 'links', 'properties', 'stac_extensions', 'stac_version', 'type']);
    // Rule 4: an empty `include` (and every text `fields`) starts from the default set.
    assert.deepEqual(applyItemFields(item, { include: [], exclude: ['geometry'] }).properties, { datetime: '2020-01-01T00:00:00Z' });
    // Rule 6: a field both included and excluded is included.
    assert.deepEqual(applyItemFields(item, { include: ['geometry'], exclude: ['geometry'] }).geometry, item.geometry);
    // The most specific path wins whatever the order: -assets.hd.href,-assets,+assets.hd.
    assert.deepEqual(applyItemFields(item, { include: ['assets.hd'], exclude: ['assets.hd.href', 'assets'] }).assets, { hd: {} });
    // Rule 1: an item with a range instead of a datetime keeps its range.
    const ranged = { ...item, properties: { datetime: null, start_datetime: 'a', end_datetime: 'b', foo: 1 } } as unknown as StacItem;
    assert.deepEqual(applyItemFields(ranged, { include: [], exclude: [] }).properties, { datetime: null, start_datetime: 'a', end_datetime: 'b' });
  });

  it('reads fields from text and JSON, telling a missing include from an empty one', () => {
    assert.deepEqual(searchFromQuery({ fields: '-properties, properties.view:azimuth' }).fields, { include: ['properties.view:azimuth'], exclude: ['properties'] });
    assert.deepEqual(searchFromQuery({ fields: '-geometry' }).fields, { include: [], exclude: ['geometry'] });
    assert.deepEqual(searchFromBody({ fields: { exclude: ['geometry'] } }).fields, { include: [], exclude: ['geometry'], fromAll: true });
    assert.deepEqual(searchFromBody({ fields: { include: [], exclude: ['geometry'] } }).fields, { include: [], exclude: ['geometry'], fromAll: false });
    assert.deepEqual(searchFromBody({ fields: { include: null, exclude: ['geometry'] } }).fields, { include: [], exclude: ['geometry'], fromAll: false });
    assert.deepEqual(searchFromBody({ fields: {} }).fields, { include: [], exclude: [], fromAll: false });
  });
});
