import { Injectable, Logger, OnApplicationShutdown } from '@nestjs/common';
import { Redis } from 'ioredis';
import { AppConfig } from '../config/app-config.js';
import { redisOptions } from '../queue/redis-connection.js';

/**
 * Tells the process running a job that an admin asked it to stop, through Redis pub/sub, so the
 * job's signal fires within milliseconds. The stop request is recorded in the database first;
 * runners also read it there with every heartbeat, so a lost message only delays the stop by a
 * second.
 */
@Injectable()
export class ManagementStopChannel implements OnApplicationShutdown {
  private readonly logger = new Logger(ManagementStopChannel.name);
  private publisher?: Redis;
  private subscriber?: Redis;
  private readonly listeners = new Map<string, Set<() => void>>();
  private readonly channel: string;

  constructor(private readonly config: AppConfig) {
    this.channel = `${config.QUEUE_PREFIX}:management:stop`;
  }

  private connect(): Redis {
    const redis = new Redis({ ...redisOptions(this.config.REDIS_URL), maxRetriesPerRequest: 1, lazyConnect: false });
    redis.on('error', (error: Error) => this.logger.warn({ err: error.message }, 'management stop channel: redis error'));
    return redis;
  }

  /** Best effort: the runner also polls the database. */
  async publish(jobId: string): Promise<void> {
    try {
      this.publisher ??= this.connect();
      await this.publisher.publish(this.channel, jobId);
    } catch (error) {
      this.logger.warn({ jobId, err: (error as Error).message }, 'stop request not published; the runner will see it at its next heartbeat');
    }
  }

  /** Calls `onStop` when a stop of `jobId` is published; returns the unsubscribe function. */
  subscribe(jobId: string, onStop: () => void): () => void {
    if (!this.subscriber) {
      const subscriber = (this.subscriber = this.connect());
      subscriber.on('message', (_channel: string, id: string) => {
        for (const listener of this.listeners.get(id) ?? []) listener();
      });
      subscriber.subscribe(this.channel).catch((error: Error) => this.logger.warn({ err: error.message }, 'could not subscribe to stop requests'));
    }
    const set = this.listeners.get(jobId) ?? new Set();
    set.add(onStop);
    this.listeners.set(jobId, set);
    return () => {
      set.delete(onStop);
      if (!set.size) this.listeners.delete(jobId);
    };
  }

  async onApplicationShutdown(): Promise<void> {
    this.publisher?.disconnect();
    this.subscriber?.disconnect();
  }
}
