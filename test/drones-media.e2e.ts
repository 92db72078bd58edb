import { GetObjectCommand, HeadObjectCommand, ListObjectsV2Command, PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import assert from 'node:assert/strict';
import { createHash, randomBytes, randomUUID } from 'node:crypto';
import fs from 'node:fs/promises';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { DataSource } from 'typeorm';
import { DroneMediaService } from '../src/drones/media/media.service.js';
import { StorageService } from '../src/storage/storage.service.js';
import { startApi, type TestApi } from './support/app.js';
import { createUser, type TestUser } from './support/auth.js';
import { sharedPath } from './support/env.js';
import { json, waitFor } from './support/net.js';
import { startWorker, type ChildHandle } from './support/processes.js';
import { startS3, type TestS3 } from './support/s3.js';
import { stacValidator } from './support/stac-validate.js';

const PHOTOS = sharedPath('fixtures', 'drones', 'photos');
const BRIGHTON = ['DJI_0018.JPG', 'DJI_0019.JPG', 'DJI_0020.JPG', 'DJI_0021.JPG', 'DJI_0022.JPG', 'DJI_0023.JPG', 'DJI_0024.JPG', 'DJI_0025.JPG'];
/** Phantom 3 Advanced (FC300S): 1/2.3" sensor 6.17 × 4.55 mm, focal 3.61 mm; its 16:9 photos use the sensor's full width. */
const FC300S = { sensorWidth: 6.17, sensorHeight: (6.17 * 9) / 16, focal: 3.61 };

const md5 = (b: Buffer) => createHash('md5').update(b).digest('hex');
const sha256 = (b: Buffer | ArrayBuffer) =>
  createHash('sha256')
    .update(Buffer.from(b as ArrayBuffer))
    .digest('hex');
const unique = () => randomUUID().slice(0, 8).toUpperCase();

/** Metres between two lon/lat points (a sphere is close enough over tens of metres). */
function metres(a: number[], b: number[]): number {
  const R = 6371008.8;
  const rad = Math.PI / 180;
  const dLat = (b[1]! - a[1]!) * rad;
  const dLon = (b[0]! - a[0]!) * rad * Math.cos(((a[1]! + b[1]!) / 2) * rad);
  return R * Math.hypot(dLat, dLon);
}

interface Pilot {
  workspaceId: string;
  workspaceUuid: string;
  token: string;
  headers: Record<string, string>;
}

/** A workspace of `owner` with a pilot connection logged in (its x-auth-token). */
async function pilotOf(api: TestApi, owner: TestUser, name: string): Promise<Pilot> {
  const created = await api.fetch('/api/drones/workspaces', { method: 'POST', headers: { ...owner.headers, 'content-type': 'application/json' }, body: JSON.stringify({ name }) });
  assert.equal(created.status, 201, await created.clone().text());
  const workspace = await json(created);
  const connection = await json(
    await api.fetch(`/api/drones/workspaces/${workspace.id}/connections`, {
      method: 'POST',
      headers: { ...owner.headers, 'content-type': 'application/json' },
      body: JSON.stringify({ name: `${name} RC` }),
    }),
  );
  const login = await api.fetch('/api/drones/connection-link/auth/login', {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ connection_id: connection.connection_id, secret: connection.secret }),
  });
  assert.equal(login.status, 200, await login.clone().text());
  const { token } = await json(login);
  return { workspaceId: workspace.id, workspaceUuid: workspace.workspace_uuid, token, headers: { 'x-auth-token': token } };
}

async function dji(api: TestApi, pilot: Pilot, route: string, body: unknown, workspaceUuid = pilot.workspaceUuid) {
  const [service] = route.split('/');
  const rest = route.slice(service!.length + 1);
  const res = await api.fetch(`/${service}/api/v1/workspaces/${workspaceUuid}/${rest}`, {
    method: 'POST',
    headers: { ...pilot.headers, 'content-type': 'application/json' },
    body: JSON.stringify(body),
  });
  return { status: res.status, body: await json(res) };
}

/** DJI Pilot 2's flow for one file: fast-upload, PUT into the bucket with the temporary credentials, upload-callback. */
async function pilotUpload(
  api: TestApi,
  pilot: Pilot,
  sts: { client: S3Client; bucket: string; prefix: string },
  file: { name: string; data: Buffer; sn: string; createdTime?: string; droneModelKey?: string },
) {
  const fingerprint = md5(file.data);
  const tiny = `${fingerprint}_${file.name}`;
  const ext = { tinny_fingerprint: tiny, sn: file.sn, is_original: true, ...(file.droneModelKey ? { drone_model_key: file.droneModelKey } : {}) };
  const fast = await dji(api, pilot, 'media/fast-upload', { fingerprint, name: file.name, path: 'DJI_001', ext });
  assert.equal(fast.status, 200);
  if (fast.body.code === 0) return { fingerprint, tiny, fast, callback: null };
  const objectKey = `${sts.prefix}/${file.name}`;
  await sts.client.send(new PutObjectCommand({ Bucket: sts.bucket, Key: objectKey, Body: file.data, ContentType: 'image/jpeg' }));
  const callback = await dji(api, pilot, 'media/upload-callback', {
    result: 0,
    fingerprint,
    name: file.name,
    path: 'DJI_001',
    object_key: objectKey,
    sub_file_type: 0,
    ext,
    // As some senders do: numbers as strings, `create_time` for `created_time`.
    metadata: {
      create_time: file.createdTime ?? '2016-06-23 21:31:59',
      relative_altitude: '39.8',
      absolute_altitude: '198.3',
      gimbal_yaw_degree: '45',
      shoot_position: { lat: '46.8426', lng: '-91.9945' },
    },
  });
  return { fingerprint, tiny, fast, callback, objectKey };
}

describe('drone media: DJI Pilot 2 uploading straight to the bucket (STORAGE_DRIVER=s3, s3rver)', () => {
  let s3: TestS3;
  let api: TestApi;
  let worker: ChildHandle;
  let owner: TestUser;
  let pilot: Pilot;
  let other: Pilot;
  let sts: { client: S3Client; bucket: string; prefix: string };
  let flightId = '';
  const aircraft = `1581F-${unique()}`;
  const photoMedia: Record<string, string> = {};
  let env: Record<string, string>;

  before(async () => {
    s3 = await startS3();
    const dataDir = await fs.mkdtemp(path.join(process.env.DATA_DIR!, 'drones-s3-'));
    // s3rver has no STS: the development fallback hands out the storage's own key.
    env = { ...s3.env('sightline-drones'), DATA_DIR: dataDir, S3_STS_DEV_FALLBACK: 'true' };
    api = await startApi({ env });
    worker = await startWorker(env);
    owner = await createUser(api, 'drone-owner');
    pilot = await pilotOf(api, owner, `Survey team ${unique()}`);
    other = await pilotOf(api, await createUser(api, 'other-team'), `Other team ${unique()}`);
    // A flight the telemetry detected for this aircraft (the afternoon of 23 June 2016, UTC).
    const rows = await api.app.get(DataSource).query(
      `INSERT INTO drone_flight (workspace_id, device_sn, name, status, started_at, landed_at, ended_at, end_reason, is_created_manually)
         VALUES ($1, $2, $3, 'ended', '2016-06-23T12:00:00Z', '2016-06-24T05:59:00Z', '2016-06-24T06:00:00Z', 'offline', false) RETURNING id`,
      [pilot.workspaceId, aircraft, `Brighton beach survey ${unique()}`],
    );
    flightId = rows[0].id;
  });
  after(async () => {
    await worker?.stop();
    await api?.close();
    await s3?.close();
  });

  it('sts: temporary credentials in DJI’s shape, for this workspace’s prefix of the bucket', async () => {
    const res = await dji(api, pilot, 'storage/sts', {});
    assert.equal(res.status, 200, JSON.stringify(res.body));
    assert.equal(res.body.code, 0);
    assert.equal(res.body.message, 'success');
    const d = res.body.data;
    assert.deepEqual(Object.keys(d).sort(), ['bucket', 'credentials', 'endpoint', 'object_key_prefix', 'provider', 'region']);
    assert.deepEqual(Object.keys(d.credentials).sort(), ['access_key_id', 'access_key_secret', 'expire', 'security_token']);
    assert.equal(d.bucket, s3.bucket);
    assert.equal(d.endpoint, s3.endpoint);
    assert.equal(d.provider, 'minio');
    assert.equal(d.region, 'us-east-1');
    assert.equal(d.object_key_prefix, `sightline-drones/drones/uploads/${pilot.workspaceId}`);
    assert.ok(d.credentials.expire >= 900);
    sts = {
      bucket: d.bucket,
      prefix: d.object_key_prefix,
      client: new S3Client({
        endpoint: d.endpoint,
        region: d.region,
        forcePathStyle: true,
        credentials: { accessKeyId: d.credentials.access_key_id, secretAccessKey: d.credentials.access_key_secret, sessionToken: d.credentials.security_token || undefined },
      }),
    };
    // Another workspace's pilot gets its own prefix.
    const theirs = await dji(api, other, 'storage/sts', {});
    assert.equal(theirs.body.data.object_key_prefix, `sightline-drones/drones/uploads/${other.workspaceId}`);
  });

  it('a route naming another workspace, or without a token, is refused in DJI’s envelope', async () => {
    const foreign = await dji(api, pilot, 'storage/sts', {}, other.workspaceUuid);
    assert.equal(foreign.status, 404);
    assert.notEqual(foreign.body.code, 0);
    const anonymous = await api.fetch(`/media/api/v1/workspaces/${pilot.workspaceUuid}/fast-upload`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: '{"fingerprint":"x"}',
    });
    assert.equal(anonymous.status, 401);
    assert.notEqual((await json(anonymous)).code, 0);
  });

  it('the Brighton beach photos: fast-upload says upload, the PUT goes to the bucket, the callback takes each in', async () => {
    for (const name of BRIGHTON) {
      const data = await fs.readFile(path.join(PHOTOS, 'brighton-beach-fc300s', name));
      const { fast, callback, objectKey } = await pilotUpload(api, pilot, sts, { name, data, sn: aircraft });
      assert.equal(fast.body.code, -1, 'an unknown fingerprint: upload it');
      assert.equal(callback!.status, 200, JSON.stringify(callback!.body));
      assert.equal(callback!.body.code, 0, JSON.stringify(callback!.body));
      assert.equal(callback!.body.data.object_key, objectKey);
      photoMedia[name] = callback!.body.data.media_id;
    }
    // Moved out of the upload prefix into Sightline's own keys.
    const left = await s3.client.send(new ListObjectsV2Command({ Bucket: s3.bucket, Prefix: `${sts.prefix}/` }));
    assert.equal(left.KeyCount ?? 0, 0);
    const list = await json(await api.fetch(`/api/drones/workspaces/${pilot.workspaceId}/flights/${flightId}/media?limit=50`, { headers: owner.headers }));
    assert.equal(list.total, 8, JSON.stringify(list));
    for (const m of list.items) {
      assert.equal(m.kind, 'photo');
      assert.equal(m.flight_id, flightId, 'attached to the flight of its aircraft that covers its capture time');
      assert.equal(m.drone_sn, aircraft);
      assert.equal(m.tiny_fingerprint, `${m.fingerprint}_${m.name}`);
      const original = await fs.readFile(path.join(PHOTOS, 'brighton-beach-fc300s', m.name));
      assert.equal(m.sha256, sha256(original));
      assert.equal(m.size, original.length);
      assert.equal(m.ground_coverage.truncated, false);
    }
  });

  it('the flight’s photos become one sequence of STAC items whose geometry is each photo’s footprint', async () => {
    const ids = () =>
      Promise.all(
        BRIGHTON.map(
          async (n) => (await json(await api.fetch(`/api/drones/workspaces/${pilot.workspaceId}/media/${photoMedia[n]}`, { headers: owner.headers }))).picture_id as string,
        ),
      );
    const pictureIds = await ids();
    const search = await waitFor(
      'the 8 photos published',
      async () => {
        const page = await json(await api.fetch(`/api/search?${new URLSearchParams({ ids: pictureIds.join(','), limit: '20' })}`, { headers: owner.headers }));
        return page.features?.length === 8 ? page : null;
      },
      120_000,
      500,
    );
    const collections = new Set(search.features.map((f: { collection: string }) => f.collection));
    assert.equal(collections.size, 1, 'one sequence per flight');
    const collection = await json(await api.fetch(`/api/collections/${[...collections][0]}`, { headers: owner.headers }));
    assert.match(collection.title, /^Brighton beach survey /, 'titled after the flight');
    assert.equal(collection['sightline:kind'], 'sequence');
    // Private by default: nobody else finds them.
    const anonymous = await json(await api.fetch(`/api/search?${new URLSearchParams({ ids: pictureIds.join(','), limit: '20' })}`));
    assert.equal(anonymous.features.length, 0);

    for (const item of search.features) {
      assert.equal(item.geometry.type, 'Polygon');
      const ring = item.geometry.coordinates[0] as number[][];
      assert.equal(ring.length, 5);
      const p = item.properties;
      const height = p['dji:relative_altitude'];
      // A nadir shot's footprint is the sensor scaled by height / focal length: a rectangle.
      const sides = [0, 1, 2, 3].map((i) => metres(ring[i]!, ring[i + 1]!));
      const [long, short] = [(height * FC300S.sensorWidth) / FC300S.focal, (height * FC300S.sensorHeight) / FC300S.focal];
      for (const [i, side] of sides.entries()) {
        const expected = i % 2 === 0 ? long : short;
        assert.ok(Math.abs(side - expected) / expected < 0.03, `side ${i} ${side.toFixed(2)} m, expected ${expected.toFixed(2)} m`);
      }
      const diagonals = [metres(ring[0]!, ring[2]!), metres(ring[1]!, ring[3]!)];
      assert.ok(Math.abs(diagonals[0]! - diagonals[1]!) < 0.5, `a rectangle: diagonals ${diagonals}`);
      assert.ok(p['view:off_nadir'] < 1, String(p['view:off_nadir']));
      assert.ok(Math.abs(((p['view:azimuth'] - ((p['dji:gimbal_yaw'] + 360) % 360) + 540) % 360) - 180) < 1, 'faces its gimbal yaw');
      assert.ok(p.gsd > 0.01 && p.gsd < 0.03, `GSD ${p.gsd} m`);
      assert.deepEqual(p.instruments, ['FC300S']);
      assert.equal(p.platform, 'Phantom 3 Advanced', 'the aircraft of its built-in camera');
      assert.equal(p['pers:perspective_center'].length, 3);
      assert.equal(p['pers:interior_orientation'].focal_length, FC300S.focal);
      for (const key of ['dji:gimbal_pitch', 'dji:gimbal_roll', 'dji:flight_yaw', 'dji:flight_pitch', 'dji:flight_roll', 'dji:absolute_altitude'])
        assert.equal(typeof p[key], 'number', key);
      assert.ok(item.stac_extensions.some((e: string) => e.includes('/view/')));
      assert.ok(item.stac_extensions.some((e: string) => e.includes('/perspective-imagery/')));
      const flightLink = item.links.find(
        (l: { rel: string; href: string }) => l.rel === 'related' && l.href.endsWith(`/api/drones/workspaces/${pilot.workspaceId}/flights/${flightId}`),
      );
      assert.ok(flightLink, JSON.stringify(item.links));
    }
    const first = search.features.find((f: { properties: Record<string, unknown> }) => f.properties['sightline:drone_media_id'] === photoMedia['DJI_0018.JPG']);
    assert.equal(first.properties['dji:gimbal_pitch'], -89.9);
    assert.equal(first.properties['dji:gimbal_yaw'], 45);

    const { validator, skipReason } = await stacValidator();
    if (validator) assert.deepEqual(await validator.validate(search, 'drone photos'), []);
    else process.stderr.write(`${skipReason}\n`);
  });

  it('ground coverage of a photo: a GeoJSON Feature with its corners in metres', async () => {
    const res = await api.fetch(`/api/drones/workspaces/${pilot.workspaceId}/media/${photoMedia['DJI_0021.JPG']}/ground-coverage`, { headers: owner.headers });
    assert.equal(res.status, 200);
    assert.match(res.headers.get('content-type') ?? '', /application\/geo\+json/);
    const feature = await json(res);
    assert.equal(feature.type, 'Feature');
    assert.equal(feature.geometry.type, 'Polygon');
    assert.equal(feature.properties.truncated, false);
    assert.deepEqual(
      feature.properties.corners.map((c: { corner: string }) => c.corner),
      ['top-left', 'top-right', 'bottom-right', 'bottom-left'],
    );
    // DJI_0021: gimbal pitch −90, yaw 45: the image's top edge runs along the yaw.
    const [tl, tr] = feature.properties.corners;
    const edge = (Math.atan2(tr.east - tl.east, tr.north - tl.north) * 180) / Math.PI;
    assert.ok(Math.abs(((edge - 135 + 540) % 360) - 180) < 1, `top edge heads ${edge}° (yaw 45° + 90°)`);
  });

  it('the same fingerprint again: fast-upload and the callback answer "have it"', async () => {
    const data = await fs.readFile(path.join(PHOTOS, 'brighton-beach-fc300s', 'DJI_0018.JPG'));
    const fingerprint = md5(data);
    const fast = await dji(api, pilot, 'media/fast-upload', { fingerprint, name: 'DJI_0018.JPG', path: '', ext: { sn: aircraft } });
    assert.deepEqual(fast.body, { code: 0, message: 'success', data: {} });
    // A pilot app that uploads anyway: the callback answers with the file the workspace has, and the copy goes.
    const key = `${sts.prefix}/again/DJI_0018.JPG`;
    await sts.client.send(new PutObjectCommand({ Bucket: sts.bucket, Key: key, Body: data }));
    const again = await dji(api, pilot, 'media/upload-callback', { fingerprint, name: 'DJI_0018.JPG', object_key: key, ext: { sn: aircraft } });
    assert.equal(again.body.code, 0);
    assert.equal(again.body.data.media_id, photoMedia['DJI_0018.JPG']);
    await assert.rejects(s3.client.send(new HeadObjectCommand({ Bucket: s3.bucket, Key: key })));
    // Two callbacks at once for one new file: one media.
    const fresh = randomBytes(2048);
    const keys = [`${sts.prefix}/race-a.bin`, `${sts.prefix}/race-b.bin`];
    for (const k of keys) await sts.client.send(new PutObjectCommand({ Bucket: sts.bucket, Key: k, Body: fresh }));
    const both = await Promise.all(keys.map((k) => dji(api, pilot, 'media/upload-callback', { fingerprint: md5(fresh), name: 'race.bin', object_key: k })));
    assert.deepEqual(
      both.map((b) => b.body.code),
      [0, 0],
    );
    assert.equal(both[0]!.body.data.media_id, both[1]!.body.data.media_id);
    const all = await json(await api.fetch(`/api/drones/workspaces/${pilot.workspaceId}/media?limit=100`, { headers: owner.headers }));
    assert.equal(all.items.filter((m: { fingerprint: string }) => m.fingerprint === md5(fresh)).length, 1);
    assert.equal(all.items.filter((m: { fingerprint: string }) => m.fingerprint === fingerprint).length, 1);
  });

  it('tiny fingerprints: which of these the workspace has', async () => {
    const data = await fs.readFile(path.join(PHOTOS, 'brighton-beach-fc300s', 'DJI_0020.JPG'));
    const known = `${md5(data)}_DJI_0020.JPG`;
    const res = await dji(api, pilot, 'media/files/tiny-fingerprints', { tiny_fingerprints: [known, 'ffffffff_2024_1_1_0_0_0'] });
    assert.deepEqual(res.body, { code: 0, message: 'success', data: { tiny_fingerprints: [known] } });
    // Another workspace has none of them.
    const theirs = await dji(api, other, 'media/files/tiny-fingerprints', { tiny_fingerprints: [known] });
    assert.deepEqual(theirs.body.data.tiny_fingerprints, []);
    const bad = await dji(api, pilot, 'media/files/tiny-fingerprints', { tiny_fingerprints: 'abc' });
    assert.equal(bad.status, 400);
  });

  it('a callback naming a key outside this workspace’s prefix is refused, and that object is left alone', async () => {
    const theirs = `sightline-drones/drones/uploads/${other.workspaceId}/DJI_9999.JPG`;
    await s3.client.send(new PutObjectCommand({ Bucket: s3.bucket, Key: theirs, Body: Buffer.from('their file') }));
    for (const objectKey of [theirs, 'sightline-drones/drones/uploads/../uploads/x.jpg', `sightline-drones/pictures/aa/bb/x/hd.jpg`, `${sts.prefix}-evil/x.jpg`]) {
      const res = await dji(api, pilot, 'media/upload-callback', { fingerprint: md5(Buffer.from(objectKey)), name: 'x.jpg', object_key: objectKey });
      assert.ok(res.status === 403 || res.status === 400, `${objectKey}: ${res.status}`);
      assert.notEqual(res.body.code, 0);
    }
    const still = await s3.client.send(new GetObjectCommand({ Bucket: s3.bucket, Key: theirs }));
    assert.equal(await still.Body!.transformToString(), 'their file');
    const missing = await dji(api, pilot, 'media/upload-callback', { fingerprint: 'f'.repeat(32), name: 'x.jpg', object_key: `${sts.prefix}/never-uploaded.jpg` });
    assert.equal(missing.status, 404);
  });

  it('an oblique H20T shot: its footprint reaches the horizon, clipped and flagged truncated; an unassigned flight of its day', async () => {
    const data = await fs.readFile(path.join(PHOTOS, 'oblique-thermal', 'DJI_H20T.jpg'));
    const sn = `1ZNBJ-${unique()}`;
    const { callback } = await pilotUpload(api, pilot, sts, { name: 'DJI_H20T.jpg', data, sn, createdTime: '2021-05-28T14:33:46Z', droneModelKey: '0-60-0' });
    assert.equal(callback!.body.code, 0, JSON.stringify(callback!.body));
    const mediaId = callback!.body.data.media_id;
    const media = await json(await api.fetch(`/api/drones/workspaces/${pilot.workspaceId}/media/${mediaId}`, { headers: owner.headers }));
    assert.equal(media.ground_coverage.truncated, true);
    assert.ok(Math.abs(media.ground_coverage.off_nadir - (90 - 10.5)) < 0.01);
    assert.equal(media.ground_coverage.gsd_cm, null, 'no GSD far from nadir');
    const coverage = await json(await api.fetch(`/api/drones/workspaces/${pilot.workspaceId}/media/${mediaId}/ground-coverage`, { headers: owner.headers }));
    const clipped = coverage.properties.corners.filter((c: { clipped: boolean }) => c.clipped).map((c: { corner: string }) => c.corner);
    assert.deepEqual(clipped, ['top-left', 'top-right'], 'the corners above the horizon');
    const item = await waitFor(
      'the oblique photo published',
      async () => (await json(await api.fetch(`/api/search?ids=${media.picture_id}`, { headers: owner.headers }))).features?.[0],
      120_000,
      500,
    );
    assert.equal(item.geometry.type, 'Polygon');
    assert.equal(item.properties['sightline:ground_coverage_truncated'], true);
    assert.equal(item.properties.gsd, undefined);
    assert.equal(item.properties.platform, 'Matrice 300 RTK', 'from the drone model key the pilot app sent');
    assert.deepEqual(item.properties.instruments, ['ZH20T']);
    const collection = await json(await api.fetch(`/api/collections/${item.collection}`, { headers: owner.headers }));
    assert.equal(collection.title, `Unassigned photos of ${sn}, 2021-05-28`);
    assert.equal(media.flight_id, item.properties['sightline:drone_flight_id']);
  });

  it('removing the workspace’s media takes its sequences, pictures and files along', async () => {
    const ids = Object.values(photoMedia);
    const pictureIds = await Promise.all(
      ids.map(async (id) => (await json(await api.fetch(`/api/drones/workspaces/${pilot.workspaceId}/media/${id}`, { headers: owner.headers }))).picture_id as string),
    );
    const removed = await api.app.get(DroneMediaService).removeWorkspaceMedia(pilot.workspaceId, { signal: new AbortController().signal, progress: async () => undefined });
    assert.ok(removed.pictures >= 9, JSON.stringify(removed));
    const search = await json(await api.fetch(`/api/search?${new URLSearchParams({ ids: pictureIds.join(','), limit: '20' })}`, { headers: owner.headers }));
    assert.equal(search.features.length, 0);
    const left = await s3.client.send(new ListObjectsV2Command({ Bucket: s3.bucket, Prefix: `sightline-drones/drones/media/${pilot.workspaceId}/` }));
    assert.equal(left.KeyCount ?? 0, 0);
  });
});

describe('drone media: the OpenFlightHub-style multipart route (local storage)', () => {
  let api: TestApi;
  let owner: TestUser;
  let stranger: TestUser;
  let pilot: Pilot;
  const limit = 3_500_000;
  let photoId = '';

  before(async () => {
    api = await startApi({ env: { DRONE_MEDIA_MAX_BYTES: String(limit) } });
    owner = await createUser(api, 'ofh-owner');
    stranger = await createUser(api, 'ofh-stranger');
    pilot = await pilotOf(api, owner, `OFH team ${unique()}`);
  });
  after(() => api?.close());

  const upload = (headers: Record<string, string>, fields: Record<string, string>, file?: { name: string; data: Buffer; type?: string }) => {
    const form = new FormData();
    for (const [k, v] of Object.entries(fields)) form.set(k, v);
    if (file) form.set('file', new Blob([file.data], { type: file.type ?? 'application/octet-stream' }), file.name);
    return api.fetch(`/api/drones/workspaces/${pilot.workspaceId}/media`, { method: 'POST', headers, body: form });
  };

  it('a person uploads a photo: stored, hashed, its ground coverage read; the same fingerprint again is a 409 naming it', async () => {
    const data = await fs.readFile(path.join(PHOTOS, 'brighton-beach-fc300s', 'DJI_0025.JPG'));
    const res = await upload(owner.headers, { fingerprint: md5(data), drone_sn: 'OFH-SN-1', path: 'DCIM/100MEDIA' }, { name: 'DJI_0025.JPG', data, type: 'image/jpeg' });
    assert.equal(res.status, 201, await res.clone().text());
    const media = await json(res);
    photoId = media.id;
    assert.equal(media.kind, 'photo');
    assert.equal(media.sha256, sha256(data));
    assert.equal(media.path, 'DCIM/100MEDIA');
    assert.equal(media.drone_sn, 'OFH-SN-1');
    assert.equal(media.ground_coverage.truncated, false);
    assert.ok(media.flight_id, 'an unassigned flight of its day');

    const again = await upload(owner.headers, { fingerprint: md5(data) }, { name: 'copy.jpg', data });
    assert.equal(again.status, 409);
    const conflict = await json(again);
    assert.equal(conflict.details.existing_media.id, photoId);
    assert.match(conflict.message, new RegExp(photoId));
  });

  it('a pilot app uploads with its x-auth-token; a video is stored and listed, not taken into the pipeline', async () => {
    const video = Buffer.concat([Buffer.from([0, 0, 0, 0x18]), Buffer.from('ftypmp42'), randomBytes(5000)]);
    const res = await upload(
      pilot.headers,
      { fingerprint: md5(video), name: 'DJI_0001.MP4', created_time: '2024-05-01T10:00:00Z', drone_sn: 'OFH-SN-1' },
      { name: 'DJI_0001.MP4', data: video },
    );
    assert.equal(res.status, 201, await res.clone().text());
    const media = await json(res);
    assert.equal(media.kind, 'video');
    assert.equal(media.status, 'ready');
    assert.equal(media.picture_id, null);
    const list = await json(await api.fetch(`/api/drones/workspaces/${pilot.workspaceId}/media?kind=video`, { headers: owner.headers }));
    assert.deepEqual(
      list.items.map((m: { id: string }) => m.id),
      [media.id],
    );
    const byPilot = await json(await api.fetch(`/api/drones/workspaces/${pilot.workspaceId}/media`, { headers: pilot.headers }));
    assert.equal(byPilot.total, 2);
    const byFlight = await json(await api.fetch(`/api/drones/workspaces/${pilot.workspaceId}/flights/${media.flight_id}/media`, { headers: owner.headers }));
    assert.deepEqual(
      byFlight.items.map((m: { id: string }) => m.id),
      [media.id],
    );
  });

  it('refuses what is not right: no fingerprint, too large, not multipart, somebody else’s workspace, nobody', async () => {
    const small = randomBytes(100);
    assert.equal((await upload(owner.headers, {}, { name: 'x.bin', data: small })).status, 400);
    assert.equal((await upload(owner.headers, { fingerprint: 'abc' })).status, 400);
    const big = await fs.readFile(path.join(PHOTOS, 'brighton-beach-fc300s', 'DJI_0019.JPG'));
    assert.ok(big.length > limit);
    assert.equal((await upload(owner.headers, { fingerprint: md5(big) }, { name: 'DJI_0019.JPG', data: big })).status, 413);
    const json415 = await api.fetch(`/api/drones/workspaces/${pilot.workspaceId}/media`, {
      method: 'POST',
      headers: { ...owner.headers, 'content-type': 'application/json' },
      body: '{}',
    });
    assert.ok([400, 415].includes(json415.status), String(json415.status));
    assert.equal((await upload(stranger.headers, { fingerprint: 'x' }, { name: 'x.bin', data: small })).status, 404);
    assert.equal((await upload({}, { fingerprint: 'x' }, { name: 'x.bin', data: small })).status, 401);
    assert.equal((await api.fetch(`/api/drones/workspaces/${pilot.workspaceId}/media/${photoId}`, { headers: stranger.headers })).status, 404);
    assert.equal((await api.fetch(`/api/drones/workspaces/${pilot.workspaceId}/media/${randomUUID()}`, { headers: owner.headers })).status, 404);
  });

  it('serves the file with ETag, ranges and 304; 410 Gone once its bytes are gone', async () => {
    const data = await fs.readFile(path.join(PHOTOS, 'brighton-beach-fc300s', 'DJI_0025.JPG'));
    const url = `/api/drones/workspaces/${pilot.workspaceId}/media/${photoId}/file`;
    const whole = await api.fetch(url, { headers: owner.headers });
    assert.equal(whole.status, 200);
    assert.equal(whole.headers.get('content-type'), 'image/jpeg');
    assert.equal(sha256(await whole.arrayBuffer()), sha256(data));
    const etag = whole.headers.get('etag')!;
    assert.equal((await api.fetch(url, { headers: { ...owner.headers, 'if-none-match': etag } })).status, 304);
    const part = await api.fetch(url, { headers: { ...owner.headers, range: 'bytes=100-199' } });
    assert.equal(part.status, 206);
    assert.deepEqual(Buffer.from(await part.arrayBuffer()), data.subarray(100, 200));

    const media = await json(await api.fetch(`/api/drones/workspaces/${pilot.workspaceId}/media/${photoId}`, { headers: owner.headers }));
    const rows = await api.app.get(DataSource).query('SELECT storage_key FROM drone_media WHERE id = $1', [media.id]);
    await api.app.get(StorageService).delete(rows[0].storage_key);
    const gone = await api.fetch(url, { headers: owner.headers });
    assert.equal(gone.status, 410);
  });

  it('a file taken in is announced on the workspace’s live events (media_arrived)', async () => {
    const controller = new AbortController();
    const res = await api.fetch(`/api/drones/workspaces/${pilot.workspaceId}/events`, { headers: { ...owner.headers, accept: 'text/event-stream' }, signal: controller.signal });
    assert.equal(res.status, 200);
    const reader = res.body!.getReader();
    let text = '';
    const readUntil = async (pattern: RegExp) => {
      while (!pattern.test(text)) {
        const { value, done } = await reader.read();
        if (done) throw new Error(`the event stream ended before ${pattern}: ${text}`);
        text += Buffer.from(value).toString('utf8');
      }
    };
    await readUntil(/event: ready/);
    const data = randomBytes(3000);
    const uploaded = await json(await upload(pilot.headers, { fingerprint: md5(data), name: 'notes.txt' }, { name: 'notes.txt', data }));
    await readUntil(/event: media_arrived\ndata: .*\n\n/);
    const event = JSON.parse(/event: media_arrived\ndata: (.*)\n/.exec(text)![1]!);
    assert.equal(event.media_id, uploaded.id);
    assert.equal(event.kind, 'other');
    controller.abort();
  });

  it('sts on local storage: a 501 in DJI’s envelope saying why', async () => {
    const res = await dji(api, pilot, 'storage/sts', {});
    assert.equal(res.status, 501);
    assert.equal(res.body.code, 501);
    assert.match(res.body.message, /STORAGE_DRIVER=s3/);
  });
});
