import { Module } from '@nestjs/common';
import { TypeOrmModule } from '@nestjs/typeorm';
import { MapGridCell, MapGridDirtyCell } from './map-grid.entity.js';
import { MapGridProcessor } from './map-grid.processor.js';
import { MapController } from './map.controller.js';
import { MapRepository } from './map.repository.js';
import { MapService } from './map.service.js';

/** Vector tiles and the map style, read from the collections domain's tables. */
@Module({
  imports: [TypeOrmModule.forFeature([MapGridCell, MapGridDirtyCell])],
  controllers: [MapController],
  providers: [MapService, MapRepository, MapGridProcessor],
  exports: [MapRepository],
})
export class MapModule {}
