import { Injectable } from '@nestjs/common';
import { JobName, JobPayloads } from '../queue/queue.constants.js';
import { OnJob, Reconciler } from '../queue/queue.decorators.js';
import type { JobContext, JobReconciler } from '../queue/queue.types.js';
import { HarvestRunner } from './harvest-runner.service.js';
import { HarvestersService } from './harvesters.service.js';

/** A queued session younger than this is left to the request that just enqueued it. */
const REQUEUE_GRACE_SECONDS = 10;

/**
 * The `harvest` queue's handler, and the reconciler that ends sessions whose worker died
 * (`timed_out`), re-enqueues sessions whose queue entry was lost and starts scheduled actions.
 */
@Injectable()
@Reconciler()
export class HarvestersProcessor implements JobReconciler {
  constructor(
    private readonly runner: HarvestRunner,
    private readonly harvesters: HarvestersService,
  ) {}

  @OnJob(JobName.HarvestRun)
  async run(payload: JobPayloads[JobName.HarvestRun], context: JobContext) {
    const outcome = await this.runner.runQueued(payload.sessionId, context.signal);
    return outcome ? { status: outcome.status, counters: outcome.counters } : { status: 'skipped' };
  }

  async reconcile(): Promise<number> {
    const swept = await this.harvesters.sweepStalled();
    const requeued = await this.harvesters.requeueLost(REQUEUE_GRACE_SECONDS);
    const started = await this.harvesters.startDue();
    return swept + requeued + started;
  }
}
