import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ITEM_QUERYABLES } from '../queryables.js';
import { SqlParams } from '../../common/sql-params.js';
import { compileCql2 } from './cql2.compiler.js';
import { parseCql2Text } from './cql2-text.parser.js';
import { Cql2Error, type Cql2Node } from './cql2.types.js';

const lookup = (name: string) => ITEM_QUERYABLES.get(name);

function compile(node: Cql2Node) {
  const params = new SqlParams();
  const sql = compileCql2(node, lookup, params);
  return { sql, params: params.values };
}

describe('CQL2 compiler', () => {
  it('binds every literal as a parameter', () => {
    const { sql, params } = compile(parseCql2Text("mission = 'x''; DROP TABLE item; --' AND eo:cloud_cover < 10"));
    assert.doesNotMatch(sql, /DROP/);
    assert.deepEqual(params, ["x'; DROP TABLE item; --", 10]);
    assert.match(sql, /\$1::text/);
    assert.match(sql, /\$2::double precision/);
  });

  it('uses the uuid primary key for id equality and matches nothing for malformed ids', () => {
    const id = '0b6f7d6e-6c55-4a8e-9d1a-2f1f2b6b9d10';
    assert.deepEqual(compile({ op: '=', args: [{ property: 'id' }, id] }), { sql: '(i.id = $1::uuid)', params: [id] });
    assert.deepEqual(compile({ op: '=', args: [{ property: 'id' }, 'not-a-uuid'] }), { sql: 'FALSE', params: [] });
    assert.deepEqual(compile({ op: 'in', args: [{ property: 'collection' }, [id, 'nope']] }), { sql: '(i.collection_id = ANY($1::uuid[]))', params: [[id]] });
  });

  it('coerces quoted instants compared with timestamps', () => {
    const { sql, params } = compile(parseCql2Text("datetime >= '2021-04-08T04:39:23z'"));
    assert.equal(sql, '(i.datetime >= $1::timestamptz)');
    assert.deepEqual(params, ['2021-04-08T04:39:23Z']);
  });

  it('refuses unknown queryables, naming them', () => {
    assert.throws(
      () => compile(parseCql2Text('foo:bar = 1')),
      (e: unknown) => e instanceof Cql2Error && /unknown queryable 'foo:bar'/.test(e.message),
    );
  });

  it('refuses type mismatches and unsupported classes with a message', () => {
    assert.throws(() => compile(parseCql2Text("eo:cloud_cover = 'lots'")), /cannot compare 'eo:cloud_cover' \(number\) with "lots" \(string\)/);
    assert.throws(() => compile(parseCql2Text("datetime = TIMESTAMP('2021-13-01T00:00:00Z')")), /month 13/);
    assert.throws(() => compile({ op: '+', args: [1, 2] }), /arithmetic/);
    assert.throws(() => compile({ op: 'accenti', args: ['a'] }), /ACCENTI/);
    assert.throws(
      () =>
        compile({
          op: 's_intersects',
          args: [
            { property: 'geometry' },
            {
              type: 'Polygon',
              coordinates: [
                [
                  [0, 0],
                  [1, 1],
                ],
              ],
            },
          ],
        }),
      /at least 4 positions/,
    );
    assert.throws(() => compile({ op: 'like', args: [{ property: 'eo:cloud_cover' }, 'a%'] }), /LIKE compares text/);
    assert.throws(() => compile({ op: 'a_contains', args: [{ property: 'title' }, ['a']] }), /'title' is not an array/);
    assert.throws(() => compile({ op: '=', args: [{ property: 'geometry' }, 1] }), /use the S_\* functions/);
  });

  it('accepts both BETWEEN shapes', () => {
    const a = compile({ op: 'between', args: [{ property: 'eo:cloud_cover' }, 0, 50] });
    const b = compile({ op: 'between', args: [{ property: 'eo:cloud_cover' }, [0, 50]] });
    assert.deepEqual(a, b);
    assert.match(a.sql, /BETWEEN \$1::double precision AND \$2::double precision/);
  });

  it('compiles temporal relations over intervals with open ends', () => {
    const { sql, params } = compile(parseCql2Text("T_INTERSECTS(datetime, INTERVAL('2020-11-11T00:00:00Z', '..'))"));
    assert.equal(sql, "(i.datetime <= 'infinity'::timestamptz AND i.datetime >= $1::timestamptz)");
    assert.deepEqual(params, ['2020-11-11T00:00:00Z']);
    assert.match(compile(parseCql2Text("T_BEFORE(datetime, DATE('2020-01-01'))")).sql, /i\.datetime < \(\$1::date::timestamp AT TIME ZONE 'UTC'\)/);
  });

  it('compiles spatial functions on GeoJSON and BBOX literals', () => {
    const { sql, params } = compile(parseCql2Text('S_WITHIN(geometry, BBOX(0, 0, 1, 1)) OR S_CONTAINS(geometry, POINT(1 2))'));
    assert.match(sql, /ST_Within\(i\.geom, ST_MakeEnvelope\(\$1::double precision/);
    assert.match(sql, /ST_Contains\(i\.geom, ST_SetSRID\(ST_GeomFromGeoJSON\(\$5::text\), 4326\)\)/);
    assert.equal(params[4], JSON.stringify({ type: 'Point', coordinates: [1, 2] }));
  });

  it('compiles array functions with jsonb containment', () => {
    assert.deepEqual(compile({ op: 'a_contains', args: [{ property: 'instruments' }, ['cam']] }), {
      sql: "((i.properties->'instruments') @> $1::jsonb)",
      params: ['["cam"]'],
    });
  });

  it('strips the properties. prefix of names', () => {
    assert.equal(compile(parseCql2Text('properties.view:azimuth > 90')).sql.includes("i.properties->'view:azimuth'"), true);
  });
});
