import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource, EntityManager, In } from 'typeorm';
import type { AuthUser } from '../auth/auth.types.js';
import { visibilitySql } from '../auth/visibility.js';
import { Dataset } from './dataset.entity.js';

export type DatasetSort = 'created' | '-created' | 'updated' | '-updated' | 'title' | '-title' | 'size' | '-size' | 'datetime' | '-datetime';

export interface DatasetFilters {
  q?: string;
  /** One or two [w, s, e, n] boxes (two when the asked box crosses the antimeridian). */
  bboxes?: [number, number, number, number][];
  /** Inclusive bounds, either may be open. */
  datetime?: { start: Date | null; end: Date | null };
  crs?: string;
  status?: string;
  collectionId?: string;
  ownerId?: string;
  sort: DatasetSort;
}

const ORDER: Record<DatasetSort, string> = {
  created: 'd.created_at ASC, d.id ASC',
  '-created': 'd.created_at DESC, d.id DESC',
  updated: 'd.updated_at ASC, d.id ASC',
  '-updated': 'd.updated_at DESC, d.id DESC',
  title: 'lower(d.title) ASC, d.id ASC',
  '-title': 'lower(d.title) DESC, d.id DESC',
  size: 'd.size ASC NULLS LAST, d.id ASC',
  '-size': 'd.size DESC NULLS LAST, d.id DESC',
  datetime: 'i.datetime ASC NULLS LAST, d.id ASC',
  '-datetime': 'i.datetime DESC NULLS LAST, d.id DESC',
};

/** Escapes LIKE wildcards so user text matches literally. */
function likePattern(text: string): string {
  return `%${text.replace(/[\\%_]/g, (c) => `\\${c}`)}%`;
}

/** Positional parameters for hand-written SQL. */
class Params {
  readonly values: unknown[] = [];
  add(value: unknown): string {
    this.values.push(value);
    return `$${this.values.length}`;
  }
  visibility(alias: string, user: AuthUser | undefined): string {
    const { sql, params } = visibilitySql(alias, user, this.values.length + 1);
    this.values.push(...params);
    return sql;
  }
}

/**
 * What a caller may list: items they can see (visibility), and among them only ready ones unless
 * they own them (or are admin): pending and broken datasets are their owner's business.
 */
function listableSql(p: Params, user: AuthUser | undefined): string {
  // Both the dataset's item and its collection must be visible (alias `c`), as everywhere else.
  const visible = `${p.visibility('i', user)} AND ${p.visibility('c', user)}`;
  if (user?.role === 'admin') return visible;
  if (!user) return `${visible} AND d.status = 'ready'`;
  return `${visible} AND (d.status = 'ready' OR i.owner_id = ${p.add(user.id)})`;
}

@Injectable()
export class DatasetsRepository {
  constructor(@InjectDataSource() private readonly db: DataSource) {}

  private repo(manager?: EntityManager) {
    return (manager ?? this.db.manager).getRepository(Dataset);
  }

  transaction<T>(work: (manager: EntityManager) => Promise<T>): Promise<T> {
    return this.db.transaction(work);
  }

  findWithItem(id: string, manager?: EntityManager): Promise<Dataset | null> {
    return this.repo(manager).findOne({ where: { id }, relations: { item: { collection: true } } });
  }

  async findManyWithItem(ids: string[]): Promise<Dataset[]> {
    if (ids.length === 0) return [];
    const rows = await this.repo().find({ where: { id: In(ids) }, relations: { item: { collection: true } } });
    const byId = new Map(rows.map((r) => [r.id, r]));
    return ids.map((id) => byId.get(id)).filter((d): d is Dataset => !!d);
  }

  insert(dataset: Partial<Dataset>, manager: EntityManager): Promise<Dataset> {
    return this.repo(manager).save(this.repo(manager).create(dataset));
  }

  async update(id: string, patch: Partial<Dataset>, manager?: EntityManager): Promise<void> {
    await this.repo(manager).update({ id }, patch as never);
  }

  /**
   * Applies `patch` only if the dataset is still at `revision` and `pending` (ingest finishing
   * while nobody re-registered or deleted it). Returns whether it did.
   */
  async updateIfPending(id: string, revision: number, patch: Partial<Dataset>, manager: EntityManager): Promise<boolean> {
    const result = await this.repo(manager)
      .createQueryBuilder()
      .update(Dataset)
      .set(patch as never)
      .where('id = :id AND revision = :revision AND status = :status', { id, revision, status: 'pending' })
      .execute();
    return (result.affected ?? 0) > 0;
  }

  /** Counts one more ingest run of a pending revision (committed at once); the runs so far, or null when it is not pending any more. */
  async startIngestRun(id: string, revision: number): Promise<number | null> {
    const rows: { runs: number }[] = await this.db.query(
      `WITH counted AS (
         UPDATE dataset SET ingest_runs = ingest_runs + 1 WHERE id = $1 AND revision = $2 AND status = 'pending' RETURNING ingest_runs
       ) SELECT ingest_runs AS runs FROM counted`,
      [id, revision],
    );
    return rows[0]?.runs ?? null;
  }

  /** Serialises registrations of the same content, so the duplicate check and the insert are atomic. */
  async lockHash(sha256: string, manager: EntityManager): Promise<void> {
    await manager.query('SELECT pg_advisory_xact_lock(hashtextextended($1, 7))', [`dataset-sha256:${sha256}`]);
  }

  /** Serialises the creation of a user's default collection. */
  async lockKey(key: string, manager: EntityManager): Promise<void> {
    await manager.query('SELECT pg_advisory_xact_lock(hashtextextended($1, 7))', [key]);
  }

  /** The oldest dataset with this hash that `user` can see, other than `exceptId`. */
  async findVisibleByHash(sha256: string, user: AuthUser | undefined, exceptId: string | null, manager?: EntityManager): Promise<string | null> {
    const p = new Params();
    const sql = `SELECT d.id FROM dataset d JOIN item i ON i.id = d.id JOIN collection c ON c.id = i.collection_id
      WHERE d.sha256 = ${p.add(sha256)} AND d.id <> ${p.add(exceptId ?? '00000000-0000-0000-0000-000000000000')} AND ${p.visibility('i', user)} AND ${p.visibility('c', user)}
      ORDER BY d.created_at, d.id LIMIT 1`;
    const rows: { id: string }[] = await (manager ?? this.db.manager).query(sql, p.values);
    return rows[0]?.id ?? null;
  }

  async findByPath(filePath: string): Promise<Dataset[]> {
    return this.repo().find({ where: { filePath }, relations: { item: true }, order: { createdAt: 'ASC' } });
  }

  async countByPath(filePath: string, exceptId: string): Promise<number> {
    const rows: { n: number }[] = await this.db.query('SELECT count(*)::int AS n FROM dataset WHERE file_path = $1 AND id <> $2', [filePath, exceptId]);
    return rows[0]?.n ?? 0;
  }

  async list(user: AuthUser | undefined, f: DatasetFilters, limit: number, offset: number): Promise<{ ids: string[]; total: number }> {
    const p = new Params();
    const where = [listableSql(p, user)];
    if (f.q) {
      const pattern = p.add(likePattern(f.q));
      where.push(`(d.title ILIKE ${pattern} OR d.description ILIKE ${pattern} OR d.file_name ILIKE ${pattern})`);
    }
    if (f.bboxes?.length) {
      where.push(`(${f.bboxes.map((b) => `ST_Intersects(i.geom, ST_MakeEnvelope(${p.add(b[0])}, ${p.add(b[1])}, ${p.add(b[2])}, ${p.add(b[3])}, 4326))`).join(' OR ')})`);
    }
    if (f.datetime?.start) where.push(`i.datetime >= ${p.add(f.datetime.start)}`);
    if (f.datetime?.end) where.push(`i.datetime <= ${p.add(f.datetime.end)}`);
    if (f.crs) where.push(`d.crs = ${p.add(f.crs)}`);
    if (f.status) where.push(`d.status = ${p.add(f.status)}`);
    if (f.collectionId) where.push(`i.collection_id = ${p.add(f.collectionId)}`);
    if (f.ownerId) where.push(`i.owner_id = ${p.add(f.ownerId)}`);
    const from = `FROM dataset d JOIN item i ON i.id = d.id JOIN collection c ON c.id = i.collection_id WHERE ${where.join(' AND ')}`;
    const counted: { total: number }[] = await this.db.query(`SELECT count(*)::int AS total ${from}`, p.values);
    const total = counted[0]?.total ?? 0;
    if (total === 0 || offset >= total) return { ids: [], total };
    const rows: { id: string }[] = await this.db.query(`SELECT d.id ${from} ORDER BY ${ORDER[f.sort]} LIMIT ${p.add(limit)} OFFSET ${p.add(offset)}`, p.values);
    return { ids: rows.map((r) => r.id), total };
  }

  /** Groups of datasets (visible to `user`) sharing a hash, largest groups first. */
  async duplicateGroups(user: AuthUser | undefined, limit: number, offset: number): Promise<{ groups: { sha256: string; ids: string[] }[]; total: number }> {
    const p = new Params();
    const groups = `WITH visible AS (
        SELECT d.id, d.sha256, d.created_at FROM dataset d JOIN item i ON i.id = d.id JOIN collection c ON c.id = i.collection_id
        WHERE d.sha256 IS NOT NULL AND ${listableSql(p, user)}
      ), groups AS (
        SELECT sha256, array_agg(id ORDER BY created_at, id) AS ids, count(*) AS n FROM visible GROUP BY sha256 HAVING count(*) > 1
      )`;
    const counted: { total: number }[] = await this.db.query(`${groups} SELECT count(*)::int AS total FROM groups`, p.values);
    const total = counted[0]?.total ?? 0;
    if (total === 0 || offset >= total) return { groups: [], total };
    const rows: { sha256: string; ids: string[] }[] = await this.db.query(
      `${groups} SELECT sha256, ids FROM groups ORDER BY n DESC, sha256 LIMIT ${p.add(limit)} OFFSET ${p.add(offset)}`,
      p.values,
    );
    return { groups: rows, total };
  }

  /** Pending datasets whose ingest job may have been lost, oldest first. */
  pending(limit: number): Promise<{ id: string; revision: number }[]> {
    return this.db.query(`SELECT id, revision FROM dataset WHERE status = 'pending' ORDER BY updated_at LIMIT $1`, [limit]);
  }

  /** Datasets in id order after `afterId` (keyset paging for maintenance walks). */
  batchAfter(afterId: string | null, limit: number, ids?: string[]): Promise<Dataset[]> {
    const qb = this.repo().createQueryBuilder('d').leftJoinAndSelect('d.item', 'i').orderBy('d.id', 'ASC').take(limit);
    if (afterId) qb.andWhere('d.id > :afterId', { afterId });
    if (ids) qb.andWhere('d.id IN (:...ids)', { ids: ids.length ? ids : ['00000000-0000-0000-0000-000000000000'] });
    return qb.getMany();
  }

  async countAll(ids?: string[]): Promise<number> {
    if (ids) return ids.length ? this.repo().countBy({ id: In(ids) }) : 0;
    return this.repo().count();
  }

  async existingIds(ids: string[]): Promise<Set<string>> {
    if (ids.length === 0) return new Set();
    const rows = await this.repo().find({ where: { id: In(ids) }, select: { id: true } });
    return new Set(rows.map((r) => r.id));
  }
}
