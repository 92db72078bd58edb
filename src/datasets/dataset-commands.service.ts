import { Injectable, OnModuleInit } from '@nestjs/common';
import { ManagementCommandsRegistry } from '../management-jobs/management-commands.registry.js';
import { DATASET_MAINTENANCE_COMMANDS, DatasetMaintenanceService } from './dataset-maintenance.service.js';

/** The dataset maintenance commands, run as management jobs. */
@Injectable()
export class DatasetCommands implements OnModuleInit {
  constructor(
    private readonly commands: ManagementCommandsRegistry,
    private readonly maintenance: DatasetMaintenanceService,
  ) {}

  onModuleInit(): void {
    for (const command of DATASET_MAINTENANCE_COMMANDS) {
      this.commands.register({
        name: command.name,
        description: command.description,
        argsSchema: command.argsSchema,
        exclusive: true,
        // Each pass re-reads what it needs from the files and rows: running it again is safe.
        retryable: true,
        handler: (args: object, ctx) => this.maintenance[command.method](args, ctx),
      });
    }
  }
}
