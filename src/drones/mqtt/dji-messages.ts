/**
 * DJI Cloud API MQTT messages, parsed leniently (numbers sent as strings, seconds instead of
 * milliseconds) but strictly enough that nothing malformed reaches the database: every function
 * returns either the normalised message or the reason it was refused.
 */

/** A serial number as it may appear in a topic. */
const SN_PATTERN = /^[A-Za-z0-9._-]{1,64}$/;

/** Telemetry from further in the future than this is refused: it would make every later message look old. */
const MAX_CLOCK_AHEAD_MS = 10 * 60_000;

export type TopicKind = 'osd' | 'status';

export interface ParsedTopic {
  kind: TopicKind;
  sn: string;
}

/** `thing/product/{sn}/osd` or `sys/product/{gateway_sn}/status`; null for anything else. */
export function parseTopic(topic: string): ParsedTopic | null {
  const parts = topic.split('/');
  if (parts.length !== 4 || parts[1] !== 'product' || !SN_PATTERN.test(parts[2])) return null;
  if (parts[0] === 'thing' && parts[3] === 'osd') return { kind: 'osd', sn: parts[2] };
  if (parts[0] === 'sys' && parts[3] === 'status') return { kind: 'status', sn: parts[2] };
  return null;
}

export type Parsed<T> = { ok: true; value: T } | { ok: false; reason: string };

const fail = (reason: string): { ok: false; reason: string } => ({ ok: false, reason });

/** A number, or a string holding one; undefined when absent or null; NaN when it is something else. */
function num(value: unknown): number | undefined {
  if (value === undefined || value === null || value === '') return undefined;
  if (typeof value === 'number') return Number.isFinite(value) ? value : NaN;
  if (typeof value === 'string' && /^\s*-?(\d+\.?\d*|\.\d+)([eE][-+]?\d+)?\s*$/.test(value)) return Number(value);
  return NaN;
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** DJI timestamps are epoch milliseconds; some senders send seconds. */
function timestampMs(value: unknown, now: number): Parsed<number> {
  const t = num(value);
  if (t === undefined) return fail('no timestamp');
  if (Number.isNaN(t) || t <= 0) return fail(`timestamp is not a positive number: ${JSON.stringify(value).slice(0, 40)}`);
  const ms = Math.round(t < 1e11 ? t * 1000 : t);
  if (ms > now + MAX_CLOCK_AHEAD_MS) return fail(`timestamp ${new Date(ms).toISOString()} is in the future`);
  return { ok: true, value: ms };
}

function parseJson(payload: Buffer | string, maxBytes: number): Parsed<Record<string, unknown>> {
  const size = typeof payload === 'string' ? Buffer.byteLength(payload) : payload.length;
  if (size > maxBytes) return fail(`message of ${size} bytes is larger than ${maxBytes}`);
  let body: unknown;
  try {
    body = JSON.parse(typeof payload === 'string' ? payload : payload.toString('utf8'));
  } catch {
    return fail('not JSON');
  }
  if (!isObject(body)) return fail('not a JSON object');
  return { ok: true, value: body };
}

/** One telemetry message of an aircraft or a remote controller, normalised. */
export interface OsdSample {
  sn: string;
  /** Epoch milliseconds of the sender. */
  at: number;
  tid: string | null;
  gateway: string | null;
  lon: number | null;
  lat: number | null;
  /** Ellipsoid height (m). */
  height: number | null;
  /** Height above the take-off point (m). */
  elevation: number | null;
  heading: number | null;
  horizontalSpeed: number | null;
  verticalSpeed: number | null;
  modeCode: number | null;
  batteryPercent: number | null;
  /** What is kept as the device's last state (a fixed set of fields). */
  state: Record<string, unknown>;
}

const NUMERIC_FIELDS = {
  latitude: 'lat',
  longitude: 'lon',
  height: 'height',
  elevation: 'elevation',
  attitude_head: 'heading',
  horizontal_speed: 'horizontalSpeed',
  vertical_speed: 'verticalSpeed',
  mode_code: 'modeCode',
} as const;

/** Extra fields kept in the last state when present (numbers). */
const STATE_NUMBERS = ['attitude_pitch', 'attitude_roll', 'home_distance', 'total_flight_distance', 'total_flight_time', 'wind_speed', 'wind_direction', 'gear'];

/**
 * `thing/product/{sn}/osd`: `{tid, bid, timestamp, gateway, data: {…}}`. Position (0, 0) is DJI's
 * "no fix" and is read as no position.
 */
export function parseOsd(sn: string, payload: Buffer | string, options: { maxBytes: number; now?: number }): Parsed<OsdSample> {
  const json = parseJson(payload, options.maxBytes);
  if (!json.ok) return json;
  const body = json.value;
  const at = timestampMs(body.timestamp, options.now ?? Date.now());
  if (!at.ok) return at;
  const data = body.data;
  if (!isObject(data)) return fail('no data object');
  const values: Record<string, number | null> = {};
  for (const [field, key] of Object.entries(NUMERIC_FIELDS)) {
    const v = num(data[field]);
    if (Number.isNaN(v)) return fail(`data.${field} is not a number: ${JSON.stringify(data[field]).slice(0, 40)}`);
    values[key] = v ?? null;
  }
  let { lon, lat } = values;
  if (lat !== null && (lat < -90 || lat > 90)) return fail(`data.latitude ${lat} is outside −90…90`);
  if (lon !== null && (lon < -180 || lon > 180)) return fail(`data.longitude ${lon} is outside −180…180`);
  if (lon === null || lat === null || (lon === 0 && lat === 0)) lon = lat = null;
  if (values.modeCode !== null && !Number.isInteger(values.modeCode)) return fail(`data.mode_code ${values.modeCode} is not an integer`);
  let batteryPercent: number | null = null;
  // Aircraft: battery.capacity_percent; remote controllers: capacity_percent.
  const battery = isObject(data.battery) ? data.battery.capacity_percent : data.capacity_percent;
  const b = num(battery);
  if (Number.isNaN(b)) return fail(`battery capacity_percent is not a number: ${JSON.stringify(battery).slice(0, 40)}`);
  if (b !== undefined) batteryPercent = Math.max(0, Math.min(100, Math.round(b)));
  const hasAny = lon !== null || values.elevation !== null || values.height !== null || values.modeCode !== null || batteryPercent !== null;
  if (!hasAny) return fail('data has none of latitude/longitude, height, elevation, mode_code, battery');

  const state: Record<string, unknown> = {};
  for (const [field, key] of Object.entries(NUMERIC_FIELDS)) if (values[key] !== null) state[field] = values[key];
  for (const field of STATE_NUMBERS) {
    const v = num(data[field]);
    if (v !== undefined && !Number.isNaN(v)) state[field] = v;
  }
  if (batteryPercent !== null) state.capacity_percent = batteryPercent;
  if (isObject(data.battery)) {
    const rft = num(data.battery.remain_flight_time);
    if (rft !== undefined && !Number.isNaN(rft)) state.remain_flight_time = rft;
  }
  if (typeof data.firmware_version === 'string') state.firmware_version = data.firmware_version.slice(0, 64);
  // Payloads: keys "type-subtype-index" with gimbal angles.
  for (const [key, value] of Object.entries(data)) {
    if (!/^\d+-\d+-\d+$/.test(key) || !isObject(value)) continue;
    const pitch = num(value.gimbal_pitch);
    const yaw = num(value.gimbal_yaw);
    const roll = num(value.gimbal_roll);
    const gimbal: Record<string, number> = {};
    if (pitch !== undefined && !Number.isNaN(pitch)) gimbal.gimbal_pitch = pitch;
    if (yaw !== undefined && !Number.isNaN(yaw)) gimbal.gimbal_yaw = yaw;
    if (roll !== undefined && !Number.isNaN(roll)) gimbal.gimbal_roll = roll;
    if (Object.keys(gimbal).length) state[key] = gimbal;
  }
  return {
    ok: true,
    value: {
      sn,
      at: at.value,
      tid: typeof body.tid === 'string' ? body.tid.slice(0, 64) : null,
      gateway: typeof body.gateway === 'string' && SN_PATTERN.test(body.gateway) ? body.gateway : null,
      lon,
      lat,
      height: values.height,
      elevation: values.elevation,
      heading: values.heading,
      horizontalSpeed: values.horizontalSpeed,
      verticalSpeed: values.verticalSpeed,
      modeCode: values.modeCode,
      batteryPercent,
      state,
    },
  };
}

/** A device of a topology report. */
export interface TopologyDevice {
  sn: string;
  /** `domain-type-sub_type`. */
  modelKey: string;
  version: string | null;
  index: string | null;
}

export interface TopologyUpdate {
  gatewaySn: string;
  tid: string | null;
  bid: string | null;
  at: number;
  gateway: Omit<TopologyDevice, 'sn' | 'index'>;
  /** Empty: the aircraft went offline. */
  subDevices: TopologyDevice[];
}

function modelKeyOf(d: Record<string, unknown>, where: string): Parsed<string> {
  const parts: number[] = [];
  for (const field of ['domain', 'type', 'sub_type']) {
    const v = num(d[field]);
    if (v === undefined || Number.isNaN(v) || !Number.isInteger(v) || v < 0)
      return fail(`${where}.${field} is not a non-negative integer: ${JSON.stringify(d[field] ?? null).slice(0, 40)}`);
    parts.push(v);
  }
  return { ok: true, value: parts.join('-') };
}

const versionOf = (d: Record<string, unknown>): string | null => {
  const v = d.thing_version ?? d.version ?? d.firmware_version;
  return typeof v === 'string' || typeof v === 'number' ? String(v).slice(0, 64) : null;
};

/**
 * `sys/product/{gateway_sn}/status` with `method: update_topo`. Other methods are refused with
 * the reason `method …` (the caller may count them apart).
 */
export function parseTopology(gatewaySn: string, payload: Buffer | string, options: { maxBytes: number; now?: number }): Parsed<TopologyUpdate> {
  const json = parseJson(payload, options.maxBytes);
  if (!json.ok) return json;
  const body = json.value;
  if (body.method !== 'update_topo') return fail(`method ${JSON.stringify(body.method ?? null).slice(0, 40)} is not update_topo`);
  const now = options.now ?? Date.now();
  const at = body.timestamp === undefined ? { ok: true as const, value: now } : timestampMs(body.timestamp, now);
  if (!at.ok) return at;
  const data = body.data;
  if (!isObject(data)) return fail('no data object');
  const key = modelKeyOf(data, 'data');
  if (!key.ok) return key;
  if (!Array.isArray(data.sub_devices)) return fail('data.sub_devices is not an array');
  if (data.sub_devices.length > 16) return fail(`data.sub_devices has ${data.sub_devices.length} devices (at most 16)`);
  const subDevices: TopologyDevice[] = [];
  for (const [i, sub] of data.sub_devices.entries()) {
    if (!isObject(sub)) return fail(`data.sub_devices[${i}] is not an object`);
    if (typeof sub.sn !== 'string' || !SN_PATTERN.test(sub.sn)) return fail(`data.sub_devices[${i}].sn is not a serial number`);
    const subKey = modelKeyOf(sub, `data.sub_devices[${i}]`);
    if (!subKey.ok) return subKey;
    subDevices.push({ sn: sub.sn, modelKey: subKey.value, version: versionOf(sub), index: typeof sub.index === 'string' ? sub.index.slice(0, 8) : null });
  }
  return {
    ok: true,
    value: {
      gatewaySn,
      tid: typeof body.tid === 'string' ? body.tid.slice(0, 64) : null,
      bid: typeof body.bid === 'string' ? body.bid.slice(0, 64) : null,
      at: at.value,
      gateway: { modelKey: key.value, version: versionOf(data) },
      subDevices,
    },
  };
}

/** The answer to an update_topo, on `sys/product/{gateway_sn}/status_reply`. */
export function topologyReply(update: Pick<TopologyUpdate, 'tid' | 'bid'>, now = Date.now()): string {
  return JSON.stringify({ tid: update.tid, bid: update.bid, timestamp: now, method: 'update_topo', data: { result: 0 } });
}

/** DJI model keys (`domain-type-sub_type`) Sightline names. Unknown keys keep a null name. */
export const DJI_MODELS: Readonly<Record<string, string>> = {
  '0-60-0': 'Matrice 300 RTK',
  '0-67-0': 'Matrice 30',
  '0-67-1': 'Matrice 30T',
  '0-77-0': 'Mavic 3 Enterprise (3E)',
  '0-77-1': 'Mavic 3 Thermal (3T)',
  '0-77-2': 'Mavic 3 Multispectral (3M)',
  '0-89-0': 'Matrice 350 RTK',
  '0-91-0': 'Matrice 3D',
  '0-91-1': 'Matrice 3TD',
  '0-99-0': 'Matrice 4E',
  '0-99-1': 'Matrice 4T',
  '0-100-0': 'Matrice 4D',
  '0-100-1': 'Matrice 4TD',
  '2-56-0': 'DJI Smart Controller Enterprise',
  '2-119-0': 'DJI RC Plus',
  '2-144-0': 'DJI RC Pro Enterprise',
  '2-174-0': 'DJI RC Plus 2',
  '3-1-0': 'DJI Dock',
  '3-2-0': 'DJI Dock 2',
  '3-3-0': 'DJI Dock 3',
};

export function modelName(modelKey: string): string | null {
  return DJI_MODELS[modelKey] ?? null;
}
