import { Body, Controller, Post, Res } from '@nestjs/common';
import { ApiBadRequestResponse, ApiCreatedResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import type { Response } from 'express';
import { Authenticated, CurrentUser } from '../auth/auth.decorators.js';
import type { AuthUser } from '../auth/auth.types.js';
import { ErrorResponseDto } from '../common/error-response.js';
import { AppConfig } from '../config/app-config.js';
import { ManagementJobDetailDto, toManagementJobDetailDto } from '../management-jobs/management-job.dto.js';
import { ManagementJobsService } from '../management-jobs/management-jobs.service.js';
import { RecomputeCollectionsDto } from './collection.dto.js';

@ApiTags('admin')
@Authenticated({ role: 'admin' })
@Controller('admin/collections')
export class CollectionsAdminController {
  private readonly origin: string;

  constructor(
    private readonly jobs: ManagementJobsService,
    config: AppConfig,
  ) {
    this.origin = new URL(config.PUBLIC_URL).origin;
  }

  @Post('recompute')
  @ApiOperation({
    summary: 'Recompute counts, temporal extents and geometry of one collection or of all',
    description:
      'Kept for older callers: creates a `collections.recompute` management job, as POST /api/management/commands/collections.recompute/jobs does, ' +
      'and answers it the same way (201, Location: the job). An unknown `collection_id` makes the job fail.',
    deprecated: true,
  })
  @ApiCreatedResponse({ type: ManagementJobDetailDto, description: 'The management job; Location is its URL' })
  @ApiBadRequestResponse({ description: 'Invalid arguments', type: ErrorResponseDto })
  async recompute(@Body() body: RecomputeCollectionsDto, @CurrentUser() user: AuthUser, @Res({ passthrough: true }) res: Response): Promise<ManagementJobDetailDto> {
    const job = toManagementJobDetailDto(await this.jobs.create('collections.recompute', { ...body }, true, user.id), this.origin);
    res.setHeader('Location', job.links[0]!.href);
    return job;
  }
}
