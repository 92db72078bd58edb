import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { RemoteRecord } from './harvester-type.js';
import { canonicalJson, checkGeometry, contentHash, itemFields, itemLinks, MappingError } from './record-mapping.js';

const record = (over: Partial<RemoteRecord> = {}): RemoteRecord => ({
  remoteId: 'r1',
  remoteUrl: 'https://remote.example/collections/c/items/r1',
  geometry: { type: 'Point', coordinates: [1, 2] },
  properties: { datetime: '2024-01-02T03:04:05Z', title: 'one' },
  assets: { data: { href: 'r1.tif', type: 'image/tiff' } },
  links: [
    { rel: 'self', href: 'https://remote.example/collections/c/items/r1' },
    { rel: 'license', href: '../../license.html' },
  ],
  ...over,
});

const provenance = { harvesterId: 'h', sessionId: 's', remoteId: 'r1', remoteUrl: 'https://remote.example/collections/c/items/r1', remoteUpdated: null, contentHash: 'x' };

describe('record mapping', () => {
  it('hashes content regardless of key order', () => {
    assert.equal(canonicalJson({ b: 1, a: { d: [1, { f: 2, e: 1 }], c: null } }), '{"a":{"c":null,"d":[1,{"e":1,"f":2}]},"b":1}');
    const a = record({ properties: { title: 'one', datetime: '2024-01-02T03:04:05Z' } });
    assert.equal(contentHash(a), contentHash(record()));
    assert.notEqual(contentHash(record({ properties: { datetime: '2024-01-02T03:04:05Z', title: 'two' } })), contentHash(record()));
  });

  it('keeps the remote fields, resolves relative hrefs and adds provenance and a via link', () => {
    const fields = itemFields(record(), provenance);
    assert.equal(fields.datetime?.toISOString(), '2024-01-02T03:04:05.000Z');
    assert.equal(fields.properties.title, 'one');
    assert.equal(fields.properties['harvest:remote_id'], 'r1');
    assert.equal(fields.assets.data.href, 'https://remote.example/collections/c/items/r1.tif');
    assert.deepEqual(
      fields.links.map((l) => [l.rel, l.href]),
      [
        ['license', 'https://remote.example/collections/license.html'],
        ['via', 'https://remote.example/collections/c/items/r1'],
      ],
    );
  });

  it('accepts a range without datetime, and a record with no time at all, but not a garbled time', () => {
    const ranged = itemFields(record({ properties: { datetime: null, start_datetime: '2020-01-01T00:00:00Z', end_datetime: '2020-12-31T00:00:00Z' } }), provenance);
    assert.equal(ranged.datetime, null);
    assert.equal(itemFields(record({ properties: { title: 'no time' } }), provenance).datetime, null);
    assert.throws(() => itemFields(record({ properties: { datetime: null, start_datetime: 'soon' } }), provenance), /start_datetime "soon" is not a date-time/);
    assert.throws(() => itemFields(record({ properties: { datetime: 'yesterday' } }), provenance), /not a date-time/);
  });

  it('refuses geometries PostGIS would choke on, with the path of the problem', () => {
    assert.throws(
      () =>
        checkGeometry({
          type: 'Polygon',
          coordinates: [
            [
              [0, 0],
              [1, 0],
              [1, 1],
              [0, 0.5],
            ],
          ],
        }),
      /coordinates\[0\] is not closed/,
    );
    assert.throws(() => checkGeometry({ type: 'Point', coordinates: [0, 91] }), /outside longitude\/latitude/);
    assert.throws(() => checkGeometry({ type: 'Point', coordinates: ['1', 2] }), /not a position/);
    assert.throws(() => checkGeometry({ type: 'Circle', coordinates: [0, 0] }), MappingError);
    assert.throws(() => checkGeometry({ type: 'LineString', coordinates: [[0, 0]] }), /fewer than 2/);
    assert.ok(
      checkGeometry({
        type: 'MultiPolygon',
        coordinates: [
          [
            [
              [0, 0],
              [1, 0],
              [1, 1],
              [0, 0],
            ],
          ],
        ],
      }),
    );
  });

  it('refuses assets whose href is not a web address', () => {
    assert.throws(() => itemFields(record({ remoteUrl: null, assets: { a: { href: 'relative.tif' } } }), provenance), /not an absolute URL/);
    assert.throws(() => itemFields(record({ assets: { a: { href: 'javascript:alert(1)' } } }), provenance), /not a web address/);
  });

  it('drops links that would point into this API', () => {
    const links = itemLinks(
      record({
        remoteUrl: null,
        links: [
          { rel: 'alternate', href: 'page.html' },
          { rel: 'root', href: 'https://remote.example/' },
        ],
      }),
    );
    assert.deepEqual(links, []);
  });
});
