import { Body, Controller, HttpCode, Inject, Optional, Post, UnauthorizedException, UseGuards } from '@nestjs/common';
import { ApiOkResponse, ApiOperation, ApiTags, ApiTooManyRequestsResponse, ApiUnauthorizedResponse } from '@nestjs/swagger';
import { ThrottlerGuard } from '@nestjs/throttler';
import { Public } from '../auth/auth.decorators.js';
import { ErrorResponseDto } from '../common/error-response.js';
import { AppConfig } from '../config/app-config.js';
import { DroneConnectionsService } from './connections.service.js';
import { DRONE_MQTT_ACCESS, type DroneMqttAccess, type MqttCredentials } from './drone-mqtt-access.js';
import { ConnectionLoginDto, ConnectionLoginResponseDto } from './drones.dto.js';

/** How pilot apps log in with a connection's id and secret. */
@ApiTags('drones')
@Controller('drones/connection-link')
export class ConnectionLinkController {
  private readonly base: string;

  constructor(
    private readonly connections: DroneConnectionsService,
    private readonly config: AppConfig,
    @Optional() @Inject(DRONE_MQTT_ACCESS) private readonly mqttAccess?: DroneMqttAccess,
  ) {
    this.base = config.PUBLIC_URL.replace(/\/+$/, '');
  }

  @Post('auth/login')
  @Public()
  @HttpCode(200)
  @UseGuards(ThrottlerGuard)
  @ApiTooManyRequestsResponse({ description: 'Too many attempts from this address; see Retry-After', type: ErrorResponseDto })
  @ApiOperation({
    summary: 'Log a pilot app in with a connection',
    description:
      'Answers a token for the DJI-compatible routes (`x-auth-token`), the platform configuration (connection, platform, workspace), ' +
      "DJI Pilot 2's SDK configuration (app id/key/license, API URL and token, MQTT address and credentials) and the MQTT credentials. " +
      'A wrong `connection_id` or secret is a 401 that does not say which.',
  })
  @ApiOkResponse({ type: ConnectionLoginResponseDto })
  @ApiUnauthorizedResponse({ description: 'Unknown connection or wrong secret', type: ErrorResponseDto })
  async login(@Body() body: ConnectionLoginDto): Promise<ConnectionLoginResponseDto> {
    const session = await this.connections.login(body.connection_id, body.secret);
    if (!session) throw new UnauthorizedException('Unknown connection_id or wrong secret');
    const { connection, workspace, token, expiresAt } = session;
    const mqtt: MqttCredentials = this.mqttAccess
      ? await this.mqttAccess.credentialsFor(connection, token)
      : { host: brokerAddress(this.config.MQTT_PUBLIC_URL ?? this.config.MQTT_URL), username: connection.connectionId, password: token };
    const platformName = this.config.DRONES_PLATFORM_NAME ?? this.config.INSTANCE_NAME;
    return {
      token,
      expires_at: expiresAt.toISOString(),
      platform: {
        connection_id: connection.connectionId,
        platform_name: platformName,
        platform_url: this.base,
        workspace_id: workspace.uuid,
        workspace_uuid: workspace.id,
        workspace_name: workspace.name,
        workspace_description: workspace.description,
      },
      dji: {
        app_id: this.config.DJI_APP_ID,
        app_key: this.config.DJI_APP_KEY,
        app_license: this.config.DJI_APP_LICENSE,
        // The DJI-compatible routes live at the root of the public address (/media/api/v1/…).
        api: { host: new URL(this.base).origin, token },
        thing: mqtt,
        workspace_id: workspace.uuid,
        platform_name: platformName,
        workspace_name: workspace.name,
        workspace_desc: workspace.description,
      },
      mqtt,
    };
  }
}

/** DJI's apps want `tcp://host:port` (or `ssl://`) rather than `mqtt://` / `mqtts://`. */
export function brokerAddress(url: string): string {
  return url.replace(/^mqtts:\/\//, 'ssl://').replace(/^mqtt:\/\//, 'tcp://');
}
