import { Injectable } from '@nestjs/common';
import { JobQueueService } from '../queue/job-queue.service.js';
import { JobName } from '../queue/queue.constants.js';
import { Reconciler } from '../queue/queue.decorators.js';
import type { JobReconciler } from '../queue/queue.types.js';
import { UploadSetPictures } from './upload-set-pictures.js';
import { UploadSetsRepository } from './upload-sets.repository.js';

const BATCH = 500;

/** Re-enqueues the set-level work the `upload_set` counters say is due: dispatch, finalisation, deletion. */
@Injectable()
@Reconciler()
export class UploadSetsReconciler implements JobReconciler {
  constructor(
    private readonly repo: UploadSetsRepository,
    private readonly setPictures: UploadSetPictures,
    private readonly jobs: JobQueueService,
  ) {}

  async reconcile(): Promise<number> {
    const dispatch = await this.repo.listDispatchDue(BATCH);
    await this.jobs.addBulk(
      JobName.UploadSetDispatch,
      dispatch.map((s) => ({ uploadSetId: s.id, generation: s.generation })),
    );
    const finalize = await this.setPictures.listFinalizeDue(BATCH);
    await this.jobs.addBulk(
      JobName.UploadSetFinalize,
      finalize.map((s) => ({ uploadSetId: s.id, round: s.round })),
    );
    const deleting = await this.repo.listDeleting(BATCH);
    await this.jobs.addBulk(
      JobName.UploadSetDelete,
      deleting.map((s) => ({ uploadSetId: s.id })),
    );
    return dispatch.length + finalize.length + deleting.length;
  }
}
