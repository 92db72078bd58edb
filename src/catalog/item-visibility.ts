import type { AuthUser } from '../auth/auth.types.js';
import { canSee, OwnedContent, visibilitySql } from '../auth/visibility.js';

/**
 * An item is visible only when both it and its collection are: hiding a collection hides its
 * pictures without touching each of them.
 */
export function canSeeItem(user: AuthUser | undefined, item: OwnedContent, collection: OwnedContent): boolean {
  return canSee(user, item) && canSee(user, collection);
}

/**
 * The same rule as SQL, for `item` rows aliased `itemAlias` joined to their collection aliased
 * `collectionAlias`. Parameters are numbered from `firstParam` (at most one: the caller's id).
 */
export function itemVisibilitySql(itemAlias: string, collectionAlias: string, user: AuthUser | undefined, firstParam = 1): { sql: string; params: unknown[] } {
  const item = visibilitySql(itemAlias, user, firstParam);
  const collection = visibilitySql(collectionAlias, user, firstParam);
  return { sql: `(${item.sql} AND ${collection.sql})`, params: item.params };
}
