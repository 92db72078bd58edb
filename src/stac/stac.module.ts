import { Module } from '@nestjs/common';
import { CatalogModule } from '../catalog/catalog.module.js';
import { StacController } from './stac.controller.js';
import { StacService } from './stac.service.js';

/** The STAC API: HTTP, CQL2, queryables and rendering over the catalog's search. */
@Module({
  imports: [CatalogModule],
  controllers: [StacController],
  providers: [StacService],
})
export class StacModule {}
