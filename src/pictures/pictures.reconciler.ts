import { Injectable } from '@nestjs/common';
import { JobQueueService } from '../queue/job-queue.service.js';
import { JobName } from '../queue/queue.constants.js';
import { Reconciler } from '../queue/queue.decorators.js';
import type { JobReconciler } from '../queue/queue.types.js';
import { PicturesRepository } from './pictures.repository.js';

const BATCH = 2000;
/** Pictures unchanged this long have their job checked, not just re-added. */
const STALE_MS = 2 * 60 * 1000;
const STALE_CHECKS_PER_PASS = 200;

/** Re-enqueues what the `picture` table says is unfinished: processing and file removal. */
@Injectable()
@Reconciler()
export class PicturesReconciler implements JobReconciler {
  constructor(
    private readonly pictures: PicturesRepository,
    private readonly jobs: JobQueueService,
  ) {}

  async reconcile(): Promise<number> {
    const unfinished = await this.pictures.listUnfinished(BATCH);
    const now = Date.now();
    let checks = 0;
    for (const p of unfinished) {
      if (now - new Date(p.updatedAt).getTime() < STALE_MS || checks >= STALE_CHECKS_PER_PASS) continue;
      checks++;
      // A job that ended (failed past its stall limit, or lost its result) blocks its own id: clear it.
      const payload = { pictureId: p.id, generation: p.generation };
      await this.jobs.removeIfEnded(JobName.PictureProcess, payload);
    }
    await this.jobs.addBulk(
      JobName.PictureProcess,
      unfinished.map((p) => ({ pictureId: p.id, generation: p.generation })),
    );
    const removals = await this.pictures.listAwaitingRemoval(BATCH);
    await this.jobs.addBulk(
      JobName.PictureDelete,
      removals.map((p) => ({ pictureId: p.id })),
    );
    return unfinished.length + removals.length;
  }
}
