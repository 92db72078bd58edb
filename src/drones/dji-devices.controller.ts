import { BadRequestException, Body, Controller, ForbiddenException, HttpCode, Param, Post, UseFilters } from '@nestjs/common';
import { ApiBadRequestResponse, ApiForbiddenResponse, ApiHeader, ApiOkResponse, ApiOperation, ApiTags, ApiUnauthorizedResponse } from '@nestjs/swagger';
import { DroneDevicesService, SN_PATTERN } from './devices.service.js';
import { CurrentDroneCaller, DjiAuth, type DroneCaller } from './dji-auth.js';
import { djiOk, DjiExceptionFilter } from './dji-envelope.js';
import { DjiBindingDto } from './telemetry.dto.js';

/** DJI Cloud API device management, at the path DJI Pilot 2 calls. */
@ApiTags('drones (DJI Pilot 2)')
@DjiAuth()
@UseFilters(DjiExceptionFilter)
@ApiHeader({ name: 'x-auth-token', required: true, description: 'The token of the connection login' })
@ApiUnauthorizedResponse({ description: 'No or bad x-auth-token (DJI envelope)' })
@Controller('manage/api/v1/devices')
export class DjiDevicesController {
  constructor(private readonly devices: DroneDevicesService) {}

  @Post(':device_sn/binding')
  @HttpCode(200)
  @ApiOperation({
    summary: "Bind a device to the caller's workspace (DJI Pilot 2)",
    description:
      "DJI's device binding: the serial number is bound to the connection's workspace, so its telemetry counts. `domain` 0 is an aircraft, " +
      '2 (remote controller) and 3 (dock) are gateways; without it a gateway. Answers `{code: 0, message: "success", data: {}}`.',
  })
  @ApiOkResponse({ description: '`{code: 0, message: "success", data: {}}`' })
  @ApiBadRequestResponse({ description: 'Bad serial number or body (DJI envelope)' })
  @ApiForbiddenResponse({ description: "workspace_id is not the connection's workspace (DJI envelope)" })
  async bind(@CurrentDroneCaller() caller: DroneCaller, @Param('device_sn') deviceSn: string, @Body() body: DjiBindingDto) {
    if (!SN_PATTERN.test(deviceSn)) throw new BadRequestException('device_sn must be 1-64 letters, digits, ".", "_" or "-"');
    if (body.device_sn && body.device_sn !== deviceSn) throw new BadRequestException(`device_sn ${body.device_sn} in the body is not ${deviceSn} of the path`);
    if (body.workspace_id && body.workspace_id !== caller.workspaceUuid) throw new ForbiddenException(`workspace_id ${body.workspace_id} is not this connection's workspace`);
    const modelKey = body.domain !== undefined && body.type !== undefined ? `${body.domain}-${body.type}-${body.sub_type ?? 0}` : null;
    await this.devices.bind({
      sn: deviceSn,
      kind: body.domain === undefined ? undefined : body.domain === 0 ? 'aircraft' : 'gateway',
      workspaceId: caller.workspaceId,
      connectionId: caller.connectionId,
      modelKey,
      callsign: body.device_callsign ?? null,
    });
    return djiOk({});
  }
}
