import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource, EntityManager } from 'typeorm';
import { UploadFile } from './upload-file.entity.js';
import { UploadSet } from './upload-set.entity.js';
import { returnedRows } from '../common/sql-rows.js';

/** What deciding on an upload needs of its set. */
export type UploadSetAccess = Pick<UploadSet, 'id' | 'ownerId' | 'status'>;

/** SQL over `upload_set` and `upload_file`. */
@Injectable()
export class UploadSetsRepository {
  constructor(@InjectDataSource() private readonly db: DataSource) {}

  private m(manager?: EntityManager): EntityManager {
    return manager ?? this.db.manager;
  }

  transaction<T>(work: (manager: EntityManager) => Promise<T>): Promise<T> {
    return this.db.transaction(work);
  }

  find(id: string, manager?: EntityManager): Promise<UploadSet | null> {
    return this.m(manager).getRepository(UploadSet).findOneBy({ id });
  }

  /** Who owns the set and its status: what an upload checks before it is received. */
  async findAccess(id: string): Promise<UploadSetAccess | null> {
    const rows: UploadSetAccess[] = await this.db.query(`SELECT id, owner_id AS "ownerId", status FROM upload_set WHERE id = $1`, [id]);
    return rows[0] ?? null;
  }

  /** The set's status, its row locked until the transaction ends (shared: uploads to it proceed together). */
  async lockStatus(id: string, manager: EntityManager): Promise<UploadSet['status'] | null> {
    const rows: Pick<UploadSet, 'status'>[] = await manager.query(`SELECT status FROM upload_set WHERE id = $1 FOR SHARE`, [id]);
    return rows[0]?.status ?? null;
  }

  /** The row, locked for update until the transaction ends (uploads hold it shared: lockStatus). */
  async lock(id: string, manager: EntityManager): Promise<UploadSet | null> {
    return manager.getRepository(UploadSet).createQueryBuilder('s').setLock('pessimistic_write').where('s.id = :id', { id }).getOne();
  }

  create(data: Partial<UploadSet>): Promise<UploadSet> {
    const repo = this.db.getRepository(UploadSet);
    return repo.save(repo.create(data));
  }

  async update(id: string, patch: Partial<UploadSet>, manager?: EntityManager): Promise<void> {
    await this.m(manager)
      .getRepository(UploadSet)
      .update({ id }, patch as never);
  }

  /** A page of a user's sets (deleted ones excluded), newest first. */
  async listByOwner(ownerId: string, filter: { completed?: boolean; dispatched?: boolean }, limit: number, offset: number): Promise<{ rows: UploadSet[]; total: number }> {
    const qb = this.db.getRepository(UploadSet).createQueryBuilder('s').where('s.owner_id = :ownerId', { ownerId }).andWhere(`s.status <> 'deleting'`);
    if (filter.completed !== undefined) qb.andWhere(filter.completed ? `s.status = 'completed'` : `s.status = 'open'`);
    if (filter.dispatched !== undefined) {
      qb.andWhere(
        filter.dispatched
          ? 's.dispatch_generation > 0 AND s.dispatched_generation = s.dispatch_generation'
          : 'NOT (s.dispatch_generation > 0 AND s.dispatched_generation = s.dispatch_generation)',
      );
    }
    const [rows, total] = await qb.orderBy('s.created_at', 'DESC').addOrderBy('s.id', 'DESC').take(limit).skip(offset).getManyAndCount();
    return { rows, total };
  }

  /**
   * Completes an open set when it received its estimated number of files (atomic: of two
   * concurrent last uploads, one completes it). Returns the new dispatch generation, or null.
   */
  async completeIfEstimateReached(id: string): Promise<number | null> {
    const rows: { generation: number }[] = returnedRows(
      await this.db.query(
        `UPDATE upload_set s SET status = 'completed', completed_at = now(), dispatch_generation = dispatch_generation + 1, updated_at = now()
       WHERE s.id = $1 AND s.status = 'open' AND s.estimated_nb_files IS NOT NULL
         AND (SELECT count(*) FROM upload_file f WHERE f.upload_set_id = s.id) >= s.estimated_nb_files
       RETURNING dispatch_generation AS generation`,
        [id],
      ),
    );
    return rows[0]?.generation ?? null;
  }

  /** Completes an open set; returns the dispatch generation to run, or null when it was not open. */
  async complete(id: string): Promise<number | null> {
    const rows: { generation: number }[] = returnedRows(
      await this.db.query(
        `UPDATE upload_set SET status = 'completed', completed_at = now(), dispatch_generation = dispatch_generation + 1, updated_at = now()
       WHERE id = $1 AND status = 'open' RETURNING dispatch_generation AS generation`,
        [id],
      ),
    );
    return rows[0]?.generation ?? null;
  }

  /** Asks for a new dispatch of a completed set (its parameters changed). */
  async requestDispatch(id: string, manager?: EntityManager): Promise<number | null> {
    const rows: { generation: number }[] = returnedRows(
      await this.m(manager).query(
        `UPDATE upload_set SET dispatch_generation = dispatch_generation + 1, updated_at = now()
       WHERE id = $1 AND status = 'completed' RETURNING dispatch_generation AS generation`,
        [id],
      ),
    );
    return rows[0]?.generation ?? null;
  }

  async markDeleting(id: string): Promise<boolean> {
    const rows = returnedRows(await this.db.query(`UPDATE upload_set SET status = 'deleting', updated_at = now() WHERE id = $1 AND status <> 'deleting' RETURNING id`, [id]));
    return rows.length > 0;
  }

  async deleteRow(id: string): Promise<void> {
    await this.db.query(`DELETE FROM upload_set WHERE id = $1 AND status = 'deleting'`, [id]);
  }

  // --- files ---

  /** The set's file of this name, if any: its content's hash and the picture it became. */
  async findFileByName(uploadSetId: string, fileName: string): Promise<Pick<UploadFile, 'sha256' | 'pictureId'> | null> {
    const rows: Pick<UploadFile, 'sha256' | 'pictureId'>[] = await this.db.query(
      `SELECT sha256, picture_id AS "pictureId" FROM upload_file WHERE upload_set_id = $1 AND file_name = $2`,
      [uploadSetId, fileName],
    );
    return rows[0] ?? null;
  }

  /**
   * Records a received file. A file of the same name that was rejected (no picture) is replaced:
   * sending a corrected file again is how a rejection is fixed.
   */
  async saveFile(data: Partial<UploadFile> & Pick<UploadFile, 'uploadSetId' | 'fileName'>, manager?: EntityManager): Promise<UploadFile> {
    const rows: unknown[] = await this.m(manager).query(
      `INSERT INTO upload_file (upload_set_id, file_name, size, sha256, picture_id, rejection_reason, rejection_severity, rejection_message, rejection_details)
       VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9::jsonb)
       ON CONFLICT (upload_set_id, file_name) DO UPDATE SET
         size = EXCLUDED.size, sha256 = EXCLUDED.sha256, picture_id = EXCLUDED.picture_id,
         rejection_reason = EXCLUDED.rejection_reason, rejection_severity = EXCLUDED.rejection_severity,
         rejection_message = EXCLUDED.rejection_message, rejection_details = EXCLUDED.rejection_details,
         created_at = now(), updated_at = now()
       WHERE upload_file.picture_id IS NULL
       RETURNING id, upload_set_id, file_name, size, sha256, picture_id, rejection_reason, rejection_severity,
         rejection_message, rejection_details, created_at, updated_at`,
      [
        data.uploadSetId,
        data.fileName,
        data.size ?? null,
        data.sha256 ?? null,
        data.pictureId ?? null,
        data.rejectionReason ?? null,
        data.rejectionSeverity ?? null,
        data.rejectionMessage ?? null,
        data.rejectionDetails ? JSON.stringify(data.rejectionDetails) : null,
      ],
    );
    const row = rows[0] as Record<string, unknown> | undefined;
    if (!row) throw new FileNameTakenError();
    return Object.assign(new UploadFile(), {
      id: row.id,
      uploadSetId: row.upload_set_id,
      fileName: row.file_name,
      size: row.size === null ? null : Number(row.size),
      sha256: row.sha256,
      pictureId: row.picture_id,
      rejectionReason: row.rejection_reason,
      rejectionSeverity: row.rejection_severity,
      rejectionMessage: row.rejection_message,
      rejectionDetails: row.rejection_details,
      createdAt: row.created_at,
      updatedAt: row.updated_at,
    } as UploadFile);
  }

  listFiles(uploadSetId: string): Promise<UploadFile[]> {
    return this.db.getRepository(UploadFile).find({ where: { uploadSetId }, order: { createdAt: 'ASC', fileName: 'ASC' } });
  }

  // --- status aggregates ---

  /** Rejected files per set (rejections found by dispatch included). */
  async rejectedCounts(uploadSetIds: string[]): Promise<Map<string, number>> {
    if (!uploadSetIds.length) return new Map();
    const rows: { id: string; n: number }[] = await this.db.query(
      `SELECT upload_set_id AS id, count(*)::int AS n FROM upload_file WHERE upload_set_id = ANY($1) AND rejection_reason IS NOT NULL GROUP BY upload_set_id`,
      [uploadSetIds],
    );
    return new Map(rows.map((r) => [r.id, r.n]));
  }

  /** Open sets untouched for this long (abandoned uploads); marks them deleting and returns their ids. */
  async markStaleDeleting(olderThanDays: number): Promise<string[]> {
    const rows = returnedRows<{ id: string }>(
      await this.db.query(
        `UPDATE upload_set SET status = 'deleting', updated_at = now()
         WHERE status = 'open' AND updated_at < now() - make_interval(days => $1) RETURNING id`,
        [olderThanDays],
      ),
    );
    return rows.map((r) => r.id);
  }

  // --- reconciliation ---

  listDispatchDue(limit: number): Promise<{ id: string; generation: number }[]> {
    return this.db.query(
      `SELECT id, dispatch_generation AS generation FROM upload_set
       WHERE status = 'completed' AND dispatched_generation < dispatch_generation ORDER BY updated_at LIMIT $1`,
      [limit],
    );
  }

  /**
   * Sets whose sequences wait to be finalised: dispatched, not finalised at their latest round.
   * (Finalising also waits for their pictures to be processed: see UploadSetPictures.)
   */
  listFinalizeDue(limit: number, uploadSetId?: string): Promise<{ id: string; round: number }[]> {
    return this.db.query(
      `SELECT s.id, s.finalize_round AS round FROM upload_set s
       WHERE s.status = 'completed' AND s.dispatch_generation > 0 AND s.dispatched_generation = s.dispatch_generation
         AND s.finalized_round < s.finalize_round AND ($2::uuid IS NULL OR s.id = $2::uuid)
       ORDER BY s.updated_at LIMIT $1`,
      [limit, uploadSetId ?? null],
    );
  }

  /** Sets must finalise again after some of their pictures change. */
  async bumpFinalizeRound(uploadSetIds: string[], manager?: EntityManager): Promise<void> {
    if (!uploadSetIds.length) return;
    await (manager ?? this.db.manager).query(`UPDATE upload_set SET finalize_round = finalize_round + 1, updated_at = now() WHERE id = ANY($1) AND dispatch_generation > 0`, [
      [...new Set(uploadSetIds)],
    ]);
  }

  /** The set's dispatch is done: it will finalise once its pictures are processed. */
  async markDispatched(id: string, manager: EntityManager): Promise<void> {
    await manager.query(
      `UPDATE upload_set SET dispatched_generation = dispatch_generation, dispatched_at = now(), finalize_round = finalize_round + 1, updated_at = now() WHERE id = $1`,
      [id],
    );
  }

  async markFinalized(id: string, round: number, manager: EntityManager): Promise<void> {
    await manager.query(`UPDATE upload_set SET finalized_round = $2, finalized_at = now(), updated_at = now() WHERE id = $1`, [id, round]);
  }

  /** Records on the uploaded file why its picture was turned away after the upload. */
  async recordFileRejection(
    pictureId: string,
    rejection: { reason: string; severity: string; message: string; details: Record<string, unknown> | null },
    manager: EntityManager,
  ): Promise<void> {
    await manager.query(
      `UPDATE upload_file SET rejection_reason = $2, rejection_severity = $3, rejection_message = $4, rejection_details = $5::jsonb, updated_at = now()
       WHERE picture_id = $1`,
      [pictureId, rejection.reason, rejection.severity, rejection.message, rejection.details ? JSON.stringify(rejection.details) : null],
    );
  }

  listDeleting(limit: number): Promise<{ id: string }[]> {
    return this.db.query(`SELECT id FROM upload_set WHERE status = 'deleting' ORDER BY updated_at LIMIT $1`, [limit]);
  }
}

/** Another file of this set already has this name (and became a picture). */
export class FileNameTakenError extends Error {
  constructor() {
    super('A file with this name is already in the upload set');
  }
}
