import { Module } from '@nestjs/common';
import { TypeOrmModule } from '@nestjs/typeorm';
import { CollectionsModule } from '../collections/collections.module.js';
import { MediaModule } from '../media/media.module.js';
import { PicturesModule } from '../pictures/pictures.module.js';
import { UploadFile } from './upload-file.entity.js';
import { UploadReceiver } from './upload-receiver.js';
import { UploadSet } from './upload-set.entity.js';
import { UploadSetProcessor } from './upload-set.processor.js';
import { UploadSetsController } from './upload-sets.controller.js';
import { UploadSetsReconciler } from './upload-sets.reconciler.js';
import { UploadSetsRepository } from './upload-sets.repository.js';
import { UploadSetsCommands } from './upload-sets-commands.service.js';
import { UploadSetsService } from './upload-sets.service.js';

/** Upload sets: receiving pictures, dispatching them into sequences, finalising those. */
@Module({
  imports: [TypeOrmModule.forFeature([UploadSet, UploadFile]), PicturesModule, MediaModule, CollectionsModule],
  providers: [UploadSetsRepository, UploadSetsService, UploadReceiver, UploadSetProcessor, UploadSetsReconciler, UploadSetsCommands],
  controllers: [UploadSetsController],
  exports: [UploadSetsService],
})
export class UploadSetsModule {}
