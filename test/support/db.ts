import pg from 'pg';
import { requireTestEnv } from './env.js';

/** A direct connection to the run's database, for assertions on what the API stored. */
export function testPool(): pg.Pool {
  requireTestEnv();
  return new pg.Pool({ connectionString: process.env.DATABASE_URL, max: 2 });
}
