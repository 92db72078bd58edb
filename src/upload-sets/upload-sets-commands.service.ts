import { Injectable, OnModuleInit } from '@nestjs/common';
import { ManagementCommandsRegistry } from '../management-jobs/management-commands.registry.js';
import { UploadSetsService } from './upload-sets.service.js';

/** The upload sets domain's management commands. */
@Injectable()
export class UploadSetsCommands implements OnModuleInit {
  constructor(
    private readonly commands: ManagementCommandsRegistry,
    private readonly uploadSets: UploadSetsService,
  ) {}

  onModuleInit(): void {
    this.commands.register({
      name: 'upload-sets.cleanup-stale',
      description: 'Delete upload sets never completed and untouched for `older_than_days` days, with their pictures and files',
      argsSchema: {
        type: 'object',
        properties: { older_than_days: { type: 'integer', minimum: 1, maximum: 3650, default: 7 } },
      },
      exclusive: true,
      retryable: true,
      handler: async (args: { older_than_days: number }, ctx) => {
        const deleted = await this.uploadSets.deleteStale(args.older_than_days);
        await ctx.log(`${deleted} stale upload sets (untouched for ${args.older_than_days} days) queued for deletion`);
        await ctx.progress(100);
        return { deleted, older_than_days: args.older_than_days };
      },
    });
  }
}
