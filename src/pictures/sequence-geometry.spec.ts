import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { bearing, haversine } from './geo.js';
import { pathGeometry, pathHeadings } from './sequence-geometry.js';

const north = (m: number, east = 0) => ({ lon: 2.35 + east / 73_000, lat: 48.85 + m / 111_195, heading: null as number | null });

describe('geo', () => {
  it('measures distances and bearings', () => {
    assert.ok(Math.abs(haversine({ lon: 0, lat: 0 }, { lon: 0, lat: 1 }) - 111_195) < 1);
    assert.ok(Math.abs(bearing({ lon: 0, lat: 0 }, { lon: 1, lat: 0 })! - 90) < 1e-9);
    assert.equal(bearing({ lon: 1, lat: 1 }, { lon: 1, lat: 1 }), null);
  });
});

describe('pathHeadings', () => {
  it('looks towards the next picture, the last one along the previous step, turned by the relative heading', () => {
    const pts = [north(0), north(10), north(10, 10)];
    const h = pathHeadings(pts).map((x) => Math.round(x.heading!));
    assert.deepEqual(h, [0, 90, 90]);
    assert.deepEqual(
      pathHeadings(pts, 90).map((x) => Math.round(x.heading!)),
      [90, 180, 180],
    );
    assert.deepEqual(
      pathHeadings(pts, -90).map((x) => Math.round(x.heading!)),
      [270, 0, 0],
    );
  });

  it('keeps recorded headings, skips pictures at the same place, gives none to a lone picture', () => {
    const pts = [{ ...north(0), heading: 123 }, north(0), north(0), north(10)];
    const h = pathHeadings(pts);
    assert.deepEqual(h[0], { heading: 123, source: 'exif' });
    assert.equal(Math.round(h[1]!.heading!), 0);
    assert.equal(h[1]!.source, 'computed');
    assert.deepEqual(pathHeadings([north(0)]), [{ heading: null, source: null }]);
  });
});

describe('pathGeometry', () => {
  it('breaks the line where neighbours are more than 75 m apart, keeping lone pictures', () => {
    const g = pathGeometry([north(0), north(50), north(100), north(300), north(500), north(550)])!;
    assert.equal(g.type, 'MultiLineString');
    assert.deepEqual(
      g.coordinates.map((p) => p.length),
      [3, 2, 2],
    );
    assert.deepEqual(g.coordinates[1]![0], g.coordinates[1]![1], 'a lone picture is a zero-length part');
    assert.equal(pathGeometry([]), null);
  });
});
