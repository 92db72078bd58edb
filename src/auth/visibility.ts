import type { AuthUser } from './auth.types.js';

/** Who may see a piece of content. */
export enum Visibility {
  Anyone = 'anyone',
  LoggedOnly = 'logged-only',
  OwnerOnly = 'owner-only',
}

export const VISIBILITIES = Object.values(Visibility);

export interface OwnedContent {
  ownerId: string | null;
  visibility: Visibility | string;
}

/** The one rule of visibility: admins and owners see everything; others per the content's setting. */
export function canSee(user: AuthUser | undefined, content: OwnedContent): boolean {
  if (user?.role === 'admin') return true;
  if (user && content.ownerId === user.id) return true;
  if (content.visibility === Visibility.Anyone) return true;
  if (content.visibility === Visibility.LoggedOnly) return !!user;
  return false;
}

/** Owner or admin: may change or delete. */
export function canEdit(user: AuthUser | undefined, content: Pick<OwnedContent, 'ownerId'>): boolean {
  return !!user && (user.role === 'admin' || (content.ownerId !== null && content.ownerId === user.id));
}

/**
 * The same rule as a SQL condition, for lists and searches. `alias` is the table alias; the
 * columns must be named `owner_id` and `visibility`. Parameters are numbered from `firstParam`.
 * Returns the condition and its parameters.
 */
export function visibilitySql(alias: string, user: AuthUser | undefined, firstParam = 1): { sql: string; params: unknown[] } {
  if (user?.role === 'admin') return { sql: 'TRUE', params: [] };
  if (!user) return { sql: `${alias}.visibility = 'anyone'`, params: [] };
  return {
    sql: `(${alias}.visibility IN ('anyone', 'logged-only') OR ${alias}.owner_id = $${firstParam})`,
    params: [user.id],
  };
}
