import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { after, before, describe, it } from 'node:test';
import { connectAsync, type MqttClient } from 'mqtt';
import { startApi, type TestApi } from './support/app.js';
import { createUser, type TestUser } from './support/auth.js';
import { uniqueSn } from './support/drones.js';
import { sharedPath } from './support/env.js';
import { freePort, json, waitFor } from './support/net.js';

const MQTT_URL = process.env.MQTT_URL ?? 'mqtt://127.0.0.1:1883';

/** DJI's documented aircraft OSD (thing/product/{sn}/osd) as the template of the fake remote controller's messages. */
function aircraftTemplate(): { data: Record<string, unknown> } {
  try {
    return JSON.parse(readFileSync(sharedPath('fixtures/drones/dji-payloads/aircraft-osd-under-rc.json'), 'utf8'));
  } catch {
    return { data: { attitude_head: 0, battery: { capacity_percent: 45 }, elevation: 0, height: 100, latitude: 22, longitude: 113, mode_code: 0, vertical_speed: 0 } };
  }
}

interface SseEvent {
  event: string;
  data: Record<string, unknown>;
}

/** Follows a Server-Sent Events stream, collecting its events. */
async function follow(api: TestApi, path: string, headers: Record<string, string>): Promise<{ events: SseEvent[]; status: number; close(): void }> {
  const controller = new AbortController();
  const res = await api.fetch(path, { headers: { ...headers, accept: 'text/event-stream' }, signal: controller.signal });
  const events: SseEvent[] = [];
  if (res.status === 200) {
    assert.match(res.headers.get('content-type') ?? '', /^text\/event-stream/);
    void (async () => {
      const decoder = new TextDecoder();
      let buffer = '';
      try {
        for await (const chunk of res.body as unknown as AsyncIterable<Uint8Array>) {
          buffer += decoder.decode(chunk, { stream: true });
          let end: number;
          while ((end = buffer.indexOf('\n\n')) >= 0) {
            const block = buffer.slice(0, end);
            buffer = buffer.slice(end + 2);
            const event = /^event: (.*)$/m.exec(block)?.[1];
            const data = /^data: (.*)$/m.exec(block)?.[1];
            if (event && data) events.push({ event, data: JSON.parse(data) });
          }
        }
      } catch {
        // Aborted.
      }
    })();
  } else {
    await res.body?.cancel();
  }
  return { events, status: res.status, close: () => controller.abort() };
}

describe('drone telemetry over MQTT: topology, flights, last state, live events', () => {
  let api: TestApi;
  let owner: TestUser;
  let stranger: TestUser;
  let rc: MqttClient;
  let workspace: { id: string; workspace_uuid: string };
  let token: string;
  const rcSn = uniqueSn('RC');
  const aircraftSn = uniqueSn('AC');
  const replies: Record<string, unknown>[] = [];
  const group = `e2e${Date.now().toString(36)}`;
  const template = aircraftTemplate();
  let t = Date.now() - 120_000;
  let flightId: string;
  let sse: Awaited<ReturnType<typeof follow>>;

  const post = (path: string, body: unknown, headers: Record<string, string>) =>
    api.fetch(path, { method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body: JSON.stringify(body) });
  const get = async (path: string, user: TestUser = owner) => api.fetch(`/api/drones/workspaces/${workspace.id}${path}`, { headers: user.headers });
  const metric = async (result: string) => {
    const text = await (await api.fetch('/api/metrics')).text();
    return Number(new RegExp(`^sightline_drone_telemetry_messages_total\\{result="${result}"\\} (\\d+)`, 'm').exec(text)?.[1] ?? 0);
  };
  const osd = (sn: string, at: number, data: Record<string, unknown>) =>
    JSON.stringify({ ...template, tid: `tid-${at}`, bid: `bid-${at}`, timestamp: at, gateway: rcSn, data: { ...template.data, ...data } });
  const topology = (subDevices: { sn: string }[], tid: string) =>
    JSON.stringify({
      tid,
      bid: `bid-${tid}`,
      method: 'update_topo',
      timestamp: Date.now(),
      data: {
        domain: '2',
        type: 119,
        sub_type: 0,
        device_secret: 'secret',
        nonce: 'nonce',
        thing_version: '1.1.2',
        sub_devices: subDevices.map((d) => ({ sn: d.sn, domain: '0', type: 77, sub_type: 0, index: 'A', device_secret: 'secret', nonce: 'nonce', thing_version: '1.1.2' })),
      },
    });

  before(async () => {
    api = await startApi({ env: { LOG_LEVEL: 'error', MQTT_URL, MQTT_CONSUMER: 'api', MQTT_SHARE_GROUP: group } });
    owner = await createUser(api, 'fleet-owner');
    stranger = await createUser(api, 'fleet-stranger');
    workspace = await json(await post('/api/drones/workspaces', { name: 'Telemetry fleet' }, owner.headers));
    const connection = await json(await post(`/api/drones/workspaces/${workspace.id}/connections`, { name: 'RC Plus' }, owner.headers));
    const login = await json(await post('/api/drones/connection-link/auth/login', { connection_id: connection.connection_id, secret: connection.secret }, {}));
    token = login.token;
    // The fake remote controller: a real MQTT client on the real broker.
    rc = await connectAsync(MQTT_URL, { clientId: `fake-rc-${rcSn}`, reconnectPeriod: 0 });
    rc.on('message', (_topic, payload) => replies.push(JSON.parse(payload.toString())));
    await rc.subscribeAsync(`sys/product/${rcSn}/status_reply`);
    await waitFor('the consumer to be ready', async () => (await json(await api.fetch('/api/health/ready'))).details?.mqtt?.status === 'up');
  });
  after(async () => {
    sse?.close();
    await rc?.endAsync(true);
    await api?.close();
  });

  it('DJI Pilot 2 binds its remote controller with its token (DJI envelope)', async () => {
    const res = await post(
      `/manage/api/v1/devices/${rcSn}/binding`,
      { device_sn: rcSn, workspace_id: workspace.workspace_uuid, domain: '2', type: 119, sub_type: 0 },
      { 'x-auth-token': token },
    );
    const answer = await json(res);
    assert.equal(res.status, 200, JSON.stringify(answer));
    assert.deepEqual(answer, { code: 0, message: 'success', data: {} });
    const unauthenticated = await post(`/manage/api/v1/devices/${rcSn}/binding`, { device_sn: rcSn }, {});
    assert.equal(unauthenticated.status, 401);
    assert.notEqual((await json(unauthenticated)).code, 0);
    const controllers = await json(await get('/remote-controllers'));
    assert.deepEqual(
      controllers.map((d: { sn: string }) => d.sn),
      [rcSn],
    );
  });

  it('follows the workspace live; a stranger may not', async () => {
    sse = await follow(api, `/api/drones/workspaces/${workspace.id}/events`, owner.headers);
    assert.equal(sse.status, 200);
    await waitFor('the stream to open', async () => sse.events.some((e) => e.event === 'ready'));
    const refused = await follow(api, `/api/drones/workspaces/${workspace.id}/events`, stranger.headers);
    assert.equal(refused.status, 404);
  });

  it('a topology report brings the aircraft online under its remote controller and is answered', async () => {
    rc.publish(`sys/product/${rcSn}/status`, topology([{ sn: aircraftSn }], 'topo-1'));
    await waitFor('the status_reply', async () => replies.find((r) => r.tid === 'topo-1'));
    const reply = replies.find((r) => r.tid === 'topo-1')!;
    assert.deepEqual({ ...reply, timestamp: 0 }, { tid: 'topo-1', bid: 'bid-topo-1', timestamp: 0, method: 'update_topo', data: { result: 0 } });
    const drones = await json(await get('/drones'));
    assert.equal(drones.length, 1);
    assert.equal(drones[0].sn, aircraftSn);
    assert.equal(drones[0].model_key, '0-77-0');
    assert.equal(drones[0].model_name, 'Mavic 3 Enterprise (3E)');
    assert.equal(drones[0].gateway_sn, rcSn);
    assert.equal(drones[0].online, true);
    const rcRow = await json(await get(`/remote-controllers/${rcSn}`));
    assert.equal(rcRow.model_name, 'DJI RC Plus');
    assert.equal(rcRow.online, true);
    await waitFor('device_online event', async () => sse.events.some((e) => e.event === 'device_online' && e.data.sn === aircraftSn));
  });

  it('the remote controller reports its own position', async () => {
    rc.publish(
      `thing/product/${rcSn}/osd`,
      JSON.stringify({ tid: 'rc1', bid: 'rc1', timestamp: Date.now() - 1000, gateway: rcSn, data: { latitude: 46.5, longitude: 7.25, capacity_percent: 80, height: 520 } }),
    );
    const position = await waitFor('the remote controller position', async () => {
      const res = await get(`/remote-controllers/${rcSn}/last-position`);
      return res.status === 200 ? json(res) : undefined;
    });
    assert.deepEqual([position.longitude, position.latitude, position.height], [7.25, 46.5, 520]);
  });

  it('an OSD sequence ground → take-off → climb → cruise → land becomes a flight with a track, last position and battery', async () => {
    const lon0 = 7.1;
    const lat0 = 46.9;
    const steps: Record<string, unknown>[] = [
      // on the ground
      { mode_code: 0, elevation: 0, vertical_speed: 0, horizontal_speed: 0, battery: { capacity_percent: 96 } },
      { mode_code: 0, elevation: 0, vertical_speed: 0, horizontal_speed: 0, battery: { capacity_percent: 96 } },
      // take-off (auto take-off mode), climb
      { mode_code: 4, elevation: 0.4, vertical_speed: 2, battery: { capacity_percent: 95 } },
      { mode_code: 3, elevation: 10, vertical_speed: 5, battery: { capacity_percent: 95 } },
      { mode_code: 3, elevation: 30, vertical_speed: 5, battery: { capacity_percent: 94 } },
      { mode_code: 3, elevation: 60, vertical_speed: 5, battery: { capacity_percent: 93 } },
      // cruise (wayline) eastwards
      ...Array.from({ length: 12 }, (_, i) => ({
        mode_code: 5,
        elevation: 60,
        vertical_speed: 0,
        horizontal_speed: 10,
        dx: (i + 1) * 0.0005,
        battery: { capacity_percent: 92 - i },
      })),
      // return and land
      { mode_code: 9, elevation: 40, vertical_speed: -4, dx: 0.006, battery: { capacity_percent: 80 } },
      { mode_code: 10, elevation: 8, vertical_speed: -3, dx: 0.006, battery: { capacity_percent: 79 } },
      { mode_code: 10, elevation: 0.2, vertical_speed: 0, dx: 0.006, battery: { capacity_percent: 79 } },
      { mode_code: 0, elevation: 0, vertical_speed: 0, dx: 0.006, battery: { capacity_percent: 78 } },
      { mode_code: 0, elevation: 0, vertical_speed: 0, dx: 0.006, battery: { capacity_percent: 77 } },
    ];
    const start = t;
    const times = steps.map((_, i) => start + i * 2000);
    t = start + steps.length * 2000;
    for (const [i, s] of steps.entries()) {
      const { dx, ...data } = s as { dx?: number; elevation?: number };
      const payload = osd(aircraftSn, times[i], { ...data, longitude: lon0 + (dx ?? 0), latitude: lat0, height: 500 + Number(data.elevation) });
      await rc.publishAsync(`thing/product/${aircraftSn}/osd`, payload, { qos: 1 });
      // A message seen twice changes nothing.
      if (i === 8) await rc.publishAsync(`thing/product/${aircraftSn}/osd`, payload, { qos: 1 });
    }
    const landed = await waitFor(
      'the flight to land',
      async () => {
        const res = await get(`/drones/${aircraftSn}/current-flight`);
        if (res.status !== 200) return undefined;
        const f = await json(res);
        return f.status === 'landed' ? f : undefined;
      },
      30_000,
    );
    flightId = landed.id;
    assert.equal(landed.started_at, new Date(times[2]).toISOString(), 'take-off at the first airborne message');
    assert.equal(landed.landed_at, new Date(times[20]).toISOString(), 'landing at the first of the still messages on the ground');
    assert.equal(landed.max_elevation, 60);
    assert.equal(landed.is_created_manually, false);
    assert.equal(landed.drone_sn, aircraftSn);
    assert.ok(landed.distance_m > 400 && landed.distance_m < 500, `distance ${landed.distance_m}`);

    const flight = await json(await get(`/flights/${flightId}`));
    assert.equal(flight.track.type, 'Feature');
    assert.equal(flight.track.geometry.type, 'LineString');
    const coords: number[][] = flight.track.geometry.coordinates;
    // Downsampled (a point per 5 s, plus take-off, landing and mode changes), never more than the messages in the air.
    assert.ok(coords.length >= 5 && coords.length < 20, `${coords.length} points`);
    assert.deepEqual(coords[0], [lon0, lat0, 500.4]);
    assert.equal(flight.track.properties.times[0], new Date(times[2]).toISOString());
    assert.equal(flight.track.properties.times.length, coords.length);
    assert.equal(flight.track.properties.elevations.length, coords.length);
    const sorted = [...flight.track.properties.times].sort();
    assert.deepEqual(flight.track.properties.times, sorted);
    assert.equal(flight.point_count, coords.length);

    const position = await json(await get(`/drones/${aircraftSn}/last-position`));
    assert.deepEqual(
      [position.longitude, position.latitude, position.elevation, position.mode_code, position.at],
      [lon0 + 0.006, lat0, 0, 0, new Date(times.at(-1)!).toISOString()],
    );
    const battery = await json(await get(`/drones/${aircraftSn}/last-battery`));
    assert.equal(battery.capacity_percent, 77);
    const flights = await json(await get(`/drones/${aircraftSn}/flights`));
    assert.deepEqual(
      flights.map((f: { id: string }) => f.id),
      [flightId],
    );
    await waitFor('flight events', async () => ['flight_started', 'flight_landed'].every((type) => sse.events.some((e) => e.event === type && e.data.flight_id === flightId)));
    const positions = sse.events.filter((e) => e.event === 'position' && e.data.sn === aircraftSn);
    assert.ok(positions.length >= 1);
    assert.equal(typeof positions.at(-1)!.data.longitude, 'number');
  });

  it('going offline (an empty topology) ends the flight', async () => {
    rc.publish(`sys/product/${rcSn}/status`, topology([], 'topo-2'));
    await waitFor('the status_reply', async () => replies.find((r) => r.tid === 'topo-2'));
    const flight = await json(await get(`/flights/${flightId}`));
    assert.equal(flight.status, 'ended');
    assert.equal(flight.end_reason, 'offline');
    assert.ok(flight.ended_at >= flight.landed_at);
    assert.equal((await get(`/drones/${aircraftSn}/current-flight`)).status, 204);
    assert.equal((await json(await get(`/drones/${aircraftSn}`))).online, false);
    await waitFor(
      'flight_ended and device_offline events',
      async () =>
        sse.events.some((e) => e.event === 'flight_ended' && e.data.flight_id === flightId) && sse.events.some((e) => e.event === 'device_offline' && e.data.sn === aircraftSn),
    );
  });

  it('drops telemetry of unbound serial numbers and malformed messages, and goes on', async () => {
    const [unbound, malformed] = [await metric('unbound'), await metric('malformed')];
    const stray = uniqueSn('STRAY');
    await rc.publishAsync(`thing/product/${stray}/osd`, osd(stray, Date.now() - 1000, { latitude: 10, longitude: 10 }), { qos: 1 });
    const bad = [
      '{not json',
      JSON.stringify({ data: { latitude: 1 } }),
      osd(aircraftSn, Date.now() - 900, { latitude: 'north' }),
      Buffer.alloc(1024 * 1024, 0x7b),
      JSON.stringify([1, 2]),
    ];
    for (const payload of bad) await rc.publishAsync(`thing/product/${aircraftSn}/osd`, payload, { qos: 1 });
    // Still consuming: the next good message is applied.
    const at = Date.now() - 500;
    await rc.publishAsync(`thing/product/${aircraftSn}/osd`, osd(aircraftSn, at, { mode_code: 0, elevation: 0, longitude: 7.5, latitude: 46.5 }), { qos: 1 });
    await waitFor('the good message after the bad ones', async () => (await json(await get(`/drones/${aircraftSn}/last-position`))).at === new Date(at).toISOString());
    await waitFor('the counters', async () => (await metric('malformed')) >= malformed + bad.length && (await metric('unbound')) >= unbound + 1);
    const strays = await json(await get('/drones'));
    assert.ok(!strays.some((d: { sn: string }) => d.sn === stray), 'an unbound serial number is not recorded');
  });

  it('shows flights on the map to those who may see them', async () => {
    // The tile holding the take-off point (7.1 E, 46.9 N) at zoom 12.
    const z = 12;
    const x = Math.floor(((7.1 + 180) / 360) * 2 ** z);
    const latRad = (46.9 * Math.PI) / 180;
    const y = Math.floor(((1 - Math.log(Math.tan(latRad) + 1 / Math.cos(latRad)) / Math.PI) / 2) * 2 ** z);
    const ownTile = await api.fetch(`/api/map/flights/${z}/${x}/${y}.mvt`, { headers: owner.headers });
    assert.equal(ownTile.status, 200);
    assert.equal(ownTile.headers.get('content-type'), 'application/vnd.mapbox-vector-tile');
    const body = Buffer.from(await ownTile.arrayBuffer());
    assert.ok(body.includes(Buffer.from('flights')) && body.includes(Buffer.from(flightId)), 'the flight is in the tile');
    assert.equal((await api.fetch(`/api/map/flights/${z}/${x}/${y}.mvt`, { headers: stranger.headers })).status, 204);
    assert.equal((await api.fetch(`/api/map/flights/${z}/${x}/${y}.mvt`)).status, 204);
    assert.equal((await api.fetch(`/api/map/flights/40/0/0.mvt`)).status, 400);
  });

  it('flights are entered and corrected by hand; strangers see nothing', async () => {
    const created = await post(
      `/api/drones/workspaces/${workspace.id}/flights`,
      { drone: aircraftSn, name: 'Morning survey', started_at: '2026-05-01T08:00:00Z', landed_at: '2026-05-01T08:30:00Z' },
      owner.headers,
    );
    assert.equal(created.status, 201);
    const manual = await json(created);
    assert.equal(manual.is_created_manually, true);
    assert.equal(manual.status, 'landed');
    const patched = await api.fetch(`/api/drones/workspaces/${workspace.id}/flights/${manual.id}`, {
      method: 'PATCH',
      headers: { 'content-type': 'application/json', ...owner.headers },
      body: JSON.stringify({ name: 'Morning survey (corrected)', ended_at: '2026-05-01T08:35:00Z' }),
    });
    assert.equal(patched.status, 200);
    const corrected = await json(patched);
    assert.deepEqual([corrected.name, corrected.status, corrected.ended_at], ['Morning survey (corrected)', 'ended', '2026-05-01T08:35:00.000Z']);
    const bad = await post(`/api/drones/workspaces/${workspace.id}/flights`, { started_at: '2026-05-01T08:00:00Z', ended_at: '2026-05-01T07:00:00Z' }, owner.headers);
    assert.equal(bad.status, 400);
    assert.match((await json(bad)).message, /ended_at is before started_at/);
    for (const path of ['/drones', `/drones/${aircraftSn}`, `/flights/${flightId}`, '/remote-controllers']) assert.equal((await get(path, stranger)).status, 404, path);
  });

  it('a person binds and unbinds a device by hand', async () => {
    const sn = uniqueSn('HAND');
    const bound = await post(`/api/drones/workspaces/${workspace.id}/devices`, { sn, kind: 'aircraft' }, owner.headers);
    assert.equal(bound.status, 201);
    assert.equal((await json(bound)).sn, sn);
    assert.equal((await post(`/api/drones/workspaces/${workspace.id}/devices`, { sn, kind: 'aircraft' }, stranger.headers)).status, 404);
    assert.equal((await post(`/api/drones/workspaces/${workspace.id}/devices`, { sn: 'bad sn/x', kind: 'aircraft' }, owner.headers)).status, 400);
    const at = Date.now() - 200;
    await rc.publishAsync(`thing/product/${sn}/osd`, osd(sn, at, { longitude: 6, latitude: 45 }), { qos: 1 });
    await waitFor('its telemetry', async () => (await get(`/drones/${sn}/last-position`)).status === 200);
    const removed = await api.fetch(`/api/drones/workspaces/${workspace.id}/devices/${sn}`, { method: 'DELETE', headers: owner.headers });
    assert.equal(removed.status, 204);
    assert.equal((await get(`/drones/${sn}`)).status, 404);
  });

  it('the readiness check reports a broker it cannot reach', async () => {
    const port = await freePort();
    const cut = await startApi({ env: { LOG_LEVEL: 'fatal', MQTT_URL: `mqtt://127.0.0.1:${port}`, MQTT_CONSUMER: 'api', MQTT_SHARE_GROUP: group } });
    try {
      const res = await cut.fetch('/api/health/ready');
      assert.equal(res.status, 503);
      const body = await json(res);
      assert.equal(body.details.details.mqtt.status, 'down');
      assert.match(body.details.details.mqtt.message, /MQTT broker not connected/);
    } finally {
      await cut.close();
    }
  });
});
