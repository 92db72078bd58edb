import { Module } from '@nestjs/common';
import { MediaService } from './media.service.js';

/** Image decoding, derivatives and metadata: the only module that uses sharp and exifr. */
@Module({
  providers: [MediaService],
  exports: [MediaService],
})
export class MediaModule {}
