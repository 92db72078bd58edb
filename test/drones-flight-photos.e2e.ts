import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import fs from 'node:fs/promises';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { connectAsync, type MqttClient } from 'mqtt';
import { startApi, type TestApi } from './support/app.js';
import { createUser, type TestUser } from './support/auth.js';
import { uniqueSn } from './support/drones.js';
import { sharedPath } from './support/env.js';
import { decodeMvt, tileOf } from './support/mvt.js';
import { json, waitFor } from './support/net.js';
import { startWorker, type ChildHandle } from './support/processes.js';

const MQTT_URL = process.env.MQTT_URL ?? 'mqtt://127.0.0.1:1883';
const PHOTOS = sharedPath('fixtures', 'drones', 'photos', 'brighton-beach-fc300s');
const BRIGHTON = ['DJI_0018.JPG', 'DJI_0019.JPG', 'DJI_0020.JPG', 'DJI_0021.JPG', 'DJI_0022.JPG', 'DJI_0023.JPG', 'DJI_0024.JPG', 'DJI_0025.JPG'];
const md5 = (b: Buffer) => createHash('md5').update(b).digest('hex');

/**
 * The whole story of a drone survey: a remote controller connects over MQTT and flies its aircraft
 * (the flight is detected from the telemetry), then the pilot app uploads the photos of the flight,
 * which are attached to it and published as its STAC sequence with footprint geometries.
 */
describe('a flight detected from telemetry, and its photos published as its sequence', () => {
  let api: TestApi;
  let worker: ChildHandle;
  let owner: TestUser;
  let rc: MqttClient;
  let workspace: { id: string; workspace_uuid: string };
  let token: string;
  let aircraftId = '';
  let flightId = '';
  let sequenceId = '';
  let pictureIds: string[] = [];
  const rcSn = uniqueSn('RC');
  const aircraftSn = uniqueSn('AC');
  const group = `photos${Date.now().toString(36)}`;

  const post = (url: string, body: unknown, headers: Record<string, string>) =>
    api.fetch(url, { method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body: JSON.stringify(body) });
  const get = async (url: string) => json(await api.fetch(`/api/drones/workspaces/${workspace.id}${url}`, { headers: owner.headers }));

  before(async () => {
    const env = { LOG_LEVEL: 'error', MQTT_URL, MQTT_CONSUMER: 'api', MQTT_SHARE_GROUP: group };
    api = await startApi({ env });
    // Pictures are blurred and derived by a real worker process (which does not consume MQTT here).
    worker = await startWorker(env);
    owner = await createUser(api, 'survey-owner');
    workspace = await json(await post('/api/drones/workspaces', { name: 'Brighton beach survey team' }, owner.headers));
    const connection = await json(await post(`/api/drones/workspaces/${workspace.id}/connections`, { name: 'Phantom RC' }, owner.headers));
    token = (await json(await post('/api/drones/connection-link/auth/login', { connection_id: connection.connection_id, secret: connection.secret }, {}))).token;
    rc = await connectAsync(MQTT_URL, { clientId: `survey-rc-${rcSn}`, reconnectPeriod: 0 });
    await waitFor('the consumer to be ready', async () => (await json(await api.fetch('/api/health/ready'))).details?.mqtt?.status === 'up');
  });
  after(async () => {
    await rc?.endAsync(true);
    await worker?.stop();
    await api?.close();
  });

  it('the remote controller is bound, reports its aircraft, and flies it: one flight, from take-off to landing', async () => {
    const bound = await post(
      `/manage/api/v1/devices/${rcSn}/binding`,
      { device_sn: rcSn, workspace_id: workspace.workspace_uuid, domain: '2', type: 119, sub_type: 0 },
      { 'x-auth-token': token },
    );
    assert.equal((await json(bound)).code, 0);
    const topology = (subDevices: string[]) =>
      JSON.stringify({
        tid: `topo-${subDevices.length}-${Date.now()}`,
        bid: 'bid',
        method: 'update_topo',
        timestamp: Date.now(),
        data: { domain: '2', type: 119, sub_type: 0, sub_devices: subDevices.map((sn) => ({ sn, domain: '0', type: 67, sub_type: 0, index: 'A' })) },
      });
    await rc.publishAsync(`sys/product/${rcSn}/status`, topology([aircraftSn]));
    const drones = await waitFor('the aircraft reported under the remote controller', async () => {
      const list = await get('/drones');
      return Array.isArray(list) && list.length === 1 ? list : null;
    });
    aircraftId = drones[0].id;
    assert.equal(drones[0].sn, aircraftSn);

    // The photos were taken on 23 June 2016 between 21:31:59 and 21:32:50 UTC (16:31 in Duluth, CDT):
    // the telemetry of that flight, at DJI's 0.5 Hz, from the ground to 40 m and back.
    const start = Date.parse('2016-06-23T21:30:30Z');
    const lon0 = -91.99456;
    const lat0 = 46.84261;
    for (let i = 0; i <= 75; i++) {
      const at = start + i * 2000;
      const phase = i < 5 ? 'ground' : i < 10 ? 'climb' : i < 65 ? 'cruise' : i < 70 ? 'descend' : 'landed';
      const elevation = phase === 'ground' || phase === 'landed' ? 0 : phase === 'climb' ? (i - 4) * 8 : phase === 'descend' ? (70 - i) * 8 : 40;
      const mode = phase === 'ground' || phase === 'landed' ? 0 : 3;
      const step = Math.max(0, Math.min(i, 65) - 10) * 0.000004;
      const data = {
        mode_code: mode,
        latitude: lat0 + step,
        longitude: lon0 + step,
        height: 158.5 + elevation,
        elevation,
        attitude_head: 45,
        horizontal_speed: phase === 'cruise' ? 3 : 0,
        vertical_speed: phase === 'climb' ? 4 : phase === 'descend' ? -4 : 0,
        battery: { capacity_percent: 95 - Math.floor(i / 5) },
      };
      await rc.publishAsync(`thing/product/${aircraftSn}/osd`, JSON.stringify({ tid: `t${i}`, bid: `b${i}`, timestamp: at, gateway: rcSn, data }));
    }
    const flights = await waitFor('the flight landed', async () => {
      const list = await get(`/drones/${aircraftId}/flights`);
      const items = Array.isArray(list) ? list : list.items;
      return items?.length === 1 && items[0].landed_at ? items : null;
    });
    flightId = flights[0].id;
    assert.equal(flights[0].is_created_manually, false);
    assert.ok(
      Date.parse(flights[0].started_at) >= Date.parse('2016-06-23T21:30:38Z') && Date.parse(flights[0].started_at) <= Date.parse('2016-06-23T21:31:00Z'),
      flights[0].started_at,
    );
    assert.ok(Date.parse(flights[0].landed_at) >= Date.parse('2016-06-23T21:32:50Z'), flights[0].landed_at);

    // The remote controller reports the aircraft gone: the flight ends.
    await rc.publishAsync(`sys/product/${rcSn}/status`, topology([]));
    await waitFor('the flight ended', async () => ((await get(`/flights/${flightId}`)).status === 'ended' ? true : null));
  });

  it('the pilot app uploads the flight photos: each is attached to the flight and published in its sequence with its footprint', async () => {
    const ids: string[] = [];
    for (const name of BRIGHTON) {
      const data = await fs.readFile(path.join(PHOTOS, name));
      const form = new FormData();
      form.set('fingerprint', md5(data));
      form.set('drone_sn', aircraftSn);
      form.set('path', 'DCIM/100MEDIA');
      form.set('file', new Blob([data], { type: 'image/jpeg' }), name);
      const res = await api.fetch(`/api/drones/workspaces/${workspace.id}/media`, { method: 'POST', headers: { 'x-auth-token': token }, body: form });
      assert.equal(res.status, 201, await res.clone().text());
      ids.push((await json(res)).id);
    }
    const media = await waitFor(
      'the photos processed',
      async () => {
        const page = await get(`/flights/${flightId}/media?limit=50`);
        return page.total === 8 && page.items.every((m: { status: string; picture_id: string | null }) => m.status === 'ready' && m.picture_id) ? page.items : null;
      },
      180_000,
      500,
    );
    assert.deepEqual(new Set(media.map((m: { id: string }) => m.id)), new Set(ids), 'every photo attached to the detected flight');

    pictureIds = media.map((m: { picture_id: string }) => m.picture_id);
    const search = await waitFor(
      'the 8 photos in the search',
      async () => {
        const page = await json(await api.fetch(`/api/search?${new URLSearchParams({ ids: pictureIds.join(','), limit: '20' })}`, { headers: owner.headers }));
        return page.features?.length === 8 ? page : null;
      },
      120_000,
      500,
    );
    const collections = new Set(search.features.map((f: { collection: string }) => f.collection));
    assert.equal(collections.size, 1, "one sequence for the flight's photos");
    for (const item of search.features) {
      assert.equal(item.geometry.type, 'Polygon', 'the footprint, not the camera point');
      assert.ok(item.links.some((l: { href: string }) => l.href.endsWith(`/flights/${flightId}`)));
    }
    sequenceId = [...collections][0] as string;
    // In capture order, the first photo first.
    const sequence = await json(await api.fetch(`/api/collections/${sequenceId}/items?limit=20`, { headers: owner.headers }));
    const first = sequence.features[0];
    assert.equal(first.properties.datetime, '2016-06-23T21:31:59Z');

    // On the map (its owner's tiles): each photo where it was taken, and its footprint.
    const { z, x, y } = tileOf(-91.9945599, 46.8426071, 15);
    const pictures = decodeMvt(new Uint8Array(await (await api.fetch(`/api/map/${z}/${x}/${y}.mvt`, { headers: owner.headers })).arrayBuffer())).pictures;
    const point = pictures?.features.find((f) => f.properties.id === first.id);
    assert.equal(point?.type, 1, 'the photo is a point of the pictures layer');
    const footprints = decodeMvt(new Uint8Array(await (await api.fetch(`/api/map/footprints/${z}/${x}/${y}.mvt`, { headers: owner.headers })).arrayBuffer())).footprints;
    const footprint = footprints?.features.find((f) => f.properties.id === first.id);
    assert.equal(footprint?.type, 3, 'its footprint is a polygon of the footprints layer');
    assert.equal(footprint?.properties.kind, 'picture');
    // Private: nobody else sees it (other tests of the run may have published their own photos there).
    const anonymous = await api.fetch(`/api/map/footprints/${z}/${x}/${y}.mvt`);
    const seen = anonymous.status === 204 ? [] : (decodeMvt(new Uint8Array(await anonymous.arrayBuffer())).footprints?.features ?? []);
    assert.ok(!seen.some((f) => f.properties.id === first.id));
  });

  it('deleting the workspace takes its flights, photos, sequence and files along', async () => {
    const res = await api.fetch(`/api/drones/workspaces/${workspace.id}`, { method: 'DELETE', headers: owner.headers });
    assert.equal(res.status, 204);
    assert.equal((await api.fetch(`/api/collections/${sequenceId}`, { headers: owner.headers })).status, 404);
    const left = await json(await api.fetch(`/api/search?${new URLSearchParams({ ids: pictureIds.join(','), limit: '20' })}`, { headers: owner.headers }));
    assert.equal(left.features.length, 0);
    for (const id of pictureIds) assert.equal((await api.fetch(`/api/pictures/${id}/status`, { headers: owner.headers })).status, 404);
  });
});
