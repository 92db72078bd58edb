import { Module } from '@nestjs/common';
import { DiscoveryModule } from '@nestjs/core';
import { TypeOrmModule } from '@nestjs/typeorm';
import { CatalogModule } from '../catalog/catalog.module.js';
import { HarvestSessionLog, HarvestSessionRecord } from './harvest-session-record.entity.js';
import { HarvestSession } from './harvest-session.entity.js';
import { HarvestableResource } from './harvestable-resource.entity.js';
import { HarvestedRecord, HarvestValidator } from './harvested-record.entity.js';
import { Harvester } from './harvester.entity.js';
import { HarvesterTypes } from './harvester-types.service.js';
import { RemoteHttp } from './remote-http.js';

/** Harvesters: remote catalogs (STAC APIs, static STAC catalogs, GeoNode, CSW) brought into the catalog. */
@Module({
  imports: [
    DiscoveryModule,
    CatalogModule,
    TypeOrmModule.forFeature([Harvester, HarvestableResource, HarvestedRecord, HarvestValidator, HarvestSession, HarvestSessionRecord, HarvestSessionLog]),
  ],
  controllers: [],
  providers: [RemoteHttp, HarvesterTypes],
  exports: [],
})
export class HarvestersModule {}
