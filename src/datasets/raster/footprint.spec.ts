import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import proj4 from 'proj4';
import { densifiedOutline, footprintBboxes, footprintFromOutline, type LonLat, stacBbox } from './footprint.js';

type Ring = LonLat[];

function polygons(g: ReturnType<typeof footprintFromOutline>): Ring[] {
  assert.ok(g);
  if (g.type === 'Polygon') return [(g.coordinates as Ring[])[0]!];
  assert.equal(g.type, 'MultiPolygon');
  return (g.coordinates as Ring[][]).map((p) => p[0]!);
}

/** Ray casting, enough for these convex-ish test shapes. */
function contains(ring: Ring, [x, y]: LonLat): boolean {
  let inside = false;
  for (let i = 0, j = ring.length - 1; i < ring.length; j = i++) {
    const [xi, yi] = ring[i]!;
    const [xj, yj] = ring[j]!;
    if (yi > y !== yj > y && x < ((xj - xi) * (y - yi)) / (yj - yi) + xi) inside = !inside;
  }
  return inside;
}

describe('footprintFromOutline', () => {
  it('keeps a simple box as one closed counter-clockwise polygon', () => {
    const outline = densifiedOutline(10, 10, 4).map(([c, r]): LonLat => [10 + c, 50 - r]);
    const [ring] = polygons(footprintFromOutline(outline));
    assert.deepEqual(ring![0], ring![ring!.length - 1], 'closed');
    let area = 0;
    for (let i = 0; i < ring!.length - 1; i++) area += ring![i]![0] * ring![i + 1]![1] - ring![i + 1]![0] * ring![i]![1];
    assert.ok(area > 0, 'counter-clockwise (RFC 7946)');
    assert.deepEqual(footprintBboxes(footprintFromOutline(outline)), [[10, 40, 20, 50]]);
  });

  it('splits a raster crossing the antimeridian into two polygons that meet at ±180', () => {
    // A UTM zone 60N raster from 178°E to about 176°W at 63°N.
    const utm60 = proj4('+proj=utm +zone=60 +datum=WGS84 +units=m +no_defs', 'EPSG:4326');
    const [x0, y0] = [550_000, 7_000_000];
    const outline = densifiedOutline(600, 400).map(([c, r]) => utm60.forward([x0 + c * 500, y0 - r * 500]) as LonLat);
    const g = footprintFromOutline(outline);
    const parts = polygons(g);
    assert.equal(g!.type, 'MultiPolygon');
    assert.equal(parts.length, 2);
    const boxes = footprintBboxes(g);
    const west = boxes.find((b) => b[2] === 180)!;
    const east = boxes.find((b) => b[0] === -180)!;
    assert.ok(west && east, `one part ends at 180, the other starts at -180: ${JSON.stringify(boxes)}`);
    for (const p of parts) for (const [lon] of p) assert.ok(lon >= -180 && lon <= 180);
    // Every corner lies in one of the parts (nudged inwards).
    for (const [c, r] of [
      [1, 1],
      [599, 1],
      [599, 399],
      [1, 399],
    ] as const) {
      const [lon, lat] = utm60.forward([x0 + c * 500, y0 - r * 500]) as LonLat;
      const normal: LonLat = [((lon + 540) % 360) - 180, lat];
      assert.ok(
        parts.some((p) => contains(p, normal)),
        `corner ${c},${r} (${normal}) inside`,
      );
    }
    const bbox = stacBbox(boxes)!;
    assert.ok(bbox[0] > bbox[2], 'STAC bbox west > east across the antimeridian');
  });

  it('closes a ring around the North Pole through the pole', () => {
    const outline: LonLat[] = [];
    for (let lon = -180; lon < 180; lon += 10) outline.push([lon, 70]);
    const parts = polygons(footprintFromOutline(outline));
    const all = parts.flat();
    assert.ok(
      all.some(([, lat]) => lat === 90),
      'reaches the pole',
    );
    assert.deepEqual(stacBbox(footprintBboxes(footprintFromOutline(outline))), [-180, 70, 180, 90]);
  });

  it('drops points that did not project and returns null when too few are left', () => {
    assert.equal(
      footprintFromOutline([
        [NaN, NaN],
        [Infinity, 0],
        [1, 1],
      ]),
      null,
    );
  });
});
