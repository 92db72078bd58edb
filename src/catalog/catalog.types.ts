/**
 * The catalog's rows as other domains read them (returned by CatalogService). Other domains
 * import these types from here, never the entity files: they write through the service.
 */
export type { Collection, CollectionKind, CollectionStatus, ExtentMode } from './collection.entity.js';
export { EXTENT_MODES } from './collection.entity.js';
export type { Item, ItemKind, ItemStatus, StoredLink } from './item.entity.js';
export type { CatalogSource, ItemsRemovedEvent, RemovedFiles } from './catalog-source.js';
