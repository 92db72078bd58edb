import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { describe, it } from 'node:test';
import { sharedPath } from '../../test/support/env.js';
import { readJpegHeader } from '../media/picture-metadata.js';
import { djiGroundCoverageInput, djiMetadataFromRaw, findDjiCamera, readDjiMetadata, type DjiMetadata } from './dji-metadata.js';
import { computeGroundCoverage, type GroundCoverage, type GroundCoverageInput } from './ground-coverage.js';

const PHOTOS = sharedPath('fixtures', 'drones', 'photos');

/**
 * The fixtures' values as ExifTool 12.57 prints them (../shared/fixtures/drones/photos/README.md):
 * make, model, DateTimeOriginal, gimbal pitch/yaw/roll, flight yaw/pitch/roll, relative and absolute
 * altitude, GPS latitude/longitude/altitude, focal length, width × height.
 */
const EXIFTOOL: [string, string, string, string, number, number, number, number, number, number, number, number, number, number, number, number, number, number][] = [
  ['brighton-beach-fc300s/DJI_0018.JPG', 'DJI', 'FC300S', '2016:06:23 16:31:59', -89.9, 45.0, 0, 46.0, 1.8, 3.0, 39.8, 198.31, 46.8426071, -91.9945599, 198.309, 3.61, 4000, 2250],
  ['brighton-beach-fc300s/DJI_0019.JPG', 'DJI', 'FC300S', '2016:06:23 16:32:06', -89.9, 42.8, 0, 40.1, 1.2, 0.4, 40.1, 198.61, 46.8426907, -91.9944273, 198.609, 3.61, 4000, 2250],
  ['brighton-beach-fc300s/DJI_0020.JPG', 'DJI', 'FC300S', '2016:06:23 16:32:13', -89.9, 44.2, 0, 42.8, 0.9, 1.1, 40.1, 198.61, 46.8427776, -91.9942994, 198.609, 3.61, 4000, 2250],
  ['brighton-beach-fc300s/DJI_0021.JPG', 'DJI', 'FC300S', '2016:06:23 16:32:20', -90.0, 45.0, 0, 44.0, 0.1, 1.8, 40.1, 198.61, 46.8428651, -91.9941766, 198.609, 3.61, 4000, 2250],
  ['brighton-beach-fc300s/DJI_0022.JPG', 'DJI', 'FC300S', '2016:06:23 16:32:27', -90.0, 45.3, 0, 45.6, -1.9, 2.3, 40.0, 198.51, 46.8429516, -91.9940517, 198.509, 3.61, 4000, 2250],
  ['brighton-beach-fc300s/DJI_0023.JPG', 'DJI', 'FC300S', '2016:06:23 16:32:34', -89.9, 43.8, 0, 41.4, 1.2, 1.7, 40.0, 198.51, 46.8430381, -91.9939231, 198.509, 3.61, 4000, 2250],
  [
    'brighton-beach-fc300s/DJI_0024.JPG',
    'DJI',
    'FC300S',
    '2016:06:23 16:32:43',
    -89.9,
    -140.0,
    0,
    -138.7,
    -0.1,
    -4.0,
    39.9,
    198.41,
    46.8428646,
    -91.9936967,
    198.409,
    3.61,
    4000,
    2250,
  ],
  [
    'brighton-beach-fc300s/DJI_0025.JPG',
    'DJI',
    'FC300S',
    '2016:06:23 16:32:50',
    -89.9,
    -132.0,
    0,
    -129.9,
    -1.6,
    0.9,
    40.0,
    198.51,
    46.8427739,
    -91.9938259,
    198.509,
    3.61,
    4000,
    2250,
  ],
  ['oblique-thermal/DJI_H20T.jpg', 'DJI', 'ZH20T', '2021:05:28 10:33:46', -10.5, 32.5, 0, 30.3, -0.5, 0.0, 16.508, 221.404, 40.5637811, -79.7649628, 221.404, 13.5, 640, 512],
];

const read = async (file: string) => readDjiMetadata(await readJpegHeader(path.join(PHOTOS, file)));

function inputOf(m: DjiMetadata): GroundCoverageInput {
  const r = djiGroundCoverageInput(m);
  if (!r.ok) assert.fail(`expected a ground coverage input, got: ${r.reason}`);
  return r.input;
}
function coverageOf(m: DjiMetadata): GroundCoverage {
  const r = computeGroundCoverage(inputOf(m));
  if (!r.ok) assert.fail(`expected a footprint, got: ${r.reason}`);
  return r.coverage;
}
const reasonOf = (m: DjiMetadata): string => {
  const r = djiGroundCoverageInput(m);
  if (r.ok) assert.fail('expected no ground coverage input');
  return r.reason;
};

/** Metres between two lon/lat points (equirectangular, fine over a few hundred metres). */
const metres = (a: { lon: number; lat: number }, b: { lon: number; lat: number }) =>
  Math.hypot((a.lon - b.lon) * 111_320 * Math.cos((a.lat * Math.PI) / 180), (a.lat - b.lat) * 110_950);
const azimuthDeg = (p: { east: number; north: number }) => ((((Math.atan2(p.east, p.north) * 180) / Math.PI) % 360) + 360) % 360;
const angleBetween = (a: number, b: number) => Math.abs(((((a - b) % 360) + 540) % 360) - 180);
function insideRing(ring: number[][], [x, y]: [number, number]): boolean {
  let inside = false;
  for (let i = 0, j = ring.length - 1; i < ring.length; j = i++) {
    const [xi, yi] = ring[i] as [number, number];
    const [xj, yj] = ring[j] as [number, number];
    if (yi > y !== yj > y && x < ((xj - xi) * (y - yi)) / (yj - yi) + xi) inside = !inside;
  }
  return inside;
}

describe('readDjiMetadata', () => {
  it('reads the values ExifTool reads from real DJI photos, from the head of the file', async () => {
    for (const [file, make, model, date, gp, gy, gr, fy, fp, fr, rel, abs, lat, lon, gpsAlt, focal, width, height] of EXIFTOOL) {
      const m = await read(file);
      assert.equal(m.isDjiDrone, true, file);
      assert.deepEqual(
        [m.make, m.model, m.dateTimeOriginal, m.gimbalPitch, m.gimbalYaw, m.gimbalRoll, m.flightYaw, m.flightPitch, m.flightRoll, m.relativeAltitude, m.absoluteAltitude],
        [make, model, date, gp, gy, gr, fy, fp, fr, rel, abs],
        file,
      );
      // ExifTool prints seven decimals.
      assert.ok(Math.abs(m.lat! - lat) < 5e-8 && Math.abs(m.lon! - lon) < 5e-8, `${file}: ${m.lat}, ${m.lon}`);
      assert.deepEqual([m.gpsAltitude, m.focalLength, m.imageWidth, m.imageHeight], [gpsAlt, focal, width, height], file);
      assert.deepEqual(m.warnings, [], file);
    }
  });

  it('takes the position from EXIF GPS when the drone-dji namespace has none, and reads what newer firmware adds', async () => {
    const phantom = await read('brighton-beach-fc300s/DJI_0018.JPG');
    assert.equal(phantom.positionSource, 'exif');
    assert.deepEqual([phantom.camReverse, phantom.gimbalReverse, phantom.rtkFlag, phantom.calibratedFocalLength], [null, null, null, null]);
    assert.equal(phantom.focalLength35mm, 20);

    const h20t = await read('oblique-thermal/DJI_H20T.jpg');
    assert.equal(h20t.positionSource, 'xmp-dji');
    assert.deepEqual([h20t.camReverse, h20t.gimbalReverse], [false, false]);
    assert.equal(h20t.focalLength35mm, 58);
  });

  it('reads the whole file as well as its head, and never throws on a cut or foreign buffer', async () => {
    const whole = await readDjiMetadata(await readFile(path.join(PHOTOS, 'oblique-thermal/DJI_H20T.jpg')));
    assert.deepEqual(whole, await read('oblique-thermal/DJI_H20T.jpg'));

    // 32 KB of a file whose EXIF segment is 50 KB long.
    const cut = await readDjiMetadata((await readFile(path.join(PHOTOS, 'brighton-beach-fc300s/DJI_0018.JPG'))).subarray(0, 32 * 1024));
    assert.equal(cut.isDjiDrone, false);
    assert.equal(cut.gimbalPitch, null);
    assert.match(cut.warnings.join(), /partly unreadable/);

    const foreign = await readDjiMetadata(Buffer.from('not a picture at all'));
    assert.equal(foreign.isDjiDrone, false);
    assert.equal(foreign.model, null);
    assert.match(foreign.warnings.join(), /partly unreadable/);
    assert.equal((await readDjiMetadata(Buffer.alloc(0))).isDjiDrone, false);
  });
});

describe('djiMetadataFromRaw', () => {
  it('reads signed strings, the misspelt longitude, RTK and calibration fields; absent fields are null', () => {
    const m = djiMetadataFromRaw({
      ifd0: { Make: 'DJI', Model: 'FC6310R\u0000' },
      exif: { FocalLength: 8.8, FocalLengthIn35mmFormat: 24, ExifImageWidth: 5472, ExifImageHeight: 3648 },
      'drone-dji': {
        GimbalPitchDegree: '-89.90',
        GimbalYawDegree: '+45.00',
        GimbalRollDegree: '+0.00',
        RelativeAltitude: '+60.123',
        GpsLatitude: '+47.1234567',
        GpsLongtitude: '-8.7654321',
        RtkFlag: '50',
        CalibratedFocalLength: '3666.666504',
        CamReverse: '1',
      },
    });
    assert.deepEqual([m.isDjiDrone, m.model, m.gimbalPitch, m.gimbalYaw, m.gimbalRoll, m.relativeAltitude], [true, 'FC6310R', -89.9, 45, 0, 60.123]);
    assert.deepEqual([m.lat, m.lon, m.positionSource], [47.1234567, -8.7654321, 'xmp-dji']);
    assert.deepEqual([m.rtkFlag, m.calibratedFocalLength, m.camReverse, m.gimbalReverse], [50, 3666.666504, true, null]);
    assert.deepEqual([m.flightYaw, m.flightPitch, m.flightRoll, m.absoluteAltitude, m.dateTimeOriginal, m.gpsAltitude], [null, null, null, null, null, null]);
  });

  it('ignores a 0,0 drone-dji position for the EXIF one, and is not a drone photo without drone-dji attitude or altitude', () => {
    const m = djiMetadataFromRaw({
      ifd0: { Make: 'DJI' },
      gps: { GPSLatitude: [46, 50, 33.3855], GPSLatitudeRef: 'N', GPSLongitude: [91, 59, 40.4156], GPSLongitudeRef: 'W', GPSAltitude: 12, GPSAltitudeRef: new Uint8Array([1]) },
      'drone-dji': { GpsLatitude: 0, GpsLongitude: 0, GimbalPitchDegree: -90 },
    });
    assert.equal(m.positionSource, 'exif');
    assert.ok(Math.abs(m.lat! - 46.8426071) < 1e-7 && Math.abs(m.lon! + 91.9945599) < 1e-7);
    assert.equal(m.gpsAltitude, -12, 'below sea level');
    assert.match(m.warnings.join(), /drone-dji position 0,0 ignored/);

    const phone = djiMetadataFromRaw({ ifd0: { Make: 'Apple', Model: 'iPhone 12' }, exif: { FocalLength: 4.2 } });
    assert.equal(phone.isDjiDrone, false);
    assert.deepEqual([phone.lat, phone.lon, phone.positionSource], [null, null, null]);
    assert.equal(djiMetadataFromRaw(undefined).isDjiDrone, false);
  });
});

describe('djiGroundCoverageInput', () => {
  it('gives the nadir Phantom 3 shot a ground footprint: a 16:9 rectangle about 68 × 38 m turned 45°, centred below the camera', async () => {
    const m = await read('brighton-beach-fc300s/DJI_0018.JPG');
    const r = djiGroundCoverageInput(m);
    assert.ok(r.ok);
    assert.equal(r.sensorSource, 'camera-table');
    assert.equal(r.camera?.model, 'FC300S');
    assert.deepEqual([r.input.height, r.input.yaw, r.input.pitch, r.input.roll], [39.8, 45, -89.9, 0]);

    const c = coverageOf(m);
    assert.equal(c.truncated, false);
    // 6.17 mm sensor, its 16:9 crop 3.47 mm high, 3.61 mm lens, 39.8 m up.
    const [long, short] = [(39.8 * 6.17) / 3.61, (39.8 * ((6.17 * 9) / 16)) / 3.61];
    const [tl, tr, br, bl] = c.corners;
    const side = (a: { east: number; north: number }, b: { east: number; north: number }) => Math.hypot(a.east - b.east, a.north - b.north);
    for (const [a, b, length] of [
      [tl, tr, long],
      [bl, br, long],
      [tr, br, short],
      [tl, bl, short],
    ] as const) {
      assert.ok(Math.abs(side(a, b) - length) < 0.01 * length, `${a.corner}–${b.corner}: ${side(a, b).toFixed(1)} m, not ${length.toFixed(1)} m`);
    }
    // The top of the image looks north-east (yaw 45°); pitch −89.9 moves the centre 7 cm.
    const top = { east: (tl.east + tr.east) / 2, north: (tl.north + tr.north) / 2 };
    assert.ok(angleBetween(azimuthDeg(top), 45) < 0.5, `top edge towards ${azimuthDeg(top)}°`);
    assert.ok(metres(c.center!, { lon: m.lon!, lat: m.lat! }) < 0.5);
    // 39.8 m × 1.54 µm pixel / 3.61 mm: 1.7 cm per pixel.
    assert.ok(Math.abs(c.gsd! - (39.8 * (6.17 / 4000) * 100) / 3.61) < 0.01);

    // The next shot, 13 m further along the line, was taken above this footprint.
    const next = await read('brighton-beach-fc300s/DJI_0019.JPG');
    assert.equal(c.polygon.type, 'Polygon');
    assert.ok(insideRing(c.polygon.coordinates[0] as number[][], [next.lon!, next.lat!]));
    // On the return line (yaw −140°) the top of the image looks south-west.
    const back = coverageOf(await read('brighton-beach-fc300s/DJI_0024.JPG'));
    const backTop = { east: (back.corners[0].east + back.corners[1].east) / 2, north: (back.corners[0].north + back.corners[1].north) / 2 };
    assert.ok(angleBetween(azimuthDeg(backTop), 220) < 0.5);
  });

  it('truncates the oblique H20T thermal shot, which sees the horizon', async () => {
    const m = await read('oblique-thermal/DJI_H20T.jpg');
    const r = djiGroundCoverageInput(m);
    assert.ok(r.ok);
    assert.equal(r.camera?.name, 'Zenmuse H20T (thermal)');
    const c = coverageOf(m);
    assert.equal(c.truncated, true);
    assert.deepEqual(
      c.corners.map((x) => x.clipped),
      [true, true, false, false],
    );
    assert.equal(c.gsd, null);
    // Bottom edge: 10.5° + half the 6.144 mm sensor height seen through 13.5 mm below the horizon, 16.5 m up.
    const depression = 10.5 + (Math.atan(3.072 / 13.5) * 180) / Math.PI;
    const ahead = 16.508 / Math.tan((depression * Math.PI) / 180);
    const along = (p: { east: number; north: number }) => p.east * Math.sin((32.5 * Math.PI) / 180) + p.north * Math.cos((32.5 * Math.PI) / 180);
    for (const corner of c.corners.slice(2)) assert.ok(Math.abs(along(corner) - ahead) < 0.1, `${corner.corner} ${along(corner).toFixed(2)} m ahead, not ${ahead.toFixed(2)}`);
    for (const corner of c.corners.slice(0, 2)) assert.ok(along(corner) > 0, 'clipped ahead of the camera');
    // The image centre, 10.5° below the horizon: 89 m ahead along the gimbal yaw.
    assert.ok(Math.abs(along(c.center!) - 16.508 / Math.tan((10.5 * Math.PI) / 180)) < 0.1);
    assert.ok(angleBetween(azimuthDeg(c.center!), 32.5) < 1e-6);
  });

  it('picks the camera of a multi-camera payload by focal length, else the 35 mm equivalent, else says why not', async () => {
    assert.equal(findDjiCamera('ZH20T', 4.5)?.name, 'Zenmuse H20T (wide)');
    assert.equal(findDjiCamera('zh20t', 13.5)?.name, 'Zenmuse H20T (thermal)');
    assert.equal(findDjiCamera('ZH20T', 31.7), null, 'the zoom camera is not in the table');
    assert.equal(findDjiCamera('M3E', 12.29)?.sensorWidth, 17.3);

    const base = await read('oblique-thermal/DJI_H20T.jpg');
    const zoom = djiGroundCoverageInput({ ...base, focalLength: 31.7, focalLength35mm: 136 });
    assert.ok(zoom.ok);
    assert.equal(zoom.sensorSource, 'focal-length-35mm');
    assert.deepEqual([zoom.input.sensorWidth, zoom.input.focalLength35mm], [null, 136]);
    assert.match(reasonOf({ ...base, model: 'FC9999', focalLength35mm: null }), /sensor size unknown: camera model FC9999 is not in the table/);
  });

  it('names what is missing or unusable', async () => {
    const base = await read('brighton-beach-fc300s/DJI_0018.JPG');
    assert.match(reasonOf({ ...base, lat: null, lon: null, relativeAltitude: null }), /without position \(GPS\), height above take-off/);
    assert.match(reasonOf({ ...base, gimbalPitch: null, imageWidth: null }), /gimbal pitch.*image size/);
    assert.match(reasonOf({ ...base, gimbalYaw: null, flightYaw: null }), /yaw/);
    assert.match(reasonOf({ ...base, relativeAltitude: 0 }), /not above its take-off point/);
    assert.match(reasonOf({ ...base, camReverse: true }), /upside down/);
    // A fixed camera without a gimbal yaw looks where the aircraft does.
    assert.equal(inputOf({ ...base, gimbalYaw: null }).yaw, 46);
  });
});
