import { Module } from '@nestjs/common';
import { StacController } from './stac.controller.js';
import { StacRepository } from './stac.repository.js';
import { StacService } from './stac.service.js';

/** The STAC API: reads collections and items (owned by the collections domain) through its own SQL. */
@Module({
  controllers: [StacController],
  providers: [StacService, StacRepository],
})
export class StacModule {}
