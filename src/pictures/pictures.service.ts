import { Injectable, NotFoundException, OnModuleInit } from '@nestjs/common';
import type { AuthUser } from '../auth/auth.types.js';
import { canEdit } from '../auth/visibility.js';
import { CollectionsService } from '../collections/collections.service.js';
import { PictureFilesService } from '../collections/picture-files.service.js';
import { Picture } from './picture.entity.js';
import { JobQueueService } from '../queue/job-queue.service.js';
import { JobName } from '../queue/queue.constants.js';
import { PicturesRepository } from './pictures.repository.js';

/** What other domains (upload sets, management commands) may ask of the pictures. */
@Injectable()
export class PicturesService implements OnModuleInit {
  constructor(
    private readonly pictures: PicturesRepository,
    private readonly jobs: JobQueueService,
    private readonly collections: CollectionsService,
    private readonly pictureFiles: PictureFilesService,
  ) {}

  onModuleInit(): void {
    // A picture item deleted through the collections domain takes its pipeline row with it, so
    // the same file can be uploaded again and the upload set's counts follow.
    this.collections.onItemsDeleted(async ({ itemIds }, manager) => {
      if (itemIds.length) await manager.getRepository(Picture).delete(itemIds);
    });
    // Before dispatch a picture has no item yet: its owner may still look at its files.
    this.pictureFiles.setUndispatchedPictureOwner(async (id) => {
      const picture = await this.pictures.find(id);
      return picture ? { ownerId: picture.ownerId } : null;
    });
  }

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
  async reprocess(target: { pictureIds?: string[]; uploadSetId?: string; sequenceId?: string; all?: boolean }, options: { reblur?: boolean } = {}): Promise<{ id: string }[]> {
    if (!target.pictureIds && !target.uploadSetId && !target.sequenceId && !target.all) throw new Error('reprocess needs pictureIds, uploadSetId, sequenceId or all');
    const queued = await this.pictures.requestReprocess({ ids: target.pictureIds, uploadSetId: target.uploadSetId, sequenceId: target.sequenceId }, options.reblur === true);
    await this.pictures.bumpFinalizeRound(queued.map((q) => q.uploadSetId));
    await this.jobs.addBulk(
      JobName.PictureProcess,
      queued.map((q) => ({ pictureId: q.id, generation: q.generation })),
    );
    return queued.map((q) => ({ id: q.id }));
  }

  /** How many of these pictures are still waiting or being processed, and how many broke. */
  async processingState(ids: string[]): Promise<{ pending: number; broken: number; ready: number }> {
    const state = { pending: 0, broken: 0, ready: 0 };
    for (let i = 0; i < ids.length; i += 5000) {
      for (const p of await this.pictures.findMany(ids.slice(i, i + 5000))) {
        if (p.status === 'pending' || p.status === 'processing') state.pending++;
        else if (p.status === 'broken') state.broken++;
        else if (p.status === 'ready') state.ready++;
      }
    }
    return state;
  }
}
