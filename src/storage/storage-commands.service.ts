import { Injectable, OnModuleInit } from '@nestjs/common';
import { AppConfig } from '../config/app-config.js';
import { ManagementCommandsRegistry } from '../management-jobs/management-commands.registry.js';
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
  }
}
