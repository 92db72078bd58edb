import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import { modelName, parseOsd, parseTopic, parseTopology, topologyReply } from './dji-messages.js';

const fixture = (name: string) => {
  try {
    return readFileSync(new URL(`../../../../../shared/fixtures/drones/dji-payloads/${name}`, import.meta.url));
  } catch {
    return undefined;
  }
};
const NOW = Date.UTC(2026, 10, 30, 12);
const opts = { maxBytes: 65536, now: NOW };
const osd = (data: unknown, extra: Record<string, unknown> = {}) => JSON.stringify({ tid: 't', bid: 'b', timestamp: NOW - 1000, gateway: 'RC1', data, ...extra });

describe('DJI topics', () => {
  it('reads the serial number of osd and status topics, nothing else', () => {
    assert.deepEqual(parseTopic('thing/product/1581F5BKD225D00BT891/osd'), { kind: 'osd', sn: '1581F5BKD225D00BT891' });
    assert.deepEqual(parseTopic('sys/product/4LFCJCC001008S/status'), { kind: 'status', sn: '4LFCJCC001008S' });
    for (const t of ['thing/product/a/state', 'thing/product/a b/osd', 'thing/product//osd', 'sys/product/x/status_reply', 'thing/product/x/osd/extra'])
      assert.equal(parseTopic(t), null, t);
  });
});

describe('DJI telemetry (osd)', () => {
  it("reads DJI's documented aircraft example", { skip: !fixture('aircraft-osd-under-rc.json') && 'shared fixtures absent' }, () => {
    const r = parseOsd('AC1', fixture('aircraft-osd-under-rc.json')!, { maxBytes: 65536, now: Date.UTC(2022, 0, 28) });
    assert.ok(r.ok, r.ok ? '' : r.reason);
    assert.equal(r.value.at, 1643268212187);
    assert.equal(r.value.lon, 113);
    assert.equal(r.value.lat, 22);
    assert.equal(r.value.height, 100.020332);
    assert.equal(r.value.modeCode, 0);
    assert.equal(r.value.batteryPercent, 45);
    assert.deepEqual(r.value.state['43-0-0'], { gimbal_pitch: 0, gimbal_yaw: -103.7, gimbal_roll: 0 });
  });

  it("reads DJI's remote controller example; position 0,0 is no position", { skip: !fixture('rc-osd.json') && 'shared fixtures absent' }, () => {
    const r = parseOsd('4LFCJCC001008S', fixture('rc-osd.json')!, { maxBytes: 65536, now: Date.UTC(2023, 1, 16) });
    assert.ok(r.ok, r.ok ? '' : r.reason);
    assert.equal(r.value.lon, null);
    assert.equal(r.value.batteryPercent, 0);
    assert.equal(r.value.gateway, '4LFCJCC001008S');
  });

  it('parses numbers sent as strings and timestamps in seconds', () => {
    const r = parseOsd(
      'AC1',
      JSON.stringify({ timestamp: String(Math.floor((NOW - 5000) / 1000)), data: { latitude: '47.5', longitude: '8.25', mode_code: '3', elevation: '12.5' } }),
      opts,
    );
    assert.ok(r.ok);
    assert.deepEqual([r.value.lat, r.value.lon, r.value.modeCode, r.value.elevation, r.value.at], [47.5, 8.25, 3, 12.5, Math.floor((NOW - 5000) / 1000) * 1000]);
  });

  it('refuses what is malformed, naming why', () => {
    const cases: [string | Buffer, RegExp][] = [
      ['{not json', /not JSON/],
      ['[1,2]', /not a JSON object/],
      [JSON.stringify({ data: { latitude: 1 } }), /no timestamp/],
      [JSON.stringify({ timestamp: NOW }), /no data object/],
      [osd({ latitude: 'north', longitude: 8 }), /latitude is not a number/],
      [osd({ latitude: 95, longitude: 8 }), /outside/],
      [osd({ mode_code: 3.5 }), /not an integer/],
      [osd({ battery: { capacity_percent: {} } }), /battery/],
      [osd({ wind_speed: 3 }), /has none of/],
      [osd({ latitude: 1, longitude: 1 }, { timestamp: NOW + 3600_000 }), /future/],
      [osd({ latitude: 1, longitude: 1 }, { timestamp: true }), /timestamp/],
      [Buffer.alloc(1024 * 1024, 0x20), /larger than/],
    ];
    for (const [payload, reason] of cases) {
      const r = parseOsd('AC1', payload, opts);
      assert.ok(!r.ok, String(payload).slice(0, 60));
      assert.match(r.reason, reason);
    }
  });
});

describe('DJI topology (update_topo)', () => {
  it("reads DJI's documented online and offline examples", { skip: !fixture('update-topo-online.json') && 'shared fixtures absent' }, () => {
    const online = parseTopology('GW1', fixture('update-topo-online.json')!, opts);
    assert.ok(online.ok, online.ok ? '' : online.reason);
    assert.equal(online.value.gateway.modelKey, '3-119-0');
    assert.deepEqual(online.value.subDevices, [{ sn: 'drone001', modelKey: '0-60-0', version: '1.1.2', index: 'A' }]);
    const offline = parseTopology('GW1', fixture('update-topo-offline.json')!, opts);
    assert.ok(offline.ok);
    assert.deepEqual(offline.value.subDevices, []);
  });

  it('refuses other methods and broken device lists', () => {
    const body = (data: unknown, method = 'update_topo') => JSON.stringify({ tid: 't', bid: 'b', timestamp: NOW, method, data });
    assert.match((parseTopology('GW', body({}, 'other'), opts) as { reason: string }).reason, /not update_topo/);
    assert.match((parseTopology('GW', body({ domain: 2, type: 119, sub_type: 0 }), opts) as { reason: string }).reason, /sub_devices is not an array/);
    assert.match((parseTopology('GW', body({ domain: 2, type: 'x', sub_type: 0, sub_devices: [] }), opts) as { reason: string }).reason, /data.type/);
    assert.match(
      (parseTopology('GW', body({ domain: 2, type: 119, sub_type: 0, sub_devices: [{ sn: '../x', domain: 0, type: 1, sub_type: 0 }] }), opts) as { reason: string }).reason,
      /sn/,
    );
  });

  it('answers with result 0 and the same tid and bid; names known models', () => {
    const reply = JSON.parse(topologyReply({ tid: 'T', bid: 'B' }, 5));
    assert.deepEqual(reply, { tid: 'T', bid: 'B', timestamp: 5, method: 'update_topo', data: { result: 0 } });
    assert.equal(modelName('0-67-0'), 'Matrice 30');
    assert.equal(modelName('9-9-9'), null);
  });
});
