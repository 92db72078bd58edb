import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource } from 'typeorm';

/** SQL of the session store (user_session). Ids given here are already hashed. */
@Injectable()
export class SessionsRepository {
  constructor(@InjectDataSource() private readonly db: DataSource) {}

  async find(id: string): Promise<Record<string, unknown> | null> {
    const rows: { data: Record<string, unknown> }[] = await this.db.query(`SELECT data FROM user_session WHERE id = $1 AND expires_at > now()`, [id]);
    return rows[0]?.data ?? null;
  }

  async save(id: string, userId: string | null, data: Record<string, unknown>, expiresAt: Date): Promise<void> {
    await this.db.query(
      `INSERT INTO user_session (id, user_id, data, expires_at) VALUES ($1, $2, $3, $4)
       ON CONFLICT (id) DO UPDATE SET user_id = EXCLUDED.user_id, data = EXCLUDED.data, expires_at = EXCLUDED.expires_at, updated_at = now()`,
      [id, userId, JSON.stringify(data), expiresAt],
    );
  }

  async delete(id: string): Promise<void> {
    await this.db.query(`DELETE FROM user_session WHERE id = $1`, [id]);
  }

  async deleteExpired(): Promise<void> {
    await this.db.query(`DELETE FROM user_session WHERE expires_at <= now()`);
  }
}
