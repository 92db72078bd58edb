import { Injectable } from '@nestjs/common';
import { HealthCheckService, HealthIndicatorService, TypeOrmHealthIndicator } from '@nestjs/terminus';
import { JobQueueService } from '../queue/job-queue.service.js';
import { StorageService } from '../storage/storage.service.js';

@Injectable()
export class HealthService {
  constructor(
    private readonly health: HealthCheckService,
    private readonly indicators: HealthIndicatorService,
    private readonly db: TypeOrmHealthIndicator,
    private readonly jobs: JobQueueService,
    private readonly storage: StorageService,
  ) {}

  /** Database, Redis (with queue depths) and storage; throws 503 when any is down. */
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
        const storage = this.indicators.check('storage');
        try {
          await this.storage.checkWritable();
          return storage.up();
        } catch (error) {
          return storage.down({ message: (error as Error).message });
        }
      },
    ]);
  }
}

function withTimeout<T>(promise: Promise<T>, ms: number): Promise<T> {
  let timer: NodeJS.Timeout;
  const timeout = new Promise<never>((_, reject) => (timer = setTimeout(() => reject(new Error(`no answer in ${ms} ms`)), ms)));
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}
