import { BullModule } from '@nestjs/bullmq';
import { DynamicModule, Global, Module } from '@nestjs/common';
import { DiscoveryModule } from '@nestjs/core';
import { AppConfig } from '../config/app-config.js';
import { JobQueueService } from './job-queue.service.js';
import { JobRegistryService } from './job-registry.service.js';
import { PROCESS_ROLE, type ProcessRole } from './process-role.js';
import { QueueAdminController } from './queue-admin.controller.js';
import { QueueName } from './queue.constants.js';
import { ReconcileService } from './reconcile.service.js';
import { redisOptions } from './redis-connection.js';
import { WorkerService } from './worker.service.js';

@Global()
@Module({})
export class QueueModule {
  static forRoot(role: ProcessRole): DynamicModule {
    return {
      module: QueueModule,
      imports: [
        DiscoveryModule,
        BullModule.forRootAsync({
          inject: [AppConfig],
          useFactory: (config: AppConfig) => ({
            connection: redisOptions(config.REDIS_URL),
            prefix: config.QUEUE_PREFIX,
          }),
        }),
        BullModule.registerQueue(...Object.values(QueueName).map((name) => ({ name }))),
      ],
      providers: [{ provide: PROCESS_ROLE, useValue: role }, JobQueueService, JobRegistryService, WorkerService, ReconcileService],
      exports: [PROCESS_ROLE, JobQueueService, JobRegistryService, ReconcileService],
      controllers: [QueueAdminController],
    };
  }
}
