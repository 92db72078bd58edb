import { Module } from '@nestjs/common';
import { TypeOrmModule } from '@nestjs/typeorm';
import { DiscoveryModule } from '@nestjs/core';
import { CatalogModule } from '../catalog/catalog.module.js';
import { AppConfig } from '../config/app-config.js';
import { MediaModule } from '../media/media.module.js';
import { BlurProvider } from './blur/blur-provider.js';
import { HttpBlurProvider } from './blur/http.blur-provider.js';
import { NoneBlurProvider } from './blur/none.blur-provider.js';
import { Picture } from './picture.entity.js';
import { PictureFilesController } from './picture-files.controller.js';
import { PictureFilesService } from './picture-files.service.js';
import { PictureIntakeService } from './picture-intake.service.js';
import { PictureSources } from './picture-source.js';
import { PictureProcessor } from './picture.processor.js';
import { PicturesController } from './pictures.controller.js';
import { PicturesReconciler } from './pictures.reconciler.js';
import { PicturesRepository } from './pictures.repository.js';
import { PicturesCommands } from './pictures-commands.service.js';
import { PicturesService } from './pictures.service.js';
import { SequencesService } from './sequences.service.js';

function createBlurProvider(config: AppConfig): BlurProvider {
  switch (config.BLUR_PROVIDER) {
    case 'http':
      return new HttpBlurProvider({ url: config.BLUR_URL!, timeoutMs: config.BLUR_TIMEOUT_MS, retries: config.BLUR_RETRIES });
    case 'none':
      return new NoneBlurProvider();
  }
}

/**
 * Pictures and their pipeline, for every source of pictures (upload sets, drone flights…):
 * intake → blur → hd → derivatives → ready, then sequences published through the catalog.
 */
@Module({
  imports: [TypeOrmModule.forFeature([Picture]), MediaModule, CatalogModule, DiscoveryModule],
  providers: [
    { provide: BlurProvider, inject: [AppConfig], useFactory: createBlurProvider },
    PicturesRepository,
    PicturesService,
    PictureProcessor,
    PicturesReconciler,
    PicturesCommands,
    PictureSources,
    PictureIntakeService,
    SequencesService,
    PictureFilesService,
  ],
  controllers: [PicturesController, PictureFilesController],
  exports: [PicturesService, PictureIntakeService, SequencesService, BlurProvider],
})
export class PicturesModule {}
