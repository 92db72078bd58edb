import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource, EntityManager } from 'typeorm';
import { Picture, PictureStatus } from './picture.entity.js';
import type { PictureSourceRef } from './picture-source.js';
import { returnedRows } from '../common/sql-rows.js';
import { geomFromGeoJsonSql } from '../database/geometry.js';

/** Statuses whose work is not finished: a batch is not finalised while any of its pictures is in one. */
export const UNFINISHED: PictureStatus[] = ['pending', 'processing'];

/** Pictures of a batch (`source_kind = $1 AND source_id = $2`). */
const OF_SOURCE = `source_kind = $1 AND source_id IS NOT DISTINCT FROM $2::uuid`;

/** A checked picture, ready to record (PictureIntakeService.check makes it). */
export type PictureDraft = Pick<
  Picture,
  | 'id'
  | 'sourceKind'
  | 'sourceId'
  | 'ownerId'
  | 'status'
  | 'fileName'
  | 'size'
  | 'sha256'
  | 'sourceKey'
  | 'isBlurred'
  | 'width'
  | 'height'
  | 'orientation'
  | 'projection'
  | 'capturedAt'
  | 'gpsTime'
  | 'cameraTime'
  | 'geom'
  | 'heading'
  | 'metadata'
  | 'processGeneration'
>;

/** What a processing run reads of its picture (see claim). */
export type ClaimedPicture = Pick<Picture, 'id' | 'sourceKind' | 'sourceId' | 'attempts' | 'isBlurred' | 'blurred' | 'hdStoredAt' | 'sourceKey' | 'projection' | 'sequenceId'>;

export interface PictureStatusCounts {
  prepared: number;
  preparing: number;
  broken: number;
  not_processed: number;
}

/** SQL over the `picture` table: state transitions are single guarded statements. */
@Injectable()
export class PicturesRepository {
  constructor(@InjectDataSource() private readonly db: DataSource) {}

  private m(manager?: EntityManager): EntityManager {
    return manager ?? this.db.manager;
  }

  find(id: string, manager?: EntityManager): Promise<Picture | null> {
    return this.m(manager).getRepository(Picture).findOneBy({ id });
  }

  findMany(ids: string[], manager?: EntityManager): Promise<Picture[]> {
    if (!ids.length) return Promise.resolve([]);
    return this.m(manager).getRepository(Picture).createQueryBuilder('p').where('p.id = ANY(:ids)', { ids }).getMany();
  }

  /** Records a checked picture; the other columns take their defaults. */
  async insert(p: PictureDraft, manager?: EntityManager): Promise<void> {
    await this.m(manager).query(
      `INSERT INTO picture (id, source_kind, source_id, owner_id, status, file_name, size, sha256, source_key, is_blurred, width, height,
         orientation, projection, captured_at, gps_time, camera_time, geom, heading, metadata, process_generation)
       VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, ${geomFromGeoJsonSql('$18')}, $19, $20::jsonb, $21)`,
      [
        p.id,
        p.sourceKind,
        p.sourceId,
        p.ownerId,
        p.status,
        p.fileName,
        p.size,
        p.sha256,
        p.sourceKey,
        p.isBlurred,
        p.width,
        p.height,
        p.orientation,
        p.projection,
        p.capturedAt,
        p.gpsTime,
        p.cameraTime,
        JSON.stringify(p.geom),
        p.heading,
        JSON.stringify(p.metadata),
        p.processGeneration,
      ],
    );
  }

  /** The owner's picture holding this content, if any (SHA-256 is unique per owner). */
  async findBySha256(ownerId: string, sha256: string, manager?: EntityManager): Promise<Pick<Picture, 'id' | 'ownerId' | 'sourceKind' | 'sourceId'> | null> {
    const rows = await this.m(manager).query(
      `SELECT id, owner_id AS "ownerId", source_kind AS "sourceKind", source_id AS "sourceId" FROM picture WHERE owner_id = $1 AND sha256 = $2`,
      [ownerId, sha256],
    );
    return rows[0] ?? null;
  }

  /** A batch's pictures (rejected and deleted ones left out), locked for update when `lock`, in id order. */
  ofSource(ref: PictureSourceRef, manager: EntityManager, options: { lock?: boolean; settledInSequence?: boolean } = {}): Promise<Picture[]> {
    const qb = manager
      .getRepository(Picture)
      .createQueryBuilder('p')
      .where('p.source_kind = :kind AND p.source_id IS NOT DISTINCT FROM CAST(:id AS uuid)', { kind: ref.kind, id: ref.id })
      .andWhere(`p.status NOT IN ('rejected', 'deleting')`);
    if (options.lock) qb.setLock('pessimistic_write');
    if (options.settledInSequence) qb.andWhere('p.sequence_id IS NOT NULL').andWhere(`p.status IN ('ready', 'broken')`).orderBy('p.rank');
    else qb.orderBy('p.id');
    return qb.getMany();
  }

  /** Puts pictures in a sequence at these ranks. */
  async assignSequence(sequenceId: string, ids: string[], manager: EntityManager): Promise<void> {
    await manager.query(
      `UPDATE picture p SET sequence_id = $1, rank = r.rank::int, updated_at = now()
       FROM unnest($2::uuid[]) WITH ORDINALITY AS r(id, rank) WHERE p.id = r.id`,
      [sequenceId, ids],
    );
  }

  async setRank(id: string, rank: number, manager: EntityManager): Promise<void> {
    await manager.query(`UPDATE picture SET rank = $2 WHERE id = $1`, [id, rank]);
  }

  /** Whether a sequence still holds any picture. */
  async sequenceHasPictures(sequenceId: string, manager: EntityManager): Promise<boolean> {
    const rows: unknown[] = await manager.query(`SELECT 1 FROM picture WHERE sequence_id = $1 LIMIT 1`, [sequenceId]);
    return rows.length > 0;
  }

  /** Marks every picture of a batch `deleting`; returns them. */
  async markSourceDeleting(ref: PictureSourceRef): Promise<{ id: string; sequence_id: string | null; source_key: string | null }[]> {
    return this.db.transaction(async (m) =>
      returnedRows<{ id: string; sequence_id: string | null; source_key: string | null }>(
        await m.query(`UPDATE picture SET status = 'deleting', updated_at = now() WHERE ${OF_SOURCE} RETURNING id, sequence_id, source_key`, [ref.kind, ref.id]),
      ),
    );
  }

  async deleteSourceRows(ref: PictureSourceRef): Promise<void> {
    await this.db.query(`DELETE FROM picture WHERE ${OF_SOURCE}`, [ref.kind, ref.id]);
  }

  /** Rows and their sequences, of a batch's pictures already cut into sequences. */
  inSequences(ref: PictureSourceRef, manager: EntityManager): Promise<{ id: string; sequence_id: string }[]> {
    return manager.query(`SELECT id, sequence_id FROM picture WHERE ${OF_SOURCE} AND sequence_id IS NOT NULL`, [ref.kind, ref.id]);
  }

  /** Of these batches (ids of one kind), those with a picture still waiting or being processed. */
  async unfinishedSources(kind: string, ids: string[]): Promise<Set<string>> {
    if (!ids.length) return new Set();
    const rows: { id: string }[] = await this.db.query(
      `SELECT DISTINCT source_id AS id FROM picture WHERE source_kind = $1 AND source_id = ANY($2::uuid[]) AND status IN ('pending', 'processing')`,
      [kind, ids],
    );
    return new Set(rows.map((r) => r.id));
  }

  /**
   * Starts a processing run: only a pending (or interrupted) picture of this generation may
   * start. Counts the run. Returns what the run reads of the row, or null when there is nothing
   * to do.
   */
  async claim(id: string, generation: number): Promise<ClaimedPicture | null> {
    const rows = returnedRows<ClaimedPicture>(
      await this.db.query(
        `UPDATE picture SET status = 'processing', attempts = attempts + 1, processing_started_at = now(), updated_at = now()
       WHERE id = $1 AND process_generation = $2 AND status IN ('pending', 'processing')
       RETURNING id, source_kind AS "sourceKind", source_id AS "sourceId", attempts, is_blurred AS "isBlurred", blurred,
         hd_stored_at AS "hdStoredAt", source_key AS "sourceKey", projection, sequence_id AS "sequenceId"`,
        [id, generation],
      ),
    );
    return rows[0] ?? null;
  }

  /** `hd` is written; the row stops naming the temporary original (deleted right after). */
  async markHdStored(id: string, patch: { blurred: boolean; blurMetadata?: Record<string, unknown> | null }): Promise<void> {
    await this.db.query(
      `UPDATE picture SET hd_stored_at = now(), blurred = $2, blur_metadata = COALESCE($3::jsonb, blur_metadata), source_key = NULL, updated_at = now() WHERE id = $1`,
      [id, patch.blurred, patch.blurMetadata === undefined || patch.blurMetadata === null ? null : JSON.stringify(patch.blurMetadata)],
    );
  }

  async clearSource(id: string): Promise<void> {
    await this.db.query(`UPDATE picture SET source_key = NULL, updated_at = now() WHERE id = $1`, [id]);
  }

  /**
   * The run's end: `ready`, only if the run still owns the picture. A ready picture has its `hd`
   * and no temporary original: a run that moved the upload into place records it here.
   */
  async markReady(id: string, generation: number, manager: EntityManager): Promise<boolean> {
    const rows = returnedRows(
      await manager.query(
        `UPDATE picture SET status = 'ready', processed_at = now(), ready_count = ready_count + 1, last_error = NULL,
         hd_stored_at = COALESCE(hd_stored_at, now()), source_key = NULL, updated_at = now()
       WHERE id = $1 AND process_generation = $2 AND status = 'processing' RETURNING id`,
        [id, generation],
      ),
    );
    return rows.length > 0;
  }

  /** A failed run: back to `pending` for the next attempt, or `broken` after the last one. */
  async markFailed(id: string, generation: number, error: string, final: boolean, manager?: EntityManager): Promise<boolean> {
    const rows = returnedRows(
      await this.m(manager).query(
        `UPDATE picture SET status = $3::varchar, last_error = $4, processed_at = CASE WHEN $3::varchar = 'broken' THEN now() ELSE processed_at END, updated_at = now()
       WHERE id = $1 AND process_generation = $2 AND status IN ('pending', 'processing') RETURNING id`,
        [id, generation, final ? 'broken' : 'pending', error.slice(0, 2000)],
      ),
    );
    return rows.length > 0;
  }

  /** Marks for removal (the delete job removes files, then the row). */
  async markForRemoval(ids: string[], status: 'rejected' | 'deleting', manager?: EntityManager): Promise<void> {
    if (!ids.length) return;
    await this.m(manager).query(`UPDATE picture SET status = $2, sequence_id = NULL, rank = NULL, updated_at = now() WHERE id = ANY($1)`, [ids, status]);
  }

  async deleteRow(id: string): Promise<void> {
    await this.db.query(`DELETE FROM picture WHERE id = $1 AND status IN ('rejected', 'deleting')`, [id]);
  }

  /** Pictures whose processing should (re)start: pending or interrupted, oldest first. */
  listUnfinished(limit: number): Promise<{ id: string; generation: number; updatedAt: Date }[]> {
    return this.db.query(
      `SELECT id, process_generation AS generation, updated_at AS "updatedAt" FROM picture
       WHERE status IN ('pending', 'processing') ORDER BY updated_at LIMIT $1`,
      [limit],
    );
  }

  listAwaitingRemoval(limit: number): Promise<{ id: string }[]> {
    return this.db.query(`SELECT id FROM picture WHERE status IN ('rejected', 'deleting') ORDER BY updated_at LIMIT $1`, [limit]);
  }

  /** Requests reprocessing; returns the new (id, generation) pairs to enqueue. */
  async requestReprocess(
    where: { ids?: string[]; source?: PictureSourceRef; sequenceId?: string },
    reblur: boolean,
  ): Promise<{ id: string; generation: number; sourceKind: string; sourceId: string | null }[]> {
    const conditions: string[] = [`status IN ('ready', 'broken', 'pending', 'processing')`];
    const params: unknown[] = [reblur];
    if (where.ids) {
      params.push(where.ids);
      conditions.push(`id = ANY($${params.length})`);
    }
    if (where.source) {
      params.push(where.source.kind, where.source.id);
      conditions.push(`source_kind = $${params.length - 1} AND source_id IS NOT DISTINCT FROM $${params.length}::uuid`);
    }
    if (where.sequenceId) {
      params.push(where.sequenceId);
      conditions.push(`sequence_id = $${params.length}`);
    }
    return returnedRows(
      await this.db.query(
        `UPDATE picture SET status = 'pending', process_generation = process_generation + 1, last_error = NULL,
         blurred = CASE WHEN $1 THEN false ELSE blurred END, updated_at = now()
       WHERE ${conditions.join(' AND ')}
       RETURNING id, process_generation AS generation, source_kind AS "sourceKind", source_id AS "sourceId"`,
        params,
      ),
    );
  }

  /** Processing state counts per batch and sequence, for many batches of one kind. */
  countsBySource(kind: string, ids: string[]): Promise<{ sourceId: string; sequenceId: string | null; counts: PictureStatusCounts }[]> {
    if (!ids.length) return Promise.resolve([]);
    return this.db
      .query(
        `SELECT source_id, sequence_id,
           count(*) FILTER (WHERE status = 'ready')::int AS prepared,
           count(*) FILTER (WHERE status = 'processing')::int AS preparing,
           count(*) FILTER (WHERE status = 'broken')::int AS broken,
           count(*) FILTER (WHERE status = 'pending')::int AS not_processed
         FROM picture WHERE source_kind = $1 AND source_id = ANY($2::uuid[]) AND status NOT IN ('rejected', 'deleting')
         GROUP BY source_id, sequence_id`,
        [kind, ids],
      )
      .then((rows: { source_id: string; sequence_id: string | null; prepared: number; preparing: number; broken: number; not_processed: number }[]) =>
        rows.map((r) => ({
          sourceId: r.source_id,
          sequenceId: r.sequence_id,
          counts: { prepared: r.prepared, preparing: r.preparing, broken: r.broken, not_processed: r.not_processed },
        })),
      );
  }

  /** The latest processing errors of a batch's pictures (failed runs, broken pictures). */
  processingErrors(
    ref: PictureSourceRef,
    limit: number,
  ): Promise<{ picture_id: string; file_name: string; status: string; attempts: number; last_error: string; updated_at: Date }[]> {
    return this.db.query(
      `SELECT id AS picture_id, file_name, status, attempts, last_error, updated_at FROM picture
       WHERE ${OF_SOURCE} AND last_error IS NOT NULL AND status NOT IN ('rejected', 'deleting')
       ORDER BY updated_at DESC LIMIT $3`,
      [ref.kind, ref.id, limit],
    );
  }
}
