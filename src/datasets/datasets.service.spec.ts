import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { parseDatetime, parseBbox } from './datasets.service.js';

describe('list filters', () => {
  it('splits a bbox across the antimeridian and validates it', () => {
    assert.deepEqual(parseBbox('-10,40,10,50'), [[-10, 40, 10, 50]]);
    assert.deepEqual(parseBbox('170,-10,-170,10'), [
      [170, -10, 180, 10],
      [-180, -10, -170, 10],
    ]);
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
