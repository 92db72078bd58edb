import { Module } from '@nestjs/common';
import { TypeOrmModule } from '@nestjs/typeorm';
import { CatalogModule } from '../catalog/catalog.module.js';
import { PicturesModule } from '../pictures/pictures.module.js';
import { ConnectionLinkController } from './connection-link.controller.js';
import { DroneConnection, DroneConnectionToken } from './connection.entity.js';
import { DroneConnectionsService } from './connections.service.js';
import { DroneDevice } from './device.entity.js';
import { DroneAuthGuard } from './dji-auth.js';
import { DroneMedia } from './drone-media.entity.js';
import { DroneFlight, DroneTrackPoint } from './flight.entity.js';
import { DjiMediaController } from './media/dji-media.controller.js';
import { DjiStorageController } from './media/dji-storage.controller.js';
import { FlightPictures } from './media/flight-pictures.js';
import { DroneMediaController } from './media/media.controller.js';
import { DroneMediaService } from './media/media.service.js';
import { MediaUploadInterceptor } from './media/media-upload.receiver.js';
import { DroneWorkspace } from './workspace.entity.js';
import { DroneWorkspacesController } from './workspaces.controller.js';
import { DroneWorkspacesService } from './workspaces.service.js';

/** Drones: workspaces, pilot connections, devices, telemetry, flights and their media. */
@Module({
  imports: [
    TypeOrmModule.forFeature([DroneWorkspace, DroneConnection, DroneConnectionToken, DroneDevice, DroneFlight, DroneTrackPoint, DroneMedia]),
    PicturesModule,
    CatalogModule,
  ],
  controllers: [DroneWorkspacesController, ConnectionLinkController, DroneMediaController, DjiMediaController, DjiStorageController],
  providers: [DroneWorkspacesService, DroneConnectionsService, DroneAuthGuard, DroneMediaService, FlightPictures, MediaUploadInterceptor],
  exports: [DroneWorkspacesService, DroneConnectionsService, DroneMediaService],
})
export class DronesModule {}
