/** The pictures' rows as other domains read them (returned by PicturesService); written only through the pictures' services. */
export type { Picture, PictureStatus } from './picture.entity.js';
export type { PictureStatusCounts } from './pictures.repository.js';
