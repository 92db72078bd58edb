import { Body, Controller, Delete, Get, HttpCode, Inject, NotFoundException, Optional, Param, ParseUUIDPipe, Patch, Post, Query, Req } from '@nestjs/common';
import { ApiCreatedResponse, ApiNoContentResponse, ApiNotFoundResponse, ApiOkResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import type { Request } from 'express';
import { Authenticated, CurrentUser } from '../auth/auth.decorators.js';
import type { AuthUser } from '../auth/auth.types.js';
import { ErrorResponseDto } from '../common/error-response.js';
import { PageQueryDto, pageParams, toPage } from '../common/pagination.js';
import { publicRequestUrl } from '../common/request-url.js';
import { AppConfig } from '../config/app-config.js';
import { DroneConnectionsService } from './connections.service.js';
import { DroneMediaService } from './media/media.service.js';
import { DRONE_MQTT_ACCESS, type DroneMqttAccess } from './drone-mqtt-access.js';
import {
  ConnectionDto,
  CreateConnectionDto,
  CreatedConnectionDto,
  CreateWorkspaceDto,
  toConnectionDto,
  toWorkspaceDto,
  UpdateWorkspaceDto,
  WorkspaceDto,
  WorkspacePageDto,
} from './drones.dto.js';
import { DroneWorkspacesService } from './workspaces.service.js';

const WorkspaceId = () => new ParseUUIDPipe({ exceptionFactory: () => new NotFoundException('Workspace not found') });

/** Drone workspaces and their pilot connections: a person manages their own, administrators every one. */
@ApiTags('drones')
@Authenticated()
@ApiNotFoundResponse({ description: 'No such workspace among the caller’s', type: ErrorResponseDto })
@Controller('drones/workspaces')
export class DroneWorkspacesController {
  private readonly base: string;

  constructor(
    private readonly workspaces: DroneWorkspacesService,
    private readonly connections: DroneConnectionsService,
    private readonly media: DroneMediaService,
    private readonly config: AppConfig,
    @Optional() @Inject(DRONE_MQTT_ACCESS) private readonly mqttAccess?: DroneMqttAccess,
  ) {
    this.base = config.PUBLIC_URL.replace(/\/+$/, '');
  }

  @Get()
  @ApiOperation({ summary: "The caller's workspaces (every one for an administrator), newest first" })
  @ApiOkResponse({ type: WorkspacePageDto })
  async list(@CurrentUser() user: AuthUser, @Query() query: PageQueryDto, @Req() req: Request): Promise<WorkspacePageDto> {
    const params = pageParams(query);
    const { items, total } = await this.workspaces.list(user, params);
    return toPage(
      items.map((w) => toWorkspaceDto(w, this.base)),
      total,
      params,
      publicRequestUrl(this.config.PUBLIC_URL, req),
    );
  }

  @Post()
  @ApiOperation({ summary: 'Create a workspace (the caller owns it)' })
  @ApiCreatedResponse({ type: WorkspaceDto })
  async create(@CurrentUser() user: AuthUser, @Body() body: CreateWorkspaceDto): Promise<WorkspaceDto> {
    return toWorkspaceDto(await this.workspaces.create(user, body), this.base);
  }

  @Get(':id')
  @ApiOperation({ summary: 'A workspace' })
  @ApiOkResponse({ type: WorkspaceDto })
  async get(@CurrentUser() user: AuthUser, @Param('id', WorkspaceId()) id: string): Promise<WorkspaceDto> {
    return toWorkspaceDto(await this.workspaces.get(user, id), this.base);
  }

  @Patch(':id')
  @ApiOperation({ summary: 'Rename a workspace, change its description or location' })
  @ApiOkResponse({ type: WorkspaceDto })
  async update(@CurrentUser() user: AuthUser, @Param('id', WorkspaceId()) id: string, @Body() body: UpdateWorkspaceDto): Promise<WorkspaceDto> {
    return toWorkspaceDto(await this.workspaces.update(user, id, body), this.base);
  }

  @Post(':id/regenerate-uuid')
  @HttpCode(200)
  @ApiOperation({ summary: 'Give the workspace a new DJI workspace id (pilot apps must log in again); its devices, flights and media stay' })
  @ApiOkResponse({ type: WorkspaceDto })
  async regenerate(@CurrentUser() user: AuthUser, @Param('id', WorkspaceId()) id: string): Promise<WorkspaceDto> {
    return toWorkspaceDto(await this.workspaces.regenerateUuid(user, id), this.base);
  }

  @Delete(':id')
  @HttpCode(204)
  @ApiOperation({ summary: 'Delete a workspace with its connections (their tokens and MQTT access end), flights and media' })
  @ApiNoContentResponse()
  async remove(@CurrentUser() user: AuthUser, @Param('id', WorkspaceId()) id: string): Promise<void> {
    const workspace = await this.workspaces.get(user, id);
    for (const c of await this.connections.list(workspace)) await this.mqttAccess?.revoke(c);
    // The flights' sequences, pictures and stored files go first; the rows then cascade.
    await this.media.removeWorkspaceMedia(workspace.id, { signal: new AbortController().signal, progress: async () => undefined });
    await this.workspaces.remove(user, id);
  }

  @Get(':id/connections')
  @ApiOperation({ summary: "The workspace's pilot connections (their secrets are never shown again)" })
  @ApiOkResponse({ type: [ConnectionDto] })
  async connectionsOf(@CurrentUser() user: AuthUser, @Param('id', WorkspaceId()) id: string): Promise<ConnectionDto[]> {
    const workspace = await this.workspaces.get(user, id);
    return (await this.connections.list(workspace)).map(toConnectionDto);
  }

  @Post(':id/connections')
  @ApiOperation({
    summary: 'Create a pilot connection',
    description: 'Answers its `connection_id` and `secret`. The secret is shown only here; the pilot app logs in with both (POST /api/drones/connection-link/auth/login).',
  })
  @ApiCreatedResponse({ type: CreatedConnectionDto })
  async createConnection(@CurrentUser() user: AuthUser, @Param('id', WorkspaceId()) id: string, @Body() body: CreateConnectionDto): Promise<CreatedConnectionDto> {
    const workspace = await this.workspaces.get(user, id);
    const { connection, secret } = await this.connections.create(user, workspace, body.name);
    return { ...toConnectionDto(connection), secret };
  }

  @Delete(':id/connections/:connectionId')
  @HttpCode(204)
  @ApiOperation({ summary: 'Delete a pilot connection: its tokens stop working at once, its MQTT access ends and its devices are unbound' })
  @ApiNoContentResponse()
  async removeConnection(
    @CurrentUser() user: AuthUser,
    @Param('id', WorkspaceId()) id: string,
    @Param('connectionId', new ParseUUIDPipe({ exceptionFactory: () => new NotFoundException('Connection not found') })) connectionId: string,
  ): Promise<void> {
    const workspace = await this.workspaces.get(user, id);
    const connection = await this.connections.find(workspace, connectionId);
    if (!connection) throw new NotFoundException('Connection not found');
    await this.mqttAccess?.revoke(connection);
    await this.connections.remove(connection);
  }
}
