import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { startApi, type TestApi } from './support/app.js';
import { get, linkOf, post, type StacResponse } from './support/stac-client.js';
import { seedStacWorld, type StacWorld } from './support/stac-seed.js';

/*
 * Filter extension: the CQL2 text and CQL2 JSON suites of stac-api-validator (filters.py),
 * ported and run against /search, then checked for the right answers on known data, for
 * /collections/{id}/items and for collection search.
 */

const OPS = ['=', '<>', '<', '<=', '>', '>='];
const TORONTO =
  'POLYGON((43.5845 -79.5442, 43.6079 -79.4893, 43.5677 -79.4632, 43.6129 -79.3925, 43.6223 -79.3238, 43.6576 -79.3163, 43.7945 -79.1178, 43.8144 -79.1542, 43.8555 -79.1714, 43.7509 -79.6390, 43.5845 -79.5442))';
const TORONTO_JSON = {
  type: 'Polygon',
  coordinates: [
    [
      [43.5845, -79.5442],
      [43.6079, -79.4893],
      [43.5677, -79.4632],
      [43.6129, -79.3925],
      [43.6223, -79.3238],
      [43.6576, -79.3163],
      [43.7945, -79.1178],
      [43.8144, -79.1542],
      [43.8555, -79.1714],
      [43.7509, -79.639],
      [43.5845, -79.5442],
    ],
  ],
};
const box = (x0: number, y0: number, x1: number, y1: number) => ({
  type: 'Polygon',
  coordinates: [
    [
      [x0, y0],
      [x1, y0],
      [x1, y1],
      [x0, y1],
      [x0, y0],
    ],
  ],
});

function validatorTextFilters(itemId: string, collection: string): string[] {
  return [
    'eo:cloud_cover >= 5 AND eo:cloud_cover < 10',
    'eo:cloud_cover > 50 OR eo:cloud_cover < 10',
    'eo:cloud_cover > 50 OR eo:cloud_cover < 10 OR (eo:cloud_cover IS NULL AND eo:cloud_cover IS NULL)',
    `id='${itemId}' AND collection='${collection}'`,
    `id='${itemId}' OR collection='${collection}'`,
    `NOT id='${itemId}'`,
    ...OPS.map((op) => `collection ${op} '${collection}'`),
    ...OPS.map((op) => `eo:cloud_cover ${op} 10`),
    ...OPS.map((op) => `datetime ${op} TIMESTAMP('2021-04-08T04:39:23Z')`),
    'eo:cloud_cover BETWEEN 0 AND 50',
    'eo:cloud_cover NOT BETWEEN 0 AND 50',
    "mission LIKE 'sentinel%'",
    "mission NOT LIKE 'sentinel%'",
    `S_INTERSECTS(geometry, ${TORONTO})`,
    `collection = '${collection}' AND eo:cloud_cover <= 10 AND datetime >= TIMESTAMP('2021-04-08T04:39:23Z') AND S_INTERSECTS(geometry, ${TORONTO})`,
    'S_INTERSECTS(geometry,POLYGON((-77.0824 38.7886,-77.0189 38.7886,-77.0189 38.8351,-77.0824 38.8351,-77.0824 38.7886))) OR S_INTERSECTS(geometry,POLYGON((-79.0935 38.7886,-79.0290 38.7886,-79.0290 38.8351,-79.0935 38.8351,-79.0935 38.7886)))',
    "T_INTERSECTS(datetime, INTERVAL('2020-11-11T00:00:00Z', '2020-11-12T00:00:00Z'))",
  ];
}

function validatorJsonFilters(itemId: string, collection: string): unknown[] {
  const eq = (property: string, value: unknown) => ({ op: '=', args: [{ property }, value] });
  return [
    {
      op: 'and',
      args: [
        { op: '>', args: [{ property: 'eo:cloud_cover' }, 5] },
        { op: '<', args: [{ property: 'eo:cloud_cover' }, 10] },
      ],
    },
    {
      op: 'or',
      args: [
        { op: '>', args: [{ property: 'eo:cloud_cover' }, 50] },
        { op: '<', args: [{ property: 'eo:cloud_cover' }, 10] },
      ],
    },
    {
      op: 'or',
      args: [
        { op: '>', args: [{ property: 'eo:cloud_cover' }, 50] },
        { op: '<', args: [{ property: 'eo:cloud_cover' }, 10] },
        {
          op: 'and',
          args: [
            { op: 'isNull', args: [{ property: 'eo:cloud_cover' }] },
            { op: 'isNull', args: [{ property: 'eo:cloud_cover' }] },
          ],
        },
      ],
    },
    { op: 'and', args: [eq('id', itemId), eq('collection', collection)] },
    { op: 'or', args: [eq('id', itemId), eq('collection', collection)] },
    { op: 'not', args: [eq('id', itemId)] },
    ...OPS.map((op) => ({ op, args: [{ property: 'collection' }, collection] })),
    ...OPS.map((op) => ({ op, args: [{ property: 'eo:cloud_cover' }, 10] })),
    ...OPS.map((op) => ({ op, args: [{ property: 'datetime' }, { timestamp: '2021-04-08T04:39:23Z' }] })),
    { op: 'between', args: [{ property: 'eo:cloud_cover' }, [0, 50]] },
    { op: 'not', args: [{ op: 'between', args: [{ property: 'eo:cloud_cover' }, [0, 50]] }] },
    { op: 'like', args: [{ property: 'mission' }, 'sentinel%'] },
    { op: 'not', args: [{ op: 'like', args: [{ property: 'mission' }, 'sentinel%'] }] },
    { op: 's_intersects', args: [{ property: 'geometry' }, TORONTO_JSON] },
    {
      op: 'and',
      args: [
        eq('collection', collection),
        { op: '<=', args: [{ property: 'eo:cloud_cover' }, 10] },
        { op: '>=', args: [{ property: 'datetime' }, { timestamp: '2021-04-08T04:39:23Z' }] },
        { op: 's_intersects', args: [{ property: 'geometry' }, TORONTO_JSON] },
      ],
    },
    {
      op: 'or',
      args: [
        { op: 's_intersects', args: [{ property: 'geometry' }, box(-77.0824, 38.7886, -77.0189, 38.8351)] },
        { op: 's_intersects', args: [{ property: 'geometry' }, box(-79.0935, 38.7886, -79.029, 38.8351)] },
      ],
    },
    { op: 't_intersects', args: [{ property: 'datetime' }, { interval: ['2020-11-11T00:00:00Z', '2020-11-12T00:00:00Z'] }] },
    {
      op: 'and',
      args: [
        eq('collection', 'sentinel-2-l2a'),
        { op: 's_intersects', args: [{ property: 'geometry' }, box(-79.71679687499928, -19.89072302399748, 139.83398437500085, 63.665760337788015)] },
        { op: 't_intersects', args: [{ property: 'datetime' }, { interval: ['2015-06-27T00:00:00Z', '2022-09-29T23:59:59Z'] }] },
        { op: '<=', args: [{ property: 'eo:cloud_cover' }, 50] },
      ],
    },
  ];
}

const ids = (res: StacResponse): string[] => res.body.features.map((f: { id: string }) => f.id);

describe('STAC API: CQL2 filters', () => {
  let api: TestApi;
  let w: StacWorld;
  /** Dataset items by index 0–4: cloud cover 0, 5, 12, 55, none. */
  let d: string[];

  before(async () => {
    api = await startApi();
    w = await seedStacWorld(api);
    d = w.datasetItems.map((i) => i.id);
  });
  after(() => api.close());

  const text = (filter: string, extra: Record<string, string> = {}) =>
    get(api, `/api/search?${new URLSearchParams({ collections: w.datasets.id, limit: '100', 'filter-lang': 'cql2-text', filter, ...extra })}`);
  const json = (filter: unknown, extra: Record<string, unknown> = {}) =>
    post(api, '/api/search', { collections: [w.datasets.id], limit: 100, 'filter-lang': 'cql2-json', filter, ...extra });
  const same = (res: StacResponse, expected: string[], what: string) => {
    assert.equal(res.status, 200, `${what}: ${JSON.stringify(res.body)}`);
    assert.deepEqual(ids(res).sort(), [...expected].sort(), what);
  };

  it('advertises queryables from the landing page and from collections', async () => {
    const lp = (await get(api, '/api/')).body;
    assert.equal(linkOf(lp, 'http://www.opengis.net/def/rel/ogc/1.0/queryables').href, `${api.baseUrl}/api/queryables`);
    const c = (await get(api, `/api/collections/${w.datasets.id}`)).body;
    assert.ok(linkOf(c, 'http://www.opengis.net/def/rel/ogc/1.0/queryables'));
    const list = (await get(api, '/api/collections')).body;
    assert.equal(linkOf(list, 'http://www.opengis.net/def/rel/ogc/1.0/queryables').href, `${api.baseUrl}/api/collections-queryables`);
  });

  it('runs the validator’s CQL2 text filters with GET', async () => {
    const first = (await get(api, `/api/search?collections=${w.datasets.id}`)).body.features[0];
    for (const filter of validatorTextFilters(first.id, w.datasets.id)) {
      const res = await get(api, `/api/search?${new URLSearchParams({ limit: '1', 'filter-lang': 'cql2-text', filter })}`);
      assert.equal(res.status, 200, `${filter}: ${JSON.stringify(res.body)}`);
      assert.equal(res.headers.get('content-type')!.split(';')[0], 'application/geo+json');
    }
  });

  it('runs the validator’s CQL2 JSON filters with POST, and with GET', async () => {
    const first = (await get(api, `/api/search?collections=${w.datasets.id}`)).body.features[0];
    for (const filter of validatorJsonFilters(first.id, w.datasets.id)) {
      const res = await post(api, '/api/search', { limit: 1, 'filter-lang': 'cql2-json', filter });
      assert.equal(res.status, 200, `${JSON.stringify(filter)}: ${JSON.stringify(res.body)}`);
      const viaGet = await get(api, `/api/search?${new URLSearchParams({ limit: '1', 'filter-lang': 'cql2-json', filter: JSON.stringify(filter) })}`);
      assert.equal(viaGet.status, 200, `GET ${JSON.stringify(filter)}`);
    }
  });

  it('answers basic CQL2 correctly (comparisons, AND/OR/NOT, IS NULL) in text and JSON', async () => {
    same(await text('eo:cloud_cover < 10'), [d[0], d[1]], '< 10');
    same(await text('eo:cloud_cover >= 5 AND eo:cloud_cover < 10'), [d[1]], 'range');
    same(await text('eo:cloud_cover > 50 OR eo:cloud_cover < 10'), [d[0], d[1], d[3]], 'or');
    same(await text('eo:cloud_cover IS NULL'), [d[4]], 'is null');
    same(await text('NOT eo:cloud_cover IS NULL AND eo:cloud_cover <> 0'), [d[1], d[2], d[3]], 'not');
    same(await text(`id = '${d[2]}' OR id = '${d[3]}'`), [d[2], d[3]], 'ids');
    same(await text(`collection = '${w.datasets.id}' AND properties.gsd >= 12.5`), [d[3], d[4]], 'number property');
    same(await text("datetime >= TIMESTAMP('2021-04-08T04:39:23Z')"), [d[2], d[3], d[4]], 'timestamp');
    same(await text("datetime < '2021-04-08T04:39:23Z'"), [d[0], d[1]], 'quoted instant');
    same(await text("datetime = DATE('2021-04-09')"), [d[3]], 'date');
    same(await json({ op: '<', args: [{ property: 'eo:cloud_cover' }, 10] }), [d[0], d[1]], 'JSON <');
    same(await json({ op: 'isNull', args: [{ property: 'eo:cloud_cover' }] }), [d[4]], 'JSON isNull');
    same(await json(true), d, 'a literal TRUE');
  });

  it('answers advanced comparisons: LIKE, BETWEEN, IN, and CASEI', async () => {
    same(await text("mission LIKE 'sentinel%'"), [d[0], d[1], d[2]], 'like');
    same(await text("mission NOT LIKE 'sentinel%'"), [d[3], d[4]], 'not like');
    same(await text("platform LIKE 'sentinel-2_'"), [d[0], d[1], d[2]], 'like _');
    same(await text('eo:cloud_cover BETWEEN 0 AND 50'), [d[0], d[1], d[2]], 'between');
    same(await text('eo:cloud_cover NOT BETWEEN 0 AND 50'), [d[3]], 'not between (NULL is unknown)');
    same(await json({ op: 'between', args: [{ property: 'eo:cloud_cover' }, 5, 12] }), [d[1], d[2]], 'between, 3 args');
    same(await text("platform IN ('landsat-8', 'spot')"), [d[3], d[4]], 'in');
    same(await text(`id IN ('${d[0]}', 'not-a-uuid', '${d[4]}')`), [d[0], d[4]], 'id in');
    same(await text("CASEI(platform) = CASEI('SENTINEL-2A')"), [d[0], d[1], d[2]], 'casei');
    same(
      await json({
        op: 'like',
        args: [
          { op: 'casei', args: [{ property: 'title' }] },
          { op: 'casei', args: ['CLEAR%'] },
        ],
      }),
      [d[0]],
      'casei like',
    );
  });

  it('answers spatial functions on any geometry', async () => {
    same(await text('S_INTERSECTS(geometry, POINT(100.25 0.4))'), [d[0]], 'point');
    same(await text('S_INTERSECTS(geometry, BBOX(100.2, 0.2, 100.5, 0.6))'), [d[0], d[1], d[2]], 'bbox');
    same(await text('S_WITHIN(geometry, BBOX(100.19, 0.1, 100.51, 0.7))'), [d[0], d[1]], 'within');
    same(await text('S_CONTAINS(geometry, POINT(100.55 0.3))'), [d[2]], 'contains');
    same(await text('S_DISJOINT(geometry, BBOX(100.19, 0.1, 100.51, 0.7))'), [d[3], d[4]], 'disjoint');
    same(await text('S_CROSSES(geometry, LINESTRING(100.25 0, 100.25 1))'), [d[0]], 'crosses');
    same(await text('S_TOUCHES(geometry, POINT(100.2 0.2))'), [d[0]], 'touches');
    same(await text('S_OVERLAPS(geometry, POLYGON((100.25 0.25, 100.45 0.25, 100.45 0.5, 100.25 0.5, 100.25 0.25)))'), [d[0], d[1]], 'overlaps');
    same(await text('S_EQUALS(geometry, POLYGON((100.2 0.2, 100.3 0.2, 100.3 0.6, 100.2 0.6, 100.2 0.2)))'), [d[0]], 'equals');
    same(await text('S_INTERSECTS(geometry, MULTIPOINT((100.25 0.4), (100.85 0.4)))'), [d[0], d[4]], 'multipoint');
    same(
      await json({ op: 's_intersects', args: [{ property: 'geometry' }, { type: 'GeometryCollection', geometries: [{ type: 'Point', coordinates: [100.55, 0.3] }] }] }),
      [d[2]],
      'collection',
    );
    same(await json({ op: 's_intersects', args: [{ property: 'geometry' }, { bbox: [100.62, 0.1, 100.7, 0.7] }] }), [d[3]], 'JSON bbox');
  });

  it('answers temporal functions over instants and intervals', async () => {
    const walk = w.walkItems.map((i) => i.id);
    const pics = (filter: string) => get(api, `/api/search?${new URLSearchParams({ collections: w.walk.id, limit: '100', filter })}`);
    same(await pics("T_BEFORE(datetime, TIMESTAMP('2021-06-01T10:00:30Z'))"), walk.slice(0, 2), 'before');
    same(await pics("T_AFTER(datetime, TIMESTAMP('2021-06-01T10:04:40Z'))"), walk.slice(28), 'after');
    same(await pics("T_EQUALS(datetime, TIMESTAMP('2021-06-01T10:00:20Z'))"), [walk[1]], 'equals');
    same(await pics("T_DURING(datetime, INTERVAL('2021-06-01T10:00:10Z', '2021-06-01T10:00:40Z'))"), walk.slice(1, 3), 'during (open)');
    same(await pics("T_INTERSECTS(datetime, INTERVAL('2021-06-01T10:00:10Z', '2021-06-01T10:00:40Z'))"), walk.slice(0, 4), 'intersects (closed)');
    same(await pics("T_INTERSECTS(datetime, INTERVAL('..', '2021-06-01T10:00:20Z'))"), walk.slice(0, 2), 'open start');
    same(await pics("T_DISJOINT(datetime, INTERVAL('2021-06-01T10:00:15Z', '..'))"), walk.slice(0, 1), 'disjoint');
    same(await pics("T_MEETS(datetime, INTERVAL('2021-06-01T10:00:10Z', '..'))"), walk.slice(0, 1), 'meets');
    same(
      await pics("T_INTERSECTS(datetime, DATE('2021-06-01')) AND T_STARTS(datetime, INTERVAL('2021-06-01T10:00:10Z', '2021-06-02T00:00:00Z'))"),
      walk.slice(0, 1),
      'date and starts',
    );
    const none = await json({ op: 't_intersects', args: [{ property: 'datetime' }, { interval: ['2020-11-11T00:00:00Z', '2020-11-12T00:00:00Z'] }] });
    same(none, [], 'no dataset in November 2020');
  });

  it('answers array functions and property-property comparisons', async () => {
    same(await text("A_CONTAINS(instruments, ('oli'))"), [d[3], d[4]], 'contains');
    same(await text("A_OVERLAPS(instruments, ('msi', 'tirs'))"), d, 'overlaps');
    same(await text("A_CONTAINEDBY(instruments, ('msi', 'oli'))"), [d[0], d[1], d[2]], 'contained by');
    same(await text("A_EQUALS(instruments, ('oli', 'tirs'))"), [d[3], d[4]], 'equals');
    same(await text('gsd > eo:cloud_cover'), [d[0], d[1]], 'property-property');
  });

  it('applies filters to /collections/{id}/items, with the collection’s own queryables', async () => {
    const res = await get(api, `/api/collections/${w.datasets.id}/items?${new URLSearchParams({ filter: 'sightline:band_count = 3 AND eo:cloud_cover < 10' })}`);
    same(res, [d[0], d[1]], 'summaries queryable');
    const bad = await get(api, `/api/search?${new URLSearchParams({ filter: 'sightline:band_count = 3' })}`);
    assert.equal(bad.status, 400);
    assert.match(bad.body.message, /unknown queryable 'sightline:band_count'/);
    same(await text('sightline:band_count = 3'), d, 'known when the searched collection describes it');
    const sorted = await get(api, `/api/collections/${w.datasets.id}/items?sortby=-sightline:band_count,-gsd`);
    assert.deepEqual(ids(sorted), [...d].reverse());
  });

  it('filters and sorts collection search', async () => {
    const base = { q: w.tag, limit: '50' };
    const onlyDatasets = await get(api, `/api/collections?${new URLSearchParams({ ...base, filter: "sightline:kind = 'dataset'" })}`);
    assert.deepEqual(
      onlyDatasets.body.collections.map((c: { id: string }) => c.id),
      [w.datasets.id],
    );
    const byTitle = await get(api, `/api/collections?${new URLSearchParams({ ...base, sortby: 'title' })}`);
    const titles = byTitle.body.collections.map((c: { title: string }) => c.title);
    assert.deepEqual(
      titles,
      [...titles].sort((a: string, b: string) => (a < b ? -1 : 1)),
    );
    const inTime = await get(
      api,
      `/api/collections?${new URLSearchParams({ ...base, filter: "T_INTERSECTS(datetime, INTERVAL('2021-06-01T10:01:00Z', '2021-06-01T10:02:00Z'))" })}`,
    );
    assert.deepEqual(
      inTime.body.collections.map((c: { id: string }) => c.id),
      [w.walk.id],
    );
    const spatial = await get(api, `/api/collections?${new URLSearchParams({ ...base, bbox: '100,0,101,1' })}`);
    assert.deepEqual(
      spatial.body.collections.map((c: { id: string }) => c.id),
      [w.datasets.id],
    );
    const temporal = await get(api, `/api/collections?${new URLSearchParams({ ...base, datetime: '2019-01-01T00:00:00Z/2019-12-31T00:00:00Z' })}`);
    assert.deepEqual(
      temporal.body.collections.map((c: { id: string }) => c.id),
      [w.harvested.id],
    );
    const keyword = await get(api, `/api/collections?${new URLSearchParams({ q: `raster,${w.tag}`, filter: "A_CONTAINS(keywords, ('raster'))" })}`);
    assert.ok(keyword.body.collections.some((c: { id: string }) => c.id === w.datasets.id));
    const paged = await get(api, `/api/collections?${new URLSearchParams({ q: w.tag, limit: '1', sortby: '-title' })}`);
    assert.equal(paged.body.numberMatched, 3);
    assert.ok(linkOf(paged.body, 'next'));
    const fields = await get(api, `/api/collections?${new URLSearchParams({ q: w.tag, fields: 'id,-links' })}`, {}, true);
    assert.equal(fields.body.collections[0].links, undefined);
    assert.ok(fields.body.collections[0].extent);
  });

  it('reports CQL2 syntax errors with their position', async () => {
    const cases: Array<[string, number, RegExp]> = [
      ['eo:cloud_cover >', 17, /expected a property name or a value, found the end of the filter/],
      ["mission LIKE 'sentinel", 14, /unterminated string/],
      ['eo:cloud_cover = 1 eo:cloud_cover = 2', 20, /expected AND, OR or the end of the filter/],
      ['S_INTERSECTS(geometry, POINT(1 2)', 34, /expected '\)'/],
    ];
    for (const [filter, position, pattern] of cases) {
      const res = await get(api, `/api/search?${new URLSearchParams({ filter })}`);
      assert.equal(res.status, 400, filter);
      assert.match(res.body.message, pattern, filter);
      assert.match(res.body.message, new RegExp(`position ${position}`), filter);
      assert.equal(res.body.details.position, position);
      assert.equal(res.body.details.parameter, 'filter');
    }
  });

  it('refuses unknown queryables, type mismatches, malformed JSON and unsupported operators with 400', async () => {
    const cases: Array<[() => Promise<StacResponse>, RegExp]> = [
      [() => text('foo = 1'), /unknown queryable 'foo'/],
      [() => json({ op: '=', args: [{ property: 'properties.secret' }, 1] }), /unknown queryable 'properties\.secret'/],
      [() => text("eo:cloud_cover = 'cloudy'"), /cannot compare 'eo:cloud_cover' \(number\) with "cloudy" \(string\)/],
      [() => text("datetime > TIMESTAMP('2021-02-30T00:00:00Z')"), /day 30 does not exist/],
      [() => json({ op: 'frobnicate', args: [] }), /unknown or non-boolean operator 'frobnicate'/],
      [() => json({ op: '=', args: [{ property: 'gsd' }] }), /'=' takes 2 arguments, got 1/],
      [() => json({ op: 'and' }), /needs an 'args' array/],
      [() => json('not json', { 'filter-lang': 'cql2-json' }), /^filter: is not valid JSON/],
      [() => json({ op: '+', args: [1, 2] }), /arithmetic expressions are not supported/],
      [() => json({ op: 's_intersects', args: [{ property: 'geometry' }, { type: 'Point', coordinates: [500, 0] }] }), /longitude 500 is outside/],
      [() => json({ op: 't_intersects', args: [{ property: 'gsd' }, { interval: ['..', '..'] }] }), /'gsd' is not temporal/],
      [() => json({ op: '=', args: [{ property: 'geometry' }, 'POINT(0 0)'] }), /use the S_\* functions/],
      [() => json({ op: 'accenti', args: ['é'] }), /ACCENTI/],
    ];
    for (const [call, pattern] of cases) {
      const res = await call();
      assert.equal(res.status, 400, `${pattern}: ${JSON.stringify(res.body)}`);
      assert.match(res.body.message, pattern);
    }
    let deep: unknown = { op: '=', args: [{ property: 'gsd' }, 1] };
    for (let i = 0; i < 200; i++) deep = { op: 'not', args: [deep] };
    const tooDeep = await json(deep);
    assert.equal(tooDeep.status, 400);
    assert.match(tooDeep.body.message, /^filter nests deeper than 64 levels/);
    // Within the request limit, the compiler's own limit on boolean nesting still answers.
    deep = { op: '=', args: [{ property: 'gsd' }, 1] };
    for (let i = 0; i < 25; i++) deep = { op: 'not', args: [deep] };
    assert.equal((await json(deep)).status, 200, 'a filter 25 NOTs deep is fine');
  });
});
