import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource } from 'typeorm';

import type { User } from './user.entity.js';

export type UserSummary = Pick<User, 'id' | 'name' | 'email' | 'role' | 'defaultVisibility' | 'createdAt'>;

/** Escapes LIKE wildcards so a search for `a_b` means that text, not a pattern. */
function likeContains(text: string): string {
  return `%${text.replace(/[\\%_]/g, (c) => `\\${c}`)}%`;
}

@Injectable()
export class UsersRepository {
  constructor(@InjectDataSource() private readonly db: DataSource) {}

  /** A page of users, by name; `search` matches anywhere in the name, case-insensitively (trigram index). */
  async search(search: string | undefined, limit: number, offset: number): Promise<{ users: UserSummary[]; total: number }> {
    const pattern = search ? likeContains(search) : null;
    const rows: { id: string; name: string; email: string | null; role: User['role']; default_visibility: User['defaultVisibility']; created_at: Date; total: string }[] =
      await this.db.query(
        `SELECT id, name, email, role, default_visibility, created_at, count(*) OVER () AS total
         FROM users
        WHERE $1::text IS NULL OR name ILIKE $1
        ORDER BY lower(name), id
        LIMIT $2 OFFSET $3`,
        [pattern, limit, offset],
      );
    const users = rows.map((r) => ({ id: r.id, name: r.name, email: r.email, role: r.role, defaultVisibility: r.default_visibility, createdAt: r.created_at }));
    if (rows.length > 0 || offset === 0) return { users, total: rows.length ? Number(rows[0]!.total) : 0 };
    // Past the last page: count separately so the links stay right.
    const [{ n }] = await this.db.query(`SELECT count(*)::int AS n FROM users WHERE $1::text IS NULL OR name ILIKE $1`, [pattern]);
    return { users: [], total: n };
  }
}
