import { Injectable, Logger } from '@nestjs/common';
import { AppConfig } from '../config/app-config.js';
import { JobName, JobPayloads, JobSchedule } from '../queue/queue.constants.js';
import { OnJob, Reconciler } from '../queue/queue.decorators.js';
import type { JobContext, JobReconciler } from '../queue/queue.types.js';
import { StorageService } from './storage.service.js';

/** Storage housekeeping jobs: the scheduled removal of stale scratch files. */
@Injectable()
@Reconciler()
export class StorageJobsService implements JobReconciler {
  private readonly logger = new Logger(StorageJobsService.name);

  constructor(
    private readonly storage: StorageService,
    private readonly config: AppConfig,
  ) {}

  schedules(): JobSchedule[] {
    return [{ id: 'storage.cleanup-temp', name: JobName.StorageCleanupTemp, payload: {}, pattern: this.config.TEMP_CLEANUP_CRON }];
  }

  @OnJob(JobName.StorageCleanupTemp)
  async cleanupTemp(payload: JobPayloads[JobName.StorageCleanupTemp], context: JobContext) {
    const result = await this.storage.cleanupTemp(payload.maxAgeSeconds ?? this.config.TEMP_MAX_AGE_SECONDS, context.signal);
    this.logger.log(`temp cleanup removed ${result.removed} files (${result.bytes} bytes)`);
    await context.progress(100);
    return result;
  }
}
