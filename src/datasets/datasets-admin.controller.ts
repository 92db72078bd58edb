import { Body, Controller, Get, HttpCode, Param, Post, Query, Res } from '@nestjs/common';
import { ApiAcceptedResponse, ApiBadRequestResponse, ApiNotFoundResponse, ApiOkResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import type { Response } from 'express';
import { Authenticated, CurrentUser } from '../auth/auth.decorators.js';
import type { AuthUser } from '../auth/auth.types.js';
import { ErrorResponseDto } from '../common/error-response.js';
import { MaintenanceJobDto, MaintenanceQueryDto, PruneMissingArgsDto, RehashArgsDto, ResyncArgsDto } from './dataset-maintenance.dto.js';
import { DatasetMaintenanceService, type MaintenanceCommand } from './dataset-maintenance.service.js';

/**
 * Dataset maintenance for admins, run as jobs on the datasets queue (the management-jobs module
 * runs the same service methods as commands). 202 with the job; 200 when `wait` saw it finish.
 */
@ApiTags('admin')
@Authenticated({ role: 'admin' })
@Controller('admin/datasets')
export class DatasetsAdminController {
  constructor(private readonly maintenance: DatasetMaintenanceService) {}

  private async start(command: MaintenanceCommand, args: object, user: AuthUser, wait: number | undefined, res: Response): Promise<MaintenanceJobDto> {
    const job = await this.maintenance.start(command, args, user.id, wait ?? 0);
    res.status(['completed', 'failed'].includes(job.state) ? 200 : 202);
    res.setHeader('Location', `/api/admin/datasets/jobs/${encodeURIComponent(job.id)}`);
    return job;
  }

  @Post('rehash')
  @HttpCode(202)
  @ApiOperation({ summary: 'Recompute the SHA-256 of dataset files and report changes' })
  @ApiAcceptedResponse({ type: MaintenanceJobDto })
  @ApiOkResponse({ type: MaintenanceJobDto, description: 'Finished within `wait`' })
  @ApiBadRequestResponse({ description: 'Unknown or invalid arguments', type: ErrorResponseDto })
  rehash(@CurrentUser() user: AuthUser, @Body() args: RehashArgsDto, @Query() query: MaintenanceQueryDto, @Res({ passthrough: true }) res: Response) {
    return this.start('rehash', args, user, query.wait, res);
  }

  @Post('prune-missing')
  @HttpCode(202)
  @ApiOperation({ summary: 'Delete datasets whose file is gone (and orphaned stored files)' })
  @ApiAcceptedResponse({ type: MaintenanceJobDto })
  @ApiOkResponse({ type: MaintenanceJobDto, description: 'Finished within `wait`' })
  @ApiBadRequestResponse({ description: 'Unknown or invalid arguments', type: ErrorResponseDto })
  pruneMissing(@CurrentUser() user: AuthUser, @Body() args: PruneMissingArgsDto, @Query() query: MaintenanceQueryDto, @Res({ passthrough: true }) res: Response) {
    return this.start('prune-missing', args, user, query.wait, res);
  }

  @Post('resync')
  @HttpCode(202)
  @ApiOperation({ summary: 'Register new GeoTIFFs under DATASET_ROOTS and re-read changed ones' })
  @ApiAcceptedResponse({ type: MaintenanceJobDto })
  @ApiOkResponse({ type: MaintenanceJobDto, description: 'Finished within `wait`' })
  @ApiBadRequestResponse({ description: 'Unknown or invalid arguments', type: ErrorResponseDto })
  resync(@CurrentUser() user: AuthUser, @Body() args: ResyncArgsDto, @Query() query: MaintenanceQueryDto, @Res({ passthrough: true }) res: Response) {
    return this.start('resync', args, user, query.wait, res);
  }

  @Get('jobs/:jobId')
  @ApiOperation({ summary: 'State, progress, result and log of a maintenance job' })
  @ApiOkResponse({ type: MaintenanceJobDto })
  @ApiNotFoundResponse({ description: 'No such job (finished jobs are kept a day)', type: ErrorResponseDto })
  job(@Param('jobId') jobId: string): Promise<MaintenanceJobDto> {
    return this.maintenance.status(jobId);
  }
}
