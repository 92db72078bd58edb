import { Module } from '@nestjs/common';
import { CatalogModule } from '../catalog/catalog.module.js';
import { StacController } from './stac.controller.js';
import { StacRepository } from './stac.repository.js';
import { StacService } from './stac.service.js';

/** The STAC API: reads the catalog's collections and items through its own read-only SQL. */
@Module({
  imports: [CatalogModule],
  controllers: [StacController],
  providers: [StacService, StacRepository],
})
export class StacModule {}
