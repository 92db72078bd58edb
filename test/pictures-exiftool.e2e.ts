import assert from 'node:assert/strict';
import { existsSync, readdirSync } from 'node:fs';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import sharp from 'sharp';
import { startApi, type TestApi } from './support/app.js';
import { createUser, type TestUser } from './support/auth.js';
import { sharedPath } from './support/env.js';
import { startBlurServer } from './support/blur-server.js';
import { exiftool, exiftoolWrite, hasExiftool, NO_EXIFTOOL } from './support/exiftool.js';
import { json, waitFor } from './support/net.js';
import { type ChildHandle, startWorker } from './support/processes.js';
import { createUploadSet, getFiles, uploadPicture, waitUntilReady } from './upload-support.js';

/**
 * What Sightline publishes of real photos (phone, compact and reflex cameras, DJI drones) against
 * ExifTool, the reference reader of EXIF and XMP. Tolerances: positions 1e-7° (~1 cm; both read
 * the same rationals), altitudes 1 mm, headings 0.001° (0.006° from magnetic north: the declination
 * is published to 0.01°), times 1 ms — except GPS date stamps a
 * whole number of days off the camera clock, which Sightline repairs (README: Pictures).
 */
const PHOTO_DIRS = ['fixtures/photos/gps', 'fixtures/photos/odd-exif', 'fixtures/drones/photos/brighton-beach-fc300s', 'fixtures/drones/photos/oblique-thermal'].map((d) =>
  sharedPath(d),
);

type Tags = Record<string, unknown>;
// eslint-disable-next-line @typescript-eslint/no-explicit-any
type Item = any;

const num = (v: unknown): number | null => (typeof v === 'number' ? v : typeof v === 'string' && v.trim() !== '' && Number.isFinite(Number(v)) ? Number(v) : null);
const text = (v: unknown): string | null => (v === undefined || v === null || String(v).trim() === '' ? null : String(v).trim());
const DAY = 86_400_000;

/** ExifTool's `YYYY:MM:DD hh:mm:ss[.sss][Z|±hh:mm]` as milliseconds, read as UTC when it has no zone. */
function exifMs(value: unknown): number | null {
  const m = /^(\d{4}):(\d{2}):(\d{2}) (\d{2}):(\d{2}):(\d{2})(\.\d+)?(Z|[+-]\d{2}:\d{2})?$/.exec(String(value ?? '').trim());
  if (!m) return null;
  const ms = Date.UTC(+m[1]!, +m[2]! - 1, +m[3]!, +m[4]!, +m[5]!, +m[6]!, m[7] ? Math.round(Number(m[7]) * 1000) : 0);
  return m[8] && m[8] !== 'Z' ? ms - offsetMinutes(m[8]) * 60_000 : ms;
}

function offsetMinutes(offset: string): number {
  const m = /^([+-])(\d{2}):?(\d{2})$/.exec(offset)!;
  return (m[1] === '-' ? -1 : 1) * (Number(m[2]) * 60 + Number(m[3]));
}

/** Tags a public hd must not carry with PICTURE_HD_METADATA=strip-private. */
const PRIVATE =
  /^(GPS|XMP-drone-dji|XMP-dc|XMP-exif|XMP-aux|XMP-xmp|IPTC|Photoshop|MakerNotes|Nikon|Canon|Samsung|DJI|IFD1|InteropIFD):|SerialNumber|OwnerName|Artist|ImageUniqueID|ThumbnailImage|PreviewImage|UserComment/;
/** Tags it keeps, equal to the upload's. */
const KEPT = [
  'IFD0:Orientation',
  'IFD0:Make',
  'IFD0:Model',
  'ExifIFD:DateTimeOriginal',
  'ExifIFD:OffsetTimeOriginal',
  'ExifIFD:SubSecTimeOriginal',
  'ExifIFD:ExposureTime',
  'ExifIFD:FNumber',
  'ExifIFD:ISO',
  'ExifIFD:FocalLength',
  'ExifIFD:FocalLengthIn35mmFormat',
  'ExifIFD:LensModel',
];

/** Which of the comparisons ran, for the summary. */
const compared = { photos: 0, positions: 0, times: 0, headings: 0, cameras: 0, altitudes: 0 };

/** Checks one published item against ExifTool's reading of the uploaded file. */
function compare(name: string, item: Item, tags: Tags, override: { lon: number; lat: number } | null): void {
  const p = item.properties;
  compared.photos++;
  // Position: the EXIF GPS position (or the override given when the file has none).
  const [lon, lat] = item.geometry.coordinates as [number, number];
  const wantLon = override?.lon ?? num(tags['Composite:GPSLongitude']);
  const wantLat = override?.lat ?? num(tags['Composite:GPSLatitude']);
  assert.ok(wantLon !== null && wantLat !== null, `${name}: a position`);
  assert.ok(Math.abs(lon - wantLon) <= 1e-7 && Math.abs(lat - wantLat) <= 1e-7, `${name}: position ${lon},${lat}; ExifTool ${wantLon},${wantLat}`);
  if (!override) compared.positions++;

  // Capture time: the GPS clock, or the camera clock and its offset.
  const published = Date.parse(p.datetime);
  if (p['sightline:capture_time_source'] === 'gps') {
    const gps = exifMs(tags['Composite:GPSDateTime']);
    assert.ok(gps !== null, `${name}: published from a GPS clock ExifTool does not see`);
    const diff = published - gps;
    const days = Math.round(diff / DAY);
    assert.ok(Math.abs(diff - days * DAY) <= 1 && Math.abs(days) <= 1, `${name}: ${p.datetime}; ExifTool's GPS time ${tags['Composite:GPSDateTime']}`);
    compared.times++;
  } else if (p['sightline:capture_time_source'] === 'camera') {
    const local = exifMs(tags['Composite:SubSecDateTimeOriginal'] ?? tags['ExifIFD:DateTimeOriginal']);
    assert.ok(local !== null, `${name}: published from a camera clock ExifTool does not see`);
    const exifOffset = text(tags['ExifIFD:OffsetTimeOriginal']);
    const offset = p['sightline:camera_time_offset'] as string;
    if (exifOffset) {
      assert.equal(offset, exifOffset, `${name}: the camera's own offset`);
      assert.equal(p['sightline:camera_time_offset_source'], 'exif');
    }
    const hasZone = /(Z|[+-]\d{2}:\d{2})$/.test(String(tags['Composite:SubSecDateTimeOriginal'] ?? tags['ExifIFD:DateTimeOriginal']));
    const want = hasZone ? local : local - offsetMinutes(offset) * 60_000;
    assert.ok(Math.abs(published - want) <= 1, `${name}: ${p.datetime}; ExifTool's camera time ${tags['ExifIFD:DateTimeOriginal']} at ${offset}`);
    compared.times++;
  }

  // Heading recorded in the file: EXIF GPSImgDirection (true, or magnetic + the published
  // declination), else XMP GPano PoseHeadingDegrees, else the DJI gimbal (or flight) yaw.
  const exifDirection = num(tags['GPS:GPSImgDirection']);
  const direction = exifDirection !== null && exifDirection >= 0 && exifDirection <= 360 ? exifDirection : null;
  const recorded = direction ?? num(tags['XMP-GPano:PoseHeadingDegrees']) ?? num(tags['XMP-drone-dji:GimbalYawDegree']) ?? num(tags['XMP-drone-dji:FlightYawDegree']);
  if (p['sightline:heading_source'] === 'exif') {
    assert.ok(recorded !== null, `${name}: a heading ExifTool does not see`);
    const magnetic = direction !== null && tags['GPS:GPSImgDirectionRef'] === 'M';
    const declination = magnetic ? (p['sightline:magnetic_declination'] as number) : 0;
    assert.ok(!magnetic || typeof declination === 'number', `${name}: a magnetic heading keeps its declination`);
    const want = (((recorded + declination) % 360) + 360) % 360;
    // The declination is published to 0.01°.
    assert.ok(Math.abs(p['view:azimuth'] - want) <= (magnetic ? 0.006 : 1e-3), `${name}: azimuth ${p['view:azimuth']}; ExifTool ${recorded}${magnetic ? ' (magnetic)' : ''}`);
    compared.headings++;
  } else {
    assert.equal(recorded, null, `${name}: the file has a heading (${recorded}) but the item's comes from ${p['sightline:heading_source']}`);
  }

  // Camera: make and model as the file says.
  const camera = p['pers:interior_orientation'] ?? {};
  assert.equal(camera.camera_manufacturer ?? null, text(tags['IFD0:Make']), `${name}: make`);
  assert.equal(camera.camera_model ?? null, text(tags['IFD0:Model']), `${name}: model`);
  if (text(tags['IFD0:Make'])) compared.cameras++;

  // Altitude above sea level.
  const altitude = num(tags['Composite:GPSAltitude']);
  if (altitude !== null && !override) {
    assert.ok(Math.abs(p['sightline:altitude'] - altitude) <= 1e-3, `${name}: altitude ${p['sightline:altitude']}; ExifTool ${altitude}`);
    compared.altitudes++;
  }
}

describe('pictures against ExifTool', () => {
  let api: TestApi;
  let worker: ChildHandle | undefined;
  let user: TestUser;
  let scratch: string;
  let skip: string | false = false;
  const photos: string[] = [];
  /** A picture published with PICTURE_HD_METADATA=keep, reprocessed after the setting changes. */
  let kept: { file: string; pictureId: string } | undefined;

  before(async () => {
    if (!(await hasExiftool())) skip = NO_EXIFTOOL;
    else if (!PHOTO_DIRS.every(existsSync)) skip = `the photos of ../shared are absent (${PHOTO_DIRS.join(', ')})`;
    if (skip) return;
    for (const dir of PHOTO_DIRS) for (const f of readdirSync(dir).sort()) if (/\.jpe?g$/i.test(f)) photos.push(path.join(dir, f));
    scratch = await mkdtemp(path.join(os.tmpdir(), 'exiftool-'));
    api = await startApi();
    user = await createUser(api, 'photographer');
  });
  after(async () => {
    await worker?.stop();
    await api?.close();
    if (scratch) await rm(scratch, { recursive: true, force: true });
  });

  /**
   * Uploads photos into one set (overrides where a file lacks a position or a time) and returns
   * each published one's item and ExifTool tags, and the names of the files Sightline refused.
   */
  async function publish(owner: TestUser, files: string[]) {
    const tags = await exiftool(files);
    const set = await createUploadSet(api, owner, { title: 'ExifTool', no_deduplication: true, no_split: true });
    const overrides = new Map<string, { lon: number; lat: number } | null>();
    const refused: string[] = [];
    for (const [i, file] of files.entries()) {
      const t = tags[i]!;
      const fields: Record<string, string> = {};
      let override: { lon: number; lat: number } | null = null;
      if (num(t['Composite:GPSLatitude']) === null || num(t['Composite:GPSLongitude']) === null) {
        override = { lon: 2.35 + i * 0.001, lat: 48.85 };
        fields.override_longitude = String(override.lon);
        fields.override_latitude = String(override.lat);
      }
      if (exifMs(t['ExifIFD:DateTimeOriginal']) === null && exifMs(t['Composite:GPSDateTime']) === null)
        fields.override_capture_time = new Date(Date.UTC(2024, 0, 1, 12, 0, i)).toISOString();
      overrides.set(path.basename(file), override);
      const res = await uploadPicture(api, owner, set.id, file, fields);
      if (res.status !== 202) {
        assert.ok(res.status >= 400 && res.status < 500, `${path.basename(file)}: ${res.status}`);
        refused.push(`${path.basename(file)} (${(await json(res)).message})`);
      }
    }
    const completed = await api.fetch(`/api/upload_sets/${set.id}/complete`, { method: 'POST', headers: owner.headers });
    assert.equal(completed.status, 200, await completed.clone().text());
    await waitUntilReady(api, owner, set.id, 300_000);
    const uploaded = (await getFiles(api, owner, set.id)) as { file_name: string; picture_id: string | null; rejected?: { message: string } | null }[];
    for (const f of uploaded) if (f.rejected) refused.push(`${f.file_name} (${f.rejected.message})`);
    const accepted = uploaded.filter((f) => !f.rejected && f.picture_id);
    const ids = accepted.map((f) => f.picture_id!);
    const search = await json(await api.fetch(`/api/search?ids=${ids.join(',')}&limit=${ids.length}`, { headers: owner.headers }));
    const items = new Map<string, Item>(search.features.map((f: Item) => [f.id, f]));
    const published = accepted.map((f) => {
      const i = files.findIndex((file) => path.basename(file) === f.file_name);
      assert.ok(items.has(f.picture_id!), `${f.file_name} is published`);
      return { file: files[i]!, item: items.get(f.picture_id!), tags: tags[i]!, override: overrides.get(f.file_name) ?? null, pictureId: f.picture_id! };
    });
    return { published, refused };
  }

  it('publishes the position, time, heading, camera and altitude ExifTool reads; hd is the upload (PICTURE_HD_METADATA=keep)', async (t) => {
    if (skip) return t.skip(skip);
    worker = await startWorker();
    const { published, refused } = await publish(user, photos);
    for (const { file, item, tags, override } of published) compare(path.basename(file), item, tags, override);
    t.diagnostic(`${photos.length} photos uploaded; refused with a reason: ${refused.join('; ') || 'none'}`);
    t.diagnostic(
      `${compared.photos} photos: ${compared.positions} EXIF positions, ${compared.times} times, ${compared.headings} headings, ${compared.cameras} cameras, ${compared.altitudes} altitudes equal ExifTool's`,
    );
    assert.ok(compared.positions >= 19 && compared.headings >= 10, 'the GPS and DJI photos were compared');
    kept = published.find((p) => path.basename(p.file) === 'DSCN0010.jpg');
    // keep: hd is the very file uploaded, every tag included.
    for (const { file, pictureId } of published.slice(0, 3)) {
      const hd = Buffer.from(await (await api.fetch(`/api/pictures/${pictureId}/hd.jpg`, { headers: user.headers })).arrayBuffer());
      assert.ok(hd.equals(await readFile(file)), `${path.basename(file)}: hd is the upload`);
    }
    await worker.stop();
    worker = undefined;
  });

  it('PICTURE_HD_METADATA=strip-private: hd keeps orientation and capture data, loses GPS, serial numbers, names, maker notes and XMP; pixels untouched', async (t) => {
    if (skip) return t.skip(skip);
    await worker?.stop();
    worker = await startWorker({ PICTURE_HD_METADATA: 'strip-private' });
    const owner = await createUser(api, 'private-photographer');
    const pick = (dir: string, name: string) => path.join(sharedPath(dir), name);
    // A rotated photo with camera data: the orientation photo given a Nikon's tags by ExifTool itself.
    const rotated = path.join(scratch, 'rotated-nikon.jpg');
    await writeFile(rotated, await readFile(pick('fixtures/photos/orientation', 'portrait_6.jpg')));
    await exiftoolWrite([
      '-overwrite_original',
      '-TagsFromFile',
      pick('fixtures/photos/gps', 'DSCN0010.jpg'),
      '-all:all',
      '--Orientation',
      '-SerialNumber=1234567',
      '-OwnerName=Jane Doe',
      '-Artist=Jane Doe',
      '-XMP-dc:Creator=Jane Doe',
      rotated,
    ]);
    const files = [
      pick('fixtures/photos/gps', 'DSCN0010.jpg'),
      pick('fixtures/photos/odd-exif', '32-lens_data.jpeg'),
      pick('fixtures/photos/odd-exif', '67-0_length_string.jpg'),
      pick('fixtures/drones/photos/brighton-beach-fc300s', 'DJI_0018.JPG'),
      pick('fixtures/drones/photos/oblique-thermal', 'DJI_H20T.jpg'),
      rotated,
    ];
    const { published, refused } = await publish(owner, files);
    assert.deepEqual(refused, []);
    const hdFiles: string[] = [];
    for (const [i, { pictureId }] of published.entries()) {
      const res = await api.fetch(`/api/pictures/${pictureId}/hd.jpg`, { headers: owner.headers });
      assert.equal(res.status, 200);
      const hdPath = path.join(scratch, `hd-${i}.jpg`);
      await writeFile(hdPath, Buffer.from(await res.arrayBuffer()));
      hdFiles.push(hdPath);
    }
    const before = await exiftool(files);
    const afterStrip = await exiftool(hdFiles);
    for (const [i, file] of files.entries()) {
      const name = path.basename(file);
      const was = before[i]!;
      const now = afterStrip[i]!;
      const left = Object.keys(now).filter((k) => PRIVATE.test(k));
      assert.deepEqual(left, [], `${name}: private tags left in hd`);
      for (const tag of KEPT) assert.deepEqual(now[tag], was[tag], `${name}: ${tag} kept`);
      assert.ok(!now['ExifTool:Warning'], `${name}: ExifTool warns about the hd: ${now['ExifTool:Warning']}`);
      // The compressed image is untouched: the same pixels decode.
      const [a, b] = await Promise.all([sharp(file).raw().toBuffer(), sharp(hdFiles[i]!).raw().toBuffer()]);
      assert.ok(a.equals(b), `${name}: hd has the upload's pixels`);
    }
    assert.ok(
      Object.keys(before[0]!).some((k) => k.startsWith('GPS:')) && Object.keys(before[3]!).some((k) => k.startsWith('XMP-drone-dji:')),
      'the uploads had GPS and DJI tags to remove',
    );
    assert.equal(afterStrip[5]!['IFD0:Orientation'], 6, 'the rotated photo keeps its orientation');
    // The items still say where and when: the position lives in the catalog, not in the public file.
    compare('DSCN0010.jpg', published[0]!.item, before[0]!, null);
    t.diagnostic(`${files.length} hd files checked with ExifTool: no private tag, ${KEPT.length} capture tags kept, pixels identical`);

    // A picture published before the setting changed: pictures.reprocess strips its hd.
    assert.ok(kept, 'the keep test published DSCN0010.jpg');
    const admin = await createUser(api, 'admin', 'admin');
    const created = await api.fetch('/api/management/commands/pictures.reprocess/jobs', {
      method: 'POST',
      headers: { ...admin.headers, 'content-type': 'application/json' },
      body: JSON.stringify({ args: { picture_ids: [kept.pictureId] } }),
    });
    assert.equal(created.status, 201, await created.clone().text());
    const jobId = (await json(created)).id;
    const job = await waitFor(
      `job ${jobId}`,
      async () => {
        const j = await json(await api.fetch(`/api/management/jobs/${jobId}`, { headers: admin.headers }));
        return ['succeeded', 'failed', 'stopped'].includes(j.status) ? j : undefined;
      },
      120_000,
      200,
    );
    assert.equal(job.status, 'succeeded', JSON.stringify(job.error));
    const reprocessed = path.join(scratch, 'reprocessed.jpg');
    await writeFile(reprocessed, Buffer.from(await (await api.fetch(`/api/pictures/${kept.pictureId}/hd.jpg`, { headers: admin.headers })).arrayBuffer()));
    const [now] = await exiftool([reprocessed]);
    assert.deepEqual(
      Object.keys(now!).filter((k) => PRIVATE.test(k)),
      [],
      'the reprocessed hd has no private tag',
    );
    assert.equal(now!['ExifIFD:DateTimeOriginal'], before[0]!['ExifIFD:DateTimeOriginal']);
  });

  it('PICTURE_HD_METADATA=strip-private with blurring: the blurred hd (from a blur service, or blurred here from a detector) loses the private tags too', async (t) => {
    if (skip) return t.skip(skip);
    await worker?.stop();
    const blur = await startBlurServer();
    try {
      worker = await startWorker({ PICTURE_HD_METADATA: 'strip-private', BLUR_PROVIDER: 'http', BLUR_URL: blur.url, BLUR_TIMEOUT_MS: '5000', BLUR_RETRIES: '0' });
      const files = [path.join(sharedPath('fixtures/photos/gps'), 'DSCN0012.jpg'), path.join(sharedPath('fixtures/photos/odd-exif'), '87_OSError.jpg')];
      const before = await exiftool(files);
      for (const mode of ['jpeg', 'detector'] as const) {
        blur.state.mode = mode;
        const owner = await createUser(api, `blurred-${mode}`);
        const { published, refused } = await publish(owner, files);
        assert.deepEqual(refused, []);
        for (const [i, { pictureId }] of published.entries()) {
          const hd = Buffer.from(await (await api.fetch(`/api/pictures/${pictureId}/hd.jpg`, { headers: owner.headers })).arrayBuffer());
          assert.ok(!hd.equals(await readFile(files[i]!)), 'hd is the blurred picture');
          const hdPath = path.join(scratch, `blurred-${mode}-${i}.jpg`);
          await writeFile(hdPath, hd);
          const [now] = await exiftool([hdPath]);
          const name = `${path.basename(files[i]!)} (${mode})`;
          assert.deepEqual(
            Object.keys(now!).filter((k) => PRIVATE.test(k)),
            [],
            `${name}: private tags left in hd`,
          );
          for (const tag of KEPT) assert.deepEqual(now![tag], before[i]![tag], `${name}: ${tag} kept`);
        }
      }
      t.diagnostic(`${files.length} photos × 2 blur modes: blurred hd without private tags`);
    } finally {
      await blur.close();
    }
  });
});
