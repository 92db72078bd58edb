import { Body, Controller, Get, HttpCode, NotFoundException, Param, ParseUUIDPipe, Post, Query, Req, Res, StreamableFile } from '@nestjs/common';
import {
  ApiAcceptedResponse,
  ApiBadRequestResponse,
  ApiConflictResponse,
  ApiCreatedResponse,
  ApiNotFoundResponse,
  ApiOkResponse,
  ApiOperation,
  ApiProduces,
  ApiTags,
} from '@nestjs/swagger';
import type { Request, Response } from 'express';
import { Readable } from 'node:stream';
import { Authenticated, CurrentUser } from '../auth/auth.decorators.js';
import type { AuthUser } from '../auth/auth.types.js';
import { ErrorResponseDto } from '../common/error-response.js';
import { pageParams, toPage } from '../common/pagination.js';
import { publicRequestUrl } from '../common/request-url.js';
import { AppConfig } from '../config/app-config.js';
import {
  CreateManagementJobDto,
  ListManagementJobsQueryDto,
  ManagementCommandDto,
  ManagementCommandListDto,
  ManagementJobDetailDto,
  ManagementJobOutputQueryDto,
  ManagementJobPageDto,
  toManagementCommandDto,
  toManagementJobDetailDto,
  toManagementJobDto,
} from './management-job.dto.js';
import { ManagementJobsService } from './management-jobs.service.js';

const JobId = () => new ParseUUIDPipe({ exceptionFactory: () => new NotFoundException('Management job not found') });

@ApiTags('management')
@Authenticated({ role: 'admin' })
@Controller('management')
export class ManagementJobsController {
  private readonly origin: string;

  constructor(
    private readonly jobs: ManagementJobsService,
    private readonly config: AppConfig,
  ) {
    this.origin = new URL(config.PUBLIC_URL).origin;
  }

  @Get('commands')
  @ApiOperation({ summary: 'The management commands that can be run, with the JSON schema of their arguments' })
  @ApiOkResponse({ type: ManagementCommandListDto })
  listCommands(): ManagementCommandListDto {
    return { commands: this.jobs.listCommands().map(toManagementCommandDto) };
  }

  @Get('commands/:name')
  @ApiOperation({ summary: 'One management command' })
  @ApiOkResponse({ type: ManagementCommandDto })
  @ApiNotFoundResponse({ description: 'No such command', type: ErrorResponseDto })
  getCommand(@Param('name') name: string): ManagementCommandDto {
    return toManagementCommandDto(this.jobs.getCommand(name));
  }

  @Post('commands/:name/jobs')
  @ApiOperation({
    summary: 'Create a job of a command (queued at once unless autostart is false)',
    description: 'An exclusive command refuses a second job while one is queued or running: 409, naming the active job.',
  })
  @ApiCreatedResponse({ type: ManagementJobDetailDto, description: 'The job; Location is its URL' })
  @ApiBadRequestResponse({ description: 'Arguments refused by the schema; `details` names each field (`args.steps`)', type: ErrorResponseDto })
  @ApiNotFoundResponse({ description: 'No such command', type: ErrorResponseDto })
  @ApiConflictResponse({ description: 'The command is exclusive and a job of it is queued or running', type: ErrorResponseDto })
  async create(
    @Param('name') name: string,
    @Body() body: CreateManagementJobDto,
    @CurrentUser() user: AuthUser,
    @Res({ passthrough: true }) res: Response,
  ): Promise<ManagementJobDetailDto> {
    const job = await this.jobs.create(name, body.args ?? {}, body.autostart ?? true, user.id);
    const dto = toManagementJobDetailDto(job, this.origin);
    res.setHeader('Location', dto.links[0]!.href);
    return dto;
  }

  @Get('jobs')
  @ApiOperation({ summary: 'Management jobs, newest first, filtered by command, status, user and creation time' })
  @ApiOkResponse({ type: ManagementJobPageDto })
  @ApiBadRequestResponse({ description: 'A filter is malformed (unknown status, bad date…)', type: ErrorResponseDto })
  async list(@Query() query: ListManagementJobsQueryDto, @Req() req: Request): Promise<ManagementJobPageDto> {
    const params = pageParams(query);
    const { rows, total } = await this.jobs.list(
      {
        command: query.command,
        statuses: query.status,
        userId: query.user_id,
        createdAfter: query.created_after ? new Date(query.created_after) : undefined,
        createdBefore: query.created_before ? new Date(query.created_before) : undefined,
      },
      params.limit,
      params.offset,
    );
    return toPage(
      rows.map((j) => toManagementJobDto(j, this.origin)),
      total,
      params,
      publicRequestUrl(this.config.PUBLIC_URL, req),
    );
  }

  @Get('jobs/:id')
  @ApiOperation({ summary: 'A job: status, arguments, progress, result or error, and its last lines of output' })
  @ApiOkResponse({ type: ManagementJobDetailDto })
  @ApiNotFoundResponse({ type: ErrorResponseDto })
  async get(@Param('id', JobId()) id: string): Promise<ManagementJobDetailDto> {
    return toManagementJobDetailDto(await this.jobs.get(id), this.origin);
  }

  @Get('jobs/:id/output')
  @ApiOperation({
    summary: "The job's whole output, streamed as text, one logged line per line",
    description: 'The lines that exist when the request arrives. `X-Output-Lines` says how many the job has; ' + 'poll with `after=<X-Output-Lines - 1>` to read only new lines.',
  })
  @ApiProduces('text/plain')
  @ApiOkResponse({ description: 'The output', schema: { type: 'string' } })
  @ApiNotFoundResponse({ type: ErrorResponseDto })
  async output(@Param('id', JobId()) id: string, @Query() query: ManagementJobOutputQueryDto, @Res({ passthrough: true }) res: Response): Promise<StreamableFile> {
    const { job, chunks } = await this.jobs.output(id, query.after ?? -1, query.timestamps ?? false);
    res.setHeader('X-Output-Lines', String(job.outputLines));
    res.setHeader('X-Job-Status', job.status);
    res.setHeader('Cache-Control', 'no-store');
    return new StreamableFile(Readable.from(chunks), { type: 'text/plain; charset=utf-8' });
  }

  @Post('jobs/:id/start')
  @HttpCode(200)
  @ApiOperation({ summary: 'Queue a job created with autostart false' })
  @ApiOkResponse({ type: ManagementJobDetailDto })
  @ApiNotFoundResponse({ type: ErrorResponseDto })
  @ApiConflictResponse({ description: 'The job is not `created` (already started or ended), or an exclusive job of its command is active', type: ErrorResponseDto })
  async start(@Param('id', JobId()) id: string): Promise<ManagementJobDetailDto> {
    return toManagementJobDetailDto(await this.jobs.start(id), this.origin);
  }

  @Post('jobs/:id/stop')
  @HttpCode(202)
  @ApiOperation({
    summary: 'Stop a job',
    description:
      'A job not yet running is cancelled at once. A running job is asked to stop: its handler sees its signal abort ' +
      'within a second or two, and the job ends `cancelled` with what it finished in `result`.',
  })
  @ApiAcceptedResponse({ type: ManagementJobDetailDto })
  @ApiNotFoundResponse({ type: ErrorResponseDto })
  @ApiConflictResponse({ description: 'The job has already ended', type: ErrorResponseDto })
  async stop(@Param('id', JobId()) id: string): Promise<ManagementJobDetailDto> {
    return toManagementJobDetailDto(await this.jobs.stop(id), this.origin);
  }
}
