import { Module } from '@nestjs/common';
import { DiscoveryModule } from '@nestjs/core';
import { AuthModule } from '../auth/auth.module.js';
import { TypeOrmModule } from '@nestjs/typeorm';
import { CatalogModule } from '../catalog/catalog.module.js';
import { DatasetsModule } from '../datasets/datasets.module.js';
import { CswRegisterService } from './csw-register.service.js';
import { CswSearchController } from './csw-search.controller.js';
import { CswSearchService } from './csw-search.service.js';
import { HarvestSessionLog, HarvestSessionRecord } from './harvest-session-record.entity.js';
import { HarvestSession } from './harvest-session.entity.js';
import { HarvestableResource } from './harvestable-resource.entity.js';
import { HarvestedRecord, HarvestValidator } from './harvested-record.entity.js';
import { Harvester } from './harvester.entity.js';
import { HarvesterTypes } from './harvester-types.service.js';
import { HarvestRunner } from './harvest-runner.service.js';
import { HarvestSessionsRepository } from './harvest-sessions.repository.js';
import { HarvesterState } from './harvester-state.service.js';
import { HarvestersController, HarvestingSessionsController } from './harvesters.controller.js';
import { HarvestersProcessor } from './harvesters.processor.js';
import { HarvestersRepository } from './harvesters.repository.js';
import { HarvestersService } from './harvesters.service.js';
import { RemoteHttp } from './remote-http.js';
import { CswHarvesterType } from './types/csw/csw.harvester-type.js';
import { GeoNodeHarvesterType } from './types/geonode/geonode.type.js';
import { StacApiHarvesterType } from './types/stac-api/stac-api.type.js';
import { StaticStacHarvesterType } from './types/static-stac/static-stac.type.js';

/** Harvesters: remote catalogs (STAC APIs, static STAC catalogs, GeoNode, CSW) brought into the catalog. */
@Module({
  imports: [
    DiscoveryModule,
    AuthModule,
    CatalogModule,
    DatasetsModule,
    TypeOrmModule.forFeature([Harvester, HarvestableResource, HarvestedRecord, HarvestValidator, HarvestSession, HarvestSessionRecord, HarvestSessionLog]),
  ],
  controllers: [HarvestersController, HarvestingSessionsController, CswSearchController],
  providers: [
    RemoteHttp,
    HarvesterTypes,
    HarvestersRepository,
    HarvestSessionsRepository,
    HarvesterState,
    HarvestersService,
    HarvestRunner,
    HarvestersProcessor,
    // Harvester types
    StacApiHarvesterType,
    GeoNodeHarvesterType,
    StaticStacHarvesterType,
    CswHarvesterType,
    CswSearchService,
    CswRegisterService,
  ],
  exports: [HarvestersService],
})
export class HarvestersModule {}
