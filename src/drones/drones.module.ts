import { Module } from '@nestjs/common';
import { TypeOrmModule } from '@nestjs/typeorm';
import { ConnectionLinkController } from './connection-link.controller.js';
import { DroneConnection, DroneConnectionToken } from './connection.entity.js';
import { DroneConnectionsService } from './connections.service.js';
import { DroneDevice } from './device.entity.js';
import { DroneAuthGuard } from './dji-auth.js';
import { DroneMedia } from './drone-media.entity.js';
import { DroneFlight, DroneTrackPoint } from './flight.entity.js';
import { DroneWorkspace } from './workspace.entity.js';
import { DroneWorkspacesController } from './workspaces.controller.js';
import { DroneWorkspacesService } from './workspaces.service.js';

/** Drones: workspaces, pilot connections, devices, telemetry, flights and their media. */
@Module({
  imports: [TypeOrmModule.forFeature([DroneWorkspace, DroneConnection, DroneConnectionToken, DroneDevice, DroneFlight, DroneTrackPoint, DroneMedia])],
  controllers: [DroneWorkspacesController, ConnectionLinkController],
  providers: [DroneWorkspacesService, DroneConnectionsService, DroneAuthGuard],
  exports: [DroneWorkspacesService, DroneConnectionsService],
})
export class DronesModule {}
