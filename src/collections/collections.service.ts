import { Injectable, Logger, NotFoundException } from '@nestjs/common';
import { InjectDataSource, InjectRepository } from '@nestjs/typeorm';
import { DataSource, DeepPartial, EntityManager, FindOptionsWhere, In, Repository } from 'typeorm';
import { JobQueueService } from '../queue/job-queue.service.js';
import { JobName, safeJobId } from '../queue/queue.constants.js';
import { Collection } from './collection.entity.js';
import { CollectionsRepository, SortMethod } from './collections.repository.js';
import { Item } from './item.entity.js';

/** What a domain learns when items leave (their rows are about to be deleted, in `manager`'s transaction). */
export interface ItemsDeletedEvent {
  collectionId: string;
  itemIds: string[];
  /** True when the whole collection goes. */
  collectionDeleted: boolean;
}

/**
 * A domain's cleanup for deleted items, run in the deleting transaction before the rows go:
 * it removes its own rows keyed by the item ids and may return storage prefixes of files to
 * remove with the pictures' own (they are purged asynchronously, after the commit).
 */
export type ItemsDeletedListener = (event: ItemsDeletedEvent, manager: EntityManager) => Promise<string[] | void>;

/** Progress reporting and cancellation for long maintenance work (a management job's context). */
export interface MaintenanceContext {
  log(line: string): void | Promise<void>;
  progress(percent: number): void | Promise<void>;
  signal: AbortSignal;
}

const RECOMPUTE_BATCH = 200;

/**
 * The collections domain's service for other domains: upload sets, datasets and harvesters
 * create and update their collections and items through it, never through the tables.
 */
@Injectable()
export class CollectionsService {
  private readonly logger = new Logger(CollectionsService.name);
  private readonly deleteListeners: ItemsDeletedListener[] = [];

  constructor(
    @InjectRepository(Collection) private readonly collections: Repository<Collection>,
    @InjectRepository(Item) private readonly items: Repository<Item>,
    private readonly repository: CollectionsRepository,
    // Appended after the original three, so code constructing the service by hand keeps working.
    @InjectDataSource() private readonly db: DataSource,
    private readonly jobs: JobQueueService,
  ) {}

  private col(manager?: EntityManager) {
    return manager ? manager.getRepository(Collection) : this.collections;
  }

  private itm(manager?: EntityManager) {
    return manager ? manager.getRepository(Item) : this.items;
  }

  async createCollection(data: DeepPartial<Collection> & Pick<Collection, 'kind' | 'title'>, manager?: EntityManager): Promise<Collection> {
    return this.col(manager).save(this.col(manager).create(data));
  }

  findCollection(id: string, manager?: EntityManager): Promise<Collection | null> {
    return this.col(manager).findOneBy({ id });
  }

  /** The oldest collection matching `where` (e.g. a user's default collection of a kind), or null. */
  findCollectionBy(where: FindOptionsWhere<Collection>, manager?: EntityManager): Promise<Collection | null> {
    return this.col(manager).findOne({ where, order: { createdAt: 'ASC', id: 'ASC' } });
  }

  async getCollection(id: string, manager?: EntityManager): Promise<Collection> {
    const collection = await this.findCollection(id, manager);
    if (!collection) throw new NotFoundException(`Collection ${id} not found`);
    return collection;
  }

  async updateCollection(id: string, patch: DeepPartial<Collection>, manager?: EntityManager): Promise<void> {
    await this.col(manager).update({ id }, patch as never);
  }

  /** Deletes a collection and (by cascade) its items; domain rows referencing them go with them or first. */
  async deleteCollection(id: string, manager?: EntityManager): Promise<void> {
    await this.col(manager).delete({ id });
  }

  async createItem(data: DeepPartial<Item> & Pick<Item, 'collectionId' | 'kind'>, manager?: EntityManager): Promise<Item> {
    return this.itm(manager).save(this.itm(manager).create(data));
  }

  findItem(id: string, manager?: EntityManager): Promise<Item | null> {
    return this.itm(manager).findOneBy({ id });
  }

  findItems(ids: string[], manager?: EntityManager): Promise<Item[]> {
    return ids.length ? this.itm(manager).findBy({ id: In(ids) }) : Promise.resolve([]);
  }

  async updateItem(id: string, patch: DeepPartial<Item>, manager?: EntityManager): Promise<void> {
    await this.itm(manager).update({ id }, patch as never);
  }

  async deleteItem(id: string, manager?: EntityManager): Promise<void> {
    await this.itm(manager).delete({ id });
  }

  findCollections(ids: string[], manager?: EntityManager): Promise<Collection[]> {
    return ids.length ? this.col(manager).findBy({ id: In(ids) }) : Promise.resolve([]);
  }

  /** Inserts many items at once (chunked), e.g. every picture of a new sequence in one transaction. */
  async createItems(data: (DeepPartial<Item> & Pick<Item, 'collectionId' | 'kind'>)[], manager?: EntityManager): Promise<void> {
    const repo = this.itm(manager);
    for (let i = 0; i < data.length; i += 500) {
      await repo.insert(data.slice(i, i + 500).map((d) => repo.create(d)) as never);
    }
  }

  /** Applies the same change to many items (chunked). */
  async updateItems(ids: string[], patch: DeepPartial<Item>, manager?: EntityManager): Promise<void> {
    for (let i = 0; i < ids.length; i += 1000) {
      await this.itm(manager).update({ id: In(ids.slice(i, i + 1000)) }, patch as never);
    }
  }

  /** Counts, temporal extent and footprint (bbox of the items, unless keepGeometry) from ready items. */
  refreshExtent(collectionId: string, options: { keepGeometry?: boolean } = {}, manager?: EntityManager): Promise<void> {
    return this.repository.refreshExtent(collectionId, options, manager);
  }

  /**
   * Counts, temporal extent and geometry by kind: a sequence's geometry is the line through its
   * ready pictures in rank order; a dataset collection's the box of its items; a harvested
   * collection keeps the extent its source declared and only gets its count.
   */
  async recomputeCollection(collectionId: string, manager?: EntityManager): Promise<void> {
    await this.repository.recomputeCollections([collectionId], manager);
  }

  /** Gives a collection's items ranks 1..n in the order of `method`; returns how many moved. */
  resortItems(collectionId: string, method: SortMethod, manager?: EntityManager): Promise<number> {
    return this.repository.resortItems(collectionId, method, manager);
  }

  /**
   * Derives `view:azimuth` of a sequence's pictures from the direction of travel plus
   * `relativeHeading` (degrees; 0 = forward, 90 = right, -90 = left) and marks them
   * `sightline:heading_computed`. With `onlyComputed`, headings from the camera or set by a
   * person stay. A lone picture faces `relativeHeading` from north when `headingForLonePicture`.
   */
  recomputeHeadings(
    collectionId: string,
    options: { relativeHeading?: number | null; onlyComputed?: boolean; headingForLonePicture?: boolean } = {},
    manager?: EntityManager,
  ): Promise<number> {
    return this.repository.recomputeHeadings(
      collectionId,
      {
        relativeHeading: options.relativeHeading ?? 0,
        onlyComputed: options.onlyComputed ?? true,
        headingForLonePicture: options.headingForLonePicture ?? false,
      },
      manager,
    );
  }

  /** Registers a domain's cleanup for items that are deleted (see ItemsDeletedListener). */
  onItemsDeleted(listener: ItemsDeletedListener): void {
    this.deleteListeners.push(listener);
  }

  /**
   * Deletes a collection, its items and (asynchronously) their files. Runs in `manager`'s
   * transaction when given; call `schedulePurge(purgeId)` after the commit (the reconciler
   * would pick it up later anyway).
   */
  async deleteCollectionWithFiles(collectionId: string, manager?: EntityManager): Promise<{ purgeId: string; items: number }> {
    if (!manager) return this.db.transaction((m) => this.deleteCollectionWithFiles(collectionId, m));
    const items = await this.repository.itemsOfCollection(collectionId, manager);
    const prefixes = await this.notifyDeleted({ collectionId, itemIds: items.map((i) => i.id), collectionDeleted: true }, manager);
    const purgeId = await this.repository.insertPurge(
      { reason: `collection ${collectionId} deleted`, itemIds: items.filter((i) => i.kind === 'picture').map((i) => i.id), prefixes },
      manager,
    );
    await this.col(manager).delete({ id: collectionId });
    return { purgeId, items: items.length };
  }

  /**
   * Deletes an item and (asynchronously) its files, closes the gap in the ranks, refreshes the
   * computed headings of its neighbours and the collection's extent. Same transaction rules
   * as deleteCollectionWithFiles.
   */
  async deleteItemWithFiles(item: Pick<Item, 'id' | 'kind' | 'collectionId'>, manager?: EntityManager): Promise<{ purgeId: string }> {
    if (!manager) return this.db.transaction((m) => this.deleteItemWithFiles(item, m));
    const prefixes = await this.notifyDeleted({ collectionId: item.collectionId, itemIds: [item.id], collectionDeleted: false }, manager);
    const purgeId = await this.repository.insertPurge(
      { reason: `item ${item.id} deleted`, itemIds: item.kind === 'picture' ? [item.id] : [], prefixes },
      manager,
    );
    await this.itm(manager).delete({ id: item.id });
    await this.repository.closeRankGaps(item.collectionId, manager);
    const collection = await this.findCollection(item.collectionId, manager);
    if (collection?.kind === 'sequence') {
      const relativeHeading = relativeHeadingOf(collection);
      await this.recomputeHeadings(item.collectionId, { relativeHeading, headingForLonePicture: relativeHeading !== null }, manager);
    }
    await this.recomputeCollection(item.collectionId, manager);
    return { purgeId };
  }

  /** Enqueues the removal of a purge's files now (best effort: the reconciler retries). */
  async schedulePurge(purgeId: string): Promise<void> {
    try {
      await this.jobs.add(JobName.CollectionsPurgeFiles, { purgeId }, { jobId: safeJobId('purge-files', purgeId) });
    } catch (error) {
      this.logger.warn({ purgeId, err: (error as Error).message }, 'could not enqueue the file purge; the reconciler will');
    }
  }

  private async notifyDeleted(event: ItemsDeletedEvent, manager: EntityManager): Promise<string[]> {
    const prefixes: string[] = [];
    for (const listener of this.deleteListeners) {
      const more = await listener(event, manager);
      if (more) prefixes.push(...more);
    }
    return prefixes;
  }

  /**
   * Recomputes counts, extents and geometry of one collection (`collection_id`) or of all,
   * in batches, reporting progress and stopping at a batch boundary when `signal` aborts.
   */
  async recompute(args: { collection_id?: string }, ctx: MaintenanceContext): Promise<{ collections: number }> {
    if (args.collection_id) {
      await this.getCollection(args.collection_id);
      await this.recomputeCollection(args.collection_id);
      await ctx.log(`recomputed collection ${args.collection_id}`);
      await ctx.progress(100);
      return { collections: 1 };
    }
    const total = await this.repository.countCollections();
    await ctx.log(`recomputing ${total} collections`);
    let done = 0;
    let after: string | null = null;
    for (;;) {
      ctx.signal.throwIfAborted();
      const ids = await this.repository.collectionIdsAfter(after, RECOMPUTE_BATCH);
      if (!ids.length) break;
      done += await this.repository.recomputeCollections(ids);
      after = ids[ids.length - 1]!;
      await ctx.progress(total ? Math.min(100, Math.round((done / total) * 100)) : 100);
      await ctx.log(`${done} / ${total} collections recomputed`);
    }
    await ctx.progress(100);
    return { collections: done };
  }
}

/** The relative heading a sequence was given (degrees), or null. */
export function relativeHeadingOf(collection: Pick<Collection, 'properties'>): number | null {
  const value = collection.properties?.relative_heading;
  return typeof value === 'number' && Number.isFinite(value) ? value : null;
}
