import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { Transform, Type } from 'class-transformer';
import { IsDate, IsIn, IsInt, IsOptional, IsString, Matches, Max, MaxLength, Min } from 'class-validator';
import type { DeviceRow } from './devices.service.js';
import type { FlightRow, FlightTrack } from './flights.service.js';

const iso = (d: Date | string | null | undefined) => (d ? new Date(d).toISOString() : null);

// ---- requests

export class BindDeviceDto {
  @ApiProperty({ example: '1581F5BKD225D00BT891', description: 'Serial number of the remote controller or aircraft' })
  @IsString()
  @Matches(/^[A-Za-z0-9._-]{1,64}$/, { message: 'sn must be 1-64 letters, digits, ".", "_" or "-"' })
  sn: string;

  @ApiProperty({ enum: ['gateway', 'aircraft'], description: '`gateway`: a remote controller (or dock); `aircraft`: a drone' })
  @IsIn(['gateway', 'aircraft'])
  kind: 'gateway' | 'aircraft';

  @ApiPropertyOptional({ description: 'The connection (its id or `connection_id`) the device reports through; needed when the workspace has several' })
  @IsOptional()
  @IsString()
  @MaxLength(64)
  connection_id?: string;

  @ApiPropertyOptional({ maxLength: 100 })
  @IsOptional()
  @IsString()
  @MaxLength(100)
  callsign?: string;
}

/** DJI's `POST /manage/api/v1/devices/{device_sn}/binding` body. Numbers may come as strings. */
export class DjiBindingDto {
  @ApiPropertyOptional({ example: '4LFCJCC001008S' })
  @IsOptional()
  @IsString()
  @MaxLength(64)
  device_sn?: string;

  @ApiPropertyOptional()
  @IsOptional()
  @IsString()
  @MaxLength(64)
  user_id?: string;

  @ApiPropertyOptional({ description: "The workspace's uuid (must be the caller's)" })
  @IsOptional()
  @IsString()
  @MaxLength(64)
  workspace_id?: string;

  @ApiPropertyOptional({ description: '0 aircraft, 2 remote controller, 3 dock', oneOf: [{ type: 'integer' }, { type: 'string' }] })
  @IsOptional()
  @Transform(({ value }) => (typeof value === 'string' && /^\d+$/.test(value) ? Number(value) : value))
  @IsInt()
  @Min(0)
  @Max(1000)
  domain?: number;

  @ApiPropertyOptional({ oneOf: [{ type: 'integer' }, { type: 'string' }] })
  @IsOptional()
  @Transform(({ value }) => (typeof value === 'string' && /^\d+$/.test(value) ? Number(value) : value))
  @IsInt()
  @Min(0)
  @Max(100000)
  type?: number;

  @ApiPropertyOptional({ oneOf: [{ type: 'integer' }, { type: 'string' }] })
  @IsOptional()
  @Transform(({ value }) => (typeof value === 'string' && /^\d+$/.test(value) ? Number(value) : value))
  @IsInt()
  @Min(0)
  @Max(100000)
  sub_type?: number;

  @ApiPropertyOptional({ maxLength: 100 })
  @IsOptional()
  @IsString()
  @MaxLength(100)
  device_callsign?: string;
}

export class FlightsQueryDto {
  @ApiPropertyOptional({ minimum: 1, maximum: 1000, default: 100 })
  @IsOptional()
  @Type(() => Number)
  @IsInt()
  @Min(1)
  @Max(1000)
  limit?: number;

  @ApiPropertyOptional({ description: 'Only flights started before this time (ISO 8601): the next page is `before=<started_at of the last>`' })
  @IsOptional()
  @Type(() => Date)
  @IsDate({ message: 'before must be an ISO 8601 date-time' })
  before?: Date;
}

export class CreateFlightDto {
  @ApiPropertyOptional({ description: 'The aircraft (its id or serial number) of this workspace' })
  @IsOptional()
  @IsString()
  @MaxLength(64)
  drone?: string;

  @ApiPropertyOptional({ maxLength: 200 })
  @IsOptional()
  @IsString()
  @MaxLength(200)
  name?: string;

  @ApiProperty({ example: '2026-05-01T10:00:00Z' })
  @Type(() => Date)
  @IsDate({ message: 'started_at must be an ISO 8601 date-time' })
  started_at: Date;

  @ApiPropertyOptional()
  @IsOptional()
  @Type(() => Date)
  @IsDate({ message: 'landed_at must be an ISO 8601 date-time' })
  landed_at?: Date;

  @ApiPropertyOptional()
  @IsOptional()
  @Type(() => Date)
  @IsDate({ message: 'ended_at must be an ISO 8601 date-time' })
  ended_at?: Date;
}

export class UpdateFlightDto {
  @ApiPropertyOptional({ maxLength: 200, nullable: true })
  @IsOptional()
  @IsString()
  @MaxLength(200)
  name?: string | null;

  @ApiPropertyOptional()
  @IsOptional()
  @Type(() => Date)
  @IsDate({ message: 'started_at must be an ISO 8601 date-time' })
  started_at?: Date;

  @ApiPropertyOptional({ nullable: true })
  @IsOptional()
  @Type(() => Date)
  @IsDate({ message: 'landed_at must be an ISO 8601 date-time' })
  landed_at?: Date | null;

  @ApiPropertyOptional({ nullable: true })
  @IsOptional()
  @Type(() => Date)
  @IsDate({ message: 'ended_at must be an ISO 8601 date-time' })
  ended_at?: Date | null;
}

// ---- responses

export class PositionDto {
  @ApiProperty() sn: string;
  @ApiProperty({ description: 'Time of the message (the sender’s clock)' }) at: string;
  @ApiProperty() longitude: number;
  @ApiProperty() latitude: number;
  @ApiProperty({ type: Number, nullable: true, description: 'Ellipsoid height (m)' }) height: number | null;
  @ApiProperty({ type: Number, nullable: true, description: 'Height above the take-off point (m)' }) elevation: number | null;
  @ApiProperty({ type: Number, nullable: true, description: 'Heading (°)' }) heading: number | null;
  @ApiProperty({ type: Number, nullable: true, description: 'DJI mode_code' }) mode_code: number | null;

  static from(d: DeviceRow): PositionDto | null {
    if (d.last_lon === null || d.last_lat === null || !d.last_telemetry_at) return null;
    return {
      sn: d.sn,
      at: iso(d.last_telemetry_at)!,
      longitude: d.last_lon,
      latitude: d.last_lat,
      height: d.last_height,
      elevation: d.last_elevation,
      heading: d.last_heading,
      mode_code: d.last_mode_code,
    };
  }
}

export class BatteryDto {
  @ApiProperty() sn: string;
  @ApiProperty() at: string;
  @ApiProperty({ minimum: 0, maximum: 100 }) capacity_percent: number;
  @ApiPropertyOptional({ type: Number, nullable: true, description: 'Remaining flight time (s), when the aircraft reports it' }) remain_flight_time: number | null;

  static from(d: DeviceRow): BatteryDto | null {
    if (d.last_battery_percent === null || !d.last_telemetry_at) return null;
    const rft = d.last_state?.remain_flight_time;
    return { sn: d.sn, at: iso(d.last_telemetry_at)!, capacity_percent: d.last_battery_percent, remain_flight_time: typeof rft === 'number' ? rft : null };
  }
}

export class DeviceDto {
  @ApiProperty() id: string;
  @ApiProperty() sn: string;
  @ApiProperty({ enum: ['gateway', 'aircraft'] }) kind: string;
  @ApiProperty() workspace_id: string;
  @ApiProperty({ type: String, nullable: true, description: 'The connection (drone_connection id) it reports through' }) connection_id: string | null;
  @ApiProperty({ type: String, nullable: true, example: '0-67-0', description: 'DJI `domain-type-sub_type`' }) model_key: string | null;
  @ApiProperty({ type: String, nullable: true, example: 'Matrice 30' }) model_name: string | null;
  @ApiProperty({ type: String, nullable: true }) firmware_version: string | null;
  @ApiProperty({ type: String, nullable: true }) callsign: string | null;
  @ApiProperty({ type: String, nullable: true, description: "An aircraft's remote controller" }) gateway_sn: string | null;
  @ApiProperty() online: boolean;
  @ApiProperty({ type: String, nullable: true }) last_connected_at: string | null;
  @ApiProperty({ type: String, nullable: true }) last_telemetry_at: string | null;
  @ApiProperty({ type: PositionDto, nullable: true }) last_position: PositionDto | null;
  @ApiProperty({ type: BatteryDto, nullable: true }) last_battery: BatteryDto | null;
  @ApiProperty({ type: Object, description: 'The last telemetry message’s fields (DJI names)' }) last_state: Record<string, unknown>;
  @ApiProperty({ type: String, nullable: true, description: 'An aircraft’s flight in progress' }) current_flight_id: string | null;

  static from(d: DeviceRow): DeviceDto {
    const flight = d.flight_state?.flightId;
    return {
      id: d.id,
      sn: d.sn,
      kind: d.kind,
      workspace_id: d.workspace_id!,
      connection_id: d.connection_id,
      model_key: d.model_key,
      model_name: d.model_name,
      firmware_version: d.firmware_version,
      callsign: d.callsign,
      gateway_sn: d.gateway_sn,
      online: d.online,
      last_connected_at: iso(d.last_connected_at),
      last_telemetry_at: iso(d.last_telemetry_at),
      last_position: PositionDto.from(d),
      last_battery: BatteryDto.from(d),
      last_state: d.last_state ?? {},
      current_flight_id: typeof flight === 'string' ? flight : null,
    };
  }
}

export class FlightDto {
  @ApiProperty() id: string;
  @ApiProperty() workspace_id: string;
  @ApiProperty({ type: String, nullable: true }) drone_id: string | null;
  @ApiProperty({ type: String, nullable: true }) drone_sn: string | null;
  @ApiProperty({ type: String, nullable: true }) name: string | null;
  @ApiProperty({ enum: ['in_flight', 'landed', 'ended'] }) status: string;
  @ApiProperty() started_at: string;
  @ApiProperty({ type: String, nullable: true }) landed_at: string | null;
  @ApiProperty({ type: String, nullable: true }) ended_at: string | null;
  @ApiProperty({ type: String, nullable: true, enum: ['offline', 'silence', 'mode', 'take_off_again', 'unbound', 'manual'] }) end_reason: string | null;
  @ApiProperty() is_created_manually: boolean;
  @ApiProperty({ description: 'Kept (downsampled) track points' }) point_count: number;
  @ApiProperty({ type: Number, nullable: true, description: 'Highest height above the take-off point (m)' }) max_elevation: number | null;
  @ApiProperty({ type: Number, nullable: true, description: 'Length of the track (m)' }) distance_m: number | null;

  static from(f: FlightRow): FlightDto {
    return {
      id: f.id,
      workspace_id: f.workspace_id,
      drone_id: f.device_id,
      drone_sn: f.device_sn,
      name: f.name,
      status: f.status,
      started_at: iso(f.started_at)!,
      landed_at: iso(f.landed_at),
      ended_at: iso(f.ended_at),
      end_reason: f.end_reason,
      is_created_manually: f.is_created_manually,
      point_count: f.point_count,
      max_elevation: f.max_elevation,
      distance_m: f.distance_m === null ? null : Math.round(f.distance_m * 10) / 10,
    };
  }
}

export class FlightTrackDto {
  @ApiProperty({ example: 'Feature' }) type: 'Feature';
  @ApiProperty({ type: Object, nullable: true, description: 'LineString of [lon, lat, ellipsoid height] (below two points: null)' })
  geometry: FlightTrack['geometry'];
  @ApiProperty({ type: Object, description: '`times` (ISO), `heights` (ellipsoid, m) and `elevations` (above take-off, m), one per coordinate' })
  properties: FlightTrack['properties'];
}

export class FlightDetailDto extends FlightDto {
  @ApiProperty({ type: FlightTrackDto }) track: FlightTrackDto;
  @ApiProperty({ description: 'Media received for this flight' }) media_count: number;
}
