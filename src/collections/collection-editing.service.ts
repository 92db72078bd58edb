import { BadRequestException, ForbiddenException, Injectable, NotFoundException } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource, EntityManager } from 'typeorm';
import type { AuthUser } from '../auth/auth.types.js';
import { canEdit, canSee } from '../auth/visibility.js';
import { AppConfig } from '../config/app-config.js';
import { point } from '../database/geometry.js';
import { CollectionDto, PatchCollectionDto, SORTBY_METHODS, toCollectionDto } from './collection.dto.js';
import { CatalogService, DESCRIPTION_GENERATED, HEADING_COMPUTED_PROPERTY, relativeHeadingOf, type CollectionPatch, type ItemPatch } from '../catalog/catalog.service.js';
import type { Collection, Item } from '../catalog/catalog.types.js';
import { canSeeItem } from '../catalog/item-visibility.js';
import { ItemDto, PatchItemDto, toItemDto } from './item.dto.js';

/**
 * What owners and admins do to their collections and items over HTTP: edit, re-sort, delete.
 * Every check reads the rows inside the transaction that changes them, with the collection
 * locked, so concurrent edits of one sequence apply one after the other.
 */
@Injectable()
export class CollectionEditingService {
  constructor(
    @InjectDataSource() private readonly db: DataSource,
    private readonly collections: CatalogService,
    private readonly config: AppConfig,
  ) {}

  /**
   * A transaction, retried a few times when PostgreSQL gives it up to a deadlock or a
   * serialization failure (another process, e.g. the pipeline, writing the same rows).
   */
  private async transaction<T>(work: (manager: EntityManager) => Promise<T>): Promise<T> {
    for (let attempt = 1; ; attempt++) {
      try {
        return await this.db.transaction(work);
      } catch (error) {
        const code = (error as { driverError?: { code?: string }; code?: string }).driverError?.code ?? (error as { code?: string }).code;
        if (attempt >= 3 || (code !== '40P01' && code !== '40001')) throw error;
      }
    }
  }

  /** The collection, locked, if the caller may see it (404 otherwise) and edit it (403 otherwise). */
  private async editableCollection(user: AuthUser, id: string, manager: EntityManager): Promise<Collection> {
    if (!(await this.collections.lockCollection(id, manager))) throw this.collectionNotFound(id);
    const collection = await this.collections.getCollection(id, manager);
    if (!canSee(user, collection)) throw this.collectionNotFound(id);
    if (!canEdit(user, collection)) throw new ForbiddenException('Only the owner of the collection or an administrator may change it');
    return collection;
  }

  private collectionNotFound(id: string): NotFoundException {
    return new NotFoundException(`Collection ${id} not found`);
  }

  async patchCollection(user: AuthUser, id: string, dto: PatchCollectionDto): Promise<CollectionDto> {
    if (Object.values(dto).every((v) => v === undefined)) {
      throw new BadRequestException('Nothing to change: give title, description, visibility, relative_heading, sortby, license or license_url');
    }
    const updated = await this.transaction(async (manager) => {
      const collection = await this.editableCollection(user, id, manager);
      const sequenceOnly = (['relative_heading', 'sortby'] as const).filter((k) => dto[k] !== undefined);
      if (sequenceOnly.length && !collection.ordered) {
        throw new BadRequestException({
          message: `${sequenceOnly.join(' and ')} apply to sequences only; this collection is a ${collection.kind}`,
          details: sequenceOnly.map((field) => ({ field, problems: ['only for collections whose items are ordered (sequences)'] })),
        });
      }
      const patch: CollectionPatch = {};
      if (dto.title !== undefined) patch.title = dto.title;
      if (dto.description !== undefined) patch.description = dto.description;
      if (dto.visibility !== undefined) patch.visibility = dto.visibility;
      const properties = { ...collection.properties };
      if (dto.relative_heading !== undefined) {
        if (dto.relative_heading === null) delete properties.relative_heading;
        else properties.relative_heading = dto.relative_heading;
      }
      const sortMethod = dto.sortby !== undefined ? SORTBY_METHODS[dto.sortby]! : undefined;
      if (sortMethod) properties.sort_method = sortMethod;
      if (dto.license !== undefined) {
        patch.license = dto.license;
        // The link of the previous license does not describe the new one.
        if (dto.license !== collection.license) delete properties.license_url;
      }
      // A description its owner writes is theirs: the pipeline stops rewriting it.
      if (dto.description !== undefined) delete properties[DESCRIPTION_GENERATED];
      if (dto.license_url === null) delete properties.license_url;
      else if (dto.license_url !== undefined) properties.license_url = dto.license_url;
      if (dto.relative_heading !== undefined || sortMethod || dto.license !== undefined || dto.license_url !== undefined || dto.description !== undefined) {
        patch.properties = properties;
      }
      await this.collections.updateCollection(id, patch, manager);

      if (sortMethod) await this.collections.resortItems(id, sortMethod, manager);
      if (typeof dto.relative_heading === 'number') {
        // An explicit relative heading describes how the camera was mounted: it holds for every picture.
        await this.collections.recomputeHeadings(id, { relativeHeading: dto.relative_heading, onlyComputed: false, headingForLonePicture: true }, manager);
      } else if (sortMethod) {
        const relativeHeading = relativeHeadingOf({ properties });
        await this.collections.recomputeHeadings(id, { relativeHeading, onlyComputed: true, headingForLonePicture: relativeHeading !== null }, manager);
      }
      // Aggregates count the items the collection's audience may see: a new visibility changes them.
      if (sortMethod || dto.visibility !== undefined) await this.collections.recomputeCollection(id, manager);
      return this.collections.getCollection(id, manager);
    });
    return toCollectionDto(updated, this.config.PUBLIC_URL);
  }

  async deleteCollection(user: AuthUser, id: string): Promise<void> {
    const { purgeId } = await this.transaction(async (manager) => {
      await this.editableCollection(user, id, manager);
      return this.collections.deleteCollectionWithFiles(id, manager);
    });
    await this.collections.schedulePurge(purgeId);
  }

  /** The item and its locked collection, if the caller may see both (404) and edit the item (403). */
  private async editableItem(user: AuthUser, collectionId: string, itemId: string, manager: EntityManager): Promise<{ item: Item; collection: Collection }> {
    if (!(await this.collections.lockCollection(collectionId, manager))) throw this.collectionNotFound(collectionId);
    const collection = await this.collections.getCollection(collectionId, manager);
    if (!canSee(user, collection)) throw this.collectionNotFound(collectionId);
    const item = await this.collections.findItem(itemId, manager);
    if (!item || item.collectionId !== collectionId || !canSeeItem(user, item, collection)) {
      throw new NotFoundException(`Item ${itemId} not found in collection ${collectionId}`);
    }
    if (!canEdit(user, item) && !canEdit(user, collection)) {
      throw new ForbiddenException('Only the owner of the item or of its collection, or an administrator, may change it');
    }
    return { item, collection };
  }

  async patchItem(user: AuthUser, collectionId: string, itemId: string, dto: PatchItemDto): Promise<ItemDto> {
    if (Object.values(dto).every((v) => v === undefined)) {
      throw new BadRequestException('Nothing to change: give heading, visibility, capture_time or position');
    }
    const updated = await this.transaction(async (manager) => {
      const { collection } = await this.editableItem(user, collectionId, itemId, manager);
      const patch: ItemPatch = {};
      if (dto.visibility !== undefined) patch.visibility = dto.visibility;
      if (dto.capture_time !== undefined) patch.datetime = new Date(dto.capture_time);
      if (dto.position !== undefined) patch.geometry = point(dto.position.coordinates[0]!, dto.position.coordinates[1]!);
      if (Object.keys(patch).length) await this.collections.updateItem(itemId, patch, manager);

      if (typeof dto.heading === 'number') {
        // A heading given by a person is the picture's own: later recomputations leave it.
        await this.collections.patchItemProperties(itemId, { 'view:azimuth': dto.heading % 360 }, [HEADING_COMPUTED_PROPERTY], manager);
      } else if (dto.heading === null) {
        await this.collections.patchItemProperties(itemId, { [HEADING_COMPUTED_PROPERTY]: true }, ['view:azimuth'], manager);
      }
      if (collection.ordered && (dto.heading === null || dto.position !== undefined)) {
        // A move changes the direction of travel around the picture: its neighbours' derived headings follow.
        const relativeHeading = relativeHeadingOf(collection);
        await this.collections.recomputeHeadings(collectionId, { relativeHeading, onlyComputed: true, headingForLonePicture: relativeHeading !== null }, manager);
      }
      if (dto.capture_time !== undefined || dto.position !== undefined || dto.visibility !== undefined) {
        await this.collections.recomputeCollection(collectionId, manager);
      }
      return (await this.collections.findItem(itemId, manager))!;
    });
    return toItemDto(updated, this.config.PUBLIC_URL);
  }

  async deleteItem(user: AuthUser, collectionId: string, itemId: string): Promise<void> {
    const { purgeId } = await this.transaction(async (manager) => {
      const { item } = await this.editableItem(user, collectionId, itemId, manager);
      return this.collections.deleteItemWithFiles(item, manager);
    });
    await this.collections.schedulePurge(purgeId);
  }
}
