import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { parseDatetime, parseBbox } from './datasets.service.js';
import { parseRange } from './http-range.js';

describe('parseRange', () => {
  it('resolves single byte ranges against the size', () => {
    assert.deepEqual(parseRange('bytes=0-99', 1000), { kind: 'range', start: 0, end: 99 });
    assert.deepEqual(parseRange('bytes=900-', 1000), { kind: 'range', start: 900, end: 999 });
    assert.deepEqual(parseRange('bytes=-100', 1000), { kind: 'range', start: 900, end: 999 });
    assert.deepEqual(parseRange('bytes=990-5000', 1000), { kind: 'range', start: 990, end: 999 }, 'end clamped');
    assert.deepEqual(parseRange('bytes=-5000', 1000), { kind: 'range', start: 0, end: 999 });
  });

  it('ignores what it does not honour and refuses what cannot be satisfied', () => {
    assert.deepEqual(parseRange(undefined, 10), { kind: 'none' });
    assert.deepEqual(parseRange('bytes=0-1,5-6', 10), { kind: 'none' }, 'several ranges: the whole file');
    assert.deepEqual(parseRange('items=0-1', 10), { kind: 'none' });
    assert.deepEqual(parseRange('bytes=5-2', 10), { kind: 'none' });
    assert.deepEqual(parseRange('bytes=10-', 10), { kind: 'unsatisfiable' });
    assert.deepEqual(parseRange('bytes=-0', 10), { kind: 'unsatisfiable' });
  });
});

describe('list filters', () => {
  it('splits a bbox across the antimeridian and validates it', () => {
    assert.deepEqual(parseBbox('-10,40,10,50'), [[-10, 40, 10, 50]]);
    assert.deepEqual(parseBbox('170,-10,-170,10'), [[170, -10, 180, 10], [-180, -10, -170, 10]]);
    assert.throws(() => parseBbox('0,50,1,40'), /latitudes/);
    assert.throws(() => parseBbox('0,0,190,1'), /longitudes/);
  });

  it('reads RFC 3339 instants and open intervals', () => {
    const t = new Date('2020-05-01T00:00:00Z');
    assert.deepEqual(parseDatetime('2020-05-01T00:00:00Z'), { start: t, end: t });
    assert.deepEqual(parseDatetime('2020-05-01T00:00:00Z/..'), { start: t, end: null });
    assert.deepEqual(parseDatetime('../2020-05-01T00:00:00Z'), { start: null, end: t });
    for (const bad of ['yesterday', '../..', '2020-05-02T00:00:00Z/2020-05-01T00:00:00Z', '2020-13-45T00:00:00Z']) assert.throws(() => parseDatetime(bad), /datetime/, bad);
  });
});
