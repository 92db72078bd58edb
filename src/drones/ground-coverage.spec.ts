import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { computeGroundCoverage, sensorForImage, type GroundCoverage, type GroundCoverageInput, type GroundCoverageResult } from './ground-coverage.js';

/** DJI Mavic 3 Enterprise wide camera, 100 m above the take-off point. */
const mavic3e = (over: Partial<GroundCoverageInput> = {}): GroundCoverageInput => ({
  lon: 8,
  lat: 47,
  height: 100,
  yaw: 0,
  pitch: -90,
  roll: 0,
  focalLength: 12.29,
  sensorWidth: 17.3,
  sensorHeight: 13.0,
  imageWidth: 5280,
  imageHeight: 3956,
  ...over,
});

const coverage = (r: GroundCoverageResult): GroundCoverage => {
  if (!r.ok) assert.fail(`expected a footprint, got: ${r.reason}`);
  return r.coverage;
};
const refusal = (r: GroundCoverageResult): string => {
  if (r.ok) assert.fail('expected no footprint');
  return r.reason;
};

/** Asserts corners (metres east, north; top-left, top-right, bottom-right, bottom-left) within 0.5 m. */
function assertCorners(c: GroundCoverage, expected: ([number, number] | null)[]) {
  expected.forEach((e, i) => {
    if (!e) return;
    const { east, north, corner } = c.corners[i]!;
    assert.ok(Math.hypot(east - e[0], north - e[1]) < 0.5, `${corner}: (${east.toFixed(2)}, ${north.toFixed(2)}) is not (${e[0]}, ${e[1]})`);
  });
}

/** Twice the signed area of a ring (positive: counter-clockwise). */
const ringArea = (ring: number[][]) => ring.slice(0, -1).reduce((s, p, i) => s + p[0]! * ring[i + 1]![1]! - ring[i + 1]![0]! * p[1]!, 0);
const horizontal = (p: { east: number; north: number }) => Math.hypot(p.east, p.north);

describe('computeGroundCoverage', () => {
  it('casts a nadir shot to a rectangle whose top edge points along the yaw', () => {
    const north = coverage(computeGroundCoverage(mavic3e()));
    assertCorners(north, [
      [-70.38, 52.89],
      [70.38, 52.89],
      [70.38, -52.89],
      [-70.38, -52.89],
    ]);
    assert.equal(north.truncated, false);
    assert.equal(north.offNadir, 0);
    assert.ok(Math.hypot(north.center!.east, north.center!.north) < 1e-6, 'the image centre is below the camera');

    const east = coverage(computeGroundCoverage(mavic3e({ yaw: 90 })));
    assertCorners(east, [
      [52.89, 70.38],
      [52.89, -70.38],
      [-52.89, -70.38],
      [-52.89, 70.38],
    ]);
    assert.equal(east.azimuth, 90);
  });

  it('places the corners in lon/lat on the WGS 84 ellipsoid, in a closed counter-clockwise ring', () => {
    const c = coverage(computeGroundCoverage(mavic3e()));
    // Top-left corner at 47° N 8° E: lon 7.9990730, lat 47.0004751, compared in metres (1° of latitude
    // is 111.2 km there, 1° of longitude 75.9 km).
    const tl = c.corners[0];
    assert.ok(Math.hypot((tl.lon - 7.999073) * 75_900, (tl.lat - 47.0004751) * 111_200) < 0.5, `top-left at ${tl.lon}, ${tl.lat}`);
    assert.equal(c.polygon.type, 'Polygon');
    const ring = c.polygon.coordinates[0] as number[][];
    assert.equal(ring.length, 5);
    assert.deepEqual(ring[0], ring[4]);
    assert.ok(ringArea(ring) > 0, 'counter-clockwise');
    for (const corner of c.corners) assert.ok(ring.some(([x, y]) => x === corner.lon && y === corner.lat));
    assert.deepEqual(c.camera, { lon: 8, lat: 47 });
  });

  it('casts oblique shots to trapezoids, near edge at the bottom of the image', () => {
    const ahead = coverage(computeGroundCoverage(mavic3e({ pitch: -45 })));
    assertCorners(ahead, [
      [-211.28, 324.53],
      [211.28, 324.53],
      [65.1, 30.81],
      [-65.1, 30.81],
    ]);
    assert.equal(ahead.truncated, false);
    assert.ok(Math.abs(ahead.offNadir - 45) < 1e-9);
    assert.ok(Math.abs(ahead.center!.north - 100) < 1e-6, 'the optical axis meets the ground 100 m ahead at 45°');

    const turned = coverage(computeGroundCoverage(mavic3e({ yaw: 30, pitch: -45 })));
    assertCorners(turned, [
      [-20.71, 386.69],
      [345.23, 175.41],
      [71.79, -5.87],
      [-40.97, 59.24],
    ]);
    assert.ok(ringArea(turned.polygon.coordinates[0] as number[][]) > 0);
  });

  it('clips the corners above the horizon at the maximum range along their own azimuth and says so', () => {
    const c = coverage(computeGroundCoverage(mavic3e({ pitch: -20 })));
    assertCorners(c, [null, null, [83.89, 90.44], [-83.89, 90.44]]);
    assert.equal(c.truncated, true);
    assert.deepEqual(
      c.corners.map((x) => x.clipped),
      [true, true, false, false],
    );
    assert.equal(c.maxRange, 1000, 'default: 1000 m, or ten times the height when higher');
    for (const corner of c.corners.slice(0, 2)) {
      assert.ok(Math.abs(horizontal(corner) - 1000) < 1e-6);
      assert.ok(corner.north > 0, 'never behind the camera');
    }
    // The clipped top-left corner lies along the top-left ray: image x/f = −8.65/12.29, seen 20° below the horizon + half the vertical field.
    const tl = c.corners[0];
    const p = (-20 * Math.PI) / 180;
    assert.ok(Math.abs(tl.east / tl.north - -8.65 / (12.29 * Math.cos(p) - 6.5 * Math.sin(p))) < 1e-9);
  });

  it('clips corners that meet the ground beyond the maximum range', () => {
    const full = coverage(computeGroundCoverage(mavic3e({ pitch: -45 })));
    const near = coverage(computeGroundCoverage(mavic3e({ pitch: -45 }), { maxRange: 300 }));
    assert.equal(near.truncated, true);
    assert.equal(near.maxRange, 300);
    for (let i = 0; i < 2; i++) {
      assert.ok(near.corners[i]!.clipped);
      assert.ok(Math.abs(horizontal(near.corners[i]!) - 300) < 1e-6);
      const azimuth = (p: { east: number; north: number }) => Math.atan2(p.east, p.north);
      assert.ok(Math.abs(azimuth(near.corners[i]!) - azimuth(full.corners[i]!)) < 1e-9, 'same azimuth as the unclipped corner');
    }
    assert.deepEqual(near.corners.slice(2), full.corners.slice(2));
    // At nadir with a range shorter than the corners' 88 m, every corner is clipped, behind the camera too.
    const nadir = coverage(computeGroundCoverage(mavic3e(), { maxRange: 50 }));
    assert.equal(nadir.truncated, true);
    assertCorners(
      nadir,
      [
        [-70.38, 52.89],
        [70.38, 52.89],
        [70.38, -52.89],
        [-70.38, -52.89],
      ].map(([e, n]) => [(e! * 50) / Math.hypot(e!, n!), (n! * 50) / Math.hypot(e!, n!)] as [number, number]),
    );
    // A high flight gets a maximum range of ten times its height by default.
    assert.equal(coverage(computeGroundCoverage(mavic3e({ height: 500, pitch: -45 }))).maxRange, 5000);
  });

  it('looks at the horizon or above it: truncated while the bottom of the image sees the ground, refused when it does not', () => {
    const horizon = coverage(computeGroundCoverage(mavic3e({ pitch: 0 })));
    assert.equal(horizon.truncated, true);
    assert.deepEqual(
      horizon.corners.map((x) => x.clipped),
      [true, true, false, false],
    );
    assert.equal(horizon.center, null, 'the optical axis never meets the ground');
    assert.equal(horizon.offNadir, 90);
    // Bottom edge 27.9° below the horizon (atan 6.5/12.29): 100 m down is 189 m ahead.
    assert.ok(Math.abs(horizon.corners[2].north - (100 * 12.29) / 6.5) < 0.5);

    const up = coverage(computeGroundCoverage(mavic3e({ pitch: 20 })));
    assert.equal(up.truncated, true);
    assert.ok(up.corners.every((c) => c.north > 0));

    assert.match(refusal(computeGroundCoverage(mavic3e({ pitch: 45 }))), /no ground.*above the horizon/);
    assert.match(refusal(computeGroundCoverage(mavic3e({ pitch: 90 }))), /above the horizon/);
    // A narrow view, low and nearly level: every corner meets the ground, but further than 10 m (17 to 35 m).
    const grazing = computeGroundCoverage(mavic3e({ pitch: -5, height: 2, sensorWidth: 1, sensorHeight: 0.75 }), { maxRange: 10 });
    assert.match(refusal(grazing), /no image corner, nor the image centre, meets the ground within the maximum range of 10 m/);
    // A lens so wide (105° vertical field) that, 45° up, the top of the image looks back over the camera.
    assert.match(refusal(computeGroundCoverage(mavic3e({ pitch: 45, focalLength: 5, height: 10 }))), /top-left corner looks up past the zenith/);
  });

  it('turns the footprint about the optical axis with the roll, right edge down for a positive roll', () => {
    // At nadir a roll is a turn about the vertical, like a yaw.
    const rolled = coverage(computeGroundCoverage(mavic3e({ roll: 10 })));
    const yawed = coverage(computeGroundCoverage(mavic3e({ yaw: 10 })));
    rolled.corners.forEach((c, i) => assert.ok(Math.hypot(c.east - yawed.corners[i]!.east, c.north - yawed.corners[i]!.north) < 1e-6));
    const upsideDown = coverage(computeGroundCoverage(mavic3e({ roll: 180 })));
    assertCorners(upsideDown, [
      [70.38, -52.89],
      [-70.38, -52.89],
      [-70.38, 52.89],
      [70.38, 52.89],
    ]);

    // Oblique: the lowered right edge looks nearer, and opposite rolls mirror each other.
    const right = coverage(computeGroundCoverage(mavic3e({ pitch: -45, roll: 10 })));
    const left = coverage(computeGroundCoverage(mavic3e({ pitch: -45, roll: -10 })));
    assert.ok(horizontal(right.corners[1]) < horizontal(right.corners[0]));
    const mirror = [1, 0, 3, 2];
    right.corners.forEach((c, i) => {
      const m = left.corners[mirror[i]!]!;
      assert.ok(Math.abs(c.east + m.east) < 1e-6 && Math.abs(c.north - m.north) < 1e-6, `${c.corner} mirrors ${m.corner}`);
    });
    assert.ok(Math.abs(right.offNadir - 45) < 1e-9, 'the roll does not move the optical axis');
  });

  it('turns the sensor on its side for a portrait image', () => {
    const c = coverage(computeGroundCoverage(mavic3e({ imageWidth: 3956, imageHeight: 5280 })));
    assertCorners(c, [
      [-52.89, 70.38],
      [52.89, 70.38],
      [52.89, -70.38],
      [-52.89, -70.38],
    ]);
    assert.equal(c.sensor.width, 13);
    assert.equal(c.sensor.height, 17.3);
  });

  it('takes an image of another aspect ratio as a crop of the sensor, and the sensor from the 35 mm equivalent when not known', () => {
    // A 16:9 photo on a 4:3 sensor keeps the width.
    const crop = sensorForImage({ sensorWidth: 6.17, sensorHeight: 4.55, focalLength: 3.61, imageWidth: 4000, imageHeight: 2250 })!;
    assert.equal(crop.width, 6.17);
    assert.ok(Math.abs(crop.height - (6.17 * 9) / 16) < 1e-9);
    // A square photo keeps the height.
    const square = sensorForImage({ sensorWidth: 6.17, sensorHeight: 4.55, focalLength: 3.61, imageWidth: 3000, imageHeight: 3000 })!;
    assert.deepEqual([square.width, square.height], [4.55, 4.55]);

    // 24 mm equivalent of a 12.29 mm lens: diagonal 43.27 × 12.29 / 24 = 22.16 mm, 4:3 → 17.73 × 13.30 mm.
    const c = coverage(computeGroundCoverage(mavic3e({ sensorWidth: undefined, sensorHeight: undefined, focalLength35mm: 24, imageWidth: 4000, imageHeight: 3000 })));
    assert.equal(c.sensor.source, 'focal-length-35mm');
    const diagonal = (43.27 * 12.29) / 24;
    assert.ok(Math.abs(c.sensor.width - diagonal * 0.8) < 1e-9 && Math.abs(c.sensor.height - diagonal * 0.6) < 1e-9);
    assert.ok(Math.abs(c.corners[1].east - (100 * diagonal * 0.4) / 12.29) < 1e-6);

    assert.match(refusal(computeGroundCoverage(mavic3e({ sensorWidth: null, sensorHeight: null }))), /sensor size unknown/);
  });

  it('gives the ground sampling distance near nadir only', () => {
    // 100 m × 3.28 µm pixel / 12.29 mm = 2.67 cm per pixel.
    const nadir = coverage(computeGroundCoverage(mavic3e()));
    assert.ok(Math.abs(nadir.gsd! - (100 * (17.3 / 5280) * 100) / 12.29) < 1e-9);
    const tilted = coverage(computeGroundCoverage(mavic3e({ pitch: -85 })));
    assert.ok(Math.abs(tilted.gsd! - nadir.gsd! / Math.cos((5 * Math.PI) / 180)) < 1e-9, 'slant distance along the axis');
    assert.equal(coverage(computeGroundCoverage(mavic3e({ pitch: -75 }))).gsd, null);
    assert.ok(coverage(computeGroundCoverage(mavic3e({ pitch: -75 }), { gsdMaxOffNadir: 20 })).gsd! > 0);
  });

  it('reads the yaw modulo 360', () => {
    const a = coverage(computeGroundCoverage(mavic3e({ yaw: 30, pitch: -45 })));
    for (const yaw of [390, -330]) {
      const b = coverage(computeGroundCoverage(mavic3e({ yaw, pitch: -45 })));
      a.corners.forEach((c, i) => assert.ok(Math.hypot(c.east - b.corners[i]!.east, c.north - b.corners[i]!.north) < 1e-6));
      assert.ok(Math.abs(b.azimuth - 30) < 1e-9);
    }
    assert.equal(coverage(computeGroundCoverage(mavic3e({ yaw: -140 }))).azimuth, 220);
  });

  it('rejects missing, NaN and out-of-range inputs, naming each', () => {
    const without = { ...mavic3e() } as Partial<GroundCoverageInput>;
    delete without.pitch;
    assert.match(refusal(computeGroundCoverage(without as GroundCoverageInput)), /pitch must be a pitch in −90…90 degrees \(got absent\)/);
    assert.match(refusal(computeGroundCoverage(mavic3e({ height: NaN }))), /height must be .* \(got NaN\)/);
    assert.match(refusal(computeGroundCoverage(mavic3e({ height: 0 }))), /height must be .*above 0 \(got 0\)/);
    assert.match(refusal(computeGroundCoverage(mavic3e({ height: -5 }))), /height/);
    assert.match(refusal(computeGroundCoverage(mavic3e({ lat: 91 }))), /lat must be a latitude/);
    assert.match(refusal(computeGroundCoverage(mavic3e({ yaw: Infinity }))), /yaw/);
    assert.match(refusal(computeGroundCoverage(mavic3e({ pitch: -120 }))), /pitch/);
    assert.match(refusal(computeGroundCoverage(mavic3e({ imageWidth: 0 }))), /imageWidth/);
    assert.match(refusal(computeGroundCoverage(mavic3e({ focalLength: '12' as unknown as number }))), /focalLength .*got a string/);
    const both = refusal(computeGroundCoverage(mavic3e({ lon: NaN, roll: NaN })));
    assert.match(both, /lon must/);
    assert.match(both, /roll must/);
    assert.match(refusal(computeGroundCoverage(mavic3e(), { maxRange: 0 })), /maxRange/);
  });

  it('cuts a footprint across the antimeridian in two', () => {
    for (const lon of [179.9995, -179.9995, 180, -180]) {
      const c = coverage(computeGroundCoverage(mavic3e({ lon, lat: 0 })));
      assert.equal(c.polygon.type, 'MultiPolygon', `at ${lon}`);
      const parts = c.polygon.coordinates as number[][][][];
      assert.equal(parts.length, 2);
      for (const [ring] of parts) {
        assert.deepEqual(ring![0], ring![ring!.length - 1]);
        assert.ok(ring!.every(([x, y]) => x! >= -180 && x! <= 180 && Number.isFinite(y)));
        assert.ok(ringArea(ring!) > 0, 'counter-clockwise');
        assert.ok(
          ring!.some(([x]) => Math.abs(x!) === 180),
          'each part ends at the cut',
        );
      }
      for (const corner of c.corners) assert.ok(corner.lon >= -180 && corner.lon <= 180);
    }
    // Away from it, one polygon.
    assert.equal(coverage(computeGroundCoverage(mavic3e({ lon: 179.99, lat: 0 }))).polygon.type, 'Polygon');
  });

  it('does not break near the poles; a footprint over a pole is refused with the reason', () => {
    const near = coverage(computeGroundCoverage(mavic3e({ lat: 89.99, lon: 45 })));
    assert.ok(near.corners.every((c) => Number.isFinite(c.lon) && Number.isFinite(c.lat) && c.lat < 90));
    assert.ok(ringArea(near.polygon.coordinates[0] as number[][]) > 0);
    assert.match(refusal(computeGroundCoverage(mavic3e({ lat: 90 }))), /contains the north pole/);
    assert.match(refusal(computeGroundCoverage(mavic3e({ lat: -89.9999, lon: -120 }))), /contains the south pole/);
    // Looking away from the pole, the footprint does not contain it.
    assert.equal(coverage(computeGroundCoverage(mavic3e({ lat: 89.999, pitch: -45, yaw: 180 }))).truncated, false);
  });
});
