import { Injectable } from '@nestjs/common';
import type { EntityManager } from 'typeorm';
import { PictureSourceHandler, type PictureRejection, type PictureSource } from '../pictures/picture-source.js';
import { SequencesService } from '../pictures/sequences.service.js';
import { JobQueueService } from '../queue/job-queue.service.js';
import { JobName } from '../queue/queue.constants.js';
import { UploadSetsRepository } from './upload-sets.repository.js';

/** The picture source kind of upload sets. */
export const UPLOAD_SET_SOURCE = 'upload-set';

/** Upload sets as a source of pictures: what they do when their pictures are processed or turned away. */
@Injectable()
@PictureSourceHandler()
export class UploadSetPictures implements PictureSource {
  readonly pictureSourceKind = UPLOAD_SET_SOURCE;

  constructor(
    private readonly repo: UploadSetsRepository,
    private readonly sequences: SequencesService,
    private readonly jobs: JobQueueService,
  ) {}

  /** When the set's last unfinished picture is done, its sequences can be finalised. */
  async onPicturesSettled(uploadSetId: string | null): Promise<void> {
    if (!uploadSetId) return;
    const round = await this.finalizeDue(uploadSetId);
    if (round !== null) await this.jobs.add(JobName.UploadSetFinalize, { uploadSetId, round });
  }

  /** The uploaded file records why its picture was turned away. */
  async onPicturesRejected(_uploadSetId: string | null, rejections: PictureRejection[], manager: EntityManager): Promise<void> {
    for (const r of rejections) await this.repo.recordFileRejection(r.pictureId, r, manager);
  }

  async onPicturesReprocessed(uploadSetIds: string[], manager?: EntityManager): Promise<void> {
    await this.repo.bumpFinalizeRound(uploadSetIds, manager);
  }

  /**
   * The finalisation round a set is due for: it is dispatched, not finalised at its latest
   * round, and none of its pictures is still waiting or running. Null otherwise.
   */
  async finalizeDue(uploadSetId: string): Promise<number | null> {
    const [due] = await this.repo.listFinalizeDue(1, uploadSetId);
    if (!due || (await this.sequences.hasUnfinished({ kind: UPLOAD_SET_SOURCE, id: uploadSetId }))) return null;
    return due.round;
  }

  /** Sets due for finalisation (see finalizeDue), for the reconciler. */
  async listFinalizeDue(limit: number): Promise<{ id: string; round: number }[]> {
    const candidates = await this.repo.listFinalizeDue(limit);
    const unfinished = await this.sequences.unfinishedSources(
      UPLOAD_SET_SOURCE,
      candidates.map((c) => c.id),
    );
    return candidates.filter((c) => !unfinished.has(c.id));
  }
}
