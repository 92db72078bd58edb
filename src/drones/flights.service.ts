import { BadRequestException, Injectable, NotFoundException } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import type { DataSource } from 'typeorm';
import type { AuthUser } from '../auth/auth.types.js';
import { DroneDevicesService } from './devices.service.js';

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

export interface FlightRow {
  id: string;
  workspace_id: string;
  device_id: string | null;
  device_sn: string | null;
  name: string | null;
  status: 'in_flight' | 'landed' | 'ended';
  started_at: Date;
  landed_at: Date | null;
  ended_at: Date | null;
  end_reason: string | null;
  is_created_manually: boolean;
  point_count: number;
  max_elevation: number | null;
  distance_m: number | null;
  created_at: Date;
  updated_at: Date;
}

/** A flight's track as GeoJSON: the line, with per-point times and heights (from the kept track points). */
export interface FlightTrack {
  type: 'Feature';
  geometry: { type: 'LineString'; coordinates: number[][] } | null;
  properties: { times: string[]; heights: (number | null)[]; elevations: (number | null)[] };
}

export interface ManualFlight {
  device?: string;
  name?: string | null;
  startedAt: Date;
  landedAt?: Date | null;
  endedAt?: Date | null;
}

const FLIGHT_COLUMNS = `id, workspace_id, device_id, device_sn, name, status, started_at, landed_at, ended_at, end_reason, is_created_manually,
  point_count, max_elevation, distance_m, created_at, updated_at`;

/** Flights: detected from telemetry (see flight-detector.ts) or created and corrected by hand. */
@Injectable()
export class DroneFlightsService {
  constructor(
    @InjectDataSource() private readonly dataSource: DataSource,
    private readonly devices: DroneDevicesService,
  ) {}

  async listForDevice(workspaceId: string, deviceIdOrSn: string, page: { limit: number; before?: Date }): Promise<FlightRow[]> {
    const device = await this.devices.get(workspaceId, deviceIdOrSn, 'aircraft');
    return this.dataSource.query(
      `SELECT ${FLIGHT_COLUMNS} FROM drone_flight WHERE workspace_id = $1 AND device_id = $2 AND ($3::timestamptz IS NULL OR started_at < $3)
       ORDER BY started_at DESC LIMIT $4`,
      [workspaceId, device.id, page.before ?? null, page.limit],
    );
  }

  /** The aircraft's flight in progress (in the air, or landed and not ended), or null. */
  async current(workspaceId: string, deviceIdOrSn: string): Promise<FlightRow | null> {
    const device = await this.devices.get(workspaceId, deviceIdOrSn, 'aircraft');
    const flightId = device.flight_state?.flightId;
    if (typeof flightId !== 'string') return null;
    return this.find(workspaceId, flightId);
  }

  async find(workspaceId: string, id: string): Promise<FlightRow | null> {
    if (!UUID.test(id)) return null;
    const [row] = await this.dataSource.query(`SELECT ${FLIGHT_COLUMNS} FROM drone_flight WHERE workspace_id = $1 AND id = $2`, [workspaceId, id]);
    return (row as FlightRow | undefined) ?? null;
  }

  async get(workspaceId: string, id: string): Promise<FlightRow> {
    const row = await this.find(workspaceId, id);
    if (!row) throw new NotFoundException('Flight not found');
    return row;
  }

  /**
   * The track: the stored line (detected flights) with each kept point's time, ellipsoid height and
   * height above take-off; a manual flight without telemetry has none.
   */
  async track(flightId: string): Promise<FlightTrack> {
    const points: { lon: number; lat: number; at: Date; height: number | null; elevation: number | null }[] = await this.dataSource.query(
      `SELECT lon, lat, at, height, elevation FROM drone_track_point WHERE flight_id = $1 ORDER BY at LIMIT 100000`,
      [flightId],
    );
    return {
      type: 'Feature',
      geometry: points.length >= 2 ? { type: 'LineString', coordinates: points.map((p) => (p.height === null ? [p.lon, p.lat] : [p.lon, p.lat, p.height])) } : null,
      properties: { times: points.map((p) => new Date(p.at).toISOString()), heights: points.map((p) => p.height), elevations: points.map((p) => p.elevation) },
    };
  }

  /** A flight entered by hand (`is_created_manually`), optionally of an aircraft of the workspace. */
  async create(workspaceId: string, input: ManualFlight): Promise<FlightRow> {
    const device = input.device ? await this.devices.get(workspaceId, input.device, 'aircraft') : null;
    checkTimes(input.startedAt, input.landedAt ?? null, input.endedAt ?? null);
    const status = input.endedAt ? 'ended' : input.landedAt ? 'landed' : 'in_flight';
    const [row] = await this.dataSource.query(
      `INSERT INTO drone_flight (workspace_id, device_id, device_sn, name, status, started_at, landed_at, ended_at, end_reason, is_created_manually, point_count)
       VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, true, 0) RETURNING ${FLIGHT_COLUMNS}`,
      [
        workspaceId,
        device?.id ?? null,
        device?.sn ?? null,
        input.name ?? null,
        status,
        input.startedAt,
        input.landedAt ?? null,
        input.endedAt ?? null,
        input.endedAt ? 'manual' : null,
      ],
    );
    return row as FlightRow;
  }

  /** Corrects a flight's name and times (detected or manual). */
  async update(workspaceId: string, id: string, patch: { name?: string | null; startedAt?: Date; landedAt?: Date | null; endedAt?: Date | null }): Promise<FlightRow> {
    const flight = await this.get(workspaceId, id);
    const startedAt = patch.startedAt ?? flight.started_at;
    const landedAt = patch.landedAt !== undefined ? patch.landedAt : flight.landed_at;
    const endedAt = patch.endedAt !== undefined ? patch.endedAt : flight.ended_at;
    checkTimes(startedAt, landedAt, endedAt);
    const status = endedAt ? 'ended' : landedAt ? 'landed' : flight.status === 'ended' ? 'landed' : flight.status;
    const [[row]] = await this.dataSource.query(
      `UPDATE drone_flight SET name = $3, started_at = $4, landed_at = $5, ended_at = $6, status = $7,
         end_reason = CASE WHEN $6::timestamptz IS NULL THEN NULL WHEN ended_at IS DISTINCT FROM $6::timestamptz THEN 'manual' ELSE end_reason END, updated_at = now()
       WHERE workspace_id = $1 AND id = $2 RETURNING ${FLIGHT_COLUMNS}`,
      [workspaceId, id, patch.name !== undefined ? patch.name : flight.name, startedAt, landedAt, endedAt, status],
    );
    return row as FlightRow;
  }

  /** Media count of each flight (media of a flight are the media side's; only counted here). */
  async mediaCount(flightId: string): Promise<number> {
    const [row] = await this.dataSource.query(`SELECT count(*)::int AS n FROM drone_media WHERE flight_id = $1`, [flightId]);
    return row.n as number;
  }

  /**
   * A vector tile of the flight tracks the caller may see: one layer `flights` (lines with `id`,
   * `workspace_id`, `device_sn`, `status`, `started_at`, `ended_at`). Anonymous callers see none;
   * admins every workspace's; others their own workspaces'.
   */
  async tile(z: number, x: number, y: number, user: AuthUser | undefined): Promise<Buffer> {
    if (!user) return Buffer.alloc(0);
    const [row]: { mvt: Buffer | null }[] = await this.dataSource.query(
      `WITH b AS (SELECT ST_TileEnvelope($1, $2, $3) AS env),
       f AS (
         SELECT fl.id, fl.workspace_id, fl.device_sn, fl.status, fl.started_at::text AS started_at, fl.ended_at::text AS ended_at,
                ST_AsMVTGeom(ST_Transform(fl.track, 3857), b.env, 4096, 64, true) AS geom
         FROM drone_flight fl JOIN drone_workspace w ON w.id = fl.workspace_id, b
         WHERE fl.track IS NOT NULL AND fl.track && ST_Transform(b.env, 4326)
           AND ($4::boolean OR w.owner_id = $5::uuid)
         LIMIT 5000
       )
       SELECT ST_AsMVT(f.*, 'flights', 4096, 'geom') AS mvt FROM f WHERE f.geom IS NOT NULL`,
      [z, x, y, user.role === 'admin', user.id],
    );
    return row?.mvt ?? Buffer.alloc(0);
  }
}

function checkTimes(startedAt: Date, landedAt: Date | null, endedAt: Date | null): void {
  if (landedAt && landedAt < startedAt) throw new BadRequestException('landed_at is before started_at');
  if (endedAt && endedAt < startedAt) throw new BadRequestException('ended_at is before started_at');
  if (endedAt && landedAt && endedAt < landedAt) throw new BadRequestException('ended_at is before landed_at');
}
