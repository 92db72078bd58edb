import { Module } from '@nestjs/common';
import { TypeOrmModule } from '@nestjs/typeorm';
import { CatalogModule } from '../catalog/catalog.module.js';
import { AppConfig } from '../config/app-config.js';
import { HealthModule } from '../health/health.module.js';
import { PicturesModule } from '../pictures/pictures.module.js';
import { ConnectionLinkController } from './connection-link.controller.js';
import { DroneConnection, DroneConnectionToken } from './connection.entity.js';
import { DroneConnectionsService } from './connections.service.js';
import { DroneDevicesController } from './devices.controller.js';
import { DroneDevicesService } from './devices.service.js';
import { DroneDevice } from './device.entity.js';
import { DjiDevicesController } from './dji-devices.controller.js';
import { DroneAuthGuard } from './dji-auth.js';
import { DroneEventsController } from './drone-events.controller.js';
import { DroneEventsService } from './drone-events.service.js';
import { DRONE_MQTT_ACCESS } from './drone-mqtt-access.js';
import { DroneMedia } from './drone-media.entity.js';
import { DroneFlight, DroneTrackPoint } from './flight.entity.js';
import { DroneFlightsController, DroneFlightTilesController } from './flights.controller.js';
import { DroneFlightsService } from './flights.service.js';
import { DjiMediaController } from './media/dji-media.controller.js';
import { DjiStorageController } from './media/dji-storage.controller.js';
import { FlightPictures } from './media/flight-pictures.js';
import { DroneMediaController } from './media/media.controller.js';
import { DroneMediaService } from './media/media.service.js';
import { MediaUploadInterceptor } from './media/media-upload.receiver.js';
import { DroneMqttAccessService } from './mqtt-access.service.js';
import { DroneMqttService } from './mqtt/drone-mqtt.service.js';
import { DroneTelemetryService } from './telemetry.service.js';
import { DroneWorkspace } from './workspace.entity.js';
import { DroneWorkspacesController } from './workspaces.controller.js';
import { DroneWorkspacesService } from './workspaces.service.js';

/** Drones: workspaces, pilot connections, devices, telemetry, flights and their media. */
@Module({
  imports: [
    TypeOrmModule.forFeature([DroneWorkspace, DroneConnection, DroneConnectionToken, DroneDevice, DroneFlight, DroneTrackPoint, DroneMedia]),
    HealthModule,
    PicturesModule,
    CatalogModule,
  ],
  controllers: [
    DroneWorkspacesController,
    ConnectionLinkController,
    DroneDevicesController,
    DroneFlightsController,
    DroneFlightTilesController,
    DroneEventsController,
    DjiDevicesController,
    DroneMediaController,
    DjiMediaController,
    DjiStorageController,
  ],
  providers: [
    DroneWorkspacesService,
    DroneConnectionsService,
    DroneAuthGuard,
    DroneEventsService,
    DroneTelemetryService,
    DroneDevicesService,
    DroneFlightsService,
    DroneMqttService,
    DroneMqttAccessService,
    DroneMediaService,
    FlightPictures,
    MediaUploadInterceptor,
    // The broker's accounts and ACLs are Sightline's to manage only with MQTT_DYNSEC (else the broker's own configuration decides).
    {
      provide: DRONE_MQTT_ACCESS,
      inject: [AppConfig, DroneMqttAccessService],
      useFactory: (config: AppConfig, access: DroneMqttAccessService) => (config.MQTT_DYNSEC ? access : null),
    },
  ],
  exports: [DroneWorkspacesService, DroneConnectionsService, DroneEventsService, DroneMqttAccessService, DroneMediaService],
})
export class DronesModule {}
