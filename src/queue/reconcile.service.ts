import { Inject, Injectable, Logger, OnApplicationBootstrap, BeforeApplicationShutdown } from '@nestjs/common';
import { AppConfig } from '../config/app-config.js';
import { JobQueueService } from './job-queue.service.js';
import { JobRegistryService } from './job-registry.service.js';
import { PROCESS_ROLE, type ProcessRole } from './process-role.js';

/**
 * The worker's safety net: at start and then every RECONCILE_INTERVAL_SECONDS it re-creates
 * missing job schedulers and asks every domain to re-enqueue unfinished work.
 */
@Injectable()
export class ReconcileService implements OnApplicationBootstrap, BeforeApplicationShutdown {
  private readonly logger = new Logger(ReconcileService.name);
  private timer?: NodeJS.Timeout;
  private inFlight?: Promise<void>;
  lastRun?: { at: Date; enqueued: number; error?: string };

  constructor(
    @Inject(PROCESS_ROLE) private readonly role: ProcessRole,
    private readonly config: AppConfig,
    private readonly registry: JobRegistryService,
    private readonly jobs: JobQueueService,
  ) {}

  onApplicationBootstrap(): void {
    if (this.role !== 'worker') return;
    void this.runOnce();
    this.timer = setInterval(() => void this.runOnce(), this.config.RECONCILE_INTERVAL_SECONDS * 1000);
    this.timer.unref();
  }

  async beforeApplicationShutdown(): Promise<void> {
    clearInterval(this.timer);
    await this.inFlight;
  }

  /** One pass; concurrent calls share the pass in progress. */
  runOnce(): Promise<void> {
    this.inFlight ??= this.pass().finally(() => (this.inFlight = undefined));
    return this.inFlight;
  }

  private async pass(): Promise<void> {
    let enqueued = 0;
    const errors: string[] = [];
    for (const reconciler of this.registry.reconcilers()) {
      const who = reconciler.constructor.name;
      try {
        for (const schedule of reconciler.schedules?.() ?? []) await this.jobs.upsertSchedule(schedule);
        enqueued += (await reconciler.reconcile?.()) ?? 0;
      } catch (error) {
        errors.push(`${who}: ${(error as Error).message}`);
        this.logger.error({ reconciler: who, err: (error as Error).message }, 'reconcile failed');
      }
    }
    if (enqueued) this.logger.log(`reconcile re-enqueued ${enqueued} jobs`);
    this.lastRun = { at: new Date(), enqueued, error: errors.length ? errors.join('; ') : undefined };
  }
}
