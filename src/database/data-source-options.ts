import { fileURLToPath } from 'node:url';
import path from 'node:path';
import type { DataSourceOptions } from 'typeorm';
import type { AppConfig } from '../config/app-config.js';
import { SnakeNamingStrategy } from './snake-naming.strategy.js';

// Compiled layout: dist/src/database/this-file.js → project root of the build is dist/.
const distRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');

/** The one definition of the database connection, shared by the app, the worker and the migration CLI. */
export function dataSourceOptions(config: Pick<AppConfig, 'DATABASE_URL' | 'DATABASE_POOL_SIZE'>): DataSourceOptions {
  return {
    type: 'postgres',
    url: config.DATABASE_URL,
    entities: [path.join(distRoot, 'src/**/*.entity.js')],
    migrations: [path.join(distRoot, 'migrations/*.js')],
    migrationsTableName: 'migrations',
    namingStrategy: new SnakeNamingStrategy(),
    synchronize: false,
    // gen_random_uuid() is built into PostgreSQL 13+: no extension needed.
    uuidExtension: 'pgcrypto',
    installExtensions: false,
    migrationsRun: false,
    logging: ['error', 'migration'],
    // JIT compilation costs hundreds of milliseconds on tile and search queries over large tables
    // and wins nothing on these short, index-driven queries.
    extra: { max: config.DATABASE_POOL_SIZE, application_name: 'sightline', options: '-c jit=off' },
  };
}
