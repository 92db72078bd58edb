import type { EntityManager } from 'typeorm';
import type { DroneEvent } from './drone-events.service.js';
import { endFlight, type EndReason, type FlightEvent, type FlightState, type FlightStats } from './flight-detector.js';

/** A device row as the telemetry and topology writers lock it. */
export interface LockedDevice {
  id: string;
  sn: string;
  kind: 'gateway' | 'aircraft';
  workspace_id: string | null;
  connection_id: string | null;
  online: boolean;
  flight_state: FlightState;
}

export const LOCKED_DEVICE_COLUMNS = 'id, sn, kind, workspace_id, connection_id, online, flight_state';

export interface NewFlight {
  id: string;
  workspace_id: string;
  device_id: string;
  device_sn: string;
  started_at: string;
}

export interface FlightUpdate {
  id: string;
  status: string | null;
  landed_at: string | null;
  ended_at: string | null;
  end_reason: string | null;
  points: number;
  distance_m: number;
  max_elevation: number | null;
}

export interface NewPoint {
  sn: string;
  at: string;
  flight_id: string | null;
  lon: number;
  lat: number;
  height: number | null;
  elevation: number | null;
  heading: number | null;
  horizontal_speed: number | null;
  vertical_speed: number | null;
  mode_code: number | null;
  battery_percent: number | null;
  /** Appended to its flight's line (false for late messages: stored only). */
  append: boolean;
}

const iso = (ms: number) => new Date(ms).toISOString();

/** Collects what a batch does to flights, in order, then writes it in a few statements. */
export class FlightChanges {
  readonly created: NewFlight[] = [];
  readonly updates = new Map<string, FlightUpdate>();
  readonly points: NewPoint[] = [];
  readonly events: { workspaceId: string; event: DroneEvent }[] = [];

  private update(id: string, stats: FlightStats): FlightUpdate {
    const u = this.updates.get(id) ?? { id, status: null, landed_at: null, ended_at: null, end_reason: null, points: 0, distance_m: 0, max_elevation: null };
    u.points = stats.points;
    u.distance_m = stats.distanceM;
    u.max_elevation = stats.maxElevation;
    this.updates.set(id, u);
    return u;
  }

  /** Records the detector's events of one device. */
  apply(device: LockedDevice, events: FlightEvent[]): void {
    const publish = (event: DroneEvent) => device.workspace_id && this.events.push({ workspaceId: device.workspace_id, event });
    for (const e of events) {
      const base = { flight_id: e.flightId, device_id: device.id, sn: device.sn, at: iso(e.at) };
      if (e.type === 'started') {
        this.created.push({ id: e.flightId, workspace_id: device.workspace_id!, device_id: device.id, device_sn: device.sn, started_at: iso(e.at) });
        this.update(e.flightId, { points: 0, distanceM: 0, maxElevation: null }).status = 'in_flight';
        publish({ type: 'flight_started', ...base });
      } else if (e.type === 'landed') {
        const u = this.update(e.flightId, e.stats);
        u.status = 'landed';
        u.landed_at = iso(e.at);
        publish({ type: 'flight_landed', ...base });
      } else {
        const u = this.update(e.flightId, e.stats);
        u.status = 'ended';
        u.ended_at = iso(e.at);
        u.end_reason = e.reason;
        publish({ type: 'flight_ended', ...base, reason: e.reason });
      }
    }
  }

  /** The current flight's figures after a batch. */
  stats(state: FlightState): void {
    if (state.flightId) this.update(state.flightId, { points: state.points ?? 0, distanceM: state.distanceM ?? 0, maxElevation: state.maxElevation ?? null });
  }

  /** Ends the device's current flight (offline, unbinding, silence); returns the new state. */
  end(device: LockedDevice, at: number, reason: EndReason): FlightState {
    const ended = endFlight(device.flight_state ?? {}, at, reason);
    this.apply(device, ended.events);
    return ended.state;
  }

  async write(m: EntityManager): Promise<void> {
    if (this.created.length) {
      await m.query(
        `INSERT INTO drone_flight (id, workspace_id, device_id, device_sn, status, started_at, is_created_manually, point_count)
         SELECT v.id, v.workspace_id, v.device_id, v.device_sn, 'in_flight', v.started_at, false, 0
         FROM jsonb_to_recordset($1::jsonb) AS v(id uuid, workspace_id uuid, device_id uuid, device_sn text, started_at timestamptz)
         ON CONFLICT (id) DO NOTHING`,
        [JSON.stringify(this.created)],
      );
    }
    if (this.points.length) {
      await m.query(
        `INSERT INTO drone_track_point (sn, at, flight_id, lon, lat, height, elevation, heading, horizontal_speed, vertical_speed, mode_code, battery_percent)
         SELECT v.sn, v.at, v.flight_id, v.lon, v.lat, v.height, v.elevation, v.heading, v.horizontal_speed, v.vertical_speed, v.mode_code, v.battery_percent
         FROM jsonb_to_recordset($1::jsonb) AS v(sn text, at timestamptz, flight_id uuid, lon float8, lat float8, height float8, elevation float8, heading float8,
           horizontal_speed float8, vertical_speed float8, mode_code int, battery_percent int)
         ON CONFLICT (sn, at) DO NOTHING`,
        [JSON.stringify(this.points.map(({ append: _append, ...p }) => p))],
      );
    }
    if (this.updates.size) {
      const appended = this.points.filter((p) => p.append && p.flight_id).map((p) => ({ flight_id: p.flight_id, at: p.at, lon: p.lon, lat: p.lat }));
      // The line grows by the batch's new points; a flight without a line yet (below two points) is drawn from its stored points.
      await m.query(
        `UPDATE drone_flight f SET
           status = COALESCE(v.status, f.status),
           landed_at = COALESCE(v.landed_at, f.landed_at),
           ended_at = COALESCE(v.ended_at, f.ended_at),
           end_reason = COALESCE(v.end_reason, f.end_reason),
           point_count = GREATEST(f.point_count, v.points),
           distance_m = v.distance_m,
           max_elevation = GREATEST(f.max_elevation, v.max_elevation),
           track = CASE
             WHEN np.line IS NULL THEN f.track
             WHEN f.track IS NULL THEN (SELECT CASE WHEN count(*) >= 2 THEN ST_SetSRID(ST_MakeLine(ST_MakePoint(p.lon, p.lat) ORDER BY p.at), 4326) END
                                        FROM drone_track_point p WHERE p.flight_id = f.id)
             ELSE ST_SetSRID(ST_MakeLine(f.track, np.line), 4326)
           END,
           updated_at = now()
         FROM jsonb_to_recordset($1::jsonb) AS v(id uuid, status text, landed_at timestamptz, ended_at timestamptz, end_reason text, points int, distance_m float8, max_elevation float8)
         LEFT JOIN (
           SELECT a.flight_id, ST_SetSRID(ST_MakeLine(ST_MakePoint(a.lon, a.lat) ORDER BY a.at), 4326) AS line
           FROM jsonb_to_recordset($2::jsonb) AS a(flight_id uuid, at timestamptz, lon float8, lat float8)
           GROUP BY a.flight_id
         ) np ON np.flight_id = v.id
         WHERE f.id = v.id AND NOT f.is_created_manually`,
        [JSON.stringify([...this.updates.values()]), JSON.stringify(appended)],
      );
    }
  }
}

/** Whether a database error is a deadlock or serialization failure worth one more try. */
export function isRetryable(error: unknown): boolean {
  const code = (error as { code?: string; driverError?: { code?: string } }).driverError?.code ?? (error as { code?: string }).code;
  return code === '40P01' || code === '40001';
}
