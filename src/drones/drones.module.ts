import { Module } from '@nestjs/common';
import { TypeOrmModule } from '@nestjs/typeorm';
import { HealthModule } from '../health/health.module.js';
import { DroneConnection, DroneConnectionToken } from './connection.entity.js';
import { DroneDevicesService } from './devices.service.js';
import { DroneDevice } from './device.entity.js';
import { DroneEventsService } from './drone-events.service.js';
import { DroneMedia } from './drone-media.entity.js';
import { DroneFlight, DroneTrackPoint } from './flight.entity.js';
import { DroneFlightsService } from './flights.service.js';
import { DroneMqttAccessService } from './mqtt-access.service.js';
import { DroneMqttService } from './mqtt/drone-mqtt.service.js';
import { DroneTelemetryService } from './telemetry.service.js';
import { DroneWorkspace } from './workspace.entity.js';

/** Drones: workspaces, pilot connections, devices, telemetry, flights and their media. */
@Module({
  imports: [TypeOrmModule.forFeature([DroneWorkspace, DroneConnection, DroneConnectionToken, DroneDevice, DroneFlight, DroneTrackPoint, DroneMedia]), HealthModule],
  providers: [DroneEventsService, DroneTelemetryService, DroneDevicesService, DroneFlightsService, DroneMqttService, DroneMqttAccessService],
  exports: [DroneEventsService, DroneMqttAccessService],
})
export class DronesModule {}
