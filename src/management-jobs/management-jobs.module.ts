import { Global, Module } from '@nestjs/common';
import { ManagementCommandsRegistry } from './management-commands.registry.js';
import { ManagementJobRunner } from './management-job-runner.service.js';
import { ManagementJobsController } from './management-jobs.controller.js';
import { ManagementJobsProcessor } from './management-jobs.processor.js';
import { ManagementJobsRepository } from './management-jobs.repository.js';
import { ManagementJobsService } from './management-jobs.service.js';
import { ManagementStopChannel } from './management-stop.channel.js';
import { SystemCommands } from './system-commands.service.js';

/**
 * Admin commands run as observable, stoppable jobs. Global so that every domain can inject
 * ManagementCommandsRegistry and register its commands (see management-commands.registry.ts),
 * and ManagementJobsService to create jobs from its own (older) admin routes.
 */
@Global()
@Module({
  controllers: [ManagementJobsController],
  providers: [ManagementCommandsRegistry, ManagementJobsRepository, ManagementJobsService, ManagementJobRunner, ManagementStopChannel, ManagementJobsProcessor, SystemCommands],
  exports: [ManagementCommandsRegistry, ManagementJobRunner, ManagementJobsService],
})
export class ManagementJobsModule {}
