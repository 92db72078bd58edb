import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { parseCql2Text } from './cql2-text.parser.js';
import { Cql2Error } from './cql2.types.js';

describe('CQL2 text parser', () => {
  it('parses comparisons with prefixed property names', () => {
    assert.deepEqual(parseCql2Text('eo:cloud_cover >= 5 AND eo:cloud_cover < 10'), {
      op: 'and',
      args: [
        { op: '>=', args: [{ property: 'eo:cloud_cover' }, 5] },
        { op: '<', args: [{ property: 'eo:cloud_cover' }, 10] },
      ],
    });
  });

  it('gives AND precedence over OR and honours parentheses', () => {
    assert.deepEqual(parseCql2Text('a = 1 OR b = 2 AND c = 3'), {
      op: 'or',
      args: [
        { op: '=', args: [{ property: 'a' }, 1] },
        {
          op: 'and',
          args: [
            { op: '=', args: [{ property: 'b' }, 2] },
            { op: '=', args: [{ property: 'c' }, 3] },
          ],
        },
      ],
    });
    assert.deepEqual(parseCql2Text('(a = 1 OR b = 2) AND c = 3'), {
      op: 'and',
      args: [
        {
          op: 'or',
          args: [
            { op: '=', args: [{ property: 'a' }, 1] },
            { op: '=', args: [{ property: 'b' }, 2] },
          ],
        },
        { op: '=', args: [{ property: 'c' }, 3] },
      ],
    });
  });

  it('parses strings with escaped quotes, negative numbers, booleans and quoted identifiers', () => {
    assert.deepEqual(parseCql2Text(`title = 'l''eau' and "odd name" <> -1.5e2 and flag = TRUE`), {
      op: 'and',
      args: [
        { op: '=', args: [{ property: 'title' }, "l'eau"] },
        { op: '<>', args: [{ property: 'odd name' }, -150] },
        { op: '=', args: [{ property: 'flag' }, true] },
      ],
    });
  });

  it('parses NOT, IS [NOT] NULL, [NOT] LIKE, [NOT] BETWEEN and [NOT] IN', () => {
    assert.deepEqual(parseCql2Text("NOT id='x'"), { op: 'not', args: [{ op: '=', args: [{ property: 'id' }, 'x'] }] });
    assert.deepEqual(parseCql2Text('a IS NULL'), { op: 'isNull', args: [{ property: 'a' }] });
    assert.deepEqual(parseCql2Text('a IS NOT NULL'), { op: 'not', args: [{ op: 'isNull', args: [{ property: 'a' }] }] });
    assert.deepEqual(parseCql2Text("mission NOT LIKE 'sentinel%'"), { op: 'not', args: [{ op: 'like', args: [{ property: 'mission' }, 'sentinel%'] }] });
    assert.deepEqual(parseCql2Text('eo:cloud_cover BETWEEN 0 AND 50'), { op: 'between', args: [{ property: 'eo:cloud_cover' }, 0, 50] });
    assert.deepEqual(parseCql2Text('x NOT BETWEEN 0 AND 50 AND y = 1'), {
      op: 'and',
      args: [
        { op: 'not', args: [{ op: 'between', args: [{ property: 'x' }, 0, 50] }] },
        { op: '=', args: [{ property: 'y' }, 1] },
      ],
    });
    assert.deepEqual(parseCql2Text("platform IN ('a', 'b')"), { op: 'in', args: [{ property: 'platform' }, ['a', 'b']] });
  });

  it('parses temporal literals and functions', () => {
    assert.deepEqual(parseCql2Text("datetime > TIMESTAMP('2021-04-08T04:39:23Z')"), { op: '>', args: [{ property: 'datetime' }, { timestamp: '2021-04-08T04:39:23Z' }] });
    assert.deepEqual(parseCql2Text("T_INTERSECTS(datetime, INTERVAL('2020-11-11T00:00:00Z', '..'))"), {
      op: 't_intersects',
      args: [{ property: 'datetime' }, { interval: ['2020-11-11T00:00:00Z', '..'] }],
    });
    assert.deepEqual(parseCql2Text("t_finishedBy(datetime, DATE('2020-01-01'))"), { op: 't_finishedBy', args: [{ property: 'datetime' }, { date: '2020-01-01' }] });
  });

  it('parses WKT geometries and BBOX into GeoJSON', () => {
    assert.deepEqual(parseCql2Text('S_INTERSECTS(geometry, POINT(1 2))'), { op: 's_intersects', args: [{ property: 'geometry' }, { type: 'Point', coordinates: [1, 2] }] });
    assert.deepEqual(parseCql2Text('s_within(geometry, POLYGON((0 0, 1 0, 1 1, 0 0)))'), {
      op: 's_within',
      args: [
        { property: 'geometry' },
        {
          type: 'Polygon',
          coordinates: [
            [
              [0, 0],
              [1, 0],
              [1, 1],
              [0, 0],
            ],
          ],
        },
      ],
    });
    assert.deepEqual(parseCql2Text('S_INTERSECTS(geometry, MULTIPOINT((1 2), (3 -4)))'), {
      op: 's_intersects',
      args: [
        { property: 'geometry' },
        {
          type: 'MultiPoint',
          coordinates: [
            [1, 2],
            [3, -4],
          ],
        },
      ],
    });
    assert.deepEqual(parseCql2Text('S_INTERSECTS(geometry, POINT Z (1 2 3))'), { op: 's_intersects', args: [{ property: 'geometry' }, { type: 'Point', coordinates: [1, 2, 3] }] });
    assert.deepEqual(parseCql2Text('S_INTERSECTS(geometry, BBOX(-10, 40.5, 10, 50))'), { op: 's_intersects', args: [{ property: 'geometry' }, { bbox: [-10, 40.5, 10, 50] }] });
    const gc = parseCql2Text('S_INTERSECTS(geometry, GEOMETRYCOLLECTION(POINT(1 2), LINESTRING(0 0, 1 1)))') as { args: unknown[] };
    assert.deepEqual(gc.args[1], {
      type: 'GeometryCollection',
      geometries: [
        { type: 'Point', coordinates: [1, 2] },
        {
          type: 'LineString',
          coordinates: [
            [0, 0],
            [1, 1],
          ],
        },
      ],
    });
  });

  it('parses the long validator polygon with an OR of two spatial predicates', () => {
    const node = parseCql2Text(
      'S_INTERSECTS(geometry,POLYGON((-77.0824 38.7886,-77.0189 38.7886,-77.0189 38.8351,-77.0824 38.8351,-77.0824 38.7886))) OR S_INTERSECTS(geometry,POLYGON((-79.0935 38.7886,-79.0290 38.7886,-79.0290 38.8351,-79.0935 38.8351,-79.0935 38.7886)))',
    ) as { op: string; args: unknown[] };
    assert.equal(node.op, 'or');
    assert.equal(node.args.length, 2);
  });

  it('parses array functions with array literals, and CASEI', () => {
    assert.deepEqual(parseCql2Text("A_CONTAINS(instruments, ('a', 'b'))"), { op: 'a_contains', args: [{ property: 'instruments' }, ['a', 'b']] });
    assert.deepEqual(parseCql2Text("CASEI(title) = CASEI('Rue')"), {
      op: '=',
      args: [
        { op: 'casei', args: [{ property: 'title' }] },
        { op: 'casei', args: ['Rue'] },
      ],
    });
  });

  it('reports syntax errors with their position', () => {
    const cases: Array<[string, number, RegExp]> = [
      ['eo:cloud_cover >', 17, /expected a property name or a value, found the end/],
      ['a = 1 AND', 10, /expected a property name or a value/],
      ["a = 'open", 5, /unterminated string/],
      ['a = 1 b = 2', 7, /expected AND, OR or the end/],
      ['a ! 1', 3, /unexpected character '!'/],
      ['(a = 1', 7, /expected '\)'/],
      ['a 1', 3, /expected a comparison operator/],
      ['S_INTERSECTS(geometry, POINT(1))', 31, /expected a number/],
      ['a != 1', 3, /'<>' means not equal/],
      ['', 1, /expected a filter expression/],
    ];
    for (const [text, position, message] of cases) {
      assert.throws(
        () => parseCql2Text(text),
        (e: unknown) => {
          assert.ok(e instanceof Cql2Error, `${text}: ${String(e)}`);
          assert.equal(e.position, position, `${text}: ${e.message}`);
          assert.match(e.message, message, text);
          assert.match(e.message, new RegExp(`position ${position}`));
          return true;
        },
      );
    }
  });
});
