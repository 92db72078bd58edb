import { Module } from '@nestjs/common';
import { TypeOrmModule } from '@nestjs/typeorm';
import { CollectionsModule } from '../collections/collections.module.js';
import { AppConfig } from '../config/app-config.js';
import { MediaModule } from '../media/media.module.js';
import { BlurProvider } from './blur/blur-provider.js';
import { HttpBlurProvider } from './blur/http.blur-provider.js';
import { NoneBlurProvider } from './blur/none.blur-provider.js';
import { Picture } from './picture.entity.js';
import { PictureProcessor } from './picture.processor.js';
import { PicturesController } from './pictures.controller.js';
import { PicturesReconciler } from './pictures.reconciler.js';
import { PicturesRepository } from './pictures.repository.js';
import { PicturesCommands } from './pictures-commands.service.js';
import { PicturesService } from './pictures.service.js';

function createBlurProvider(config: AppConfig): BlurProvider {
  switch (config.BLUR_PROVIDER) {
    case 'http':
      return new HttpBlurProvider({ url: config.BLUR_URL!, timeoutMs: config.BLUR_TIMEOUT_MS, retries: config.BLUR_RETRIES });
    case 'none':
      return new NoneBlurProvider();
  }
}

/** Pictures and their processing pipeline (blur → hd → derivatives → ready). */
@Module({
  imports: [TypeOrmModule.forFeature([Picture]), MediaModule, CollectionsModule],
  providers: [
    { provide: BlurProvider, inject: [AppConfig], useFactory: createBlurProvider },
    PicturesRepository,
    PicturesService,
    PictureProcessor,
    PicturesReconciler,
    PicturesCommands,
  ],
  controllers: [PicturesController],
  exports: [PicturesRepository, PicturesService, BlurProvider],
})
export class PicturesModule {}
