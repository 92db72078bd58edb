import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import sharp from 'sharp';
import { fieldOfView, missingFields, normalizeMetadata, parseExifDate, readJpegHeaderFrom, readPictureMetadata } from './picture-metadata.js';

/** Raw metadata as exifr gives it (sections, raw values). */
const nikon = () => ({
  ifd0: { Make: 'NIKON', Model: 'COOLPIX P6000\u0000' },
  exif: { DateTimeOriginal: '2008:10:22 16:28:39', FocalLength: 24, FocalLengthIn35mmFormat: 112 },
  gps: { GPSLatitudeRef: 'N', GPSLatitude: [43, 28, 2.814], GPSLongitudeRef: 'E', GPSLongitude: [11, 53, 6.456], GPSTimeStamp: [14, 27, 7.24], GPSDateStamp: '2008:10:23' },
});

describe('normalizeMetadata', () => {
  it('reads position, camera and focal lengths', () => {
    const m = normalizeMetadata(nikon());
    assert.ok(Math.abs(m.lat! - 43.467448) < 1e-6);
    assert.ok(Math.abs(m.lon! - 11.885127) < 1e-6);
    assert.equal(m.make, 'NIKON');
    assert.equal(m.model, 'COOLPIX P6000');
    assert.equal(m.focalLength35mm, 112);
    assert.equal(m.projection, 'perspective');
  });

  it('infers the camera offset from the GPS clock and repairs a GPS date one day off', () => {
    const m = normalizeMetadata(nikon());
    assert.equal(m.cameraTimeOffset, '+02:00');
    assert.equal(m.cameraTimeOffsetSource, 'gps');
    assert.equal(m.cameraTime!.toISOString(), '2008-10-22T14:28:39.000Z');
    assert.equal(m.gpsTime!.toISOString(), '2008-10-22T14:27:07.240Z');
    assert.equal(m.capturedAt!.toISOString(), '2008-10-22T14:27:07.240Z');
    assert.equal(m.captureTimeSource, 'gps');
    assert.match(m.warnings.join(), /GPS date 2008-10-23 disagrees/);
  });

  it('uses an explicit offset and sub-seconds; prefers such a camera time over a whole-second GPS time', () => {
    const raw = nikon();
    Object.assign(raw.exif, { OffsetTimeOriginal: '+01:00', SubSecTimeOriginal: '25' });
    raw.gps.GPSTimeStamp = [15, 28, 39];
    raw.gps.GPSDateStamp = '2008:10:22';
    const m = normalizeMetadata(raw);
    assert.equal(m.cameraTime!.toISOString(), '2008-10-22T15:28:39.250Z');
    assert.equal(m.cameraTimeOffsetSource, 'exif');
    assert.equal(m.captureTimeSource, 'camera');
  });

  it('assumes UTC for a camera time with no offset and no GPS clock', () => {
    const m = normalizeMetadata({ exif: { DateTimeOriginal: '2020:02:03 04:05:06' }, gps: {} });
    assert.equal(m.capturedAt!.toISOString(), '2020-02-03T04:05:06.000Z');
    assert.equal(m.cameraTimeOffsetSource, 'assumed-utc');
    assert.equal(m.gpsTime, null);
  });

  it('reads a naive camera clock in the time zone of the place, daylight saving included', () => {
    // Nairobi (UTC+3 all year): 09:47 local is 06:47Z, not 09:47Z.
    const nairobi = normalizeMetadata({
      exif: { DateTimeOriginal: '2021:03:04 09:47:00' },
      gps: { GPSLatitude: [1, 17, 0], GPSLatitudeRef: 'S', GPSLongitude: [36, 49, 0], GPSLongitudeRef: 'E' },
    });
    assert.deepEqual(
      [nairobi.capturedAt!.toISOString(), nairobi.cameraTimeOffset, nairobi.cameraTimeOffsetSource, nairobi.timeZone],
      ['2021-03-04T06:47:00.000Z', '+03:00', 'position', 'Africa/Nairobi'],
    );
    const paris = (date: string) =>
      normalizeMetadata({ exif: { DateTimeOriginal: date }, gps: { GPSLatitude: [48, 51, 0], GPSLatitudeRef: 'N', GPSLongitude: [2, 21, 0], GPSLongitudeRef: 'E' } });
    assert.equal(paris('2023:07:14 12:00:00').capturedAt!.toISOString(), '2023-07-14T10:00:00.000Z', 'summer time, +02:00');
    assert.equal(paris('2023:01:14 12:00:00').capturedAt!.toISOString(), '2023-01-14T11:00:00.000Z', 'winter time, +01:00');
    // An offset the camera wrote wins over the place.
    const written = normalizeMetadata({
      exif: { DateTimeOriginal: '2023:07:14 12:00:00', OffsetTimeOriginal: '+05:00' },
      gps: { GPSLatitude: [48, 51, 0], GPSLatitudeRef: 'N', GPSLongitude: [2, 21, 0], GPSLongitudeRef: 'E' },
    });
    assert.deepEqual([written.capturedAt!.toISOString(), written.cameraTimeOffsetSource, written.timeZone], ['2023-07-14T07:00:00.000Z', 'exif', null]);
  });

  it('turns a heading from magnetic north into a true one with the declination of the place and date', () => {
    const at = (lat: [number, string], lon: [number, string], ref: string) =>
      normalizeMetadata({
        exif: { DateTimeOriginal: '2024:06:01 12:00:00', OffsetTimeOriginal: '+00:00' },
        gps: { GPSLatitude: [lat[0], 0, 0], GPSLatitudeRef: lat[1], GPSLongitude: [lon[0], 0, 0], GPSLongitudeRef: lon[1], GPSImgDirection: 100, GPSImgDirectionRef: ref },
      });
    // World Magnetic Model 2020/2025 for mid-2024 (NOAA's calculator): Ottawa about 12.6° W, Anchorage about 14.5° E.
    const ottawa = at([45, 'N'], [76, 'W'], 'M');
    assert.ok(Math.abs(ottawa.heading! - (100 - 12.6)) < 1, `Ottawa ${ottawa.heading} (declination ${ottawa.magneticDeclination})`);
    const anchorage = at([61, 'N'], [150, 'W'], 'M');
    assert.ok(Math.abs(anchorage.heading! - (100 + 14.5)) < 1.5, `Anchorage ${anchorage.heading} (declination ${anchorage.magneticDeclination})`);
    const trueNorth = at([45, 'N'], [76, 'W'], 'T');
    assert.deepEqual([trueNorth.heading, trueNorth.magneticDeclination], [100, null]);
  });

  it('ignores unset clocks and a 0,0 position; overrides replace what is there', () => {
    const m = normalizeMetadata({
      exif: { DateTimeOriginal: '0000:00:00 00:00:00' },
      gps: { GPSLatitude: [0, 0, 0], GPSLatitudeRef: 'N', GPSLongitude: [0, 0, 0], GPSLongitudeRef: 'E' },
    });
    assert.equal(m.capturedAt, null);
    assert.equal(m.lat, null);
    assert.deepEqual(missingFields(m), ['location', 'datetime']);
    const o = normalizeMetadata(nikon(), { capturedAt: new Date('2021-01-01T00:00:00Z'), lon: 1, lat: 2 });
    assert.deepEqual([o.lon, o.lat, o.capturedAt!.toISOString(), o.captureTimeSource, o.gpsTime], [1, 2, '2021-01-01T00:00:00.000Z', 'override', null]);
    assert.deepEqual(missingFields(o), []);
  });

  it('reads headings, altitudes and the southern and western hemispheres', () => {
    const m = normalizeMetadata({
      exif: { DateTimeOriginal: '2020:02:03 04:05:06' },
      gps: {
        GPSLatitude: [10, 30, 0],
        GPSLatitudeRef: 'S',
        GPSLongitude: [20, 0, 0],
        GPSLongitudeRef: 'W',
        GPSImgDirection: 360,
        GPSAltitude: 12.5,
        GPSAltitudeRef: new Uint8Array([1]),
        GPSHPositioningError: 3.5,
      },
    });
    assert.deepEqual([m.lat, m.lon, m.heading, m.headingSource, m.altitude, m.gpsAccuracy], [-10.5, -20, 0, 'exif', -12.5, 3.5]);
  });

  it('reads DJI gimbal angles and GPano 360° panoramas from XMP', () => {
    const dji = normalizeMetadata({
      'drone-dji': { GimbalYawDegree: -30.5, GimbalPitchDegree: -90, GimbalRollDegree: 0, RelativeAltitude: 50.2, AbsoluteAltitude: 310 },
      exif: {},
      gps: {},
    });
    assert.deepEqual([dji.heading, dji.headingSource, dji.pitch, dji.roll, dji.relativeAltitude, dji.altitude], [329.5, 'xmp-dji', -90, 0, 50.2, 310]);
    const pano = normalizeMetadata({ GPano: { ProjectionType: 'equirectangular', PoseHeadingDegrees: 45 }, exif: {}, gps: {} });
    assert.deepEqual([pano.projection, pano.heading, pano.headingSource], ['equirectangular', 45, 'xmp-gpano']);
  });
});

describe('parseExifDate', () => {
  it('reads EXIF and ISO forms', () => {
    assert.deepEqual(parseExifDate('2013-07-05T03:18:27Z'), { localMs: Date.UTC(2013, 6, 5, 3, 18, 27), offsetMinutes: 0, hasSubSeconds: false });
    assert.equal(parseExifDate('2013:07:05 03:18:27.5+02:00')!.offsetMinutes, 120);
    assert.equal(parseExifDate('garbage'), null);
  });
});

describe('fieldOfView', () => {
  it('is the horizontal angle of the upright picture, 360° for a panorama', () => {
    assert.equal(fieldOfView('perspective', 26, 4000, 3000), 67.3);
    assert.equal(fieldOfView('perspective', 26, 3000, 4000), 53.1);
    assert.equal(fieldOfView('perspective', null, 4000, 3000), null);
    assert.equal(fieldOfView('equirectangular', null, 4000, 2000), 360);
  });
});

describe('readJpegHeaderFrom', () => {
  /** A geotagged JPEG whose EXIF comes after `fillers` application segments of 60 000 bytes each. */
  async function jpegWithFillers(fillers: number): Promise<Buffer> {
    const jpeg = await sharp({ create: { width: 64, height: 48, channels: 3, background: '#7a8b9c' } })
      .jpeg()
      .withExif({ IFD0: { Make: 'Sightline' }, IFD3: { GPSLatitudeRef: 'N', GPSLatitude: '45/1 30/1 0/1', GPSLongitudeRef: 'E', GPSLongitude: '5/1 15/1 0/1' } })
      .toBuffer();
    // The length field counts itself: 60 000 bytes after the marker.
    const filler = Buffer.alloc(60_000, 0x41);
    filler.writeUInt16BE(60_000, 0);
    const segments = Array.from({ length: fillers }, () => Buffer.concat([Buffer.from([0xff, 0xe9]), filler]));
    return Buffer.concat([jpeg.subarray(0, 2), ...segments, jpeg.subarray(2)]);
  }

  const reader = (data: Buffer, reads: number[]) => async (position: number, size: number) => {
    reads.push(size);
    return Buffer.from(data.subarray(position, position + size));
  };

  it('reads every segment before the image data, across blocks, in a few reads', async () => {
    for (const fillers of [0, 5, 12]) {
      const jpeg = await jpegWithFillers(fillers);
      const sos = jpeg.indexOf(Buffer.from([0xff, 0xda]));
      const reads: number[] = [];
      const head = await readJpegHeaderFrom(reader(jpeg, reads));
      assert.ok(head.equals(jpeg.subarray(0, Math.min(jpeg.length, sos + 1024))), `${fillers} fillers: the header up to the scan and 1 KiB more`);
      assert.ok(reads.length <= 1 + Math.ceil(sos / (256 * 1024)), `${fillers} fillers: ${reads.length} reads`);
      const meta = await readPictureMetadata(head);
      assert.equal(meta.make, 'Sightline');
      assert.ok(Math.abs(meta.lat! - 45.5) < 1e-9 && Math.abs(meta.lon! - 5.25) < 1e-9, `${fillers} fillers: position read`);
    }
  });

  it('gives the first 64 KiB of a file that is not a JPEG, and what there is of a short one', async () => {
    const text = Buffer.alloc(300_000, 0x20);
    assert.equal((await readJpegHeaderFrom(reader(text, []))).length, 64 * 1024);
    const truncated = (await jpegWithFillers(5)).subarray(0, 200_000);
    assert.ok((await readJpegHeaderFrom(reader(truncated, []))).equals(truncated));
  });
});
