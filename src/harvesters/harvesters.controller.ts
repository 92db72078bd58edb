import { BadRequestException, Body, Controller, Delete, Get, HttpCode, NotFoundException, Param, ParseUUIDPipe, Patch, Post, Query, Req, Res } from '@nestjs/common';
import {
  ApiAcceptedResponse,
  ApiBadRequestResponse,
  ApiConflictResponse,
  ApiCreatedResponse,
  ApiNoContentResponse,
  ApiNotFoundResponse,
  ApiOkResponse,
  ApiOperation,
  ApiTags,
} from '@nestjs/swagger';
import type { Request, Response } from 'express';
import { Authenticated, CurrentUser } from '../auth/auth.decorators.js';
import type { AuthUser } from '../auth/auth.types.js';
import { ErrorResponseDto } from '../common/error-response.js';
import { pageParams, toPage } from '../common/pagination.js';
import { publicRequestUrl } from '../common/request-url.js';
import { AppConfig } from '../config/app-config.js';
import type { HarvestSession, SessionType } from './harvest-session.entity.js';
import {
  ActionDto,
  ClearActionDto,
  CreateHarvesterDto,
  CursorQueryDto,
  HarvestableResourceDto,
  HarvestableResourcePageDto,
  HarvestActionDto,
  HarvestSessionDetailDto,
  HarvestSessionDto,
  HarvestSessionPageDto,
  HarvesterDto,
  HarvesterPageDto,
  HarvesterTypeListDto,
  ListHarvestersQueryDto,
  ListResourcesQueryDto,
  ListSessionsQueryDto,
  SelectionResultDto,
  SelectResourcesDto,
  SessionLogPageDto,
  SessionRecordPageDto,
  SessionRecordsQueryDto,
  toHarvesterDto,
  toHarvesterTypeDto,
  toLogLineDto,
  toRecordDto,
  toResourceDto,
  toSessionDto,
  UpdateHarvesterDto,
} from './harvester.dto.js';
import type { Harvester } from './harvester.entity.js';
import { GEONODE_STATUS, HarvestersService } from './harvesters.service.js';

const HarvesterId = () => new ParseUUIDPipe({ exceptionFactory: () => new NotFoundException('Harvester not found') });
const SessionId = () => new ParseUUIDPipe({ exceptionFactory: () => new NotFoundException('Harvesting session not found') });
const ResourceId = () => new ParseUUIDPipe({ exceptionFactory: () => new NotFoundException('Harvestable resource not found') });

const ACTION_DESCRIPTION =
  'Answers 202 with the queued session; `Location` is its URL. While another session of the harvester is queued, running ' +
  'or cancelling, 409 names it (`details.session_id`). A session whose worker died is ended `timed_out` first, so it never blocks.';

/** Harvesters and their harvestable resources (admin only). */
@ApiTags('harvesters')
@Authenticated({ role: 'admin' })
@Controller()
export class HarvestersController {
  private readonly origin: string;

  constructor(
    private readonly harvesters: HarvestersService,
    private readonly config: AppConfig,
  ) {
    this.origin = new URL(config.PUBLIC_URL).origin;
  }

  private async dto(harvester: Harvester, known?: HarvestSession | null): Promise<HarvesterDto> {
    const active = known === undefined ? await this.harvesters.activeSession(harvester.id) : known;
    return toHarvesterDto(harvester, active, this.harvesters.geonodeStatus(active), this.origin);
  }

  private accepted(session: HarvestSession, res: Response): HarvestSessionDto {
    const dto = toSessionDto(session, this.origin);
    res.status(202).setHeader('Location', dto.links[0].href);
    return dto;
  }

  @Get('harvester-types')
  @ApiOperation({ summary: 'The kinds of remote catalogs that can be harvested, with the JSON schema of their configuration' })
  @ApiOkResponse({ type: HarvesterTypeListDto })
  types(): HarvesterTypeListDto {
    return { types: this.harvesters.listTypes().map(toHarvesterTypeDto) };
  }

  @Post('harvesters')
  @ApiOperation({ summary: 'Create a harvester', description: 'The config is checked against the type’s schema (defaults filled in); the URL against the deny list.' })
  @ApiCreatedResponse({ type: HarvesterDto, description: 'Location is its URL' })
  @ApiBadRequestResponse({ description: 'Unknown type, configuration refused by the schema, URL refused', type: ErrorResponseDto })
  @ApiConflictResponse({ description: 'A harvester already has this name', type: ErrorResponseDto })
  async create(@Body() body: CreateHarvesterDto, @CurrentUser() user: AuthUser, @Res({ passthrough: true }) res: Response): Promise<HarvesterDto> {
    if (body.status) throw new BadRequestException('status: start actions once the harvester exists');
    const dto = await this.dto(await this.harvesters.create(body, user.id));
    res.setHeader('Location', dto.links[0].href);
    return dto;
  }

  @Get('harvesters')
  @ApiOperation({ summary: 'Harvesters, by name' })
  @ApiOkResponse({ type: HarvesterPageDto })
  async list(@Query() query: ListHarvestersQueryDto, @Req() req: Request): Promise<HarvesterPageDto> {
    const params = pageParams(query);
    const [rows, total] = await this.harvesters.list(params, query.q);
    const active = await this.harvesters.activeSessions(rows.map((h) => h.id));
    const items = await Promise.all(rows.map((h) => this.dto(h, active.get(h.id) ?? null)));
    return toPage(items, total, params, publicRequestUrl(this.config.PUBLIC_URL, req));
  }

  @Get('harvesters/:id')
  @ApiOperation({ summary: 'A harvester: settings, availability, schedule, last runs and its active session' })
  @ApiOkResponse({ type: HarvesterDto })
  @ApiNotFoundResponse({ type: ErrorResponseDto })
  async get(@Param('id', HarvesterId()) id: string): Promise<HarvesterDto> {
    return this.dto(await this.harvesters.get(id));
  }

  @Patch('harvesters/:id')
  @ApiOperation({
    summary: 'Change a harvester (or, GeoNode’s way, start an action by setting `status`)',
    description:
      '`status: checking-availability | updating-harvestable-resources | harvesting-resources` starts check, discover or harvest ' +
      '(202 with the session, as the POST routes); `aborting-…` cancels the active session. Re-enabling clears the failure count.',
  })
  @ApiOkResponse({ type: HarvesterDto })
  @ApiAcceptedResponse({ type: HarvestSessionDto, description: 'An action started through `status`' })
  @ApiBadRequestResponse({ type: ErrorResponseDto })
  @ApiNotFoundResponse({ type: ErrorResponseDto })
  @ApiConflictResponse({ description: 'Another session is active, or the name is taken', type: ErrorResponseDto })
  async update(
    @Param('id', HarvesterId()) id: string,
    @Body() body: UpdateHarvesterDto,
    @CurrentUser() user: AuthUser,
    @Res({ passthrough: true }) res: Response,
  ): Promise<HarvesterDto | HarvestSessionDto> {
    const { status, ...changes } = body;
    const harvester = Object.keys(changes).length ? await this.harvesters.update(id, changes) : await this.harvesters.get(id);
    if (!status) return this.dto(harvester);
    const action = GEONODE_STATUS[status];
    if (action === 'abort') {
      const active = await this.harvesters.activeSession(id);
      if (active) await this.harvesters.cancel(active.id);
      return this.dto(await this.harvesters.get(id));
    }
    return this.accepted(await this.harvesters.start(id, { type: action as SessionType, trigger: 'person', requestedBy: user.id }), res);
  }

  @Delete('harvesters/:id')
  @HttpCode(204)
  @ApiOperation({ summary: 'Delete a harvester', description: 'Its local collections and items stay; run clear with delete_local first to remove them.' })
  @ApiNoContentResponse()
  @ApiNotFoundResponse({ type: ErrorResponseDto })
  @ApiConflictResponse({ description: 'A session is active', type: ErrorResponseDto })
  async remove(@Param('id', HarvesterId()) id: string): Promise<void> {
    await this.harvesters.remove(id);
  }

  @Post('harvesters/:id/check')
  @ApiOperation({ summary: 'Check whether the remote answers as its type expects', description: ACTION_DESCRIPTION })
  @ApiAcceptedResponse({ type: HarvestSessionDto })
  @ApiNotFoundResponse({ type: ErrorResponseDto })
  @ApiConflictResponse({ description: 'Another session is active', type: ErrorResponseDto })
  async check(@Param('id', HarvesterId()) id: string, @CurrentUser() user: AuthUser, @Res({ passthrough: true }) res: Response): Promise<HarvestSessionDto> {
    return this.accepted(await this.harvesters.start(id, { type: 'check', trigger: 'person', requestedBy: user.id }), res);
  }

  @Post('harvesters/:id/discover')
  @ApiOperation({ summary: 'List the remote’s harvestable resources (new ones unselected unless the config says select_new_resources)', description: ACTION_DESCRIPTION })
  @ApiAcceptedResponse({ type: HarvestSessionDto })
  @ApiNotFoundResponse({ type: ErrorResponseDto })
  @ApiConflictResponse({ description: 'Another session is active', type: ErrorResponseDto })
  async discover(
    @Param('id', HarvesterId()) id: string,
    @Body() body: ActionDto,
    @CurrentUser() user: AuthUser,
    @Res({ passthrough: true }) res: Response,
  ): Promise<HarvestSessionDto> {
    return this.accepted(await this.harvesters.start(id, { type: 'discover', trigger: 'person', requestedBy: user.id, dryRun: body?.dry_run }), res);
  }

  @Post('harvesters/:id/harvest')
  @ApiOperation({
    summary: 'Harvest the selected resources (or those given) into local collections and items',
    description: `${ACTION_DESCRIPTION} With dry_run the session reports what it would create, update and delete (result.plan).`,
  })
  @ApiAcceptedResponse({ type: HarvestSessionDto })
  @ApiBadRequestResponse({ description: 'resource_ids names resources of another harvester', type: ErrorResponseDto })
  @ApiNotFoundResponse({ type: ErrorResponseDto })
  @ApiConflictResponse({ description: 'Another session is active', type: ErrorResponseDto })
  async harvest(
    @Param('id', HarvesterId()) id: string,
    @Body() body: HarvestActionDto,
    @CurrentUser() user: AuthUser,
    @Res({ passthrough: true }) res: Response,
  ): Promise<HarvestSessionDto> {
    const options: Record<string, unknown> = { full: body?.full ?? false };
    if (body?.resource_ids) options.resource_ids = body.resource_ids;
    return this.accepted(await this.harvesters.start(id, { type: 'harvest', trigger: 'person', requestedBy: user.id, dryRun: body?.dry_run, options }), res);
  }

  @Post('harvesters/:id/clear')
  @ApiOperation({
    summary: 'Forget what was harvested (records, watermarks, file validators); with delete_local, delete the local collections and items too',
    description: ACTION_DESCRIPTION,
  })
  @ApiAcceptedResponse({ type: HarvestSessionDto })
  @ApiNotFoundResponse({ type: ErrorResponseDto })
  @ApiConflictResponse({ description: 'Another session is active', type: ErrorResponseDto })
  async clear(
    @Param('id', HarvesterId()) id: string,
    @Body() body: ClearActionDto,
    @CurrentUser() user: AuthUser,
    @Res({ passthrough: true }) res: Response,
  ): Promise<HarvestSessionDto> {
    const options: Record<string, unknown> = { delete_local: body?.delete_local ?? false };
    if (body?.resource_ids) options.resource_ids = body.resource_ids;
    return this.accepted(await this.harvesters.start(id, { type: 'clear', trigger: 'person', requestedBy: user.id, dryRun: body?.dry_run, options }), res);
  }

  @Get('harvesters/:id/harvestable-resources')
  @ApiOperation({ summary: 'The remote units discovery found, selected or not' })
  @ApiOkResponse({ type: HarvestableResourcePageDto })
  @ApiNotFoundResponse({ type: ErrorResponseDto })
  async resources(@Param('id', HarvesterId()) id: string, @Query() query: ListResourcesQueryDto, @Req() req: Request): Promise<HarvestableResourcePageDto> {
    const params = pageParams(query);
    const [rows, total] = await this.harvesters.listResources(id, { q: query.q, type: query.type, status: query.status, selected: query.selected }, params);
    return toPage(
      rows.map((r) => toResourceDto(r, this.origin)),
      total,
      params,
      publicRequestUrl(this.config.PUBLIC_URL, req),
    );
  }

  @Patch('harvesters/:id/harvestable-resources')
  @ApiOperation({
    summary: 'Select or unselect resources in bulk',
    description: 'Either `resources: [{id | remote_id, selected}]` (GeoNode’s list) or `filter` + `selected` for every resource the filter matches.',
  })
  @ApiOkResponse({ type: SelectionResultDto })
  @ApiBadRequestResponse({ type: ErrorResponseDto })
  @ApiNotFoundResponse({ type: ErrorResponseDto })
  async select(@Param('id', HarvesterId()) id: string, @Body() body: SelectResourcesDto): Promise<SelectionResultDto> {
    if (body.resources && body.filter) throw new BadRequestException('give either resources or filter, not both');
    if (body.resources) {
      let changed = 0;
      for (const value of [true, false]) {
        const chosen = body.resources.filter((r) => r.selected === value);
        const bad = chosen.find((r) => !r.id && !r.remote_id);
        if (bad) throw new BadRequestException('resources: each entry needs id or remote_id');
        const ids = chosen.filter((r) => r.id).map((r) => r.id!);
        const remoteIds = chosen.filter((r) => !r.id).map((r) => r.remote_id!);
        if (ids.length) changed += await this.harvesters.select(id, { ids }, value);
        if (remoteIds.length) changed += await this.harvesters.select(id, { remoteIds }, value);
      }
      return { changed };
    }
    if (body.selected === undefined) throw new BadRequestException('selected: required with filter');
    return { changed: await this.harvesters.select(id, body.filter ?? {}, body.selected) };
  }

  @Get('harvesters/:id/harvestable-resources/:resourceId')
  @ApiOperation({ summary: 'A harvestable resource: status, last harvest and its local collection' })
  @ApiOkResponse({ type: HarvestableResourceDto })
  @ApiNotFoundResponse({ type: ErrorResponseDto })
  async resource(@Param('id', HarvesterId()) id: string, @Param('resourceId', ResourceId()) resourceId: string): Promise<HarvestableResourceDto> {
    return toResourceDto(await this.harvesters.getResource(id, resourceId), this.origin);
  }
}

/** Harvesting sessions (admin only). */
@ApiTags('harvesters')
@Authenticated({ role: 'admin' })
@Controller('harvesting-sessions')
export class HarvestingSessionsController {
  private readonly origin: string;

  constructor(
    private readonly harvesters: HarvestersService,
    private readonly config: AppConfig,
  ) {
    this.origin = new URL(config.PUBLIC_URL).origin;
  }

  @Get()
  @ApiOperation({ summary: 'Sessions, newest first' })
  @ApiOkResponse({ type: HarvestSessionPageDto })
  async list(@Query() query: ListSessionsQueryDto, @Req() req: Request): Promise<HarvestSessionPageDto> {
    const params = pageParams(query);
    const [rows, total] = await this.harvesters.listSessions({ harvesterId: query.harvester_id, status: query.status, type: query.type }, params);
    return toPage(
      rows.map((s) => toSessionDto(s, this.origin)),
      total,
      params,
      publicRequestUrl(this.config.PUBLIC_URL, req),
    );
  }

  @Get(':id')
  @ApiOperation({ summary: 'A session: status, counters, result and its failures grouped by message' })
  @ApiOkResponse({ type: HarvestSessionDetailDto })
  @ApiNotFoundResponse({ type: ErrorResponseDto })
  async get(@Param('id', SessionId()) id: string): Promise<HarvestSessionDetailDto> {
    const session = await this.harvesters.getSession(id);
    return { ...toSessionDto(session, this.origin), errors: await this.harvesters.sessionErrors(id) };
  }

  @Post(':id/cancel')
  @HttpCode(202)
  @ApiOperation({
    summary: 'Cancel a session',
    description: 'A queued session ends `cancelled` at once; a running one stops within a second or two (requests in flight are aborted) and ends `cancelled`.',
  })
  @ApiAcceptedResponse({ type: HarvestSessionDto })
  @ApiNotFoundResponse({ type: ErrorResponseDto })
  @ApiConflictResponse({ description: 'The session has ended', type: ErrorResponseDto })
  async cancel(@Param('id', SessionId()) id: string): Promise<HarvestSessionDto> {
    return toSessionDto(await this.harvesters.cancel(id), this.origin);
  }

  @Get(':id/records')
  @ApiOperation({ summary: 'What the session did with each remote record, in order; page with `after`' })
  @ApiOkResponse({ type: SessionRecordPageDto })
  @ApiNotFoundResponse({ type: ErrorResponseDto })
  async records(@Param('id', SessionId()) id: string, @Query() query: SessionRecordsQueryDto): Promise<SessionRecordPageDto> {
    await this.harvesters.getSession(id);
    const limit = query.limit ?? 100;
    const rows = await this.harvesters.sessionRecords(id, query.after ?? null, limit, query.action);
    return { items: rows.map(toRecordDto), next_cursor: rows.length ? String(rows[rows.length - 1].id) : (query.after ?? null) };
  }

  @Get(':id/log')
  @ApiOperation({ summary: 'The session’s log; poll with `after` set to the last cursor read' })
  @ApiOkResponse({ type: SessionLogPageDto })
  @ApiNotFoundResponse({ type: ErrorResponseDto })
  async log(@Param('id', SessionId()) id: string, @Query() query: CursorQueryDto): Promise<SessionLogPageDto> {
    await this.harvesters.getSession(id);
    const rows = await this.harvesters.sessionLog(id, query.after ?? null, query.limit ?? 100);
    return { items: rows.map(toLogLineDto), next_cursor: rows.length ? String(rows[rows.length - 1].id) : (query.after ?? null) };
  }
}
