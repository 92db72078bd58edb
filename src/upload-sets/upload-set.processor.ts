import { Injectable, Logger } from '@nestjs/common';
import type { DispatchParams } from '../pictures/sequence-dispatch.js';
import { SequencesService, type SequencingOptions } from '../pictures/sequences.service.js';
import { JobName, JobPayloads } from '../queue/queue.constants.js';
import { OnJob } from '../queue/queue.decorators.js';
import type { JobContext } from '../queue/queue.types.js';
import { UPLOAD_SET_SOURCE, UploadSetPictures } from './upload-set-pictures.js';
import type { UploadSet } from './upload-set.entity.js';
import { UploadSetsRepository } from './upload-sets.repository.js';

export function dispatchParams(set: UploadSet): DispatchParams {
  return {
    sortMethod: set.sortMethod,
    splitDistance: set.noSplit ? null : set.splitDistance,
    splitTime: set.noSplit ? null : set.splitTime,
    duplicateDistance: set.noDeduplication ? null : set.duplicateDistance,
    duplicateRotation: set.noDeduplication ? null : set.duplicateRotation,
  };
}

/** How a set's pictures become sequences: its title, owner, visibility and dispatch settings. */
function sequencing(set: UploadSet): SequencingOptions {
  return {
    title: set.title,
    ownerId: set.ownerId,
    visibility: set.visibility,
    params: dispatchParams(set),
    relativeHeading: set.relativeHeading,
    properties: { upload_set_id: set.id },
    license: set.license ?? undefined,
  };
}

const sourceOf = (set: Pick<UploadSet, 'id'>) => ({ kind: UPLOAD_SET_SOURCE, id: set.id });

/**
 * The `dispatch` queue: cutting a completed set into sequences, finalising them once every
 * picture is processed, and removing deleted sets. Each handler re-reads the set and does
 * nothing when its counters say the work is done; the pictures' side is SequencesService.
 */
@Injectable()
export class UploadSetProcessor {
  private readonly logger = new Logger(UploadSetProcessor.name);

  constructor(
    private readonly repo: UploadSetsRepository,
    private readonly sequences: SequencesService,
    private readonly setPictures: UploadSetPictures,
  ) {}

  @OnJob(JobName.UploadSetDispatch)
  async dispatch(payload: JobPayloads[JobName.UploadSetDispatch]) {
    const outcome = await this.repo.transaction(async (manager) => {
      const set = await this.repo.lock(payload.uploadSetId, manager);
      if (!set || set.status !== 'completed' || set.dispatchedGeneration >= set.dispatchGeneration) return null;
      const cut = await this.sequences.cut(sourceOf(set), sequencing(set), manager);
      await this.repo.markDispatched(set.id, manager);
      return { set, ...cut };
    });
    if (!outcome) return { skipped: 'already dispatched' };
    await this.sequences.afterCut(outcome.duplicateIds);
    await this.setPictures.onPicturesSettled(outcome.set.id);
    const { report } = outcome;
    this.logger.log(
      { uploadSetId: outcome.set.id, sequences: report.sequences.length, duplicates: report.duplicates.length, timeSource: report.timeSource },
      'upload set dispatched',
    );
    return {
      sequences: report.sequences.map((s) => s.length),
      duplicates: report.duplicates.length,
      splits: report.splits.map((s) => ({ after: s.before.fileName, before: s.after.fileName, reason: s.reason, value: s.value })),
      time_source: report.timeSource,
    };
  }

  /**
   * Once every picture of a dispatched set is processed: headings from the path, ranks without
   * gaps, the line of each sequence, its extents, counts and status.
   */
  @OnJob(JobName.UploadSetFinalize)
  async finalize(payload: JobPayloads[JobName.UploadSetFinalize]) {
    if ((await this.setPictures.finalizeDue(payload.uploadSetId)) === null) return { skipped: 'not due' };
    const done = await this.repo.transaction(async (manager) => {
      const set = await this.repo.lock(payload.uploadSetId, manager);
      if (!set || set.status !== 'completed' || set.finalizedRound >= set.finalizeRound) return null;
      const sequences = await this.sequences.finalize(sourceOf(set), sequencing(set), manager);
      await this.repo.markFinalized(set.id, set.finalizeRound, manager);
      return { sequences };
    });
    return done ?? { skipped: 'already finalised' };
  }

  /** Removes a deleted set: its sequences, then every picture's files, then the rows. */
  @OnJob(JobName.UploadSetDelete)
  async remove(payload: JobPayloads[JobName.UploadSetDelete], context: JobContext) {
    const set = await this.repo.find(payload.uploadSetId);
    if (!set || set.status !== 'deleting') return { skipped: true };
    const removed = await this.sequences.removeSource(sourceOf(set), context);
    await this.repo.deleteRow(set.id);
    return removed;
  }
}
