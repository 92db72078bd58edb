import { Injectable, NotFoundException } from '@nestjs/common';
import { EntityManager } from 'typeorm';
import type { AuthUser } from '../auth/auth.types.js';
import { canEdit } from '../auth/visibility.js';
import { ItemSource, type CatalogSource, type ItemsRemovedEvent, type RemovedFiles } from '../catalog/catalog-source.js';
import { JobQueueService } from '../queue/job-queue.service.js';
import { JobName } from '../queue/queue.constants.js';
import { Picture } from './picture.entity.js';
import { PictureSources, type PictureSourceRef } from './picture-source.js';
import { picturePrefix } from './picture-storage.js';
import { PicturesRepository, type PictureStatusCounts } from './pictures.repository.js';

/**
 * What other domains (picture sources, management commands) may ask of the pictures. Pictures
 * are the catalog's `picture` items of `sequence` collections.
 */
@Injectable()
@ItemSource()
export class PicturesService implements CatalogSource {
  readonly itemKinds = ['picture'];
  readonly collectionKinds = ['sequence'];

  constructor(
    private readonly pictures: PicturesRepository,
    private readonly jobs: JobQueueService,
    private readonly sources: PictureSources,
  ) {}

  /**
   * A picture item removed through the catalog takes its pipeline row with it (the same file can
   * be taken in again and its source's counts follow), and its folder is purged.
   */
  async onItemsRemoved(event: ItemsRemovedEvent, manager: EntityManager): Promise<RemovedFiles> {
    await manager.getRepository(Picture).delete(event.itemIds);
    return { itemFolders: event.itemIds.map((itemId) => ({ itemId, prefix: picturePrefix(itemId) })) };
  }

  /** Before it is cut into a sequence a picture has no item yet: its owner may still look at it. */
  async unpublishedOwner(id: string): Promise<{ ownerId: string | null } | null> {
    const picture = await this.pictures.find(id);
    return picture ? { ownerId: picture.ownerId } : null;
  }

  /** A picture its owner (or an admin) may look at; 404 for anyone else. */
  async getOwned(id: string, user: AuthUser | undefined): Promise<Picture> {
    const picture = await this.pictures.find(id);
    if (!picture || picture.status === 'deleting' || !canEdit(user, { ownerId: picture.ownerId })) {
      throw new NotFoundException(`Picture ${id} not found`);
    }
    return picture;
  }

  findMany(ids: string[]): Promise<Picture[]> {
    return this.pictures.findMany(ids);
  }

  /**
   * Processes pictures again (derivatives, and blurring again when `reblur`): by ids, by source
   * batch or by sequence. Their sources finalise again afterwards. Returns the queued pictures.
   */
  async reprocess(target: { pictureIds?: string[]; source?: PictureSourceRef; sequenceId?: string; all?: boolean }, options: { reblur?: boolean } = {}): Promise<{ id: string }[]> {
    if (!target.pictureIds && !target.source && !target.sequenceId && !target.all) throw new Error('reprocess needs pictureIds, source, sequenceId or all');
    const queued = await this.pictures.requestReprocess({ ids: target.pictureIds, source: target.source, sequenceId: target.sequenceId }, options.reblur === true);
    await this.sources.reprocessed(queued.map((q) => ({ kind: q.sourceKind, id: q.sourceId })));
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

  /** Processing counts per batch and sequence, for many batches of one source kind. */
  countsBySource(kind: string, ids: string[]): Promise<{ sourceId: string; sequenceId: string | null; counts: PictureStatusCounts }[]> {
    return this.pictures.countsBySource(kind, ids);
  }

  /** The latest processing errors of a batch's pictures. */
  processingErrors(ref: PictureSourceRef, limit: number) {
    return this.pictures.processingErrors(ref, limit);
  }
}
