import { randomBytes, randomUUID } from 'node:crypto';
import type pg from 'pg';

/** A serial number no other test run uses. */
export function uniqueSn(prefix: string): string {
  return `${prefix}${randomBytes(5).toString('hex').toUpperCase()}`;
}

/** A workspace row of `ownerId`, written directly (setup only; the workspaces API has its own tests). */
export async function seedWorkspace(pool: pg.Pool, ownerId: string | null, name = 'Test fleet'): Promise<{ id: string; uuid: string }> {
  const uuid = randomUUID();
  const { rows } = await pool.query(`INSERT INTO drone_workspace (uuid, name, owner_id) VALUES ($1, $2, $3) RETURNING id`, [uuid, `${name} ${uuid.slice(0, 8)}`, ownerId]);
  return { id: rows[0].id, uuid };
}

/** A pilot connection row of a workspace (its secret is not usable for a login: setup only). */
export async function seedConnection(pool: pg.Pool, workspaceId: string): Promise<{ id: string; connectionId: string }> {
  const connectionId = `c${randomBytes(6).toString('hex')}`;
  const { rows } = await pool.query(`INSERT INTO drone_connection (workspace_id, connection_id, name, secret_hash) VALUES ($1, $2, 'test pilot', 'scrypt$00$00') RETURNING id`, [
    workspaceId,
    connectionId,
  ]);
  return { id: rows[0].id, connectionId };
}
