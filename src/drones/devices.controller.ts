import { Body, Controller, Delete, Get, HttpCode, NotFoundException, Param, ParseUUIDPipe, Post } from '@nestjs/common';
import { ApiBadRequestResponse, ApiConflictResponse, ApiCreatedResponse, ApiNoContentResponse, ApiNotFoundResponse, ApiOkResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import { Authenticated, CurrentUser } from '../auth/auth.decorators.js';
import type { AuthUser } from '../auth/auth.types.js';
import { ErrorResponseDto } from '../common/error-response.js';
import { DroneDevicesService } from './devices.service.js';
import { BatteryDto, BindDeviceDto, DeviceDto, PositionDto } from './telemetry.dto.js';
import { DroneWorkspacesService } from './workspaces.service.js';

const WorkspaceId = () => new ParseUUIDPipe({ exceptionFactory: () => new NotFoundException('Workspace not found') });

/** Remote controllers and aircraft of a workspace, with their last state (telemetry over MQTT). */
@ApiTags('drones')
@Authenticated()
@ApiNotFoundResponse({ type: ErrorResponseDto, description: 'No such workspace (or not yours), or no such device in it' })
@Controller('drones/workspaces/:workspaceId')
export class DroneDevicesController {
  constructor(
    private readonly workspaces: DroneWorkspacesService,
    private readonly devices: DroneDevicesService,
  ) {}

  @Get('drones')
  @ApiOperation({ summary: "The workspace's aircraft, with their last position and battery" })
  @ApiOkResponse({ type: [DeviceDto] })
  async drones(@CurrentUser() user: AuthUser, @Param('workspaceId', WorkspaceId()) workspaceId: string): Promise<DeviceDto[]> {
    await this.workspaces.get(user, workspaceId);
    return (await this.devices.list(workspaceId, 'aircraft')).map(DeviceDto.from);
  }

  @Get('drones/:id')
  @ApiOperation({ summary: 'An aircraft (by id or serial number)' })
  @ApiOkResponse({ type: DeviceDto })
  async drone(@CurrentUser() user: AuthUser, @Param('workspaceId', WorkspaceId()) workspaceId: string, @Param('id') id: string): Promise<DeviceDto> {
    await this.workspaces.get(user, workspaceId);
    return DeviceDto.from(await this.devices.get(workspaceId, id, 'aircraft'));
  }

  @Get('drones/:id/last-position')
  @ApiOperation({ summary: "An aircraft's last reported position" })
  @ApiOkResponse({ type: PositionDto })
  async dronePosition(@CurrentUser() user: AuthUser, @Param('workspaceId', WorkspaceId()) workspaceId: string, @Param('id') id: string): Promise<PositionDto> {
    await this.workspaces.get(user, workspaceId);
    const position = PositionDto.from(await this.devices.get(workspaceId, id, 'aircraft'));
    if (!position) throw new NotFoundException('The aircraft has reported no position yet');
    return position;
  }

  @Get('drones/:id/last-battery')
  @ApiOperation({ summary: "An aircraft's last reported battery level" })
  @ApiOkResponse({ type: BatteryDto })
  async droneBattery(@CurrentUser() user: AuthUser, @Param('workspaceId', WorkspaceId()) workspaceId: string, @Param('id') id: string): Promise<BatteryDto> {
    await this.workspaces.get(user, workspaceId);
    const battery = BatteryDto.from(await this.devices.get(workspaceId, id, 'aircraft'));
    if (!battery) throw new NotFoundException('The aircraft has reported no battery level yet');
    return battery;
  }

  @Get('remote-controllers')
  @ApiOperation({ summary: "The workspace's remote controllers (gateways)" })
  @ApiOkResponse({ type: [DeviceDto] })
  async remoteControllers(@CurrentUser() user: AuthUser, @Param('workspaceId', WorkspaceId()) workspaceId: string): Promise<DeviceDto[]> {
    await this.workspaces.get(user, workspaceId);
    return (await this.devices.list(workspaceId, 'gateway')).map(DeviceDto.from);
  }

  @Get('remote-controllers/:id')
  @ApiOperation({ summary: 'A remote controller (by id or serial number)' })
  @ApiOkResponse({ type: DeviceDto })
  async remoteController(@CurrentUser() user: AuthUser, @Param('workspaceId', WorkspaceId()) workspaceId: string, @Param('id') id: string): Promise<DeviceDto> {
    await this.workspaces.get(user, workspaceId);
    return DeviceDto.from(await this.devices.get(workspaceId, id, 'gateway'));
  }

  @Get('remote-controllers/:id/last-position')
  @ApiOperation({ summary: "A remote controller's last reported position" })
  @ApiOkResponse({ type: PositionDto })
  async remoteControllerPosition(@CurrentUser() user: AuthUser, @Param('workspaceId', WorkspaceId()) workspaceId: string, @Param('id') id: string): Promise<PositionDto> {
    await this.workspaces.get(user, workspaceId);
    const position = PositionDto.from(await this.devices.get(workspaceId, id, 'gateway'));
    if (!position) throw new NotFoundException('The remote controller has reported no position yet');
    return position;
  }

  @Post('devices')
  @ApiOperation({
    summary: 'Bind a remote controller or aircraft to the workspace by hand',
    description:
      'Only bound serial numbers count: telemetry and topology of others are dropped. A device bound to another workspace moves here. ' +
      'Aircraft reported under a bound remote controller are bound with it on their own.',
  })
  @ApiCreatedResponse({ type: DeviceDto })
  @ApiBadRequestResponse({ type: ErrorResponseDto, description: 'Bad serial number or kind; connection_id missing (several connections) or not of this workspace' })
  @ApiConflictResponse({ type: ErrorResponseDto, description: 'The serial number is bound here as the other kind' })
  async bind(@CurrentUser() user: AuthUser, @Param('workspaceId', WorkspaceId()) workspaceId: string, @Body() body: BindDeviceDto): Promise<DeviceDto> {
    await this.workspaces.get(user, workspaceId);
    const connectionId = await this.devices.connectionForManualBinding(workspaceId, body.connection_id);
    return DeviceDto.from(await this.devices.bind({ sn: body.sn, kind: body.kind, workspaceId, connectionId, callsign: body.callsign }));
  }

  @Delete('devices/:id')
  @HttpCode(204)
  @ApiOperation({ summary: 'Unbind a device (by id or serial number): its telemetry is dropped from now on, its flight in progress ends' })
  @ApiNoContentResponse({ description: 'Unbound' })
  async unbind(@CurrentUser() user: AuthUser, @Param('workspaceId', WorkspaceId()) workspaceId: string, @Param('id') id: string): Promise<void> {
    await this.workspaces.get(user, workspaceId);
    await this.devices.unbind(workspaceId, id);
  }
}
