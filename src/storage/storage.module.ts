import { Global, Inject, Injectable, Module, OnApplicationShutdown } from '@nestjs/common';
import { AppConfig } from '../config/app-config.js';
import { LocalStorageDriver } from './local-storage.driver.js';
import { s3DriverFromConfig } from './s3-driver-config.js';
import { S3StorageDriver, StorageUnavailableError } from './s3-storage.driver.js';
import { StorageCommands } from './storage-commands.service.js';
import { StorageJobsService } from './storage-jobs.service.js';
import { StorageService } from './storage.service.js';
import { STORAGE_DRIVER, StorageDriver } from './storage.types.js';

async function createDriver(config: AppConfig): Promise<StorageDriver> {
  switch (config.STORAGE_DRIVER) {
    case 'local':
      return new LocalStorageDriver(config.DATA_DIR);
    case 's3': {
      const driver = s3DriverFromConfig(config);
      try {
        await driver.init();
      } catch (error) {
        // As a bad setting does (bootstrap.ts): a store the process cannot use stops it with the reason.
        if (error instanceof StorageUnavailableError) {
          process.stderr.write(`storage: ${error.message}\n`);
          process.exit(78); // EX_CONFIG
        }
        throw error;
      }
      return driver;
    }
  }
}

/** Releases the S3 client's sockets when the application closes. */
@Injectable()
class StorageShutdown implements OnApplicationShutdown {
  constructor(@Inject(STORAGE_DRIVER) private readonly driver: StorageDriver) {}

  onApplicationShutdown(): void {
    if (this.driver instanceof S3StorageDriver) this.driver.close();
  }
}

@Global()
@Module({
  providers: [{ provide: STORAGE_DRIVER, inject: [AppConfig], useFactory: createDriver }, StorageService, StorageJobsService, StorageCommands, StorageShutdown],
  exports: [StorageService],
})
export class StorageModule {}
