import { Injectable, Logger, OnApplicationShutdown } from '@nestjs/common';
import { Redis } from 'ioredis';
import { AppConfig } from '../config/app-config.js';
import { redisOptions } from '../queue/redis-connection.js';

/** What browsers and scripts following a workspace receive (Server-Sent Events `event:` = `type`). */
export type DroneEventType = 'position' | 'telemetry' | 'device_online' | 'device_offline' | 'flight_started' | 'flight_landed' | 'flight_ended' | 'media_arrived' | (string & {});

export interface DroneEvent {
  type: DroneEventType;
  /** ISO time the event happened (the sender's clock for telemetry). */
  at?: string;
  [key: string]: unknown;
}

/** Frequent events, not sent to Redis while nobody follows their workspace. */
const HIGH_VOLUME: ReadonlySet<string> = new Set(['position', 'telemetry']);
/** How long "nobody follows this workspace" is believed before asking Redis again. */
const QUIET_MS = 2000;

/**
 * Live events of the drones domain, per workspace. Whichever process produces an event (a worker
 * consuming MQTT, the API receiving media) publishes it to the workspace's Redis channel; every API
 * process with Server-Sent Events followers of that workspace is subscribed there and hands it on.
 * Positions and telemetry of a workspace nobody follows are not sent (a follower gets them within
 * 2 s). Best effort: a follower that misses an event reads the state over REST.
 */
@Injectable()
export class DroneEventsService implements OnApplicationShutdown {
  private readonly logger = new Logger(DroneEventsService.name);
  private readonly prefix: string;
  private publisher?: Redis;
  private subscriber?: Redis;
  private readonly listeners = new Map<string, Set<(event: DroneEvent) => void>>();
  /** Workspaces whose channel had no subscriber, until when. */
  private readonly quiet = new Map<string, number>();

  constructor(private readonly config: AppConfig) {
    this.prefix = `${config.QUEUE_PREFIX}:drones:events:`;
  }

  private connect(): Redis {
    const redis = new Redis({ ...redisOptions(this.config.REDIS_URL), maxRetriesPerRequest: 1, lazyConnect: false });
    redis.on('error', (error: Error) => this.logger.warn({ err: error.message }, 'drone events: redis error'));
    return redis;
  }

  /** Publishes one event of a workspace to every process's followers. */
  async publish(workspaceId: string, event: DroneEvent): Promise<void> {
    await this.publishMany([{ workspaceId, event }]);
  }

  /** Publishes events (a telemetry batch's), one Redis message per workspace. */
  async publishMany(events: { workspaceId: string; event: DroneEvent }[]): Promise<void> {
    if (!events.length) return;
    const now = Date.now();
    const byWorkspace = new Map<string, DroneEvent[]>();
    for (const { workspaceId, event } of events) {
      if (HIGH_VOLUME.has(event.type) && (this.quiet.get(workspaceId) ?? 0) > now) continue;
      const list = byWorkspace.get(workspaceId);
      if (list) list.push(event);
      else byWorkspace.set(workspaceId, [event]);
    }
    if (!byWorkspace.size) return;
    try {
      this.publisher ??= this.connect();
      const pipeline = this.publisher.pipeline();
      const order = [...byWorkspace.keys()];
      for (const workspaceId of order) pipeline.publish(this.prefix + workspaceId, JSON.stringify(byWorkspace.get(workspaceId)));
      const results = (await pipeline.exec()) ?? [];
      if (this.quiet.size > 10_000) for (const [w, until] of this.quiet) if (until <= now) this.quiet.delete(w);
      results.forEach(([error, receivers], i) => {
        if (!error && receivers === 0) this.quiet.set(order[i], now + QUIET_MS);
        else this.quiet.delete(order[i]);
      });
    } catch (error) {
      this.logger.warn({ err: (error as Error).message, count: events.length }, 'drone events not published');
    }
  }

  /** Calls `listener` with every event of the workspace; returns the unsubscribe function. */
  async subscribe(workspaceId: string, listener: (event: DroneEvent) => void): Promise<() => void> {
    if (!this.subscriber) {
      const subscriber = (this.subscriber = this.connect());
      subscriber.on('message', (channel: string, message: string) => this.dispatch(channel.slice(this.prefix.length), message));
    }
    let set = this.listeners.get(workspaceId);
    if (!set) {
      set = new Set();
      this.listeners.set(workspaceId, set);
      await this.subscriber.subscribe(this.prefix + workspaceId);
    }
    set.add(listener);
    return () => {
      set.delete(listener);
      if (!set.size && this.listeners.get(workspaceId) === set) {
        this.listeners.delete(workspaceId);
        this.subscriber?.unsubscribe(this.prefix + workspaceId).catch(() => undefined);
      }
    };
  }

  private dispatch(workspaceId: string, message: string): void {
    const listeners = this.listeners.get(workspaceId);
    if (!listeners?.size) return;
    let events: DroneEvent[];
    try {
      events = JSON.parse(message) as DroneEvent[];
    } catch {
      return;
    }
    for (const event of events) {
      for (const listener of listeners) {
        try {
          listener(event);
        } catch (error) {
          this.logger.warn({ err: (error as Error).message }, 'drone event listener failed');
        }
      }
    }
  }

  onApplicationShutdown(): void {
    this.publisher?.disconnect();
    this.subscriber?.disconnect();
  }
}
