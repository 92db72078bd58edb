import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { connectAsync, type MqttClient } from 'mqtt';
import type pg from 'pg';
import { DroneDevicesService } from '../../src/drones/devices.service.js';
import { DroneMqttAccessService } from '../../src/drones/mqtt-access.service.js';
import { startApi, type TestApi } from '../support/app.js';
import { testPool } from '../support/db.js';
import { seedConnection, seedWorkspace, uniqueSn } from '../support/drones.js';
import { dynsecUnavailable, startDynsecMosquitto, type TestBroker } from '../support/mosquitto.js';
import { waitFor } from '../support/net.js';

const skip = dynsecUnavailable();

describe('MQTT access of pilot connections (Mosquitto dynamic security)', { skip }, () => {
  let broker: TestBroker;
  let api: TestApi;
  let pool: pg.Pool;
  let watcher: MqttClient;
  const seen: string[] = [];
  const clients: MqttClient[] = [];
  const group = `t${Date.now().toString(36)}`;

  before(async () => {
    broker = await startDynsecMosquitto();
    api = await startApi({
      env: { MQTT_URL: broker.url, MQTT_DYNSEC: 'true', MQTT_USERNAME: broker.admin.username, MQTT_PASSWORD: broker.admin.password, MQTT_CONSUMER: 'api', MQTT_SHARE_GROUP: group },
    });
    pool = testPool();
    // An account reading every topic sees what the broker let through.
    watcher = await connectAsync(broker.url, { ...broker.watcher, reconnectPeriod: 0 });
    watcher.on('message', (topic, payload) => seen.push(`${topic} ${payload.toString()}`));
    await watcher.subscribeAsync('thing/product/+/osd');
  });
  after(async () => {
    for (const c of [...clients, watcher]) await c?.endAsync(true).catch(() => undefined);
    await api?.close();
    await pool?.end();
    await broker?.stop();
  });

  const osd = (n: number) => JSON.stringify({ tid: `t${n}`, bid: 'b', timestamp: Date.now(), data: { latitude: 47, longitude: 8, mode_code: 0, elevation: 0 } });

  it('a connection publishes for its own serial numbers only, follows its bindings, and loses access when revoked', async () => {
    const access = api.app.get(DroneMqttAccessService);
    const devices = api.app.get(DroneDevicesService);
    const ws = await seedWorkspace(pool, null);
    const a = await seedConnection(pool, ws.id);
    const b = await seedConnection(pool, ws.id);
    const [snA, snB, snA2] = [uniqueSn('RCA'), uniqueSn('RCB'), uniqueSn('ACA')];
    await devices.bind({ sn: snA, kind: 'gateway', workspaceId: ws.id, connectionId: a.id });
    await devices.bind({ sn: snB, kind: 'gateway', workspaceId: ws.id, connectionId: b.id });

    const credentials = await access.credentialsFor(a.id);
    assert.equal(credentials.username, a.connectionId);
    assert.equal(credentials.host, broker.url.replace('mqtt://', 'tcp://'));
    assert.ok(credentials.password.length >= 24);
    // Stable: a second login gets the same account.
    assert.deepEqual(await access.credentialsFor(a.id), credentials);

    const pilot = await connectAsync(broker.url, { username: credentials.username, password: credentials.password, reconnectPeriod: 0, protocolVersion: 5 });
    clients.push(pilot);
    // Another connection's serial number: refused by the broker (never delivered).
    await pilot.publishAsync(`thing/product/${snB}/osd`, osd(1), { qos: 1 }).catch(() => undefined);
    await pilot.publishAsync(`thing/product/${snA}/osd`, osd(2), { qos: 1 });
    await waitFor('its own telemetry to reach subscribers', async () => seen.some((s) => s.startsWith(`thing/product/${snA}/osd`)));
    assert.ok(!seen.some((s) => s.startsWith(`thing/product/${snB}/`)), seen.join('\n'));
    // And Sightline's consumer (on the same broker, with its own account) took it in.
    await waitFor('the consumer to store it', async () => (await pool.query(`SELECT last_telemetry_at FROM drone_device WHERE sn = $1`, [snA])).rows[0]?.last_telemetry_at);

    // A serial number bound through the connection later becomes publishable without a new login.
    await pilot.publishAsync(`thing/product/${snA2}/osd`, osd(3), { qos: 1 }).catch(() => undefined);
    await devices.bind({ sn: snA2, kind: 'aircraft', workspaceId: ws.id, connectionId: a.id });
    await pilot.publishAsync(`thing/product/${snA2}/osd`, osd(4), { qos: 1 });
    await waitFor('the newly bound serial number to get through', async () => seen.some((s) => s.startsWith(`thing/product/${snA2}/osd`) && s.includes('"t4"')));
    assert.ok(!seen.some((s) => s.includes('"t3"')), 'published before its binding');

    // Revoked (the connection deleted): the broker drops the client and refuses its account.
    const closed = new Promise<void>((resolve) => pilot.once('close', () => resolve()));
    await access.revoke(a.id);
    await closed;
    await assert.rejects(connectAsync(broker.url, { username: credentials.username, password: credentials.password, reconnectPeriod: 0, protocolVersion: 5 }));
    // The other connection is untouched.
    const other = await access.credentialsFor(b.id);
    const pilotB = await connectAsync(broker.url, { username: other.username, password: other.password, reconnectPeriod: 0, protocolVersion: 5 });
    clients.push(pilotB);
    await pilotB.publishAsync(`thing/product/${snB}/osd`, osd(5), { qos: 1 });
    await waitFor("the other connection's telemetry", async () => seen.some((s) => s.startsWith(`thing/product/${snB}/osd`)));
  });
});
