import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource, EntityManager } from 'typeorm';
import { Picture, PictureStatus } from './picture.entity.js';
import { returnedRows } from './sql-rows.js';

const detailsJson = (d: Record<string, unknown> | null | undefined) => (d ? JSON.stringify(d) : null);

/** Statuses whose work is not finished: a set is not finalised while any of its pictures is in one. */
export const UNFINISHED: PictureStatus[] = ['pending', 'processing'];

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

  async insert(picture: Partial<Picture>, manager?: EntityManager): Promise<void> {
    await this.m(manager).getRepository(Picture).insert(picture as never);
  }

  /** The owner's picture holding this content, if any (SHA-256 is unique per owner). */
  async findBySha256(ownerId: string, sha256: string, manager?: EntityManager): Promise<Pick<Picture, 'id' | 'ownerId' | 'uploadSetId'> | null> {
    const rows = await this.m(manager).query(`SELECT id, owner_id AS "ownerId", upload_set_id AS "uploadSetId" FROM picture WHERE owner_id = $1 AND sha256 = $2`, [ownerId, sha256]);
    return rows[0] ?? null;
  }

  /**
   * Starts a processing run: only a pending (or interrupted) picture of this generation may
   * start. Counts the run. Returns the row, or null when there is nothing to do.
   */
  async claim(id: string, generation: number): Promise<Picture | null> {
    const rows = returnedRows(await this.db.query(
      `UPDATE picture SET status = 'processing', attempts = attempts + 1, processing_started_at = now(), updated_at = now()
       WHERE id = $1 AND process_generation = $2 AND status IN ('pending', 'processing') RETURNING id`,
      [id, generation],
    ));
    return rows.length ? this.find(id) : null;
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

  /** The run's end: `ready`, only if the run still owns the picture. */
  async markReady(id: string, generation: number, manager: EntityManager): Promise<boolean> {
    const rows = returnedRows(await manager.query(
      `UPDATE picture SET status = 'ready', processed_at = now(), ready_count = ready_count + 1, last_error = NULL, updated_at = now()
       WHERE id = $1 AND process_generation = $2 AND status = 'processing' RETURNING id`,
      [id, generation],
    ));
    return rows.length > 0;
  }

  /** A failed run: back to `pending` for the next attempt, or `broken` after the last one. */
  async markFailed(id: string, generation: number, error: string, final: boolean, manager?: EntityManager): Promise<boolean> {
    const rows = returnedRows(await this.m(manager).query(
      `UPDATE picture SET status = $3::varchar, last_error = $4, processed_at = CASE WHEN $3::varchar = 'broken' THEN now() ELSE processed_at END, updated_at = now()
       WHERE id = $1 AND process_generation = $2 AND status IN ('pending', 'processing') RETURNING id`,
      [id, generation, final ? 'broken' : 'pending', error.slice(0, 2000)],
    ));
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
  async requestReprocess(where: { ids?: string[]; uploadSetId?: string; sequenceId?: string }, reblur: boolean): Promise<{ id: string; generation: number; uploadSetId: string }[]> {
    const conditions: string[] = [`status IN ('ready', 'broken', 'pending', 'processing')`];
    const params: unknown[] = [reblur];
    if (where.ids) {
      params.push(where.ids);
      conditions.push(`id = ANY($${params.length})`);
    }
    if (where.uploadSetId) {
      params.push(where.uploadSetId);
      conditions.push(`upload_set_id = $${params.length}`);
    }
    if (where.sequenceId) {
      params.push(where.sequenceId);
      conditions.push(`sequence_id = $${params.length}`);
    }
    return returnedRows(await this.db.query(
      `UPDATE picture SET status = 'pending', process_generation = process_generation + 1, last_error = NULL,
         blurred = CASE WHEN $1 THEN false ELSE blurred END, updated_at = now()
       WHERE ${conditions.join(' AND ')}
       RETURNING id, process_generation AS generation, upload_set_id AS "uploadSetId"`,
      params,
    ));
  }

  /**
   * The finalisation round a set is due for: it is dispatched, not finalised at its latest
   * round, and none of its pictures is still waiting or running. Null otherwise.
   */
  async finalizeDue(uploadSetId: string): Promise<number | null> {
    const rows: { round: number }[] = await this.db.query(
      `SELECT s.finalize_round AS round FROM upload_set s
       WHERE s.id = $1 AND s.status = 'completed' AND s.dispatch_generation > 0
         AND s.dispatched_generation = s.dispatch_generation AND s.finalized_round < s.finalize_round
         AND NOT EXISTS (SELECT 1 FROM picture p WHERE p.upload_set_id = s.id AND p.status IN ('pending', 'processing'))`,
      [uploadSetId],
    );
    return rows[0]?.round ?? null;
  }

  /** Sets must finalise again after some of their pictures change. */
  async bumpFinalizeRound(uploadSetIds: string[], manager?: EntityManager): Promise<void> {
    if (!uploadSetIds.length) return;
    await this.m(manager).query(
      `UPDATE upload_set SET finalize_round = finalize_round + 1, updated_at = now() WHERE id = ANY($1) AND dispatch_generation > 0`,
      [[...new Set(uploadSetIds)]],
    );
  }

  /** Records on the uploaded file why its picture was rejected after the upload. */
  async recordFileRejection(
    pictureIds: string[],
    rejection: { reason: string; severity: string; message: string; details?: (pictureId: string) => Record<string, unknown> | null },
    manager?: EntityManager,
  ): Promise<void> {
    for (const id of pictureIds) {
      await this.m(manager).query(
        `UPDATE upload_file SET rejection_reason = $2, rejection_severity = $3, rejection_message = $4, rejection_details = $5::jsonb, updated_at = now()
         WHERE picture_id = $1`,
        [id, rejection.reason, rejection.severity, rejection.message, detailsJson(rejection.details?.(id))],
      );
    }
  }

  /** Processing state counts of a set, overall and per sequence. */
  async statusCounts(uploadSetId: string): Promise<{ sequenceId: string | null; counts: PictureStatusCounts }[]> {
    const rows: { sequence_id: string | null; prepared: number; preparing: number; broken: number; not_processed: number }[] = await this.db.query(
      `SELECT sequence_id,
         count(*) FILTER (WHERE status = 'ready')::int AS prepared,
         count(*) FILTER (WHERE status = 'processing')::int AS preparing,
         count(*) FILTER (WHERE status = 'broken')::int AS broken,
         count(*) FILTER (WHERE status = 'pending')::int AS not_processed
       FROM picture WHERE upload_set_id = $1 AND status NOT IN ('rejected', 'deleting')
       GROUP BY sequence_id`,
      [uploadSetId],
    );
    return rows.map((r) => ({ sequenceId: r.sequence_id, counts: { prepared: r.prepared, preparing: r.preparing, broken: r.broken, not_processed: r.not_processed } }));
  }
}
