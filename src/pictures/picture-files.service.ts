import { Injectable, NotFoundException } from '@nestjs/common';
import type { AuthUser } from '../auth/auth.types.js';
import { canEdit, Visibility } from '../auth/visibility.js';
import { pictureKey, pictureTileKey } from './picture-storage.js';
import { AppConfig } from '../config/app-config.js';
import { StorageService } from '../storage/storage.service.js';
import { StorageNotFoundError } from '../storage/storage.types.js';
import { CatalogService } from '../catalog/catalog.service.js';
import { canSeeItem } from '../catalog/item-visibility.js';
import { PicturesRepository } from './pictures.repository.js';
import { ServedFile, storedFileEtag } from '../common/stored-file-response.js';

export const PICTURE_VARIANTS = ['hd', 'sd', 'thumb'] as const;
export type PictureVariant = (typeof PICTURE_VARIANTS)[number];

/** Serves the files of pictures (derivatives, 360° tiles) to whoever may see the picture. */
@Injectable()
export class PictureFilesService {
  constructor(
    private readonly catalog: CatalogService,
    private readonly pictures: PicturesRepository,
    private readonly storage: StorageService,
    private readonly config: AppConfig,
  ) {}

  variant(user: AuthUser | undefined, id: string, variant: PictureVariant): Promise<ServedFile> {
    return this.file(user, id, pictureKey(id, variant), `No ${variant} file for picture ${id}`);
  }

  tile(user: AuthUser | undefined, id: string, col: number, row: number): Promise<ServedFile> {
    return this.file(user, id, pictureTileKey(id, col, row), `No tile ${col}_${row} for picture ${id}`);
  }

  /**
   * The caller must see the picture's item and its collection; a picture that is not ready yet
   * is shown only to those who may edit it. A picture not yet in a sequence (no item row) is
   * shown to administrators and to its owner. Anything else is a 404, like a picture that does
   * not exist.
   */
  private async file(user: AuthUser | undefined, id: string, key: string, missing: string): Promise<ServedFile> {
    const notFound = () => new NotFoundException(`Picture ${id} not found`);
    const item = await this.catalog.itemAccess(id);
    let isPublic = false;
    if (item) {
      const collection = { ownerId: item.collection_owner_id, visibility: item.collection_visibility };
      if (!canSeeItem(user, { ownerId: item.owner_id, visibility: item.visibility }, collection)) throw notFound();
      if (item.status !== 'ready' && !canEdit(user, { ownerId: item.owner_id }) && !canEdit(user, collection)) throw notFound();
      isPublic = item.status === 'ready' && item.visibility === Visibility.Anyone && item.collection_visibility === Visibility.Anyone;
    } else if (user?.role !== 'admin') {
      const picture = user ? await this.pictures.find(id) : null;
      if (!picture || !canEdit(user, picture)) throw notFound();
    }
    const stat = await this.storage.stat(key);
    if (!stat) throw new NotFoundException(missing);
    return {
      size: stat.size,
      modifiedAt: stat.modifiedAt,
      etag: storedFileEtag(stat.size, stat.modifiedAt),
      contentType: 'image/jpeg',
      // Restricted pictures are revalidated on every use, so a visibility change or a logout takes effect at once.
      cacheControl: isPublic ? `public, max-age=${this.config.PICTURE_CACHE_MAX_AGE_SECONDS}` : 'private, no-cache',
      headers: isPublic ? undefined : { Vary: 'Authorization, Cookie' },
      // Files everyone may see may come straight from the bucket (S3_PRESIGNED_REDIRECTS).
      redirect: isPublic && this.config.S3_PRESIGNED_REDIRECTS ? () => this.storage.presignedUrl(key, this.config.S3_PRESIGNED_TTL_SECONDS) : undefined,
      open: async (range) => {
        try {
          return await this.storage.get(key, range);
        } catch (error) {
          if (error instanceof StorageNotFoundError) throw new NotFoundException(missing);
          throw error;
        }
      },
    };
  }
}
