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

interface Envelope {
  w: string;
  e: DroneEvent;
}

/**
 * Live events of the drones domain, per workspace. Whichever process produces an event (a worker
 * consuming MQTT, the API receiving media) publishes it to Redis; every API process subscribed
 * there hands it to its Server-Sent Events followers of that workspace. Best effort: a follower
 * that misses an event reads the state over REST.
 */
@Injectable()
export class DroneEventsService implements OnApplicationShutdown {
  private readonly logger = new Logger(DroneEventsService.name);
  private readonly channel: string;
  private publisher?: Redis;
  private subscriber?: Redis;
  private readonly listeners = new Map<string, Set<(event: DroneEvent) => void>>();

  constructor(private readonly config: AppConfig) {
    this.channel = `${config.QUEUE_PREFIX}:drones:events`;
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

  /** Publishes several events in one Redis message (telemetry batches). */
  async publishMany(events: { workspaceId: string; event: DroneEvent }[]): Promise<void> {
    if (!events.length) return;
    try {
      this.publisher ??= this.connect();
      const envelopes: Envelope[] = events.map(({ workspaceId, event }) => ({ w: workspaceId, e: event }));
      await this.publisher.publish(this.channel, JSON.stringify(envelopes));
    } catch (error) {
      this.logger.warn({ err: (error as Error).message, count: events.length }, 'drone events not published');
    }
  }

  /** Calls `listener` with every event of the workspace; returns the unsubscribe function. */
  async subscribe(workspaceId: string, listener: (event: DroneEvent) => void): Promise<() => void> {
    if (!this.subscriber) {
      const subscriber = (this.subscriber = this.connect());
      subscriber.on('message', (_channel: string, message: string) => this.dispatch(message));
      await subscriber.subscribe(this.channel);
    }
    const set = this.listeners.get(workspaceId) ?? new Set();
    set.add(listener);
    this.listeners.set(workspaceId, set);
    return () => {
      set.delete(listener);
      if (!set.size) this.listeners.delete(workspaceId);
    };
  }

  private dispatch(message: string): void {
    if (!this.listeners.size) return;
    let envelopes: Envelope[];
    try {
      envelopes = JSON.parse(message) as Envelope[];
    } catch {
      return;
    }
    for (const { w, e } of envelopes) {
      for (const listener of this.listeners.get(w) ?? []) {
        try {
          listener(e);
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
