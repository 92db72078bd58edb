import { Injectable, OnModuleInit } from '@nestjs/common';
import { AppConfig } from '../config/app-config.js';
import { ManagementCommandsRegistry } from '../management-jobs/management-commands.registry.js';
import { copyLocalToS3 } from './copy-to-s3.js';
import { LocalStorageDriver } from './local-storage.driver.js';
import { s3DriverFromConfig } from './s3-driver-config.js';
import { StorageService } from './storage.service.js';

/** Storage's management commands. */
@Injectable()
export class StorageCommands implements OnModuleInit {
  constructor(
    private readonly commands: ManagementCommandsRegistry,
    private readonly storage: StorageService,
    private readonly config: AppConfig,
  ) {}

  onModuleInit(): void {
    this.commands.register({
      name: 'storage.cleanup-temp',
      description: 'Removes scratch files (tmp/) older than max_age_seconds (default TEMP_MAX_AGE_SECONDS): partial writes, abandoned uploads.',
      argsSchema: {
        type: 'object',
        properties: { max_age_seconds: { type: 'integer', minimum: 0, maximum: 31_536_000 } },
      },
      exclusive: true,
      retryable: true,
      handler: async (args: { max_age_seconds?: number }, ctx) => {
        const maxAge = args.max_age_seconds ?? this.config.TEMP_MAX_AGE_SECONDS;
        await ctx.log(`removing temporary files older than ${maxAge} s`);
        const result = await this.storage.cleanupTemp(maxAge, ctx.signal);
        await ctx.log(`removed ${result.removed} files (${result.bytes} bytes)`);
        await ctx.progress(100);
        return { ...result, max_age_seconds: maxAge };
      },
    });
    this.commands.register({
      name: 'storage.copy-to-s3',
      description:
        'Copies every object of the local store (DATA_DIR) to the S3 bucket of the S3_* settings, keys unchanged (tmp/ left out). Skips objects already there with the same size and SHA-256, so a stopped run resumes; verifies each copy.',
      argsSchema: {
        type: 'object',
        properties: { prefix: { type: 'string', maxLength: 1024, description: 'only keys starting with this (e.g. "pictures/")' } },
      },
      exclusive: true,
      retryable: true,
      handler: async (args: { prefix?: string }, ctx) => {
        if (!this.config.S3_BUCKET) throw new Error('S3_BUCKET is not set: give the S3_* settings of the target bucket to the worker running this command');
        const target = s3DriverFromConfig(this.config);
        try {
          await target.init();
          return await copyLocalToS3(new LocalStorageDriver(this.config.DATA_DIR), target, ctx, args.prefix ?? '');
        } finally {
          target.close();
        }
      },
    });
  }
}
