import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { Type } from 'class-transformer';
import { IsLatitude, IsLongitude, IsNumber, IsOptional, IsString, Matches, MaxLength, MinLength, ValidateNested } from 'class-validator';
import { LinkDto } from '../common/pagination.js';
import type { DroneConnection } from './connection.entity.js';
import type { DroneWorkspace } from './workspace.entity.js';

export class LocationDto {
  @ApiProperty({ example: 8.54 })
  @IsNumber({ allowNaN: false, allowInfinity: false })
  @IsLongitude()
  lon: number;

  @ApiProperty({ example: 47.37 })
  @IsNumber({ allowNaN: false, allowInfinity: false })
  @IsLatitude()
  lat: number;
}

/** What both creating and editing a workspace may set (the name's rule differs: class-validator merges inherited rules). */
class WorkspaceFieldsDto {
  @ApiPropertyOptional({ maxLength: 2000 })
  @IsOptional()
  @IsString()
  @MaxLength(2000)
  description?: string;

  @ApiPropertyOptional({ type: LocationDto, nullable: true, description: 'Where the team flies; null removes it' })
  @IsOptional()
  @ValidateNested()
  @Type(() => LocationDto)
  location?: LocationDto | null;
}

export class UpdateWorkspaceDto extends WorkspaceFieldsDto {
  @ApiPropertyOptional({ example: 'Survey team Zürich', maxLength: 200 })
  @IsOptional()
  @IsString()
  @MinLength(1)
  @MaxLength(200)
  name?: string;
}

export class CreateWorkspaceDto extends WorkspaceFieldsDto {
  @ApiProperty({ example: 'Survey team Zürich', maxLength: 200 })
  @IsString()
  @MinLength(1)
  @MaxLength(200)
  name: string;
}

export class WorkspaceDto {
  @ApiProperty({ format: 'uuid' }) id: string;
  @ApiProperty({ format: 'uuid', description: "The id DJI Pilot 2 and DJI's protocol know the workspace by (`workspace_id`); POST …/regenerate-uuid changes it" })
  workspace_uuid: string;
  @ApiProperty() name: string;
  @ApiProperty() description: string;
  @ApiPropertyOptional({ type: LocationDto, nullable: true }) location: LocationDto | null;
  @ApiPropertyOptional({ format: 'uuid', nullable: true }) owner_id: string | null;
  @ApiProperty() created_at: string;
  @ApiProperty() updated_at: string;
  @ApiProperty({ type: [LinkDto] }) links: LinkDto[];
}

export class WorkspacePageDto {
  @ApiProperty({ type: [WorkspaceDto] }) items: WorkspaceDto[];
  @ApiProperty() total: number;
  @ApiProperty() page: number;
  @ApiProperty() limit: number;
  @ApiProperty({ type: [LinkDto] }) links: LinkDto[];
}

export function toWorkspaceDto(w: DroneWorkspace, base: string): WorkspaceDto {
  const self = `${base}/api/drones/workspaces/${w.id}`;
  return {
    id: w.id,
    workspace_uuid: w.uuid,
    name: w.name,
    description: w.description,
    location: w.location ? { lon: w.location.coordinates[0]!, lat: w.location.coordinates[1]! } : null,
    owner_id: w.ownerId,
    created_at: w.createdAt.toISOString(),
    updated_at: w.updatedAt.toISOString(),
    links: [
      { rel: 'self', href: self, type: 'application/json' },
      { rel: 'connections', href: `${self}/connections`, type: 'application/json' },
      { rel: 'drones', href: `${self}/drones`, type: 'application/json' },
      { rel: 'remote-controllers', href: `${self}/remote-controllers`, type: 'application/json' },
      { rel: 'media', href: `${self}/media`, type: 'application/json' },
      { rel: 'events', href: `${self}/events`, type: 'text/event-stream' },
    ],
  };
}

export class CreateConnectionDto {
  @ApiProperty({ example: "Anna's RC Plus", maxLength: 200, description: 'A name to tell connections apart' })
  @IsString()
  @MinLength(1)
  @MaxLength(200)
  name: string;
}

export class ConnectionDto {
  @ApiProperty({ format: 'uuid' }) id: string;
  @ApiProperty({ example: 'c-9xQm2kTzPbLw', description: 'What the pilot types in, with the secret' }) connection_id: string;
  @ApiProperty() name: string;
  @ApiProperty({ format: 'uuid' }) workspace_id: string;
  @ApiProperty() created_at: string;
  @ApiPropertyOptional({ nullable: true }) last_login_at: string | null;
}

export class CreatedConnectionDto extends ConnectionDto {
  @ApiProperty({ description: 'Shown only now: Sightline keeps only a hash of it' }) secret: string;
}

export function toConnectionDto(c: DroneConnection): ConnectionDto {
  return {
    id: c.id,
    connection_id: c.connectionId,
    name: c.name,
    workspace_id: c.workspaceId,
    created_at: c.createdAt.toISOString(),
    last_login_at: c.lastLoginAt?.toISOString() ?? null,
  };
}

export class ConnectionLoginDto {
  @ApiProperty({ example: 'c-9xQm2kTzPbLw' })
  @IsString()
  @MinLength(1)
  @MaxLength(64)
  @Matches(/^[\x21-\x7e]+$/, { message: 'connection_id must be printable ASCII without spaces' })
  connection_id: string;

  @ApiProperty()
  @IsString()
  @MinLength(1)
  @MaxLength(200)
  secret: string;
}

export class PlatformConfigDto {
  @ApiProperty() connection_id: string;
  @ApiProperty() platform_name: string;
  @ApiProperty({ description: "Sightline's public address" }) platform_url: string;
  @ApiProperty({ format: 'uuid', description: "The workspace's DJI id (`workspace_uuid`)" }) workspace_id: string;
  @ApiProperty({ format: 'uuid', description: "The workspace's id in Sightline's own routes" }) workspace_uuid: string;
  @ApiProperty() workspace_name: string;
  @ApiProperty() workspace_description: string;
}

export class MqttCredentialsDto {
  @ApiProperty({ example: 'tcp://mqtt.example.org:1883' }) host: string;
  @ApiProperty() username: string;
  @ApiProperty() password: string;
}

export class DjiApiComponentDto {
  @ApiProperty({ description: "Base URL of the DJI-compatible routes (Pilot 2's API URL)" }) host: string;
  @ApiProperty() token: string;
}

export class DjiPilotConfigDto {
  @ApiProperty({ description: 'DJI developer app id (DJI_APP_ID)' }) app_id: string;
  @ApiProperty() app_key: string;
  @ApiProperty() app_license: string;
  @ApiProperty({ type: DjiApiComponentDto, description: "`platformLoadComponent('api', …)`" }) api: DjiApiComponentDto;
  @ApiProperty({ type: MqttCredentialsDto, description: "`platformLoadComponent('thing', …)`" }) thing: MqttCredentialsDto;
  @ApiProperty({ format: 'uuid', description: '`platformSetWorkspaceId`' }) workspace_id: string;
  @ApiProperty() platform_name: string;
  @ApiProperty() workspace_name: string;
  @ApiProperty() workspace_desc: string;
}

export class ConnectionLoginResponseDto {
  @ApiProperty({ description: 'Send it as `x-auth-token` to the DJI-compatible routes and the pilot routes of Sightline' }) token: string;
  @ApiProperty() expires_at: string;
  @ApiProperty({ type: PlatformConfigDto }) platform: PlatformConfigDto;
  @ApiProperty({ type: DjiPilotConfigDto }) dji: DjiPilotConfigDto;
  @ApiProperty({ type: MqttCredentialsDto }) mqtt: MqttCredentialsDto;
}
