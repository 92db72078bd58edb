import { DynamicModule, Module, Type } from '@nestjs/common';
import { APP_GUARD } from '@nestjs/core';
import { LoggerModule } from 'nestjs-pino';
import { AuthGuard } from './auth/auth.guard.js';
import { AuthModule } from './auth/auth.module.js';
import { ContentTypeGuard } from './common/input-guard.js';
import { CatalogModule } from './catalog/catalog.module.js';
import { CollectionsModule } from './collections/collections.module.js';
import { AppConfig } from './config/app-config.js';
import { ConfigModule } from './config/config.module.js';
import { DatabaseModule } from './database/database.module.js';
import { DatasetsModule } from './datasets/datasets.module.js';
import { DronesModule } from './drones/drones.module.js';
import { HarvestersModule } from './harvesters/harvesters.module.js';
import { HealthModule } from './health/health.module.js';
import { loggerOptions } from './logger.js';
import { ManagementJobsModule } from './management-jobs/management-jobs.module.js';
import { MapModule } from './map/map.module.js';
import type { ProcessRole } from './queue/process-role.js';
import { QueueModule } from './queue/queue.module.js';
import { StacModule } from './stac/stac.module.js';
import { StorageModule } from './storage/storage.module.js';
import { UploadSetsModule } from './upload-sets/upload-sets.module.js';

/** The domain modules; every process loads all of them (the worker needs their job handlers). */
export const DOMAIN_MODULES: Type[] = [
  AuthModule,
  CatalogModule,
  CollectionsModule,
  MapModule,
  StacModule,
  UploadSetsModule,
  ManagementJobsModule,
  DatasetsModule,
  HarvestersModule,
  DronesModule,
];

@Module({})
export class AppModule {
  static forRoot(role: ProcessRole): DynamicModule {
    return {
      module: AppModule,
      imports: [
        ConfigModule,
        LoggerModule.forRootAsync({
          inject: [AppConfig],
          useFactory: (config: AppConfig) => loggerOptions(config, role),
        }),
        DatabaseModule,
        StorageModule,
        QueueModule.forRoot(role),
        HealthModule,
        ...DOMAIN_MODULES,
      ],
      providers: [
        { provide: APP_GUARD, useClass: AuthGuard },
        { provide: APP_GUARD, useClass: ContentTypeGuard },
      ],
    };
  }
}
