import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { startApi, type TestApi } from './support/app.js';
import { testPool } from './support/db.js';
import { get, linkOf, pathOf, post, type StacResponse } from './support/stac-client.js';
import { seedStacWorld, type StacWorld } from './support/stac-seed.js';

/*
 * Item search: the checks of stac-api-validator (validate_item_search_*), ported — limit
 * values, bbox variants, the valid and invalid datetime lists, every intersects geometry type,
 * ids and collections, paging without duplicates for GET and POST — plus sort, fields, q and
 * numberMatched.
 */

const VALID_DATETIMES = [
  '1985-04-12T23:20:50.52Z',
  '1996-12-19T16:39:57-00:00',
  '1996-12-19T16:39:57+00:00',
  '1996-12-19T16:39:57-08:00',
  '1996-12-19T16:39:57+08:00',
  '../1985-04-12T23:20:50.52Z',
  '1985-04-12T23:20:50.52Z/..',
  '/1985-04-12T23:20:50.52Z',
  '1985-04-12T23:20:50.52Z/',
  '1985-04-12T23:20:50.52Z/1986-04-12T23:20:50.52Z',
  '1985-04-12T23:20:50.52+01:00/1986-04-12T23:20:50.52+01:00',
  '1985-04-12T23:20:50.52-01:00/1986-04-12T23:20:50.52-01:00',
  '1937-01-01T12:00:27.87+01:00',
  '1985-04-12T23:20:50.52Z',
  '1937-01-01T12:00:27.8710+01:00',
  '1937-01-01T12:00:27.8+01:00',
  '1937-01-01T12:00:27.8Z',
  '2020-07-23T00:00:00.000+03:00',
  '2020-07-23T00:00:00+03:00',
  '1985-04-12t23:20:50.000z',
  '2020-07-23T00:00:00Z',
  '2020-07-23T00:00:00.0Z',
  '2020-07-23T00:00:00.01Z',
  '2020-07-23T00:00:00.012Z',
  '2020-07-23T00:00:00.0123Z',
  '2020-07-23T00:00:00.01234Z',
  '2020-07-23T00:00:00.012345Z',
  '2020-07-23T00:00:00.0123456Z',
  '2020-07-23T00:00:00.01234567Z',
  '2020-07-23T00:00:00.012345678Z',
];

const INVALID_DATETIMES = [
  '/',
  '../..',
  '/..',
  '../',
  '/1984-04-12T23:20:50.52Z/1985-04-12T23:20:50.52Z',
  '1984-04-12T23:20:50.52Z/1985-04-12T23:20:50.52Z/',
  '/1984-04-12T23:20:50.52Z/1985-04-12T23:20:50.52Z/',
  '1985-04-12',
  '1937-01-01T12:00:27.87+0100',
  '37-01-01T12:00:27.87Z',
  '1985-12-12T23:20:50.52',
  '21985-12-12T23:20:50.52Z',
  '1985-13-12T23:20:50.52Z',
  '1985-12-32T23:20:50.52Z',
  '1985-12-01T25:20:50.52Z',
  '1985-12-01T00:60:50.52Z',
  '1985-12-01T00:06:61.52Z',
  '1985-04-12T23:20:50.Z',
  '1985-04-12T23:20:50,Z',
  '1990-12-31T23:59:61Z',
  '1986-04-12T23:20:50.52Z/1985-04-12T23:20:50.52Z',
  '1985-04-12T23:20:50,52Z',
];

// The geometries stac-api-validator sends as `intersects`.
const POLYGON = {
  type: 'Polygon',
  coordinates: [
    [
      [100.0, 0.0],
      [101.0, 0.0],
      [101.0, 1.0],
      [100.0, 1.0],
      [100.0, 0.0],
    ],
  ],
};
const GEOMETRIES = [
  { type: 'Point', coordinates: [100.0, 0.0] },
  {
    type: 'LineString',
    coordinates: [
      [100.0, 0.0],
      [101.0, 1.0],
    ],
  },
  POLYGON,
  {
    type: 'Polygon',
    coordinates: [
      POLYGON.coordinates[0],
      [
        [100.8, 0.8],
        [100.8, 0.2],
        [100.2, 0.2],
        [100.2, 0.8],
        [100.8, 0.8],
      ],
    ],
  },
  {
    type: 'MultiPoint',
    coordinates: [
      [100.0, 0.0],
      [101.0, 1.0],
    ],
  },
  {
    type: 'MultiLineString',
    coordinates: [
      [
        [100.0, 0.0],
        [101.0, 1.0],
      ],
      [
        [102.0, 2.0],
        [103.0, 3.0],
      ],
    ],
  },
  {
    type: 'MultiPolygon',
    coordinates: [
      [
        [
          [102.0, 2.0],
          [103.0, 2.0],
          [103.0, 3.0],
          [102.0, 3.0],
          [102.0, 2.0],
        ],
      ],
      [
        POLYGON.coordinates[0],
        [
          [100.2, 0.2],
          [100.2, 0.8],
          [100.8, 0.8],
          [100.8, 0.2],
          [100.2, 0.2],
        ],
      ],
    ],
  },
  {
    type: 'GeometryCollection',
    geometries: [
      { type: 'Point', coordinates: [100.0, 0.0] },
      {
        type: 'LineString',
        coordinates: [
          [101.0, 0.0],
          [102.0, 1.0],
        ],
      },
    ],
  },
];

const ids = (res: StacResponse): string[] => res.body.features.map((f: { id: string }) => f.id);
const qs = (params: Record<string, string | number>) => new URLSearchParams(Object.entries(params).map(([k, v]): [string, string] => [k, String(v)])).toString();

function assertBadRequest(res: StacResponse, pattern: RegExp, what: string): void {
  assert.equal(res.status, 400, `${what}: ${JSON.stringify(res.body)}`);
  assert.equal(res.body.statusCode, 400);
  assert.match(res.body.message, pattern, what);
}

/** Follows `next` links (GET or POST) and returns every id seen, page by page. */
async function walkPages(api: TestApi, first: StacResponse, rel: 'next' | 'prev' = 'next'): Promise<string[][]> {
  const pages = [ids(first)];
  let link = linkOf(first.body, rel);
  let guard = 0;
  while (link && guard++ < 100) {
    const res = link.method === 'POST' ? await post(api, pathOf(link.href), link.body) : await get(api, pathOf(link.href));
    assert.equal(res.status, 200);
    pages.push(ids(res));
    link = linkOf(res.body, rel);
  }
  return pages;
}

describe('STAC API: item search', () => {
  let api: TestApi;
  let w: StacWorld;
  let visibleWalk: string[];

  before(async () => {
    api = await startApi();
    w = await seedStacWorld(api);
    visibleWalk = w.walkItems.filter((i) => i.id !== w.pendingPicture.id && i.id !== w.privatePicture.id).map((i) => i.id);
  });
  after(() => api.close());

  it('answers GET and POST /search with a GeoJSON ItemCollection', async () => {
    for (const res of [await get(api, '/api/search'), await post(api, '/api/search', {})]) {
      assert.equal(res.status, 200);
      assert.equal(res.headers.get('content-type')!.split(';')[0], 'application/geo+json');
      assert.equal(res.body.type, 'FeatureCollection');
      assert.ok(res.body.features.length > 0 && res.body.features.length <= 10, 'default limit is 10');
      assert.equal(res.body.numberReturned, res.body.features.length);
      assert.equal(typeof res.body.numberMatched, 'number');
      assert.ok(linkOf(res.body, 'root'));
    }
    const empty = await api.fetch('/api/search', { method: 'POST' });
    assert.equal(empty.status, 200, 'POST without a body searches everything');
  });

  it('accepts the validator limits and clamps large ones; refuses limits below 1', async () => {
    for (const limit of [1, 2, 10, 10000, 100000, 1000000]) {
      const g = await get(api, `/api/search?limit=${limit}&collections=${w.walk.id}`);
      assert.equal(g.status, 200, `GET limit=${limit}`);
      assert.equal(g.body.numberReturned, Math.min(limit, 28));
      const p = await post(api, '/api/search', { limit, collections: [w.walk.id] });
      assert.equal(p.status, 200, `POST limit=${limit}`);
      assert.equal(p.body.numberReturned, Math.min(limit, 28));
    }
    for (const limit of [-1, 0]) {
      assertBadRequest(await get(api, `/api/search?limit=${limit}`), /^limit: must be at least 1/, `GET limit=${limit}`);
      assertBadRequest(await post(api, '/api/search', { limit }), /^limit: must be at least 1/, `POST limit=${limit}`);
    }
    assertBadRequest(await get(api, '/api/search?limit=ten'), /^limit: 'ten' is not an integer/, 'limit=ten');
    assertBadRequest(await post(api, '/api/search', { limit: 2.5 }), /^limit: must be an integer/, 'limit=2.5');
  });

  it('refuses bbox together with intersects', async () => {
    assertBadRequest(await get(api, `/api/search?${qs({ bbox: '0,0,1,1', intersects: JSON.stringify(POLYGON) })}`), /bbox and intersects cannot be used together/, 'GET');
    assertBadRequest(await post(api, '/api/search', { bbox: [0, 0, 1, 1], intersects: POLYGON }), /bbox and intersects cannot be used together/, 'POST');
  });

  it('searches by bbox with 4 or 6 numbers, across the antimeridian, and refuses malformed ones', async () => {
    const datasetIds = w.datasetItems.map((i) => i.id).sort();
    const cases: Array<[string, number[]]> = [
      ['100.0,0.0,105.0,1.0', [100.0, 0.0, 105.0, 1.0]],
      ['100.0,0.0,0.0,105.0,1.0,1.0', [100.0, 0.0, 0.0, 105.0, 1.0, 1.0]],
      ['170,0,101,1', [170, 0, 101, 1]],
    ];
    for (const [text, json] of cases) {
      const g = await get(api, `/api/search?bbox=${text}&collections=${w.datasets.id}`);
      assert.deepEqual(ids(g).sort(), datasetIds, `GET bbox=${text}`);
      const p = await post(api, '/api/search', { bbox: json, collections: [w.datasets.id] });
      assert.deepEqual(ids(p).sort(), datasetIds, `POST bbox=${json}`);
    }
    const narrow = await get(api, `/api/search?bbox=100.21,0.3,100.29,0.4&collections=${w.datasets.id}`);
    assert.deepEqual(ids(narrow), [w.datasetItems[0].id]);

    assertBadRequest(await get(api, `/api/search?bbox=${encodeURIComponent('[100.0, 0.0, 105.0, 1.0]')}`), /^bbox: '\[100\.0' is not a number/, 'brackets');
    assertBadRequest(await post(api, '/api/search', { bbox: '100.0, 0.0, 105.0, 1.0' }), /^bbox: must be an array/, 'POST CSV string');
    assertBadRequest(await get(api, `/api/search?bbox=${encodeURIComponent('100.0, 1.0, 105.0, 0.0')}`), /^bbox: south \(1\) is greater than north \(0\)/, 'GET south > north');
    assertBadRequest(await post(api, '/api/search', { bbox: [100.0, 1.0, 105.0, 0.0] }), /^bbox: south \(1\) is greater than north \(0\)/, 'POST south > north');
    for (const bbox of [[0], [0, 0], [0, 0, 0], [0, 0, 0, 1, 1], [0, 0, 0, 1, 1, 1, 1]]) {
      assertBadRequest(await get(api, `/api/search?bbox=${bbox.join(',')}`), /^bbox: must have 4 or 6 numbers/, `GET ${bbox.length} numbers`);
      assertBadRequest(await post(api, '/api/search', { bbox }), /^bbox: must have 4 or 6 numbers/, `POST ${bbox.length} numbers`);
    }
    assertBadRequest(await get(api, '/api/search?bbox=0,-91,1,1'), /^bbox: south -91 is outside/, 'latitude out of range');
  });

  it('finds an item by its own datetime, and answers every valid RFC 3339 datetime or interval', async () => {
    const first = await get(api, `/api/search?collections=${w.walk.id}&limit=1`);
    const dt = first.body.features[0].properties.datetime;
    const same = await get(api, `/api/search?${qs({ datetime: dt })}`);
    assert.equal(same.status, 200);
    assert.ok(ids(same).includes(first.body.features[0].id), `datetime=${dt} finds the item it came from`);
    for (const datetime of VALID_DATETIMES) {
      const res = await get(api, `/api/search?${qs({ datetime })}`);
      assert.equal(res.status, 200, `GET datetime=${datetime}: ${JSON.stringify(res.body)}`);
    }
    for (const datetime of VALID_DATETIMES.slice(0, 12)) {
      assert.equal((await post(api, '/api/search', { datetime })).status, 200, `POST datetime=${datetime}`);
    }
  });

  it('refuses every invalid datetime of the validator with 400 naming the parameter', async () => {
    for (const datetime of INVALID_DATETIMES) {
      assertBadRequest(await get(api, `/api/search?${qs({ datetime })}`), /^datetime: /, `GET datetime=${datetime}`);
      assertBadRequest(await post(api, '/api/search', { datetime }), /^datetime: /, `POST datetime=${datetime}`);
    }
    assertBadRequest(await get(api, '/api/search?datetime=2021-02-30T00:00:00Z'), /day 30 does not exist/, 'February 30');
  });

  it('applies datetime instants and closed or open intervals inclusively', async () => {
    const between = await get(api, `/api/search?${qs({ collections: w.walk.id, datetime: '2021-06-01T10:00:00Z/2021-06-01T10:01:00Z', sortby: 'datetime' })}`);
    assert.deepEqual(ids(between), visibleWalk.slice(0, 6), 'ranks 1 to 6: rank 6, at 10:01:00, is included');
    const openStart = await get(api, `/api/search?${qs({ collections: w.walk.id, datetime: '../2021-06-01T10:00:30Z', sortby: 'datetime' })}`);
    assert.deepEqual(ids(openStart), visibleWalk.slice(0, 3));
    const openEnd = await post(api, '/api/search', { collections: [w.walk.id], datetime: '2021-06-01T10:04:40Z/', limit: 100 });
    assert.equal(openEnd.body.numberReturned, 3);
    const instant = await get(api, `/api/search?${qs({ collections: w.walk.id, datetime: '2021-06-01T12:00:20+02:00' })}`);
    assert.deepEqual(ids(instant), [w.walkItems[1].id], 'an instant in another time zone');
  });

  it('searches by ids, alone or with other parameters that all apply', async () => {
    const [a, b] = [w.walkItems[0].id, w.datasetItems[0].id];
    for (const list of [[a], [a, b]]) {
      assert.deepEqual(ids(await get(api, `/api/search?ids=${list.join(',')}`)).sort(), [...list].sort());
      assert.deepEqual(ids(await post(api, '/api/search', { ids: list })).sort(), [...list].sort());
    }
    // ids do not override the other parameters (all apply since STAC API 1.0.0-beta.1).
    const item = (await get(api, `/api/collections/${w.walk.id}/items/${a}`)).body;
    const farBbox = [item.bbox[2] + 1, item.bbox[3] + 1, item.bbox[2] + 2, item.bbox[3] + 2];
    assert.equal((await get(api, `/api/search?${qs({ ids: a, collections: w.walk.id, bbox: farBbox.join(',') })}`)).body.features.length, 0);
    assert.equal((await post(api, '/api/search', { ids: [a], collections: [w.walk.id], bbox: farBbox })).body.features.length, 0);
    assert.equal((await get(api, '/api/search?ids=not-a-uuid')).body.features.length, 0, 'an id that cannot exist matches nothing');
  });

  it('restricts to the given collections, one or several', async () => {
    const sets = [[w.walk.id], [w.datasets.id], [w.walk.id, w.datasets.id, w.harvested.id]];
    for (const set of sets) {
      for (const res of [await get(api, `/api/search?collections=${set.join(',')}&limit=100`), await post(api, '/api/search', { collections: set, limit: 100 })]) {
        assert.equal(res.status, 200);
        assert.ok(res.body.features.length > 0);
        assert.ok(res.body.features.every((f: { collection: string }) => set.includes(f.collection)));
      }
    }
    assert.equal((await get(api, `/api/search?collections=${w.hidden.id}`)).body.features.length, 0, 'an owner-only collection is not searchable anonymously');
    assert.equal((await get(api, `/api/search?collections=${w.hidden.id}`, w.owner.headers)).body.features.length, 3);
    assert.equal((await get(api, `/api/search?collections=${w.members.id}`, w.other.headers)).body.features.length, 3, 'logged-only content for any logged-in user');
    assert.equal((await get(api, `/api/search?ids=${w.privatePicture.id}`)).body.features.length, 0);
    assert.equal((await get(api, `/api/search?ids=${w.privatePicture.id}`, w.admin.headers)).body.features.length, 1);
  });

  it('accepts every GeoJSON geometry type as intersects (GET and POST) and returns only intersecting items', async () => {
    for (const geometry of GEOMETRIES) {
      const g = await get(api, `/api/search?${qs({ intersects: JSON.stringify(geometry), collections: w.datasets.id })}`);
      assert.equal(g.status, 200, `GET ${geometry.type}`);
      const p = await post(api, '/api/search', { intersects: geometry, collections: [w.datasets.id] });
      assert.equal(p.status, 200, `POST ${geometry.type}`);
      assert.deepEqual(ids(g).sort(), ids(p).sort());
    }
    const hit = await post(api, '/api/search', { intersects: { type: 'Point', coordinates: [100.25, 0.4] }, collections: [w.datasets.id] });
    assert.deepEqual(ids(hit), [w.datasetItems[0].id]);
    const all = await post(api, '/api/search', { intersects: POLYGON, collections: [w.datasets.id] });
    assert.deepEqual(ids(all).sort(), w.datasetItems.map((i) => i.id).sort());
    const holed = await post(api, '/api/search', { intersects: GEOMETRIES[3], collections: [w.datasets.id] });
    assert.deepEqual(ids(holed).sort(), w.datasetItems.map((i) => i.id).sort(), 'footprints cross the hole’s edge');
    const bowtie = {
      type: 'Polygon',
      coordinates: [
        [
          [100, 0],
          [101, 1],
          [101, 0],
          [100, 1],
          [100, 0],
        ],
      ],
    };
    assert.equal((await post(api, '/api/search', { intersects: bowtie })).status, 200, 'a self-intersecting polygon is repaired, not a 500');
  });

  it('refuses invalid GeoJSON with 400 saying what is wrong', async () => {
    const cases: Array<[unknown, RegExp]> = [
      [{ type: 'Circle', coordinates: [0, 0] }, /intersects\.type must be one of/],
      [
        {
          type: 'Polygon',
          coordinates: [
            [
              [0, 0],
              [1, 1],
            ],
          ],
        },
        /at least 4 positions/,
      ],
      [
        {
          type: 'Polygon',
          coordinates: [
            [
              [0, 0],
              [1, 0],
              [1, 1],
              [0, 1],
            ],
          ],
        },
        /is not closed/,
      ],
      [{ type: 'Point', coordinates: [0] }, /must be a position/],
      [{ type: 'Point', coordinates: [200, 0] }, /longitude 200 is outside/],
      [{ type: 'GeometryCollection' }, /geometries must be an array/],
      ['nope', /must be a GeoJSON geometry object/],
    ];
    for (const [geometry, pattern] of cases) {
      assertBadRequest(await post(api, '/api/search', { intersects: geometry }), pattern, JSON.stringify(geometry));
      assertBadRequest(await get(api, `/api/search?${qs({ intersects: JSON.stringify(geometry) })}`), pattern, `GET ${JSON.stringify(geometry)}`);
    }
    assertBadRequest(await get(api, '/api/search?intersects=%7Bnot%20json'), /^intersects: is not valid JSON/, 'not JSON');
  });

  it('pages GET searches with next and prev links, without duplicates or gaps', async () => {
    const first = await get(api, `/api/search?collections=${w.walk.id}&limit=5&sortby=datetime`);
    const next = linkOf(first.body, 'next');
    assert.equal(next.method, 'GET');
    assert.notEqual(next.href, `${api.baseUrl}/api/search?collections=${w.walk.id}&limit=5&sortby=datetime`);
    assert.equal(linkOf(first.body, 'prev'), undefined, 'no prev link on the first page');
    const pages = await walkPages(api, first);
    assert.deepEqual(pages.flat(), visibleWalk, 'every match once, in order');
    assert.deepEqual(
      pages.map((p) => p.length),
      [5, 5, 5, 5, 5, 3],
    );

    // Back from the last page with prev links: the same pages in reverse.
    let page = first;
    for (let i = 1; i < pages.length; i++) page = await get(api, pathOf(linkOf(page.body, 'next').href));
    assert.equal(linkOf(page.body, 'next'), undefined, 'no next link on the last page');
    const back = await walkPages(api, page, 'prev');
    assert.deepEqual(back, [...pages].reverse());
    assert.equal(page.body.numberMatched, first.body.numberMatched, 'numberMatched as computed for the first page');
  });

  it('pages POST searches with links that carry method and body (default sort, as pystac-client does)', async () => {
    const body = { collections: [w.walk.id, w.datasets.id], limit: 4 };
    const first = await post(api, '/api/search', body);
    const next = linkOf(first.body, 'next');
    assert.equal(next.method, 'POST');
    assert.equal(next.merge, false);
    assert.deepEqual(next.body.collections, body.collections);
    assert.equal(typeof next.body.token, 'string');
    const pages = await walkPages(api, first);
    const all = pages.flat();
    assert.equal(all.length, new Set(all).size, 'no duplicates');
    assert.equal(all.length, 28 + 5);
    assert.equal(all.length, first.body.numberMatched);
    const prevOfSecond = linkOf((await post(api, '/api/search', next.body)).body, 'prev');
    assert.equal(prevOfSecond.method, 'POST');
    assert.deepEqual(ids(await post(api, '/api/search', prevOfSecond.body)), pages[0]);
  });

  it('pages sorts over properties with missing values (NULLs last ascending, first descending)', async () => {
    const byCover = (direction: string) => post(api, '/api/search', { collections: [w.datasets.id], limit: 2, sortby: [{ field: 'properties.eo:cloud_cover', direction }] });
    const asc = (await walkPages(api, await byCover('asc'))).flat();
    assert.deepEqual(
      asc,
      w.datasetItems.map((i) => i.id),
    );
    const desc = (await walkPages(api, await byCover('desc'))).flat();
    assert.deepEqual(
      desc,
      [w.datasetItems[4], w.datasetItems[3], w.datasetItems[2], w.datasetItems[1], w.datasetItems[0]].map((i) => i.id),
    );
    const mixed = await get(api, `/api/search?collections=${w.walk.id}&limit=7&sortby=-properties.view:azimuth,%2Bdatetime`);
    const azimuths = mixed.body.features.map((f: { properties: Record<string, number> }) => f.properties['view:azimuth']);
    assert.deepEqual(
      azimuths,
      [...azimuths].sort((x, y) => y - x),
    );
    const mixedAll = (await walkPages(api, mixed)).flat();
    assert.deepEqual([...mixedAll].sort(), [...visibleWalk].sort());
  });

  it('refuses unknown sort fields and foreign or altered tokens', async () => {
    assertBadRequest(await get(api, '/api/search?sortby=-foo'), /^sortby: unknown field 'foo'; sortable: id, collection, datetime/, 'unknown field');
    assertBadRequest(await post(api, '/api/search', { sortby: [{ field: 'geometry', direction: 'asc' }] }), /'geometry' cannot be sorted on/, 'geometry');
    assertBadRequest(await post(api, '/api/search', { sortby: [{ field: 'datetime', direction: 'up' }] }), /direction must be 'asc' or 'desc'/, 'direction');
    const first = await get(api, `/api/search?collections=${w.walk.id}&limit=2`);
    const token = new URL(linkOf(first.body, 'next').href).searchParams.get('token')!;
    const [v, body, sig] = token.split('.');
    const forged = Buffer.from(
      JSON.stringify({ ...JSON.parse(Buffer.from(body, 'base64url').toString()), k: ['2000-01-01 00:00:00+00', '00000000-0000-4000-8000-000000000000'] }),
    ).toString('base64url');
    assertBadRequest(await get(api, `/api/search?collections=${w.walk.id}&limit=2&token=${v}.${forged}.${sig}`), /^token: token has been altered/, 'forged');
    assertBadRequest(await get(api, `/api/search?collections=${w.datasets.id}&limit=2&token=${token}`), /^token: token belongs to another search/, 'other search');
    assertBadRequest(await get(api, '/api/search?token=garbage'), /^token: token is not a cursor/, 'garbage');
    assert.equal((await get(api, `/api/search?collections=${w.walk.id}&limit=7&token=${token}`)).status, 200, 'the page size may change while paging');
  });

  it('returns the fields asked for (fields extension)', async () => {
    const base = `/api/search?ids=${w.walkItems[0].id}`;
    const minimal = await get(api, `${base}&fields=`);
    assert.deepEqual(Object.keys(minimal.body.features[0]).sort(), [
      'assets',
      'bbox',
      'collection',
      'geometry',
      'id',
      'links',
      'properties',
      'stac_extensions',
      'stac_version',
      'type',
    ]);
    assert.deepEqual(Object.keys(minimal.body.features[0].properties), ['datetime']);
    assert.deepEqual(minimal.body.features[0].stac_extensions, [], 'extensions follow the fields left');

    const some = await get(api, `${base}&fields=properties.view:azimuth`);
    assert.deepEqual(Object.keys(some.body.features[0].properties).sort(), ['datetime', 'view:azimuth']);
    assert.deepEqual(some.body.features[0].stac_extensions, ['https://stac-extensions.github.io/view/v1.0.0/schema.json']);

    const noGeometry = await get(api, `${base}&fields=-geometry,-assets`, {}, true);
    assert.equal(noGeometry.body.features[0].geometry, undefined);
    assert.equal(noGeometry.body.features[0].assets, undefined);

    const viaPost = await post(api, '/api/search', { ids: [w.walkItems[0].id], fields: { include: ['properties'], exclude: ['properties.pers:interior_orientation'] } });
    const props = viaPost.body.features[0].properties;
    assert.equal(props['view:azimuth'], 37);
    assert.equal(props['pers:interior_orientation'], undefined);
    assert.ok(props.created);
    assertBadRequest(await post(api, '/api/search', { fields: { include: 'id' } }), /^fields\.include: must be an array of strings/, 'fields.include');
  });

  it('settles the fields cases clients disagreed on (include wins, nested includes, JSON exclude alone)', async () => {
    const item = w.walkItems[0].id;
    const query = (fields: string) => `/api/search?${new URLSearchParams({ ids: item, fields })}`;
    // An excluded object keeps only its included children.
    const azimuth = await get(api, query('-properties,+properties.view:azimuth'), {}, true);
    assert.deepEqual(azimuth.body.features[0].properties, { 'view:azimuth': 37 });
    assert.ok(azimuth.body.features[0].geometry, 'the rest of the default set stays');
    // JSON `exclude` without `include`: everything but the excluded fields.
    const allButGeometry = await post(api, '/api/search', { ids: [item], fields: { exclude: ['geometry'] } }, {}, true);
    const feature = allButGeometry.body.features[0];
    assert.equal(feature.geometry, undefined);
    assert.equal(feature.properties['view:azimuth'], 37);
    assert.ok(feature.properties.created && feature.properties['pers:interior_orientation']);
    assert.ok(feature.assets.hd && feature.links.length > 0 && feature.bbox);
    // An empty `include` keeps the default set, as text `fields` do.
    const defaultButGeometry = await post(api, '/api/search', { ids: [item], fields: { include: [], exclude: ['geometry'] } }, {}, true);
    assert.deepEqual(Object.keys(defaultButGeometry.body.features[0].properties), ['datetime']);
    // A field both included and excluded is included.
    const both = await get(api, query('+geometry,-geometry'), {}, true);
    assert.deepEqual(both.body.features[0].geometry, (await get(api, `/api/search?ids=${item}`)).body.features[0].geometry);
  });

  it('searches free text with q (any term; words of a term as a phrase, by prefix)', async () => {
    const clear = await get(api, `/api/search?q=clear`);
    assert.ok(ids(clear).includes(w.datasetItems[0].id));
    assert.ok(!ids(clear).includes(w.datasetItems[1].id));
    const tagged = await get(api, `/api/search?${qs({ q: `Scene 1 ${w.tag},Scene 2 ${w.tag}` })}`);
    assert.deepEqual(ids(tagged).sort(), [w.datasetItems[1].id, w.datasetItems[2].id].sort());
    const camera = await post(api, '/api/search', { q: ['gopr'], collections: [w.walk.id] });
    assert.equal(camera.body.numberMatched, 28, 'the camera maker is searchable');
    const platform = await post(api, '/api/search', { q: 'landsat', collections: [w.datasets.id] });
    assert.deepEqual(ids(platform).sort(), [w.datasetItems[3].id, w.datasetItems[4].id].sort());
    assertBadRequest(await get(api, '/api/search?q=,,'), /^q: needs at least one search term/, 'empty q');
    assert.equal((await get(api, `/api/search?${qs({ q: "'&|!<->:*" })}`)).body.features.length, 0, 'query syntax characters are only text');
  });

  it('counts matches exactly up to 10000 and estimates beyond', async () => {
    const exact = await get(api, `/api/search?collections=${w.walk.id}&limit=1`);
    assert.equal(exact.body.numberMatched, 28);
    assert.equal(exact.body.numberMatchedEstimated, false);

    const pool = testPool();
    try {
      const [{ id }] = (await pool.query(`INSERT INTO collection (kind, title, visibility) VALUES ('dataset', $1, 'anyone') RETURNING id`, [`Big ${w.tag}`])).rows;
      await pool.query(
        `INSERT INTO item (collection_id, kind, datetime, geom, properties)
         SELECT $1, 'dataset', timestamptz '2020-01-01' + g * interval '1 minute', ST_SetSRID(ST_MakePoint(10 + g / 100000.0, 10), 4326), '{}'
         FROM generate_series(1, 25000) g`,
        [id],
      );
      await pool.query('ANALYZE item');
      const big = await get(api, `/api/search?collections=${id}&limit=3`);
      assert.equal(big.body.numberMatchedEstimated, true);
      assert.ok(big.body.numberMatched > 10000, `estimate ${big.body.numberMatched}`);
      const small = await get(api, `/api/search?collections=${id}&limit=3&datetime=2020-01-01T00:00:00Z/2020-01-01T01:00:00Z`);
      assert.equal(small.body.numberMatched, 60);
      assert.equal(small.body.numberMatchedEstimated, false);
      const page2 = await get(api, pathOf(linkOf(big.body, 'next').href));
      assert.equal(page2.body.numberMatched, big.body.numberMatched);
      await pool.query('DELETE FROM collection WHERE id = $1', [id]);
    } finally {
      await pool.end();
    }
  });

  it('answers malformed parameters with 400 naming them, never 500', async () => {
    const cases: Array<[string, RegExp]> = [
      ['/api/search?bbox=a,b,c,d', /^bbox: 'a' is not a number/],
      ['/api/search?datetime=yesterday', /^datetime: 'yesterday' is not an RFC 3339 date-time/],
      ['/api/search?filter-lang=sql&filter=1%3D1', /^filter-lang: must be 'cql2-text' or 'cql2-json'/],
      ['/api/search?filter-crs=EPSG:4326&filter=id%3D%27x%27', /^filter-crs: only http:\/\/www\.opengis\.net\/def\/crs\/OGC\/1\.3\/CRS84/],
      ['/api/search?unknown=1', /property unknown should not exist/],
      ['/api/search?limit=1&limit=2', /^limit: given more than once/],
      ['/api/collections?bbox=1,2,3', /^bbox: must have 4 or 6 numbers/],
      ['/api/collections?datetime=../..', /^datetime: .* needs at least one closed end/],
      [`/api/collections/${'x'.repeat(40)}/items?limit=0`, /^limit: must be at least 1/],
    ];
    for (const [path, pattern] of cases) assertBadRequest(await get(api, path), pattern, path);
    for (const body of [{ collections: 'abc' }, { ids: [1] }, { intersects: null, bbox: 'x' }, { token: 5 }, { q: 5 }, { sortby: 'x,,' }]) {
      const res = await post(api, '/api/search', body);
      assert.ok(res.status === 400 || res.status === 200, JSON.stringify(body));
      assert.notEqual(res.status, 500);
    }
  });
});
