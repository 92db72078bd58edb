import { Controller, Get } from '@nestjs/common';
import { ApiOperation, ApiTags } from '@nestjs/swagger';
import { Authenticated } from '../auth/auth.decorators.js';
import { JobQueueService } from './job-queue.service.js';
import { QueueName } from './queue.constants.js';
import { ReconcileService } from './reconcile.service.js';

@ApiTags('admin')
@Authenticated({ role: 'admin' })
@Controller('admin/queues')
export class QueueAdminController {
  constructor(
    private readonly jobs: JobQueueService,
    private readonly reconcile: ReconcileService,
  ) {}

  @Get()
  @ApiOperation({ summary: 'Depth, schedules and recent failures of every queue' })
  async overview() {
    const counts = await this.jobs.counts();
    return {
      queues: await Promise.all(
        counts.map(async (c) => ({
          ...c,
          schedules: await this.jobs.schedules(c.queue),
          recent_failures: await this.jobs.failures(c.queue, 10),
        })),
      ),
      last_reconcile: this.reconcile.lastRun ?? null,
    };
  }

  @Get('failures')
  @ApiOperation({ summary: 'The last 100 failed jobs of every queue' })
  async failures() {
    const all = await Promise.all(Object.values(QueueName).map(async (q) => ({ queue: q, failures: await this.jobs.failures(q, 100) })));
    return all;
  }
}
