import { Injectable, Logger, NotFoundException, OnModuleInit } from '@nestjs/common';
import { DiscoveryService, Reflector } from '@nestjs/core';
import { InjectDataSource, InjectRepository } from '@nestjs/typeorm';
import { DataSource, DeepPartial, EntityManager, In, Repository } from 'typeorm';
import type { QueryDeepPartialEntity } from 'typeorm/query-builder/QueryPartialEntity.js';
import { UsersService } from '../auth/users.service.js';
import type { Visibility } from '../auth/visibility.js';
import { AppConfig } from '../config/app-config.js';
import type { Geometry } from '../database/geometry.js';
import { JobQueueService } from '../queue/job-queue.service.js';
import { JobName, safeJobId } from '../queue/queue.constants.js';
import { CATALOG_SOURCE, type CatalogSource, type ItemsRemovedEvent } from './catalog-source.js';
import { CatalogRepository, type ItemAccessRow, type SortMethod } from './catalog.repository.js';

export { HEADING_COMPUTED_PROPERTY, SORT_METHODS, type ItemAccessRow, type SortMethod } from './catalog.repository.js';
import { Collection, type CollectionStatus, type ExtentMode } from './collection.entity.js';
import { Item, type ItemStatus, type StoredLink } from './item.entity.js';

/**
 * Collection property marking a description its source wrote from the items (and rewrites as they
 * change); editing the description removes it, and the owner's words stay.
 */
export const DESCRIPTION_GENERATED = 'description_generated';

/** A new collection, as a source describes it. */
export interface CollectionDraft {
  id?: string;
  /** Declared by the source (`sequence`, `dataset`…). */
  kind: string;
  title: string;
  description?: string | null;
  ownerId: string | null;
  visibility?: Visibility;
  status?: CollectionStatus;
  /** SPDX identifier, or `other` / `proprietary`. */
  license?: string;
  keywords?: string[];
  providers?: unknown[];
  /** How the extent is derived: from the items as a line or a box, or declared below. */
  extent: ExtentMode;
  /** Items form an ordered series (prev / next links, the collection shows its first item's thumbnail). */
  ordered?: boolean;
  /** A declared extent (`extent: 'declared'`), or a starting one. */
  geometry?: Geometry | null;
  datetimeStart?: Date | null;
  datetimeEnd?: Date | null;
  summaries?: Record<string, unknown>;
  /** Source-specific fields, published as STAC collection fields. */
  properties?: Record<string, unknown>;
}

/** What may change on a collection (its kind and extent mode are set once). */
export type CollectionPatch = Partial<Omit<CollectionDraft, 'id' | 'kind' | 'extent'>>;

/** A new item, as a source describes it. */
export interface ItemDraft {
  id?: string;
  collectionId: string;
  /** Declared by the source (`picture`, `dataset`…). */
  kind: string;
  ownerId: string | null;
  visibility?: Visibility;
  /** Only `ready` items are published. */
  status?: ItemStatus;
  datetime?: Date | null;
  geometry?: Geometry | null;
  /** Position within an ordered collection. */
  rank?: number | null;
  /** STAC properties other than datetime (extension fields included). */
  properties?: Record<string, unknown>;
  /** STAC assets; `href` may be relative to the API root. */
  assets?: Record<string, Record<string, unknown>>;
  /** Links besides those every item gets. */
  links?: StoredLink[];
  /** Extension schema URLs besides those recognised from field prefixes. */
  extensions?: string[];
}

/** What may change on an item (its kind is set once). */
export type ItemPatch = Partial<Omit<ItemDraft, 'id' | 'kind'>>;

type CollectionColumns = Partial<Omit<Collection, 'owner'>>;
type ItemColumns = Partial<Omit<Item, 'collection'>>;
// TypeORM types partial rows deeply (every nested JSON value too); the columns above are exact.
type Row<T> = QueryDeepPartialEntity<T>;

function collectionColumns(draft: CollectionPatch & Partial<Pick<CollectionDraft, 'id' | 'kind' | 'extent'>>): Row<Collection> {
  const { geometry, extent, ...rest } = draft;
  const columns: CollectionColumns = { ...rest };
  if (geometry !== undefined) columns.geom = geometry;
  if (extent !== undefined) columns.extentMode = extent;
  return columns as Row<Collection>;
}

function itemColumns(draft: ItemPatch & Partial<Pick<ItemDraft, 'id' | 'kind'>>): Row<Item> {
  const { geometry, extensions, ...rest } = draft;
  const columns: ItemColumns = { ...rest };
  if (geometry !== undefined) columns.geom = geometry;
  if (extensions !== undefined) columns.stacExtensions = extensions;
  return columns as Row<Item>;
}

/** Progress reporting and cancellation for long maintenance work (a management job's context). */
export interface MaintenanceContext {
  log(line: string): void | Promise<void>;
  progress(percent: number): void | Promise<void>;
  signal: AbortSignal;
}

const RECOMPUTE_BATCH = 200;

/**
 * The catalog: the one owner of the `collection` and `item` tables. Every domain that publishes
 * STAC content (pictures, datasets, harvesters, drones) creates and changes its collections and
 * items through this service, and declares itself a CatalogSource (see catalog-source.ts).
 */
@Injectable()
export class CatalogService implements OnModuleInit {
  private readonly logger = new Logger(CatalogService.name);
  private sources: CatalogSource[] = [];

  constructor(
    @InjectRepository(Collection) private readonly collections: Repository<Collection>,
    @InjectRepository(Item) private readonly items: Repository<Item>,
    private readonly repository: CatalogRepository,
    @InjectDataSource() private readonly db: DataSource,
    private readonly jobs: JobQueueService,
    private readonly discovery: DiscoveryService,
    private readonly reflector: Reflector,
    private readonly config: AppConfig,
    private readonly users: UsersService,
  ) {}

  onModuleInit(): void {
    this.sources = this.discovery
      .getProviders()
      .filter((w) => w.metatype && w.instance && this.reflector.get(CATALOG_SOURCE, w.metatype as () => unknown))
      .map((w) => w.instance as CatalogSource);
  }

  /** Item kinds declared by the sources, sorted (the `kind` queryable's values). */
  itemKinds(): string[] {
    return [...new Set(this.sources.flatMap((s) => s.itemKinds))].sort();
  }

  /** Collection kinds declared by the sources, sorted. */
  collectionKinds(): string[] {
    return [...new Set(this.sources.flatMap((s) => s.collectionKinds))].sort();
  }

  /** The owner of an item the catalog does not hold yet, as its source knows it; null when none does. */
  async unpublishedOwner(itemId: string): Promise<{ ownerId: string | null } | null> {
    for (const source of this.sources) {
      const found = await source.unpublishedOwner?.(itemId);
      if (found) return found;
    }
    return null;
  }

  private col(manager?: EntityManager) {
    return manager ? manager.getRepository(Collection) : this.collections;
  }

  private itm(manager?: EntityManager) {
    return manager ? manager.getRepository(Item) : this.items;
  }

  /**
   * Creates a collection. Unless the draft says otherwise it is published under the instance's
   * content license (CONTENT_LICENSE, linked to CONTENT_LICENSE_URL when set), with the instance as
   * its `host` provider and its owner as `producer`.
   */
  async createCollection(draft: CollectionDraft, manager?: EntityManager): Promise<Collection> {
    const repo = this.col(manager);
    const withDefaults: CollectionDraft = {
      ...draft,
      license: draft.license ?? this.config.CONTENT_LICENSE,
      providers: draft.providers ?? (await this.defaultProviders(draft.ownerId)),
      properties:
        draft.license === undefined && this.config.CONTENT_LICENSE_URL && draft.properties?.license_url === undefined
          ? { ...draft.properties, license_url: this.config.CONTENT_LICENSE_URL }
          : draft.properties,
    };
    return repo.save(repo.create(collectionColumns(withDefaults) as DeepPartial<Collection>));
  }

  /** STAC providers of a new collection: this instance hosts it, its owner produced it. */
  async defaultProviders(ownerId: string | null): Promise<unknown[]> {
    const owner = ownerId ? await this.users.findById(ownerId) : null;
    return [{ name: this.config.INSTANCE_NAME, roles: ['host'], url: this.config.PUBLIC_URL }, ...(owner?.name ? [{ name: owner.name, roles: ['producer'] }] : [])];
  }

  findCollection(id: string, manager?: EntityManager): Promise<Collection | null> {
    return this.col(manager).findOneBy({ id });
  }

  /**
   * The oldest collection of this kind and owner (any owner when `ownerId` is undefined) whose
   * title is `title` and whose properties contain `properties`, or null.
   */
  findCollectionBy(where: { kind: string; ownerId?: string | null; title?: string; properties?: Record<string, unknown> }, manager?: EntityManager): Promise<Collection | null> {
    return this.repository.findCollectionBy(where, manager ?? this.db.manager);
  }

  async getCollection(id: string, manager?: EntityManager): Promise<Collection> {
    const collection = await this.findCollection(id, manager);
    if (!collection) throw new NotFoundException(`Collection ${id} not found`);
    return collection;
  }

  async updateCollection(id: string, patch: CollectionPatch, manager?: EntityManager): Promise<void> {
    await this.col(manager).update({ id }, collectionColumns(patch));
  }

  /** Deletes a collection and (by cascade) its items; domain rows referencing them go with them or first. */
  async deleteCollection(id: string, manager?: EntityManager): Promise<void> {
    await this.col(manager).delete({ id });
  }

  async createItem(draft: ItemDraft, manager?: EntityManager): Promise<Item> {
    const repo = this.itm(manager);
    return repo.save(repo.create(itemColumns(draft) as DeepPartial<Item>));
  }

  findItem(id: string, manager?: EntityManager): Promise<Item | null> {
    return this.itm(manager).findOneBy({ id });
  }

  findItems(ids: string[], manager?: EntityManager): Promise<Item[]> {
    return ids.length ? this.itm(manager).findBy({ id: In(ids) }) : Promise.resolve([]);
  }

  async updateItem(id: string, patch: ItemPatch, manager?: EntityManager): Promise<void> {
    await this.itm(manager).update({ id }, itemColumns(patch));
  }

  /** An item's status alone (a picture ready or broken), in one short statement. */
  setItemStatus(id: string, status: ItemStatus, manager?: EntityManager): Promise<void> {
    return this.repository.setItemStatus(id, status, manager);
  }

  async deleteItem(id: string, manager?: EntityManager): Promise<void> {
    await this.itm(manager).delete({ id });
  }

  findCollections(ids: string[], manager?: EntityManager): Promise<Collection[]> {
    return ids.length ? this.col(manager).findBy({ id: In(ids) }) : Promise.resolve([]);
  }

  /** Inserts many items at once (chunked), e.g. every picture of a new sequence in one transaction. */
  async createItems(drafts: ItemDraft[], manager?: EntityManager): Promise<void> {
    const repo = this.itm(manager);
    for (let i = 0; i < drafts.length; i += 500) {
      await repo.insert(drafts.slice(i, i + 500).map(itemColumns));
    }
  }

  /** Applies the same change to many items (chunked). */
  async updateItems(ids: string[], patch: ItemPatch, manager?: EntityManager): Promise<void> {
    for (let i = 0; i < ids.length; i += 1000) {
      await this.itm(manager).update({ id: In(ids.slice(i, i + 1000)) }, itemColumns(patch));
    }
  }

  /** Counts, temporal extent and footprint (bbox of the items, unless keepGeometry) from ready items. */
  refreshExtent(collectionId: string, options: { keepGeometry?: boolean } = {}, manager?: EntityManager): Promise<void> {
    return this.repository.refreshExtent(collectionId, options, manager);
  }

  /** Counts, temporal extent and geometry by the collection's extent mode (see CollectionDraft.extent). */
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

  /**
   * Deletes a collection, its items and (asynchronously) their files. Runs in `manager`'s
   * transaction when given; call `schedulePurge(purgeId)` after the commit (the reconciler
   * would pick it up later anyway).
   */
  async deleteCollectionWithFiles(collectionId: string, manager?: EntityManager): Promise<{ purgeId: string; items: number }> {
    if (!manager) return this.db.transaction((m) => this.deleteCollectionWithFiles(collectionId, m));
    const items = await this.repository.itemsOfCollection(collectionId, manager);
    const files = await this.notifyRemoved(collectionId, items, true, manager);
    const purgeId = await this.repository.insertPurge({ reason: `collection ${collectionId} deleted`, ...files }, manager);
    await this.col(manager).delete({ id: collectionId });
    return { purgeId, items: items.length };
  }

  /**
   * Deletes an item and (asynchronously) its files, closes the gap in the ranks, refreshes the
   * computed headings of its neighbours (ordered collections) and the collection's extent. Same
   * transaction rules as deleteCollectionWithFiles.
   */
  async deleteItemWithFiles(item: Pick<Item, 'id' | 'kind' | 'collectionId'>, manager?: EntityManager): Promise<{ purgeId: string }> {
    if (!manager) return this.db.transaction((m) => this.deleteItemWithFiles(item, m));
    const files = await this.notifyRemoved(item.collectionId, [item], false, manager);
    const purgeId = await this.repository.insertPurge({ reason: `item ${item.id} deleted`, ...files }, manager);
    await this.itm(manager).delete({ id: item.id });
    await this.repository.closeRankGaps(item.collectionId, manager);
    const collection = await this.findCollection(item.collectionId, manager);
    if (collection?.ordered) {
      const relativeHeading = relativeHeadingOf(collection);
      await this.recomputeHeadings(item.collectionId, { relativeHeading, headingForLonePicture: relativeHeading !== null }, manager);
    }
    await this.recomputeCollection(item.collectionId, manager);
    return { purgeId };
  }

  /** Locks a collection row for the rest of `manager`'s transaction; false when it does not exist. */
  lockCollection(collectionId: string, manager: EntityManager): Promise<boolean> {
    return this.repository.lockCollection(collectionId, manager);
  }

  /** Sets and removes keys of an item's properties in one statement (other keys untouched). */
  patchItemProperties(itemId: string, set: Record<string, unknown>, unset: string[], manager?: EntityManager): Promise<void> {
    return this.repository.patchItemProperties(itemId, set, unset, manager);
  }

  /** An item with what visibility checks need about it and its collection. */
  itemAccess(itemId: string, manager?: EntityManager): Promise<ItemAccessRow | null> {
    return this.repository.itemAccess(itemId, manager);
  }

  /** Enqueues the removal of a purge's files now (best effort: the reconciler retries). */
  async schedulePurge(purgeId: string): Promise<void> {
    try {
      await this.jobs.add(JobName.CollectionsPurgeFiles, { purgeId }, { jobId: safeJobId('purge-files', purgeId) });
    } catch (error) {
      this.logger.warn({ purgeId, err: (error as Error).message }, 'could not enqueue the file purge; the reconciler will');
    }
  }

  /** Tells each source about its removed items; the files they name are purged after the commit. */
  private async notifyRemoved(
    collectionId: string,
    items: { id: string; kind: string }[],
    collectionDeleted: boolean,
    manager: EntityManager,
  ): Promise<{ itemFolders: { itemId: string; prefix: string }[]; prefixes: string[] }> {
    const files = { itemFolders: [] as { itemId: string; prefix: string }[], prefixes: [] as string[] };
    for (const source of this.sources) {
      if (!source.onItemsRemoved) continue;
      const kinds = new Set(source.itemKinds);
      const itemIds = items.filter((i) => kinds.has(i.kind)).map((i) => i.id);
      if (!itemIds.length) continue;
      const event: ItemsRemovedEvent = { collectionId, itemIds, collectionDeleted };
      const named = await source.onItemsRemoved(event, manager);
      if (named?.itemFolders) files.itemFolders.push(...named.itemFolders);
      if (named?.prefixes) files.prefixes.push(...named.prefixes);
    }
    return files;
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
      done += await this.repository.recomputeCollectionsBatch(ids);
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
