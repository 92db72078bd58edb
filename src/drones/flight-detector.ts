/**
 * Flight detection from an aircraft's telemetry: a pure state machine. The state lives on the
 * device row (`flight_state`) and is advanced under that row's lock, one message at a time in
 * timestamp order, so whichever process receives a message the outcome is the same.
 *
 * - take-off: an airborne `mode_code`, or a ground mode (or none) with elevation > 1 m;
 * - landed: on the ground (a ground or landing mode) with elevation < 0.5 m and no vertical speed
 *   (|v| < 0.2 m/s) for `landingMessages` consecutive messages; the landing time is the first of them;
 * - ended: the aircraft goes offline (topology), is silent too long (a sweeper), reports mode 14
 *   (not connected), or takes off again after landing.
 */

/** DJI mode codes of an aircraft in the air (manual, automatic, wayline, return, landing…). */
export const AIRBORNE_MODES: ReadonlySet<number> = new Set([3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 15, 16, 17, 18]);
/** Landing modes: airborne, but landing may be confirmed while in them. */
export const LANDING_MODES: ReadonlySet<number> = new Set([10, 11, 12]);
/** 14: not connected. */
export const DISCONNECTED_MODE = 14;

export const TAKE_OFF_ELEVATION_M = 1;
export const LANDED_ELEVATION_M = 0.5;
export const STILL_VERTICAL_SPEED = 0.2;

export type EndReason = 'offline' | 'silence' | 'mode' | 'take_off_again' | 'unbound' | 'manual';

export interface FlightStats {
  points: number;
  distanceM: number;
  maxElevation: number | null;
}

/** JSON-serialisable: stored as is in `drone_device.flight_state`. */
export interface FlightState {
  /** The current flight (in the air, or landed and not ended yet). */
  flightId?: string;
  status?: 'in_flight' | 'landed';
  startedAt?: number;
  /** Consecutive on-the-ground messages while in flight, and the time of the first. */
  settled?: number;
  settledSince?: number;
  /** Newest applied message (sender's epoch ms) and when it was received (server's epoch ms). */
  lastAt?: number;
  receivedAt?: number;
  /** Last kept track point. */
  lastKeptAt?: number;
  lastMode?: number | null;
  /** Last kept point of the current flight, for its distance. */
  lastLon?: number;
  lastLat?: number;
  points?: number;
  distanceM?: number;
  maxElevation?: number | null;
}

export interface Sample {
  at: number;
  modeCode: number | null;
  elevation: number | null;
  verticalSpeed: number | null;
  lon: number | null;
  lat: number | null;
}

export type FlightEvent =
  | { type: 'started'; flightId: string; at: number }
  | { type: 'landed'; flightId: string; at: number; stats: FlightStats }
  | { type: 'ended'; flightId: string; at: number; reason: EndReason; stats: FlightStats };

export interface DetectorOptions {
  newId: () => string;
  /** Keep a track point at most this often (ms), besides flight events and mode changes. 0 keeps all. */
  trackIntervalMs: number;
  /** Consecutive on-the-ground messages that confirm a landing. */
  landingMessages: number;
}

export interface StepResult {
  state: FlightState;
  events: FlightEvent[];
  /** Keep this message as a track point. */
  keep: boolean;
  /** The flight the point belongs to (null on the ground, between flights). */
  flightId: string | null;
}

function statsOf(state: FlightState): FlightStats {
  return { points: state.points ?? 0, distanceM: state.distanceM ?? 0, maxElevation: state.maxElevation ?? null };
}

/** Ends the current flight, if any (offline, silence, mode 14, take-off again, unbinding). */
export function endFlight(state: FlightState, at: number, reason: EndReason): { state: FlightState; events: FlightEvent[] } {
  if (!state.flightId) return { state, events: [] };
  const event: FlightEvent = { type: 'ended', flightId: state.flightId, at: Math.max(at, state.startedAt ?? at), reason, stats: statsOf(state) };
  const next: FlightState = { ...state };
  for (const key of ['flightId', 'status', 'startedAt', 'settled', 'settledSince', 'lastLon', 'lastLat', 'points', 'distanceM', 'maxElevation'] as const) delete next[key];
  return { state: next, events: [event] };
}

/** Whether the aircraft is in the air by this message. */
export function isAirborne(s: Pick<Sample, 'modeCode' | 'elevation'>): boolean {
  if (s.modeCode !== null && AIRBORNE_MODES.has(s.modeCode)) return true;
  return s.modeCode !== DISCONNECTED_MODE && s.elevation !== null && s.elevation > TAKE_OFF_ELEVATION_M;
}

/** Whether this message shows the aircraft standing on the ground. */
export function isSettled(s: Pick<Sample, 'modeCode' | 'elevation' | 'verticalSpeed'>): boolean {
  const groundish = s.modeCode === null || !AIRBORNE_MODES.has(s.modeCode) || LANDING_MODES.has(s.modeCode);
  return groundish && s.elevation !== null && s.elevation < LANDED_ELEVATION_M && Math.abs(s.verticalSpeed ?? 0) < STILL_VERTICAL_SPEED;
}

/** Metres between two WGS 84 positions (haversine). */
export function distanceM(lon1: number, lat1: number, lon2: number, lat2: number): number {
  const r = 6371008.8;
  const rad = Math.PI / 180;
  const dLat = (lat2 - lat1) * rad;
  const dLon = (lon2 - lon1) * rad;
  const a = Math.sin(dLat / 2) ** 2 + Math.cos(lat1 * rad) * Math.cos(lat2 * rad) * Math.sin(dLon / 2) ** 2;
  return 2 * r * Math.asin(Math.min(1, Math.sqrt(a)));
}

/**
 * Advances the state by one message newer than `state.lastAt` (older ones are not given here:
 * they are only stored as points). `receivedAt` is the server's clock, for the silence sweeper.
 */
export function step(state: FlightState, sample: Sample, receivedAt: number, options: DetectorOptions): StepResult {
  let s: FlightState = { ...state };
  const events: FlightEvent[] = [];
  const modeChanged = s.lastMode !== undefined && s.lastMode !== sample.modeCode;

  if (sample.modeCode === DISCONNECTED_MODE) {
    const ended = endFlight(s, sample.at, 'mode');
    s = ended.state;
    events.push(...ended.events);
  } else if (!s.flightId || s.status === 'landed') {
    if (isAirborne(sample)) {
      if (s.flightId) {
        const ended = endFlight(s, sample.at, 'take_off_again');
        s = ended.state;
        events.push(...ended.events);
      }
      const flightId = options.newId();
      s = { ...s, flightId, status: 'in_flight', startedAt: sample.at, settled: 0, points: 0, distanceM: 0, maxElevation: sample.elevation };
      delete s.settledSince;
      events.push({ type: 'started', flightId, at: sample.at });
    }
  } else if (isSettled(sample)) {
    s.settled = (s.settled ?? 0) + 1;
    s.settledSince ??= sample.at;
    if (s.settled >= options.landingMessages) {
      s.status = 'landed';
      events.push({ type: 'landed', flightId: s.flightId, at: s.settledSince, stats: statsOf(s) });
    }
  } else {
    s.settled = 0;
    delete s.settledSince;
  }

  // The message belongs to the flight while the aircraft is in the air (the landing message included).
  const inFlight = s.flightId !== undefined && (s.status === 'in_flight' || events.some((e) => e.type === 'landed'));
  const flightId = inFlight ? s.flightId! : null;
  const keep = events.length > 0 || modeChanged || s.lastKeptAt === undefined || options.trackIntervalMs <= 0 || sample.at - s.lastKeptAt >= options.trackIntervalMs;

  if (inFlight && sample.elevation !== null) s.maxElevation = Math.max(s.maxElevation ?? sample.elevation, sample.elevation);
  const positioned = sample.lon !== null && sample.lat !== null;
  if (keep && positioned) {
    s.lastKeptAt = sample.at;
    if (inFlight) {
      if (s.lastLon !== undefined && s.lastLat !== undefined) s.distanceM = (s.distanceM ?? 0) + distanceM(s.lastLon, s.lastLat, sample.lon!, sample.lat!);
      s.lastLon = sample.lon!;
      s.lastLat = sample.lat!;
      s.points = (s.points ?? 0) + 1;
    }
  }
  // The landed event's stats include the landing point.
  for (const e of events) if (e.type === 'landed') e.stats = statsOf(s);
  s.lastAt = sample.at;
  s.receivedAt = receivedAt;
  s.lastMode = sample.modeCode;
  return { state: s, events, keep: keep && positioned, flightId };
}
