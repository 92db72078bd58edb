import { Injectable, OnModuleInit } from '@nestjs/common';
import { ManagementCommandsRegistry } from '../management-jobs/management-commands.registry.js';
import { CatalogService } from '../catalog/catalog.service.js';

/** The collections domain's management commands. */
@Injectable()
export class CollectionsCommands implements OnModuleInit {
  constructor(
    private readonly commands: ManagementCommandsRegistry,
    private readonly collections: CatalogService,
  ) {}

  onModuleInit(): void {
    this.commands.register({
      name: 'collections.recompute',
      description: 'Recompute counts, temporal extents and geometries of one collection (collection_id) or of all',
      argsSchema: { type: 'object', properties: { collection_id: { type: 'string', format: 'uuid' } } },
      exclusive: false,
      retryable: true,
      handler: (args: { collection_id?: string }, ctx) => this.collections.recompute(args, ctx),
    });
  }
}
