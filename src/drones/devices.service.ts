import { BadRequestException, ConflictException, Injectable, NotFoundException } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import type { DataSource, EntityManager } from 'typeorm';
import type { DeviceKind } from './device.entity.js';
import { DroneEventsService } from './drone-events.service.js';
import type { FlightState } from './flight-detector.js';
import { FlightChanges, isRetryable, LOCKED_DEVICE_COLUMNS, type LockedDevice } from './flight-writes.js';
import { DroneMqttAccessService } from './mqtt-access.service.js';
import { modelName, type TopologyUpdate } from './mqtt/dji-messages.js';

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
export const SN_PATTERN = /^[A-Za-z0-9._-]{1,64}$/;

/** A device as the REST routes show it. */
export interface DeviceRow {
  id: string;
  sn: string;
  kind: DeviceKind;
  workspace_id: string | null;
  connection_id: string | null;
  model_key: string | null;
  model_name: string | null;
  firmware_version: string | null;
  callsign: string | null;
  gateway_sn: string | null;
  online: boolean;
  last_connected_at: Date | null;
  last_telemetry_at: Date | null;
  last_lon: number | null;
  last_lat: number | null;
  last_height: number | null;
  last_elevation: number | null;
  last_heading: number | null;
  last_mode_code: number | null;
  last_battery_percent: number | null;
  last_state: Record<string, unknown>;
  flight_state: FlightState;
}

export interface BindRequest {
  sn: string;
  kind?: DeviceKind;
  workspaceId: string;
  connectionId: string;
  modelKey?: string | null;
  callsign?: string | null;
}

/**
 * Remote controllers (gateways) and aircraft: topology from MQTT, binding to a workspace through
 * a connection, and their last state.
 */
@Injectable()
export class DroneDevicesService {
  constructor(
    @InjectDataSource() private readonly dataSource: DataSource,
    private readonly events: DroneEventsService,
    private readonly access: DroneMqttAccessService,
  ) {}

  private async retrying<T>(work: (m: EntityManager) => Promise<T>): Promise<T> {
    for (let attempt = 1; ; attempt++) {
      try {
        return await this.dataSource.transaction(work);
      } catch (error) {
        if (attempt >= 3 || !isRetryable(error)) throw error;
      }
    }
  }

  /**
   * `update_topo` of a gateway: the gateway and its aircraft online (the aircraft bound to the
   * gateway's workspace and connection), aircraft no longer listed offline (their flight ends).
   * Returns false when the gateway is not bound to a workspace (the report is dropped).
   */
  async applyTopology(update: TopologyUpdate): Promise<boolean> {
    const changes = new FlightChanges();
    const resync = new Set<string>();
    const bound = await this.retrying(async (m) => {
      const subSns = update.subDevices.map((d) => d.sn).filter((sn) => sn !== update.gatewaySn);
      // Every row this report touches, locked in serial-number order (as telemetry batches lock them).
      const rows: (LockedDevice & { gateway_sn: string | null })[] = await m.query(
        `SELECT ${LOCKED_DEVICE_COLUMNS}, gateway_sn FROM drone_device
         WHERE sn = $1 OR sn = ANY($2) OR (gateway_sn = $1 AND kind = 'aircraft')
         ORDER BY sn FOR UPDATE`,
        [update.gatewaySn, subSns],
      );
      const gateway = rows.find((r) => r.sn === update.gatewaySn);
      if (!gateway?.workspace_id || !gateway.connection_id) return false;
      const ws = gateway.workspace_id;
      const at = new Date(update.at).toISOString();
      await m.query(
        `UPDATE drone_device SET kind = 'gateway', model_key = $2, model_name = $3, firmware_version = COALESCE($4, firmware_version),
           online = true, last_connected_at = now(), updated_at = now() WHERE id = $1`,
        [gateway.id, update.gateway.modelKey, modelName(update.gateway.modelKey), update.gateway.version],
      );
      if (!gateway.online) changes.events.push({ workspaceId: ws, event: { type: 'device_online', device_id: gateway.id, sn: gateway.sn, kind: 'gateway', at } });
      for (const sub of update.subDevices) {
        if (sub.sn === update.gatewaySn) continue;
        const before = rows.find((r) => r.sn === sub.sn);
        // An aircraft moving to another workspace ends the flight it had there.
        let state = before?.flight_state ?? {};
        if (before && before.workspace_id !== ws) state = changes.end(before, update.at, 'unbound');
        if (before?.connection_id !== gateway.connection_id) {
          resync.add(gateway.connection_id);
          if (before?.connection_id) resync.add(before.connection_id);
        }
        const [row]: { id: string }[] = await m.query(
          `INSERT INTO drone_device (sn, kind, workspace_id, connection_id, gateway_sn, model_key, model_name, firmware_version, online, last_connected_at, flight_state)
           VALUES ($1, 'aircraft', $2, $3, $4, $5, $6, $7, true, now(), $8)
           ON CONFLICT (sn) DO UPDATE SET kind = 'aircraft', workspace_id = $2, connection_id = $3, gateway_sn = $4, model_key = $5, model_name = $6,
             firmware_version = COALESCE($7, drone_device.firmware_version), online = true, last_connected_at = now(), flight_state = $8, updated_at = now()
           RETURNING id`,
          [sub.sn, ws, gateway.connection_id, update.gatewaySn, sub.modelKey, modelName(sub.modelKey), sub.version, JSON.stringify(state)],
        );
        if (!before?.online || before.workspace_id !== ws)
          changes.events.push({ workspaceId: ws, event: { type: 'device_online', device_id: row.id, sn: sub.sn, kind: 'aircraft', at } });
      }
      const listed = new Set(subSns);
      for (const gone of rows.filter((r) => r.kind === 'aircraft' && r.gateway_sn === update.gatewaySn && !listed.has(r.sn) && r.online)) {
        const state = changes.end(gone, Math.max(update.at, gone.flight_state?.lastAt ?? 0), 'offline');
        await m.query(`UPDATE drone_device SET online = false, flight_state = $2, updated_at = now() WHERE id = $1`, [gone.id, JSON.stringify(state)]);
        if (gone.workspace_id) changes.events.push({ workspaceId: gone.workspace_id, event: { type: 'device_offline', device_id: gone.id, sn: gone.sn, kind: 'aircraft', at } });
      }
      await changes.write(m);
      return true;
    });
    await this.events.publishMany(changes.events);
    for (const connectionId of resync) await this.access.sync(connectionId);
    return bound;
  }

  /**
   * Binds a serial number to a workspace through a connection (the pilot app's binding, or a
   * person's). A device bound elsewhere moves (its current flight ends there).
   */
  async bind(request: BindRequest): Promise<DeviceRow> {
    if (!SN_PATTERN.test(request.sn)) throw new BadRequestException('sn must be 1-64 letters, digits, ".", "_" or "-"');
    const changes = new FlightChanges();
    let previousConnection: string | null = null;
    const id = await this.retrying(async (m) => {
      const [before]: LockedDevice[] = await m.query(`SELECT ${LOCKED_DEVICE_COLUMNS} FROM drone_device WHERE sn = $1 FOR UPDATE`, [request.sn]);
      previousConnection = before?.connection_id ?? null;
      let state = before?.flight_state ?? {};
      if (before && before.workspace_id && before.workspace_id !== request.workspaceId) state = changes.end(before, Date.now(), 'unbound');
      if (before && request.kind && before.kind !== request.kind && before.workspace_id === request.workspaceId) {
        throw new ConflictException(`Device ${request.sn} is already bound as a ${before.kind === 'gateway' ? 'remote controller' : 'aircraft'}`);
      }
      const key = request.modelKey ?? null;
      const [row]: { id: string }[] = await m.query(
        `INSERT INTO drone_device (sn, kind, workspace_id, connection_id, model_key, model_name, callsign, flight_state)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8)
         ON CONFLICT (sn) DO UPDATE SET kind = COALESCE($9, drone_device.kind), workspace_id = $3, connection_id = $4,
           model_key = COALESCE($5, drone_device.model_key), model_name = COALESCE($6, drone_device.model_name),
           callsign = COALESCE($7, drone_device.callsign), flight_state = $8, updated_at = now()
         RETURNING id`,
        [
          request.sn,
          request.kind ?? 'gateway',
          request.workspaceId,
          request.connectionId,
          key,
          key ? modelName(key) : null,
          request.callsign ?? null,
          JSON.stringify(state),
          request.kind ?? null,
        ],
      );
      await changes.write(m);
      return row.id;
    });
    await this.events.publishMany(changes.events);
    await this.access.sync(request.connectionId);
    if (previousConnection && previousConnection !== request.connectionId) await this.access.sync(previousConnection);
    return (await this.find(request.workspaceId, id))!;
  }

  /** Unbinds a device of a workspace: its telemetry is dropped from now on; its current flight ends. */
  async unbind(workspaceId: string, idOrSn: string): Promise<void> {
    const changes = new FlightChanges();
    const found = await this.retrying(async (m) => {
      const [device]: LockedDevice[] = await m.query(
        `SELECT ${LOCKED_DEVICE_COLUMNS} FROM drone_device WHERE workspace_id = $1 AND ${UUID.test(idOrSn) ? 'id = $2::uuid' : 'sn = $2'} FOR UPDATE`,
        [workspaceId, idOrSn],
      );
      if (!device) return null;
      const state = changes.end(device, Date.now(), 'unbound');
      await m.query(`UPDATE drone_device SET workspace_id = NULL, connection_id = NULL, online = false, flight_state = $2, updated_at = now() WHERE id = $1`, [
        device.id,
        JSON.stringify(state),
      ]);
      await changes.write(m);
      return { connectionId: device.connection_id };
    });
    if (!found) throw new NotFoundException('Device not found in this workspace');
    await this.events.publishMany(changes.events);
    await this.access.sync(found.connectionId);
  }

  /** A device of a workspace by id or serial number (null when it is not there). */
  async find(workspaceId: string, idOrSn: string, kind?: DeviceKind): Promise<DeviceRow | null> {
    const [row] = await this.dataSource.query(
      `SELECT * FROM drone_device WHERE workspace_id = $1 AND ${UUID.test(idOrSn) ? 'id = $2::uuid' : 'sn = $2'} ${kind ? 'AND kind = $3' : ''}`,
      kind ? [workspaceId, idOrSn, kind] : [workspaceId, idOrSn],
    );
    return (row as DeviceRow | undefined) ?? null;
  }

  async get(workspaceId: string, idOrSn: string, kind?: DeviceKind): Promise<DeviceRow> {
    const row = await this.find(workspaceId, idOrSn, kind);
    if (!row) throw new NotFoundException(kind === 'gateway' ? 'Remote controller not found' : kind === 'aircraft' ? 'Drone not found' : 'Device not found');
    return row;
  }

  async list(workspaceId: string, kind: DeviceKind): Promise<DeviceRow[]> {
    return this.dataSource.query(`SELECT * FROM drone_device WHERE workspace_id = $1 AND kind = $2 ORDER BY sn LIMIT 1000`, [workspaceId, kind]);
  }

  /** The connection (drone_connection.id) of a workspace a person binds by hand through. */
  async connectionForManualBinding(workspaceId: string, connection?: string): Promise<string> {
    const rows: { id: string; connection_id: string }[] = await this.dataSource.query(`SELECT id, connection_id FROM drone_connection WHERE workspace_id = $1`, [workspaceId]);
    if (connection) {
      const match = rows.find((r) => r.id === connection || r.connection_id === connection);
      if (!match) throw new BadRequestException(`connection_id ${connection} is not a connection of this workspace`);
      return match.id;
    }
    if (rows.length === 1) return rows[0].id;
    throw new BadRequestException(
      rows.length ? `connection_id is required: the workspace has ${rows.length} connections` : 'The workspace has no connection yet: create one, then bind devices through it',
    );
  }
}
