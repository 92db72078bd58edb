import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type pg from 'pg';
import type { DataSource } from 'typeorm';
import { getDataSourceToken } from '@nestjs/typeorm';
import { AppConfig } from '../../src/config/app-config.js';
import { DroneDevicesService } from '../../src/drones/devices.service.js';
import { DroneEventsService } from '../../src/drones/drone-events.service.js';
import { DroneTelemetryService } from '../../src/drones/telemetry.service.js';
import { MetricsService } from '../../src/health/metrics.service.js';
import { startApi, type TestApi } from '../support/app.js';
import { testPool } from '../support/db.js';
import { seedConnection, seedWorkspace, uniqueSn } from '../support/drones.js';

/** Two consumers sharing the subscriptions: each gets some of a device's messages, in any order. */
describe('telemetry shared between consumers', () => {
  let api: TestApi;
  let pool: pg.Pool;
  let consumers: DroneTelemetryService[];
  let ws: { id: string };
  let connection: { id: string };
  const T0 = Date.now() - 600_000;

  before(async () => {
    api = await startApi({ env: { LOG_LEVEL: 'error', MQTT_CONSUMER: 'off', DRONE_TRACK_INTERVAL_SECONDS: '0' } });
    pool = testPool();
    const app = api.app;
    const first = app.get(DroneTelemetryService);
    // A second consumer: the same service over the same database, as another worker would run it.
    const second = new DroneTelemetryService(app.get<DataSource>(getDataSourceToken()), app.get(AppConfig), app.get(DroneEventsService), app.get(MetricsService));
    consumers = [first, second];
    ws = await seedWorkspace(pool, null);
    connection = await seedConnection(pool, ws.id);
  });
  after(async () => {
    await consumers?.[1]?.onApplicationShutdown();
    await api?.close();
    await pool?.end();
  });

  const osd = (at: number, data: Record<string, unknown>) => Buffer.from(JSON.stringify({ tid: `t${at}`, bid: 'b', timestamp: at, data: { latitude: 47, longitude: 8, ...data } }));
  const flights = async (sn: string) =>
    (await pool.query(`SELECT status, started_at, landed_at, ended_at, end_reason, point_count, max_elevation FROM drone_flight WHERE device_sn = $1 ORDER BY started_at`, [sn]))
      .rows;

  it('detects the same flight whichever consumer gets which message, and stores each point once', async () => {
    const sn = uniqueSn('SHR');
    await api.app.get(DroneDevicesService).bind({ sn, kind: 'aircraft', workspaceId: ws.id, connectionId: connection.id });
    const sequence = [
      { mode_code: 0, elevation: 0 },
      { mode_code: 4, elevation: 0.5, vertical_speed: 2 },
      { mode_code: 3, elevation: 20, vertical_speed: 4 },
      { mode_code: 3, elevation: 45 },
      { mode_code: 10, elevation: 5, vertical_speed: -2 },
      { mode_code: 0, elevation: 0 },
      { mode_code: 0, elevation: 0 },
      { mode_code: 0, elevation: 0 },
    ].map((data, i) => ({ at: T0 + i * 2000, data }));
    // The first messages reach one consumer, the next ones the other.
    for (const [i, m] of sequence.slice(0, 4).entries()) {
      consumers[i < 2 ? 0 : 1].receive(sn, `thing/product/${sn}/osd`, osd(m.at, m.data));
      if (i === 1) await consumers[0].flush();
    }
    await consumers[1].flush();
    // Then the rest reaches the second one out of order and one of them twice, while the first gets
    // an old message again: both batches are written at the same time.
    const rest = sequence.slice(4);
    for (const m of [rest[2], rest[0], rest[3], rest[1], rest[0]]) consumers[1].receive(sn, `thing/product/${sn}/osd`, osd(m.at, m.data));
    consumers[0].receive(sn, `thing/product/${sn}/osd`, osd(sequence[2].at, sequence[2].data));
    await Promise.all(consumers.map((c) => c.flush()));

    const [flight, ...others] = await flights(sn);
    assert.equal(others.length, 0, 'one flight');
    assert.equal(flight.started_at.getTime(), sequence[1].at);
    assert.equal(flight.max_elevation, 45);
    assert.equal(flight.status, 'landed');
    assert.equal(flight.landed_at.getTime(), sequence[5].at, 'landed at the first of the three still messages');
    const points = (await pool.query(`SELECT at FROM drone_track_point WHERE sn = $1 ORDER BY at`, [sn])).rows.map((r) => r.at.getTime());
    assert.deepEqual(
      points,
      sequence.map((m) => m.at),
      'every message stored once as a track point',
    );
    const [device] = (await pool.query(`SELECT last_telemetry_at, last_elevation FROM drone_device WHERE sn = $1`, [sn])).rows;
    assert.equal(device.last_telemetry_at.getTime(), sequence[7].at, 'the last state is the newest message');
  });

  it('lands after three still messages in timestamp order, and a silent aircraft’s flight ends at its last message', async () => {
    const sn = uniqueSn('SIL');
    await api.app.get(DroneDevicesService).bind({ sn, kind: 'aircraft', workspaceId: ws.id, connectionId: connection.id });
    const at = (i: number) => T0 + 100_000 + i * 2000;
    const messages = [
      { mode_code: 3, elevation: 30 },
      { mode_code: 3, elevation: 10, vertical_speed: -3 },
      { mode_code: 0, elevation: 0.1 },
      { mode_code: 0, elevation: 0 },
      { mode_code: 0, elevation: 0 },
    ];
    // One batch holding them all, shuffled: applied in timestamp order.
    for (const i of [4, 0, 3, 1, 2]) consumers[0].receive(sn, `thing/product/${sn}/osd`, osd(at(i), messages[i]));
    await consumers[0].flush();
    let [flight] = await flights(sn);
    assert.equal(flight.status, 'landed');
    assert.equal(flight.landed_at.getTime(), at(2));
    // Nothing for longer than DRONE_SILENCE_SECONDS (by the receiving clock).
    const ended = await consumers[1].sweepSilence(Date.now() + 31_000);
    assert.ok(ended >= 1);
    [flight] = await flights(sn);
    assert.equal(flight.status, 'ended');
    assert.equal(flight.end_reason, 'silence');
    assert.equal(flight.ended_at.getTime(), at(4));
    assert.equal(await consumers[1].sweepSilence(Date.now() + 31_000), 0, 'ended once');
  });
});
