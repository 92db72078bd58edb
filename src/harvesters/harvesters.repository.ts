import { Injectable } from '@nestjs/common';
import { InjectDataSource, InjectRepository } from '@nestjs/typeorm';
import { DataSource, EntityManager, In, Repository } from 'typeorm';
import type { QueryDeepPartialEntity } from 'typeorm/query-builder/QueryPartialEntity.js';
import type { FileValidators, RemoteResource } from './harvester-type.js';
import { HarvestableResource, type ResourceStatus } from './harvestable-resource.entity.js';
import { HarvestedRecord, HarvestValidator } from './harvested-record.entity.js';
import { Harvester } from './harvester.entity.js';

/** A filter over a harvester's resources (listing and bulk selection). */
export interface ResourceFilter {
  q?: string;
  type?: string;
  status?: ResourceStatus;
  selected?: boolean;
  ids?: string[];
  remoteIds?: string[];
}

/** TypeORM types partial rows deeply (every JSON value too); the columns given are exact. */
export function row<T>(columns: Partial<T>): QueryDeepPartialEntity<T> {
  return columns as QueryDeepPartialEntity<T>;
}

function escapeLike(text: string): string {
  return text.replace(/[\\%_]/g, (c) => `\\${c}`);
}

/** Harvesters, their resources, the record ↔ item map and the validators of remote files. */
@Injectable()
export class HarvestersRepository {
  constructor(
    @InjectRepository(Harvester) readonly harvesters: Repository<Harvester>,
    @InjectRepository(HarvestableResource) private readonly resources: Repository<HarvestableResource>,
    @InjectRepository(HarvestedRecord) private readonly records: Repository<HarvestedRecord>,
    @InjectRepository(HarvestValidator) private readonly validators: Repository<HarvestValidator>,
    @InjectDataSource() private readonly db: DataSource,
  ) {}

  findHarvester(id: string): Promise<Harvester | null> {
    return this.harvesters.findOneBy({ id });
  }

  listHarvesters(page: { limit: number; offset: number }, q?: string): Promise<[Harvester[], number]> {
    const query = this.harvesters.createQueryBuilder('h');
    if (q) query.where("h.name ILIKE :q ESCAPE '\\' OR h.url ILIKE :q ESCAPE '\\'", { q: `%${escapeLike(q)}%` });
    return query.orderBy('h.name').take(page.limit).skip(page.offset).getManyAndCount();
  }

  /** Enabled harvesters with an action due, oldest due first. */
  due(limit = 50): Promise<Harvester[]> {
    return this.harvesters
      .createQueryBuilder('h')
      .where('h.enabled')
      .andWhere('(h.next_check_at <= now() OR h.next_discover_at <= now() OR h.next_harvest_at <= now())')
      .orderBy('least(h.next_check_at, h.next_discover_at, h.next_harvest_at)')
      .limit(limit)
      .getMany();
  }

  private filtered(harvesterId: string, filter: ResourceFilter) {
    const query = this.resources.createQueryBuilder('r').where('r.harvester_id = :harvesterId', { harvesterId });
    if (filter.q) query.andWhere("(r.title ILIKE :q ESCAPE '\\' OR r.remote_id ILIKE :q ESCAPE '\\')", { q: `%${escapeLike(filter.q)}%` });
    if (filter.type) query.andWhere('r.type = :type', { type: filter.type });
    if (filter.status) query.andWhere('r.status = :status', { status: filter.status });
    if (filter.selected !== undefined) query.andWhere('r.selected = :selected', { selected: filter.selected });
    if (filter.ids) query.andWhere('r.id IN (:...ids)', { ids: filter.ids.length ? filter.ids : ['00000000-0000-0000-0000-000000000000'] });
    if (filter.remoteIds) query.andWhere('r.remote_id IN (:...remoteIds)', { remoteIds: filter.remoteIds.length ? filter.remoteIds : [''] });
    return query;
  }

  listResources(harvesterId: string, filter: ResourceFilter, page: { limit: number; offset: number }): Promise<[HarvestableResource[], number]> {
    return this.filtered(harvesterId, filter).orderBy('r.title').addOrderBy('r.id').take(page.limit).skip(page.offset).getManyAndCount();
  }

  findResource(harvesterId: string, id: string): Promise<HarvestableResource | null> {
    return this.resources.findOneBy({ harvesterId, id });
  }

  resourcesOf(harvesterId: string, filter: ResourceFilter = {}): Promise<HarvestableResource[]> {
    return this.filtered(harvesterId, filter).orderBy('r.title').addOrderBy('r.id').getMany();
  }

  /** Sets `selected` on the resources the filter matches; returns how many changed. */
  async select(harvesterId: string, filter: ResourceFilter, selected: boolean): Promise<number> {
    const ids = (await this.filtered(harvesterId, filter).select('r.id', 'id').getRawMany<{ id: string }>()).map((r) => r.id);
    if (!ids.length) return 0;
    const result = await this.resources.update({ id: In(ids), selected: !selected }, { selected });
    return result.affected ?? 0;
  }

  /**
   * Records what discovery found: new resources are inserted (selected when `selectNew`), known
   * ones updated. Returns the counts.
   */
  async upsertResources(harvesterId: string, found: RemoteResource[], selectNew: boolean): Promise<{ created: number; updated: number; unchanged: number }> {
    const counts = { created: 0, updated: 0, unchanged: 0 };
    if (!found.length) return counts;
    const existing = new Map((await this.resources.findBy({ harvesterId, remoteId: In(found.map((f) => f.remoteId)) })).map((r) => [r.remoteId, r]));
    for (const resource of found) {
      const known = existing.get(resource.remoteId);
      const fields = {
        title: resource.title.slice(0, 1000) || resource.remoteId,
        type: resource.type.slice(0, 32),
        remoteUrl: resource.remoteUrl ?? null,
        description: resource.description ?? {},
      };
      if (!known) {
        await this.resources.insert(
          row<HarvestableResource>({ harvesterId, remoteId: resource.remoteId, ...fields, selected: selectNew, status: 'available', lastSeenAt: new Date() }),
        );
        counts.created++;
        continue;
      }
      const changed =
        known.title !== fields.title ||
        known.type !== fields.type ||
        known.remoteUrl !== fields.remoteUrl ||
        JSON.stringify(known.description) !== JSON.stringify(fields.description) ||
        known.status === 'missing';
      await this.resources.update(
        { id: known.id },
        row<HarvestableResource>({
          ...fields,
          lastSeenAt: new Date(),
          missingSince: null,
          status: known.status === 'missing' ? (known.lastHarvestedAt ? 'harvested' : 'available') : known.status,
        }),
      );
      if (changed) counts.updated++;
      else counts.unchanged++;
    }
    return counts;
  }

  /** Resources absent from a complete discovery: `missing` from now on. */
  async markResourcesMissing(harvesterId: string, seenRemoteIds: string[]): Promise<number> {
    const result = (await this.db.query(
      `UPDATE harvestable_resource SET status = 'missing', missing_since = coalesce(missing_since, now()), updated_at = now()
        WHERE harvester_id = $1 AND status <> 'missing' AND NOT (remote_id = ANY($2::text[]))`,
      [harvesterId, seenRemoteIds],
    )) as [unknown[], number];
    return result[1];
  }

  updateResource(
    id: string,
    patch: Partial<Pick<HarvestableResource, 'collectionId' | 'watermark' | 'lastHarvestedAt' | 'lastResult' | 'status' | 'lastFullListingAt'>>,
    manager?: EntityManager,
  ) {
    return (manager ? manager.getRepository(HarvestableResource) : this.resources).update({ id }, row<HarvestableResource>(patch));
  }

  /** The records of a resource with these remote ids. */
  recordsByRemoteId(resourceId: string, remoteIds: string[], manager?: EntityManager): Promise<HarvestedRecord[]> {
    if (!remoteIds.length) return Promise.resolve([]);
    return (manager ? manager.getRepository(HarvestedRecord) : this.records).findBy({ resourceId, remoteId: In(remoteIds) });
  }

  async insertRecords(rows: Partial<HarvestedRecord>[], manager: EntityManager): Promise<void> {
    if (rows.length) await manager.getRepository(HarvestedRecord).insert(rows.map((r) => row<HarvestedRecord>(r)));
  }

  async updateRecord(id: string, patch: Partial<HarvestedRecord>, manager: EntityManager): Promise<void> {
    await manager.getRepository(HarvestedRecord).update({ id }, row<HarvestedRecord>(patch));
  }

  /** Marks records seen by a session (present remotely, unchanged or not): their missing count restarts. */
  async markSeen(resourceId: string, remoteIds: string[], sessionId: string): Promise<number> {
    if (!remoteIds.length) return 0;
    const result = (await this.db.query(
      `UPDATE harvested_record SET last_session_id = $3, missing_runs = 0
        WHERE resource_id = $1 AND remote_id = ANY($2::text[]) AND last_session_id IS DISTINCT FROM $3`,
      [resourceId, remoteIds, sessionId],
    )) as [unknown[], number];
    return result[1];
  }

  /**
   * After a complete listing: records of the resource the session did not see count one more
   * missing run. Returns those that reached `graceRuns` (due for the deletion policy). A dry run
   * only reads.
   */
  async countMissing(resourceId: string, sessionId: string, graceRuns: number, dryRun: boolean): Promise<{ id: string; remoteId: string; hidden: boolean }[]> {
    if (!dryRun) {
      await this.db.query(
        `UPDATE harvested_record SET missing_runs = missing_runs + 1
          WHERE resource_id = $1 AND last_session_id IS DISTINCT FROM $2`,
        [resourceId, sessionId],
      );
    }
    const rows = (await this.db.query(
      `SELECT id, remote_id AS "remoteId", hidden FROM harvested_record
        WHERE resource_id = $1 AND last_session_id IS DISTINCT FROM $2 AND missing_runs + $4::int >= $3
        ORDER BY remote_id`,
      [resourceId, sessionId, graceRuns, dryRun ? 1 : 0],
    )) as { id: string; remoteId: string; hidden: boolean }[];
    return rows;
  }

  countRecords(harvesterId: string): Promise<number> {
    return this.records.countBy({ harvesterId });
  }

  async recordCountsByResource(harvesterId: string): Promise<Map<string, number>> {
    const rows = (await this.db.query(`SELECT resource_id AS id, count(*)::int AS n FROM harvested_record WHERE harvester_id = $1 GROUP BY resource_id`, [harvesterId])) as {
      id: string;
      n: number;
    }[];
    return new Map(rows.map((r) => [r.id, r.n]));
  }

  /** Forgets a resource's records, watermark and collection (its local items stay unless deleted separately). */
  async forgetResource(resourceId: string): Promise<void> {
    await this.db.transaction(async (manager) => {
      await manager.getRepository(HarvestedRecord).delete({ resourceId });
      await manager
        .getRepository(HarvestableResource)
        .update({ id: resourceId }, { watermark: null, lastFullListingAt: null, lastHarvestedAt: null, lastResult: null, status: 'available', collectionId: null });
    });
  }

  async getValidators(harvesterId: string, url: string): Promise<FileValidators | null> {
    const row = await this.validators.findOneBy({ harvesterId, url });
    return row ? { etag: row.etag, lastModified: row.lastModified, remoteId: row.remoteId, data: row.data } : null;
  }

  async setValidators(harvesterId: string, url: string, value: FileValidators): Promise<void> {
    await this.validators.upsert(
      row<HarvestValidator>({ harvesterId, url, etag: value.etag, lastModified: value.lastModified, remoteId: value.remoteId ?? null, data: value.data ?? null }),
      ['harvesterId', 'url'],
    );
  }

  async clearValidators(harvesterId: string): Promise<void> {
    await this.validators.delete({ harvesterId });
  }

  /** Local collections fed by the harvester's resources (all, or those given). */
  async collectionsOf(harvesterId: string, resourceIds?: string[]): Promise<{ resourceId: string; collectionId: string }[]> {
    const rows = await this.filtered(harvesterId, resourceIds ? { ids: resourceIds } : {})
      .andWhere('r.collection_id IS NOT NULL')
      .select(['r.id AS "resourceId"', 'r.collection_id AS "collectionId"'])
      .getRawMany<{ resourceId: string; collectionId: string }>();
    return rows;
  }

  /** The harvested record behind an item (its provenance), or null. */
  recordOfItem(itemId: string): Promise<HarvestedRecord | null> {
    return this.records.findOneBy({ id: itemId });
  }
}
