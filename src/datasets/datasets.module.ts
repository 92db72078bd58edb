import { DatasetCommands } from './dataset-commands.service.js';
import { Module } from '@nestjs/common';
import { MulterModule } from '@nestjs/platform-express';
import { TypeOrmModule } from '@nestjs/typeorm';
import { CatalogModule } from '../catalog/catalog.module.js';
import { AppConfig } from '../config/app-config.js';
import { StorageService } from '../storage/storage.service.js';
import { Dataset } from './dataset.entity.js';
import { DatasetFiles } from './dataset-files.js';
import { DatasetIngestService } from './dataset-ingest.service.js';
import { DatasetMaintenanceService } from './dataset-maintenance.service.js';
import { DatasetRenderService } from './dataset-render.service.js';
import { DatasetUploadStorage } from './dataset-upload.storage.js';
import { DatasetsAdminController } from './datasets-admin.controller.js';
import { DatasetsController } from './datasets.controller.js';
import { DatasetsRepository } from './datasets.repository.js';
import { DatasetsService } from './datasets.service.js';
import { OpenRasters } from './open-rasters.js';

@Module({
  imports: [
    TypeOrmModule.forFeature([Dataset]),
    CatalogModule,
    MulterModule.registerAsync({
      inject: [StorageService, AppConfig],
      useFactory: (storage: StorageService, config: AppConfig) => ({
        storage: new DatasetUploadStorage(storage, config.DATASET_MAX_BYTES),
        limits: { files: 1, fields: 20, fieldSize: 64 * 1024, parts: 25 },
        defParamCharset: 'utf8',
      }),
    }),
  ],
  controllers: [DatasetsController, DatasetsAdminController],
  providers: [DatasetsService, DatasetsRepository, DatasetFiles, DatasetIngestService, DatasetMaintenanceService, DatasetRenderService, OpenRasters, DatasetCommands],
  exports: [DatasetsService],
})
export class DatasetsModule {}
