import { Injectable, Logger } from '@nestjs/common';
import { EntityManager } from 'typeorm';
import { CollectionsService } from '../collections/collections.service.js';
import { pictureItemAssets, pictureItemProperties } from '../pictures/picture-item.js';
import { Picture } from '../pictures/picture.entity.js';
import { picturePrefix } from '../pictures/picture-storage.js';
import { returnedRows } from '../pictures/sql-rows.js';
import { PicturesRepository } from '../pictures/pictures.repository.js';
import { JobQueueService } from '../queue/job-queue.service.js';
import { JobName, JobPayloads } from '../queue/queue.constants.js';
import { OnJob } from '../queue/queue.decorators.js';
import type { JobContext } from '../queue/queue.types.js';
import { StorageService } from '../storage/storage.service.js';
import { dispatchPictures, DispatchParams, DispatchPicture } from './sequence-dispatch.js';
import { pathGeometry, pathHeadings } from './sequence-geometry.js';
import type { UploadSet } from './upload-set.entity.js';
import { UploadSetsRepository } from './upload-sets.repository.js';

const escapeRegExp = (s: string) => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

const itemStatus = (p: Picture) => (p.status === 'ready' ? 'ready' : p.status === 'broken' ? 'broken' : 'pending');

export function dispatchParams(set: UploadSet): DispatchParams {
  return {
    sortMethod: set.sortMethod,
    splitDistance: set.noSplit ? null : set.splitDistance,
    splitTime: set.noSplit ? null : set.splitTime,
    duplicateDistance: set.noDeduplication ? null : set.duplicateDistance,
    duplicateRotation: set.noDeduplication ? null : set.duplicateRotation,
  };
}

function toDispatchPicture(p: Picture): DispatchPicture {
  return {
    id: p.id,
    fileName: p.fileName,
    lon: p.geom.coordinates[0]!,
    lat: p.geom.coordinates[1]!,
    capturedAt: new Date(p.capturedAt),
    gpsTime: p.gpsTime ? new Date(p.gpsTime) : null,
    cameraTime: p.cameraTime ? new Date(p.cameraTime) : null,
    heading: p.heading,
    projection: p.projection,
  };
}

/**
 * The `dispatch` queue: cutting a completed set into sequences, finalising them once every
 * picture is processed, and removing deleted sets. Each handler re-reads the set and does
 * nothing when its counters say the work is done.
 */
@Injectable()
export class UploadSetProcessor {
  private readonly logger = new Logger(UploadSetProcessor.name);

  constructor(
    private readonly repo: UploadSetsRepository,
    private readonly pictures: PicturesRepository,
    private readonly collections: CollectionsService,
    private readonly storage: StorageService,
    private readonly jobs: JobQueueService,
  ) {}

  @OnJob(JobName.UploadSetDispatch)
  async dispatch(payload: JobPayloads[JobName.UploadSetDispatch]) {
    const outcome = await this.repo.transaction(async (manager) => {
      const set = await this.repo.lock(payload.uploadSetId, 'update', manager);
      if (!set || set.status !== 'completed' || set.dispatchedGeneration >= set.dispatchGeneration) return null;
      // Locking the pictures orders dispatch against their processing runs: a run that ends
      // meanwhile updates an item this transaction has created (or creates none to update).
      const pictures = (
        await manager.getRepository(Picture).createQueryBuilder('p').setLock('pessimistic_write').where('p.upload_set_id = :id', { id: set.id }).orderBy('p.id').getMany()
      ).filter((p) => p.status !== 'rejected' && p.status !== 'deleting');
      const byId = new Map(pictures.map((p) => [p.id, p]));
      const report = dispatchPictures(pictures.map(toDispatchPicture), dispatchParams(set));

      // Duplicates: rejected on their file, removed from any sequence, files deleted later.
      const duplicateIds = report.duplicates.map((d) => d.picture.id);
      const details = new Map(report.duplicates.map((d) => [d.picture.id, { duplicate_of: d.duplicateOf.id, duplicate_of_file: d.duplicateOf.fileName, distance: d.distance, angle: d.angle }]));
      for (const id of duplicateIds) if (byId.get(id)!.sequenceId) await this.collections.deleteItem(id, manager);
      await this.pictures.markForRemoval(duplicateIds, 'rejected', manager);
      await this.pictures.recordFileRejection(
        duplicateIds,
        {
          reason: 'capture_duplicate',
          severity: 'info',
          message: 'The picture is too similar to another one of its sequence (nearby and looking the same way)',
          details: (id) => details.get(id) ?? null,
        },
        manager,
      );

      const previous = new Set(pictures.map((p) => p.sequenceId).filter((s): s is string => !!s));
      const reused = new Set<string>();
      const numbered = report.sequences.length > 1;
      for (const [index, sequence] of report.sequences.entries()) {
        const members = sequence.map((d) => byId.get(d.id)!);
        // A sequence already holding some of these pictures is kept (its id, edits and links survive).
        const existing = members.map((p) => p.sequenceId).find((s): s is string => !!s && !reused.has(s));
        const title = numbered ? `${set.title}-${index + 1}` : set.title;
        let sequenceId: string;
        if (existing) {
          sequenceId = existing;
          // Renumber titles this dispatch gave; a title the owner changed stays.
          const current = await this.collections.findCollection(existing, manager);
          const derived = current && (current.title === set.title || new RegExp(`^${escapeRegExp(set.title)}-\\d+$`).test(current.title));
          await this.collections.updateCollection(sequenceId, { status: 'preparing', visibility: set.visibility, ...(derived ? { title } : {}) }, manager);
        } else {
          const created = await this.collections.createCollection(
            {
              kind: 'sequence',
              title,
              ownerId: set.ownerId,
              visibility: set.visibility,
              status: 'preparing',
              properties: { upload_set_id: set.id, relative_heading: set.relativeHeading, sort_method: set.sortMethod },
            },
            manager,
          );
          sequenceId = created.id;
        }
        reused.add(sequenceId);
        const fresh: Picture[] = [];
        for (const [i, p] of members.entries()) {
          if (p.sequenceId) await this.collections.updateItem(p.id, { collectionId: sequenceId, rank: i + 1 }, manager);
          else fresh.push(p);
        }
        const rankOf = new Map(members.map((p, i) => [p.id, i + 1]));
        await this.collections.createItems(
          fresh.map((p) => ({
            id: p.id,
            collectionId: sequenceId,
            kind: 'picture' as const,
            ownerId: set.ownerId,
            visibility: set.visibility,
            status: itemStatus(p),
            datetime: p.capturedAt,
            geom: p.geom,
            rank: rankOf.get(p.id)!,
            properties: pictureItemProperties(p, { value: p.heading, source: p.heading === null ? null : 'exif' }),
            assets: pictureItemAssets(p.id),
          })),
          manager,
        );
        await manager.query(
          `UPDATE picture p SET sequence_id = $1, rank = r.rank, updated_at = now()
           FROM unnest($2::uuid[], $3::int[]) AS r(id, rank) WHERE p.id = r.id`,
          [sequenceId, members.map((p) => p.id), members.map((_, i) => i + 1)],
        );
      }
      for (const old of previous) if (!reused.has(old)) await this.collections.deleteCollection(old, manager);
      await manager.query(
        `UPDATE upload_set SET dispatched_generation = dispatch_generation, dispatched_at = now(), finalize_round = finalize_round + 1, updated_at = now() WHERE id = $1`,
        [set.id],
      );
      return { set, report, duplicateIds };
    });
    if (!outcome) return { skipped: 'already dispatched' };
    await this.jobs.addBulk(
      JobName.PictureDelete,
      outcome.duplicateIds.map((pictureId) => ({ pictureId })),
    );
    await this.signalFinalize(outcome.set.id);
    const { report } = outcome;
    this.logger.log({ uploadSetId: outcome.set.id, sequences: report.sequences.length, duplicates: report.duplicates.length, timeSource: report.timeSource }, 'upload set dispatched');
    return {
      sequences: report.sequences.map((s) => s.length),
      duplicates: report.duplicates.length,
      splits: report.splits.map((s) => ({ after: s.before.fileName, before: s.after.fileName, reason: s.reason, value: s.value })),
      time_source: report.timeSource,
    };
  }

  private async signalFinalize(uploadSetId: string): Promise<void> {
    const round = await this.pictures.finalizeDue(uploadSetId);
    if (round !== null) await this.jobs.add(JobName.UploadSetFinalize, { uploadSetId, round });
  }

  /**
   * Once every picture of a dispatched set is processed: headings from the path, ranks without
   * gaps, the line of each sequence, its extents, counts and status.
   */
  @OnJob(JobName.UploadSetFinalize)
  async finalize(payload: JobPayloads[JobName.UploadSetFinalize]) {
    if ((await this.pictures.finalizeDue(payload.uploadSetId)) === null) return { skipped: 'not due' };
    const done = await this.repo.transaction(async (manager) => {
      const set = await this.repo.lock(payload.uploadSetId, 'update', manager);
      if (!set || set.status !== 'completed' || set.finalizedRound >= set.finalizeRound) return null;
      const pictures = await manager
        .getRepository<Picture>('Picture')
        .createQueryBuilder('p')
        .where('p.upload_set_id = :id', { id: set.id })
        .andWhere('p.sequence_id IS NOT NULL')
        .andWhere(`p.status IN ('ready', 'broken')`)
        .orderBy('p.rank')
        .getMany();
      const bySequence = new Map<string, Picture[]>();
      for (const p of pictures) bySequence.set(p.sequenceId!, [...(bySequence.get(p.sequenceId!) ?? []), p]);
      for (const [sequenceId, members] of bySequence) await this.finalizeSequence(set, sequenceId, members, manager);
      await manager.query(`UPDATE upload_set SET finalized_round = $2, finalized_at = now(), updated_at = now() WHERE id = $1`, [set.id, set.finalizeRound]);
      return { sequences: bySequence.size };
    });
    return done ?? { skipped: 'already finalised' };
  }

  private async finalizeSequence(set: UploadSet, sequenceId: string, members: Picture[], manager: EntityManager): Promise<void> {
    const ready = members.filter((p) => p.status === 'ready');
    const headings = pathHeadings(
      ready.map((p) => ({ lon: p.geom.coordinates[0]!, lat: p.geom.coordinates[1]!, heading: p.heading })),
      set.relativeHeading,
    );
    const headingOf = new Map(ready.map((p, i) => [p.id, headings[i]!]));
    for (const [i, p] of members.entries()) {
      const rank = i + 1;
      const h = headingOf.get(p.id) ?? { heading: p.heading, source: p.heading === null ? null : ('exif' as const) };
      await this.collections.updateItem(p.id, { rank, status: p.status, properties: pictureItemProperties(p, { value: h.heading, source: h.source }) }, manager);
      if (p.rank !== rank) await manager.query(`UPDATE picture SET rank = $2 WHERE id = $1`, [p.id, rank]);
    }
    const geometry = pathGeometry(ready.map((p) => ({ lon: p.geom.coordinates[0]!, lat: p.geom.coordinates[1]! })));
    const current = await this.collections.findCollection(sequenceId, manager);
    await this.collections.updateCollection(
      sequenceId,
      {
        geom: geometry as never,
        status: ready.length ? 'ready' : 'broken',
        properties: { ...(current?.properties ?? {}), upload_set_id: set.id, relative_heading: set.relativeHeading, sort_method: set.sortMethod },
      },
      manager,
    );
    await this.collections.refreshExtent(sequenceId, { keepGeometry: true }, manager);
  }

  /** Removes a deleted set: its sequences, then every picture's files, then the rows. */
  @OnJob(JobName.UploadSetDelete)
  async remove(payload: JobPayloads[JobName.UploadSetDelete], context: JobContext) {
    const set = await this.repo.find(payload.uploadSetId);
    if (!set || set.status !== 'deleting') return { skipped: true };
    const rows = returnedRows<{ id: string; sequence_id: string | null; source_key: string | null }>(
      await this.repo.transaction((m) => m.query(`UPDATE picture SET status = 'deleting', updated_at = now() WHERE upload_set_id = $1 RETURNING id, sequence_id, source_key`, [set.id])),
    );
    for (const sequenceId of new Set(rows.map((r) => r.sequence_id).filter((s): s is string => !!s))) {
      await this.collections.deleteCollection(sequenceId);
    }
    let files = 0;
    for (const [i, row] of rows.entries()) {
      context.signal.throwIfAborted();
      files += await this.storage.deletePrefix(picturePrefix(row.id));
      if (row.source_key) await this.storage.delete(row.source_key);
      if (i % 50 === 0) await context.progress(Math.round((i / rows.length) * 100));
    }
    await this.repo.transaction(async (m) => {
      await m.query(`DELETE FROM picture WHERE upload_set_id = $1`, [set.id]);
    });
    await this.repo.deleteRow(set.id);
    return { pictures: rows.length, files };
  }
}
