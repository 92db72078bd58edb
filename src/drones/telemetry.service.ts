import { randomUUID } from 'node:crypto';
import { Injectable, Logger, OnApplicationShutdown } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { Counter, Histogram } from 'prom-client';
import type { DataSource, EntityManager } from 'typeorm';
import { AppConfig } from '../config/app-config.js';
import { MetricsService } from '../health/metrics.service.js';
import { DroneEventsService, type DroneEvent } from './drone-events.service.js';
import { step, type FlightState } from './flight-detector.js';
import { FlightChanges, isRetryable, LOCKED_DEVICE_COLUMNS, type LockedDevice } from './flight-writes.js';
import { parseOsd, type OsdSample } from './mqtt/dji-messages.js';

/** Outcomes of a telemetry message, as counted in `sightline_drone_telemetry_messages_total{result}`. */
export type TelemetryResult = 'accepted' | 'late' | 'duplicate' | 'unbound' | 'malformed' | 'overflow' | 'failed';

/** Messages written per transaction at most. */
const MAX_BATCH = 2000;
/** Batches written at the same time (of different devices), so that one slow commit does not hold every message back. */
const MAX_CONCURRENT_BATCHES = 2;
/** Messages waiting beyond this are dropped (counted `overflow`): the database is down or far too slow. */
const MAX_BUFFERED = 100_000;
/** Consecutive on-the-ground messages that confirm a landing. */
export const LANDING_MESSAGES = 3;

interface Pending {
  sample: OsdSample;
  receivedAt: number;
}

const iso = (ms: number) => new Date(ms).toISOString();

/**
 * Telemetry (`thing/product/{sn}/osd`) into the database: messages are parsed on arrival and
 * written in batches (one transaction per batch, a few multi-row statements). Each batch locks
 * its devices' rows (in serial-number order, so concurrent consumers never deadlock) and
 * applies each device's messages in timestamp order from the state stored on its row: flight
 * detection is the same whichever consumer a message reached. Messages older than a device's
 * newest are only stored as track points; a message seen twice changes nothing.
 */
@Injectable()
export class DroneTelemetryService implements OnApplicationShutdown {
  private readonly logger = new Logger(DroneTelemetryService.name);
  private buffer: Pending[] = [];
  private timer?: NodeJS.Timeout;
  /** Batches being written, and the devices they hold. */
  private readonly running = new Set<Promise<void>>();
  private readonly inFlight = new Set<string>();
  private closed = false;
  private readonly messages: Counter<'result'>;
  private readonly flushSeconds: Histogram;
  private readonly lastMalformedLog = { at: 0, suppressed: 0 };

  constructor(
    @InjectDataSource() private readonly dataSource: DataSource,
    private readonly config: AppConfig,
    private readonly events: DroneEventsService,
    metrics: MetricsService,
  ) {
    this.messages =
      (metrics.registry.getSingleMetric('sightline_drone_telemetry_messages_total') as Counter<'result'> | undefined) ??
      new Counter({
        name: 'sightline_drone_telemetry_messages_total',
        help: 'MQTT telemetry and topology messages by outcome: accepted, late (older than the newest: stored as a point), duplicate, unbound, malformed, overflow, failed',
        labelNames: ['result'],
        registers: [metrics.registry],
      });
    this.flushSeconds =
      (metrics.registry.getSingleMetric('sightline_drone_telemetry_flush_seconds') as Histogram | undefined) ??
      new Histogram({
        name: 'sightline_drone_telemetry_flush_seconds',
        help: 'Time to write one batch of telemetry',
        buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5],
        registers: [metrics.registry],
      });
    for (const result of ['accepted', 'late', 'duplicate', 'unbound', 'malformed', 'overflow', 'failed']) this.messages.inc({ result }, 0);
  }

  count(result: TelemetryResult, n = 1): void {
    if (n > 0) this.messages.inc({ result }, n);
  }

  /** Counts and logs a refused message (logs at most one line a second, with the number left out). */
  malformed(topic: string, reason: string): void {
    this.count('malformed');
    const now = Date.now();
    if (now - this.lastMalformedLog.at < 1000) {
      this.lastMalformedLog.suppressed++;
      return;
    }
    const suppressed = this.lastMalformedLog.suppressed;
    this.lastMalformedLog.at = now;
    this.lastMalformedLog.suppressed = 0;
    this.logger.warn({ topic: topic.slice(0, 200), reason, ...(suppressed ? { suppressed } : {}) }, 'malformed MQTT message dropped');
  }

  /** Takes one `thing/product/{sn}/osd` message; written with the next batch. */
  receive(sn: string, topic: string, payload: Buffer, receivedAt = Date.now()): void {
    const parsed = parseOsd(sn, payload, { maxBytes: this.config.MQTT_MAX_MESSAGE_BYTES, now: receivedAt });
    if (!parsed.ok) return this.malformed(topic, parsed.reason);
    if (this.buffer.length >= MAX_BUFFERED) return this.count('overflow');
    this.buffer.push({ sample: parsed.value, receivedAt });
    this.schedule();
  }

  private schedule(): void {
    if (this.closed || this.timer || this.running.size >= MAX_CONCURRENT_BATCHES || !this.buffer.length) return;
    const delay = this.buffer.length >= MAX_BATCH ? 0 : this.config.DRONE_TELEMETRY_FLUSH_MS;
    this.timer = setTimeout(() => {
      this.timer = undefined;
      this.startBatch();
      this.schedule();
    }, delay);
  }

  /**
   * Takes a batch from the buffer and writes it. Batches written at the same time hold different
   * devices: a device's messages wait for its batch in progress, so they stay in order.
   */
  private startBatch(): void {
    const batch: Pending[] = [];
    const rest: Pending[] = [];
    for (const p of this.buffer) {
      if (batch.length < MAX_BATCH && !this.inFlight.has(p.sample.sn)) batch.push(p);
      else rest.push(p);
    }
    if (!batch.length) return;
    this.buffer = rest;
    const sns = new Set(batch.map((p) => p.sample.sn));
    for (const sn of sns) this.inFlight.add(sn);
    const done: Promise<void> = this.flushOnce(batch).finally(() => {
      for (const sn of sns) this.inFlight.delete(sn);
      this.running.delete(done);
      this.schedule();
    });
    this.running.add(done);
  }

  /** Writes everything received so far (tests, shutdown). */
  async flush(): Promise<void> {
    while (this.running.size || this.buffer.length) {
      if (this.timer) {
        clearTimeout(this.timer);
        this.timer = undefined;
      }
      if (this.running.size < MAX_CONCURRENT_BATCHES && this.buffer.length) this.startBatch();
      if (this.running.size) await Promise.race(this.running);
    }
  }

  private async flushOnce(batch: Pending[]): Promise<void> {
    const end = this.flushSeconds.startTimer();
    try {
      for (let attempt = 1; ; attempt++) {
        try {
          await this.write(batch);
          break;
        } catch (error) {
          if (attempt >= 3 || !isRetryable(error)) throw error;
        }
      }
    } catch (error) {
      this.count('failed', batch.length);
      this.logger.error({ err: (error as Error).message, messages: batch.length }, 'telemetry batch not written');
    } finally {
      end();
    }
  }

  private async write(batch: Pending[]): Promise<void> {
    const bySn = new Map<string, Pending[]>();
    for (const p of batch) {
      const list = bySn.get(p.sample.sn);
      if (list) list.push(p);
      else bySn.set(p.sample.sn, [p]);
    }
    const counts: Record<TelemetryResult, number> = { accepted: 0, late: 0, duplicate: 0, unbound: 0, malformed: 0, overflow: 0, failed: 0 };
    const changes = new FlightChanges();
    const live: { workspaceId: string; event: DroneEvent }[] = [];
    await this.dataSource.transaction(async (m: EntityManager) => {
      // Telemetry is a stream: a crash may lose the last moments of it (as it loses the messages
      // still buffered), but commits need not wait for the disk.
      await m.query('SET LOCAL synchronous_commit = off');
      const devices: LockedDevice[] = await m.query(
        `SELECT ${LOCKED_DEVICE_COLUMNS} FROM drone_device
         WHERE sn = ANY($1) AND workspace_id IS NOT NULL AND connection_id IS NOT NULL
         ORDER BY sn FOR UPDATE`,
        [[...bySn.keys()]],
      );
      const bound = new Set(devices.map((d) => d.sn));
      for (const [sn, list] of bySn) if (!bound.has(sn)) counts.unbound += list.length;
      const deviceUpdates: Record<string, unknown>[] = [];
      const trackIntervalMs = this.config.DRONE_TRACK_INTERVAL_SECONDS * 1000;
      for (const device of devices) {
        const list = bySn.get(device.sn)!.sort((a, b) => a.sample.at - b.sample.at);
        let state: FlightState = device.flight_state ?? {};
        let newest: Pending | undefined;
        let previousAt: number | undefined;
        for (const p of list) {
          const s = p.sample;
          if (s.at === previousAt || s.at === state.lastAt) {
            counts.duplicate++;
            continue;
          }
          previousAt = s.at;
          if (state.lastAt !== undefined && s.at < state.lastAt) {
            // Older than what was applied: kept as a point only (its flight, if it belongs to the current one).
            counts.late++;
            if (device.kind === 'aircraft' && s.lon !== null && s.lat !== null) {
              const flightId = state.flightId && state.startedAt !== undefined && s.at >= state.startedAt ? state.flightId : null;
              changes.points.push(pointOf(s, flightId, false));
            }
            continue;
          }
          counts.accepted++;
          newest = p;
          if (device.kind !== 'aircraft') {
            state = { ...state, lastAt: s.at, receivedAt: p.receivedAt };
            continue;
          }
          const result = step(state, s, p.receivedAt, { newId: randomUUID, trackIntervalMs, landingMessages: LANDING_MESSAGES });
          state = result.state;
          changes.apply(device, result.events);
          if (result.keep) changes.points.push(pointOf(s, result.flightId, true));
        }
        if (!newest) continue;
        // The flight row changes only when its figures do (a kept point, a new highest point).
        const before = device.flight_state ?? {};
        if (device.kind === 'aircraft' && (state.flightId !== before.flightId || state.points !== before.points || state.maxElevation !== before.maxElevation)) {
          changes.stats(state);
        }
        const s = newest.sample;
        deviceUpdates.push({
          id: device.id,
          at: iso(s.at),
          lon: s.lon,
          lat: s.lat,
          height: s.height,
          elevation: s.elevation,
          heading: s.heading,
          mode_code: s.modeCode,
          battery: s.batteryPercent,
          state: s.state,
          flight_state: state,
        });
        const position = {
          device_id: device.id,
          sn: device.sn,
          kind: device.kind,
          at: iso(s.at),
          longitude: s.lon,
          latitude: s.lat,
          height: s.height,
          elevation: s.elevation,
          heading: s.heading,
          mode_code: s.modeCode,
          battery_percent: s.batteryPercent,
          flight_id: state.flightId ?? null,
        };
        if (!device.online)
          live.push({ workspaceId: device.workspace_id!, event: { type: 'device_online', device_id: device.id, sn: device.sn, kind: device.kind, at: iso(s.at) } });
        live.push({ workspaceId: device.workspace_id!, event: { type: 'position', ...position } });
        live.push({ workspaceId: device.workspace_id!, event: { type: 'telemetry', ...position, state: s.state } });
      }
      await changes.write(m);
      if (deviceUpdates.length) {
        await m.query(
          `UPDATE drone_device d SET
             last_telemetry_at = v.at,
             last_lon = COALESCE(v.lon, d.last_lon),
             last_lat = COALESCE(v.lat, d.last_lat),
             last_height = COALESCE(v.height, d.last_height),
             last_elevation = COALESCE(v.elevation, d.last_elevation),
             last_heading = COALESCE(v.heading, d.last_heading),
             last_mode_code = COALESCE(v.mode_code, d.last_mode_code),
             last_battery_percent = COALESCE(v.battery, d.last_battery_percent),
             last_state = v.state,
             flight_state = v.flight_state,
             online = true,
             updated_at = now()
           FROM jsonb_to_recordset($1::jsonb) AS v(id uuid, at timestamptz, lon float8, lat float8, height float8, elevation float8, heading float8,
             mode_code int, battery int, state jsonb, flight_state jsonb)
           WHERE d.id = v.id`,
          [JSON.stringify(deviceUpdates)],
        );
      }
    });
    for (const [result, n] of Object.entries(counts)) this.count(result as TelemetryResult, n);
    // Flight events first, then positions: a follower sees the flight before the positions that belong to it.
    await this.events.publishMany([...changes.events, ...live]);
  }

  /**
   * Ends the flights of aircraft silent for longer than DRONE_SILENCE_SECONDS (by the time their
   * last message was received), at the time of that last message. Rows another consumer holds are
   * skipped: it is writing their telemetry.
   */
  async sweepSilence(now = Date.now()): Promise<number> {
    const changes = new FlightChanges();
    let ended = 0;
    await this.dataSource.transaction(async (m) => {
      const silent: LockedDevice[] = await m.query(
        `SELECT ${LOCKED_DEVICE_COLUMNS} FROM drone_device
         WHERE kind = 'aircraft' AND flight_state ? 'flightId' AND COALESCE((flight_state->>'receivedAt')::bigint, 0) < $1
         ORDER BY sn LIMIT 500 FOR UPDATE SKIP LOCKED`,
        [now - this.config.DRONE_SILENCE_SECONDS * 1000],
      );
      const updates = silent.map((d) => {
        ended++;
        return { id: d.id, flight_state: changes.end(d, d.flight_state.lastAt ?? now, 'silence') };
      });
      await changes.write(m);
      if (updates.length) {
        await m.query(`UPDATE drone_device d SET flight_state = v.flight_state FROM jsonb_to_recordset($1::jsonb) AS v(id uuid, flight_state jsonb) WHERE d.id = v.id`, [
          JSON.stringify(updates),
        ]);
      }
    });
    await this.events.publishMany(changes.events);
    return ended;
  }

  async onApplicationShutdown(): Promise<void> {
    this.closed = true;
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
    try {
      await this.flush();
    } catch {
      // Logged by flushOnce.
    }
  }
}

function pointOf(s: OsdSample, flightId: string | null, append: boolean) {
  return {
    sn: s.sn,
    at: iso(s.at),
    flight_id: flightId,
    lon: s.lon!,
    lat: s.lat!,
    height: s.height,
    elevation: s.elevation,
    heading: s.heading,
    horizontal_speed: s.horizontalSpeed,
    vertical_speed: s.verticalSpeed,
    mode_code: s.modeCode,
    battery_percent: s.batteryPercent,
    append,
  };
}
