import { SetMetadata } from '@nestjs/common';
import type { EntityManager } from 'typeorm';

export const CATALOG_SOURCE = Symbol('sightline:catalog-source');

/**
 * Marks a provider as an item source of the catalog (see CatalogSource). The catalog finds
 * every marked provider when the application starts, like the job reconcilers.
 */
export const ItemSource = (): ClassDecorator => SetMetadata(CATALOG_SOURCE, true);

/** Items leaving the catalog: their rows are about to be deleted in the caller's transaction. */
export interface ItemsRemovedEvent {
  collectionId: string;
  itemIds: string[];
  /** True when the whole collection goes. */
  collectionDeleted: boolean;
}

/** Storage a source wants removed with its items, after the deleting transaction commits. */
export interface RemovedFiles {
  /** A folder per item; kept when an item with that id exists again by the time of the purge. */
  itemFolders?: { itemId: string; prefix: string }[];
  /** Further folders, removed unconditionally. */
  prefixes?: string[];
}

/**
 * What a domain that publishes items implements: the kinds of items it owns, what happens
 * to its own rows and files when the catalog removes its items, and who owns an item it
 * has not published yet. Every method is optional; a source that keeps no rows of its own
 * only declares its kinds.
 */
export interface CatalogSource {
  /** Item kinds this source creates (`picture`, `dataset`…). */
  readonly itemKinds: readonly string[];
  /** Collection kinds this source creates (`sequence`, …). */
  readonly collectionKinds: readonly string[];
  /**
   * Runs in the deleting transaction before the rows go, for the removed items of this
   * source's kinds: removes the source's own rows keyed by the item ids and names the files
   * to purge after the commit.
   */
  onItemsRemoved?(event: ItemsRemovedEvent, manager: EntityManager): Promise<RemovedFiles | void>;
  /**
   * The owner of an item id the catalog does not hold yet (a picture still being processed),
   * or null when this source does not know it.
   */
  unpublishedOwner?(itemId: string): Promise<{ ownerId: string | null } | null>;
}
