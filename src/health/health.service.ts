import { Injectable } from '@nestjs/common';
import { HealthCheckService, HealthIndicatorService, TypeOrmHealthIndicator } from '@nestjs/terminus';
import { JobQueueService } from '../queue/job-queue.service.js';
import { HEARTBEAT_INTERVAL_MS } from '../queue/worker.service.js';
import { StorageService } from '../storage/storage.service.js';

/** A dependency a domain reports on (e.g. the MQTT broker of a telemetry consumer). */
export type ExtraHealthProbe = () => Promise<{ up: boolean; details?: Record<string, unknown> }>;

@Injectable()
export class HealthService {
  private readonly extra = new Map<string, ExtraHealthProbe>();

  constructor(
    private readonly health: HealthCheckService,
    private readonly indicators: HealthIndicatorService,
    private readonly db: TypeOrmHealthIndicator,
    private readonly jobs: JobQueueService,
    private readonly storage: StorageService,
  ) {}

  /** Adds a dependency to the readiness check of this process (down = 503). */
  registerCheck(name: string, probe: ExtraHealthProbe): void {
    this.extra.set(name, probe);
  }

  /** Database, Redis (with queue depths), storage and the registered checks; throws 503 when any is down. */
  ready() {
    return this.health.check([
      () => this.db.pingCheck('database', { timeout: 3000 }),
      async () => {
        const redis = this.indicators.check('redis');
        try {
          // Counting jobs is a round trip to Redis: it doubles as the ping.
          return redis.up({ queues: await withTimeout(this.jobs.counts(), 3000) });
        } catch (error) {
          return redis.down({ message: (error as Error).message });
        }
      },
      async () => {
        // Reported, never failing: the API serves without workers; queued work just waits.
        const workers = this.indicators.check('workers');
        try {
          const beats = await withTimeout(this.jobs.heartbeats(), 3000);
          const staleAfter = 3 * HEARTBEAT_INTERVAL_MS;
          const now = Date.now();
          const describe = (b: (typeof beats)[number]) => ({ id: b.id, queues: b.queues, running_jobs: b.running, last_seen_seconds_ago: Math.round((now - b.at) / 1000) });
          const alive = beats.filter((b) => now - b.at <= staleAfter).map(describe);
          const stale = beats.filter((b) => now - b.at > staleAfter).map(describe);
          const message =
            stale.length > 0
              ? `${stale.length} worker(s) stopped heart-beating (crashed, killed or blocked): ${stale.map((w) => w.id).join(', ')}`
              : alive.length === 0
                ? 'no worker is running: queued work waits'
                : undefined;
          return workers.up({ alive: alive.length, workers: alive, stale, ...(message ? { message } : {}) });
        } catch (error) {
          return workers.up({ message: `heartbeats unreadable: ${(error as Error).message}` });
        }
      },
      async () => {
        const storage = this.indicators.check('storage');
        try {
          await this.storage.checkWritable();
          return storage.up();
        } catch (error) {
          return storage.down({ message: (error as Error).message });
        }
      },
      ...[...this.extra].map(([name, probe]) => async () => {
        const indicator = this.indicators.check(name);
        try {
          const { up, details } = await withTimeout(probe(), 3000);
          return up ? indicator.up(details) : indicator.down(details);
        } catch (error) {
          return indicator.down({ message: (error as Error).message });
        }
      }),
    ]);
  }
}

function withTimeout<T>(promise: Promise<T>, ms: number): Promise<T> {
  let timer: NodeJS.Timeout;
  const timeout = new Promise<never>((_, reject) => (timer = setTimeout(() => reject(new Error(`no answer in ${ms} ms`)), ms)));
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}
