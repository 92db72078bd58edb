import { CollectionsCommands } from './collections-commands.service.js';
import { Module } from '@nestjs/common';
import { TypeOrmModule } from '@nestjs/typeorm';
import { CollectionEditingService } from './collection-editing.service.js';
import { Collection } from './collection.entity.js';
import { CollectionsAdminController } from './collections-admin.controller.js';
import { CollectionsController } from './collections.controller.js';
import { CollectionsRepository } from './collections.repository.js';
import { CollectionsService } from './collections.service.js';
import { FilePurge } from './file-purge.entity.js';
import { FilePurgeProcessor } from './file-purge.processor.js';
import { Item } from './item.entity.js';
import { PictureFilesController } from './picture-files.controller.js';
import { PictureFilesService } from './picture-files.service.js';

@Module({
  imports: [TypeOrmModule.forFeature([Collection, Item, FilePurge])],
  controllers: [CollectionsController, CollectionsAdminController, PictureFilesController],
  providers: [CollectionsService, CollectionsRepository, CollectionEditingService, PictureFilesService, FilePurgeProcessor, CollectionsCommands],
  exports: [CollectionsService, PictureFilesService],
})
export class CollectionsModule {}
