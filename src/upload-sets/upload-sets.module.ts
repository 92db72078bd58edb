import { Module } from '@nestjs/common';
import { TypeOrmModule } from '@nestjs/typeorm';
import { CatalogModule } from '../catalog/catalog.module.js';
import { PicturesModule } from '../pictures/pictures.module.js';
import { UploadFile } from './upload-file.entity.js';
import { UploadReceiver, UploadReceiverInterceptor } from './upload-receiver.js';
import { UploadSet } from './upload-set.entity.js';
import { UploadSetPictures } from './upload-set-pictures.js';
import { UploadSetProcessor } from './upload-set.processor.js';
import { UploadSetsController } from './upload-sets.controller.js';
import { UploadSetsReconciler } from './upload-sets.reconciler.js';
import { UploadSetsRepository } from './upload-sets.repository.js';
import { UploadSetsCommands } from './upload-sets-commands.service.js';
import { UploadSetsService } from './upload-sets.service.js';

/** Upload sets: receiving pictures into the picture pipeline, as batches cut into sequences. */
@Module({
  imports: [TypeOrmModule.forFeature([UploadSet, UploadFile]), PicturesModule, CatalogModule],
  providers: [UploadSetsRepository, UploadSetsService, UploadReceiver, UploadReceiverInterceptor, UploadSetProcessor, UploadSetsReconciler, UploadSetsCommands, UploadSetPictures],
  controllers: [UploadSetsController],
  exports: [UploadSetsService],
})
export class UploadSetsModule {}
