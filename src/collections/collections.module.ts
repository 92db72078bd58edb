import { Module } from '@nestjs/common';
import { CatalogModule } from '../catalog/catalog.module.js';
import { CollectionEditingService } from './collection-editing.service.js';
import { CollectionsAdminController } from './collections-admin.controller.js';
import { CollectionsCommands } from './collections-commands.service.js';
import { CollectionsController } from './collections.controller.js';

/** The HTTP surface for editing collections and items (the catalog owns the rows). */
@Module({
  imports: [CatalogModule],
  controllers: [CollectionsController, CollectionsAdminController],
  providers: [CollectionEditingService, CollectionsCommands],
})
export class CollectionsModule {}
