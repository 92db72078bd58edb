import { Body, Controller, Get, NotFoundException, Param, ParseUUIDPipe, Post, Query, Res } from '@nestjs/common';
import { ApiBadRequestResponse, ApiConflictResponse, ApiCreatedResponse, ApiNotFoundResponse, ApiOkResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import type { Response } from 'express';
import { Authenticated, CurrentUser } from '../auth/auth.decorators.js';
import type { AuthUser } from '../auth/auth.types.js';
import { ErrorResponseDto } from '../common/error-response.js';
import { AppConfig } from '../config/app-config.js';
import { ManagementJobDetailDto, toManagementJobDetailDto } from '../management-jobs/management-job.dto.js';
import { ManagementJobsService } from '../management-jobs/management-jobs.service.js';
import { MaintenanceQueryDto, PruneMissingArgsDto, RehashArgsDto, ResyncArgsDto } from './dataset-maintenance.dto.js';
import type { MaintenanceCommand } from './dataset-maintenance.service.js';

const ALIAS = (command: string) =>
  `Kept for older callers: creates a \`${command}\` management job, as POST /api/management/commands/${command}/jobs does, ` +
  'and answers it the same way (201, Location: the job). `wait` is accepted and ignored.';

/**
 * The older dataset maintenance routes: each creates a management job of the matching
 * `datasets.*` command, so that one mechanism runs, records and reports admin work.
 */
@ApiTags('admin')
@Authenticated({ role: 'admin' })
@Controller('admin/datasets')
export class DatasetsAdminController {
  private readonly origin: string;

  constructor(
    private readonly jobs: ManagementJobsService,
    config: AppConfig,
  ) {
    this.origin = new URL(config.PUBLIC_URL).origin;
  }

  private async create(command: MaintenanceCommand, args: object, user: AuthUser, res: Response): Promise<ManagementJobDetailDto> {
    const job = toManagementJobDetailDto(await this.jobs.create(`datasets.${command}`, { ...args }, true, user.id), this.origin);
    res.setHeader('Location', job.links[0]!.href);
    return job;
  }

  @Post('rehash')
  @ApiOperation({ summary: 'Recompute the SHA-256 of dataset files and report changes', description: ALIAS('datasets.rehash'), deprecated: true })
  @ApiCreatedResponse({ type: ManagementJobDetailDto, description: 'The management job; Location is its URL' })
  @ApiBadRequestResponse({ description: 'Unknown or invalid arguments', type: ErrorResponseDto })
  @ApiConflictResponse({ description: 'A datasets.rehash job is already queued or running', type: ErrorResponseDto })
  // `wait` is read only so that it is not refused as an unknown parameter.
  rehash(@CurrentUser() user: AuthUser, @Body() args: RehashArgsDto, @Query() _query: MaintenanceQueryDto, @Res({ passthrough: true }) res: Response) {
    return this.create('rehash', args, user, res);
  }

  @Post('prune-missing')
  @ApiOperation({ summary: 'Delete datasets whose file is gone (and orphaned stored files)', description: ALIAS('datasets.prune-missing'), deprecated: true })
  @ApiCreatedResponse({ type: ManagementJobDetailDto, description: 'The management job; Location is its URL' })
  @ApiBadRequestResponse({ description: 'Unknown or invalid arguments', type: ErrorResponseDto })
  @ApiConflictResponse({ description: 'A datasets.prune-missing job is already queued or running', type: ErrorResponseDto })
  pruneMissing(@CurrentUser() user: AuthUser, @Body() args: PruneMissingArgsDto, @Query() _query: MaintenanceQueryDto, @Res({ passthrough: true }) res: Response) {
    return this.create('prune-missing', args, user, res);
  }

  @Post('resync')
  @ApiOperation({ summary: 'Register new GeoTIFFs under DATASET_ROOTS and re-read changed ones', description: ALIAS('datasets.resync'), deprecated: true })
  @ApiCreatedResponse({ type: ManagementJobDetailDto, description: 'The management job; Location is its URL' })
  @ApiBadRequestResponse({ description: 'Unknown or invalid arguments', type: ErrorResponseDto })
  @ApiConflictResponse({ description: 'A datasets.resync job is already queued or running', type: ErrorResponseDto })
  resync(@CurrentUser() user: AuthUser, @Body() args: ResyncArgsDto, @Query() _query: MaintenanceQueryDto, @Res({ passthrough: true }) res: Response) {
    return this.create('resync', args, user, res);
  }

  @Get('jobs/:jobId')
  @ApiOperation({
    summary: 'A management job: status, arguments, progress, result or error, and its last lines of output',
    description: 'Kept for older callers: the same as GET /api/management/jobs/{id}.',
    deprecated: true,
  })
  @ApiOkResponse({ type: ManagementJobDetailDto })
  @ApiNotFoundResponse({ description: 'No such management job', type: ErrorResponseDto })
  async job(@Param('jobId', new ParseUUIDPipe({ exceptionFactory: () => new NotFoundException('Management job not found') })) jobId: string): Promise<ManagementJobDetailDto> {
    return toManagementJobDetailDto(await this.jobs.get(jobId), this.origin);
  }
}
