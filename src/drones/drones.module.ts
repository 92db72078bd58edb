import { Module } from '@nestjs/common';
import { TypeOrmModule } from '@nestjs/typeorm';
import { DroneConnection, DroneConnectionToken } from './connection.entity.js';
import { DroneDevice } from './device.entity.js';
import { DroneMedia } from './drone-media.entity.js';
import { DroneFlight, DroneTrackPoint } from './flight.entity.js';
import { DroneWorkspace } from './workspace.entity.js';

/** Drones: workspaces, pilot connections, devices, telemetry, flights and their media. */
@Module({
  imports: [TypeOrmModule.forFeature([DroneWorkspace, DroneConnection, DroneConnectionToken, DroneDevice, DroneFlight, DroneTrackPoint, DroneMedia])],
})
export class DronesModule {}
