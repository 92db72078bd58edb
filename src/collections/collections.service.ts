import { Injectable, NotFoundException } from '@nestjs/common';
import { InjectRepository } from '@nestjs/typeorm';
import { DeepPartial, EntityManager, In, Repository } from 'typeorm';
import { Collection } from './collection.entity.js';
import { CollectionsRepository } from './collections.repository.js';
import { Item } from './item.entity.js';

/**
 * The collections domain's service for other domains: upload sets, datasets and harvesters
 * create and update their collections and items through it, never through the tables.
 */
@Injectable()
export class CollectionsService {
  constructor(
    @InjectRepository(Collection) private readonly collections: Repository<Collection>,
    @InjectRepository(Item) private readonly items: Repository<Item>,
    private readonly repository: CollectionsRepository,
  ) {}

  private col(manager?: EntityManager) {
    return manager ? manager.getRepository(Collection) : this.collections;
  }

  private itm(manager?: EntityManager) {
    return manager ? manager.getRepository(Item) : this.items;
  }

  async createCollection(data: DeepPartial<Collection> & Pick<Collection, 'kind' | 'title'>, manager?: EntityManager): Promise<Collection> {
    return this.col(manager).save(this.col(manager).create(data));
  }

  findCollection(id: string, manager?: EntityManager): Promise<Collection | null> {
    return this.col(manager).findOneBy({ id });
  }

  async getCollection(id: string, manager?: EntityManager): Promise<Collection> {
    const collection = await this.findCollection(id, manager);
    if (!collection) throw new NotFoundException(`Collection ${id} not found`);
    return collection;
  }

  async updateCollection(id: string, patch: DeepPartial<Collection>, manager?: EntityManager): Promise<void> {
    await this.col(manager).update({ id }, patch as never);
  }

  /** Deletes a collection and (by cascade) its items; domain rows referencing them go with them or first. */
  async deleteCollection(id: string, manager?: EntityManager): Promise<void> {
    await this.col(manager).delete({ id });
  }

  async createItem(data: DeepPartial<Item> & Pick<Item, 'collectionId' | 'kind'>, manager?: EntityManager): Promise<Item> {
    return this.itm(manager).save(this.itm(manager).create(data));
  }

  findItem(id: string, manager?: EntityManager): Promise<Item | null> {
    return this.itm(manager).findOneBy({ id });
  }

  findItems(ids: string[], manager?: EntityManager): Promise<Item[]> {
    return ids.length ? this.itm(manager).findBy({ id: In(ids) }) : Promise.resolve([]);
  }

  async updateItem(id: string, patch: DeepPartial<Item>, manager?: EntityManager): Promise<void> {
    await this.itm(manager).update({ id }, patch as never);
  }

  async deleteItem(id: string, manager?: EntityManager): Promise<void> {
    await this.itm(manager).delete({ id });
  }

  findCollections(ids: string[], manager?: EntityManager): Promise<Collection[]> {
    return ids.length ? this.col(manager).findBy({ id: In(ids) }) : Promise.resolve([]);
  }

  /** Inserts many items at once (chunked), e.g. every picture of a new sequence in one transaction. */
  async createItems(data: (DeepPartial<Item> & Pick<Item, 'collectionId' | 'kind'>)[], manager?: EntityManager): Promise<void> {
    const repo = this.itm(manager);
    for (let i = 0; i < data.length; i += 500) {
      await repo.insert(data.slice(i, i + 500).map((d) => repo.create(d)) as never);
    }
  }

  /** Applies the same change to many items (chunked). */
  async updateItems(ids: string[], patch: DeepPartial<Item>, manager?: EntityManager): Promise<void> {
    for (let i = 0; i < ids.length; i += 1000) {
      await this.itm(manager).update({ id: In(ids.slice(i, i + 1000)) }, patch as never);
    }
  }

  /** Counts, temporal extent and footprint (bbox of the items, unless keepGeometry) from ready items. */
  refreshExtent(collectionId: string, options: { keepGeometry?: boolean } = {}, manager?: EntityManager): Promise<void> {
    return this.repository.refreshExtent(collectionId, options, manager);
  }
}
