import { Injectable, NotFoundException } from '@nestjs/common';
import type { AuthUser } from '../auth/auth.types.js';
import { canEdit } from '../auth/visibility.js';
import { JobQueueService } from '../queue/job-queue.service.js';
import { JobName } from '../queue/queue.constants.js';
import type { Picture } from './picture.entity.js';
import { PicturesRepository } from './pictures.repository.js';

/** What other domains (upload sets, management commands) may ask of the pictures. */
@Injectable()
export class PicturesService {
  constructor(
    private readonly pictures: PicturesRepository,
    private readonly jobs: JobQueueService,
  ) {}

  /** A picture its owner (or an admin) may look at; 404 for anyone else. */
  async getOwned(id: string, user: AuthUser | undefined): Promise<Picture> {
    const picture = await this.pictures.find(id);
    if (!picture || picture.status === 'deleting' || !canEdit(user, { ownerId: picture.ownerId })) {
      throw new NotFoundException(`Picture ${id} not found`);
    }
    return picture;
  }

  /**
   * Processes pictures again (derivatives, and blurring again when `reblur`): by ids, by upload
   * set or by sequence. Sets finalise again afterwards. Returns how many pictures were queued.
   */
  async reprocess(target: { pictureIds?: string[]; uploadSetId?: string; sequenceId?: string }, options: { reblur?: boolean } = {}): Promise<number> {
    if (!target.pictureIds && !target.uploadSetId && !target.sequenceId) throw new Error('reprocess needs pictureIds, uploadSetId or sequenceId');
    const queued = await this.pictures.requestReprocess({ ids: target.pictureIds, uploadSetId: target.uploadSetId, sequenceId: target.sequenceId }, options.reblur === true);
    await this.pictures.bumpFinalizeRound(queued.map((q) => q.uploadSetId));
    await this.jobs.addBulk(
      JobName.PictureProcess,
      queued.map((q) => ({ pictureId: q.id, generation: q.generation })),
    );
    return queued.length;
  }
}
