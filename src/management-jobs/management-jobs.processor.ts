import { Injectable, Logger } from '@nestjs/common';
import { JobQueueService } from '../queue/job-queue.service.js';
import { JobName, JobPayloads } from '../queue/queue.constants.js';
import { OnJob, Reconciler } from '../queue/queue.decorators.js';
import type { JobContext, JobReconciler } from '../queue/queue.types.js';
import { ManagementJobRunner } from './management-job-runner.service.js';
import { ManagementJobsRepository } from './management-jobs.repository.js';
import { ManagementJobsService } from './management-jobs.service.js';

/** A queued job younger than this is left to the producer that just enqueued it. */
const REQUEUE_GRACE_SECONDS = 10;

/** The `management` queue's handler, and the reconciler that keeps jobs from being lost or stuck. */
@Injectable()
@Reconciler()
export class ManagementJobsProcessor implements JobReconciler {
  private readonly logger = new Logger(ManagementJobsProcessor.name);

  constructor(
    private readonly runner: ManagementJobRunner,
    private readonly jobs: ManagementJobsService,
    private readonly repository: ManagementJobsRepository,
    private readonly queue: JobQueueService,
  ) {}

  @OnJob(JobName.ManagementRun)
  async run(payload: JobPayloads[JobName.ManagementRun], context: JobContext) {
    const outcome = await this.runner.runQueued(payload.jobId, payload.attempt, { shutdownSignal: context.signal });
    return outcome ? { status: outcome.status } : { status: 'skipped' };
  }

  /**
   * Stalled runs (no heartbeat for MANAGEMENT_STALL_SECONDS) are failed or re-queued; queued
   * runs whose BullMQ job is gone (Redis flushed) or was consumed without running are enqueued again.
   */
  async reconcile(): Promise<number> {
    let count = await this.jobs.sweepStalled();
    for (const job of await this.repository.queued(REQUEUE_GRACE_SECONDS)) {
      // An ended run is removed (it would block its id); a waiting or active one is left alone.
      const state = await this.queue.removeIfEnded(JobName.ManagementRun, { jobId: job.id, attempt: job.attempt });
      if (!['completed', 'failed', 'missing', 'unknown'].includes(state)) continue;
      this.logger.warn({ jobId: job.id, attempt: job.attempt, state }, 'queued management job had no pending queue entry; enqueued again');
      await this.jobs.enqueue(job);
      count++;
    }
    return count;
  }
}
