import { Module } from '@nestjs/common';
import { DiscoveryModule } from '@nestjs/core';
import { TypeOrmModule } from '@nestjs/typeorm';
import { CatalogRepository } from './catalog.repository.js';
import { CatalogSearchService } from './catalog-search.service.js';
import { CatalogService } from './catalog.service.js';
import { Collection } from './collection.entity.js';
import { FilePurge } from './file-purge.entity.js';
import { FilePurgeProcessor } from './file-purge.processor.js';
import { Item } from './item.entity.js';

/**
 * The catalog: collections and items, the STAC content every source publishes (sequences of
 * pictures, datasets, harvested records…), their aggregates and the purge of their files.
 */
@Module({
  imports: [TypeOrmModule.forFeature([Collection, Item, FilePurge]), DiscoveryModule],
  providers: [CatalogService, CatalogRepository, CatalogSearchService, FilePurgeProcessor],
  exports: [CatalogService, CatalogSearchService],
})
export class CatalogModule {}
