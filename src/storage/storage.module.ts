import { Global, Module } from '@nestjs/common';
import { AppConfig } from '../config/app-config.js';
import { LocalStorageDriver } from './local-storage.driver.js';
import { StorageCommands } from './storage-commands.service.js';
import { StorageJobsService } from './storage-jobs.service.js';
import { StorageService } from './storage.service.js';
import { STORAGE_DRIVER, StorageDriver } from './storage.types.js';

function createDriver(config: AppConfig): StorageDriver {
  switch (config.STORAGE_DRIVER) {
    case 'local':
      return new LocalStorageDriver(config.DATA_DIR);
  }
}

@Global()
@Module({
  providers: [{ provide: STORAGE_DRIVER, inject: [AppConfig], useFactory: createDriver }, StorageService, StorageJobsService, StorageCommands],
  exports: [StorageService],
})
export class StorageModule {}
