import { Readable } from 'node:stream';
import type { Visibility } from '../../src/auth/visibility.js';
import type { Collection } from '../../src/catalog/collection.entity.js';
import { CatalogService } from '../../src/catalog/catalog.service.js';
import type { Item, ItemStatus } from '../../src/catalog/item.entity.js';
import { pictureKey, pictureTileKey } from '../../src/pictures/picture-storage.js';
import { point } from '../../src/database/geometry.js';
import { StorageService } from '../../src/storage/storage.service.js';
import type { TestApi } from './app.js';

export interface SeedPicture {
  lon: number;
  lat: number;
  /** Original file name (`original_file:name`). */
  name?: string;
  datetime?: Date;
  /** Heading from the camera (`view:azimuth`); absent = none. */
  heading?: number;
  visibility?: Visibility;
  status?: string;
}

export interface SeededSequence {
  collection: Collection;
  items: Item[];
}

/**
 * A sequence with its picture items, made through CatalogService the way the pipeline
 * makes them (ranks in the given order, assets as agreed), then its extent computed.
 */
export async function seedSequence(
  api: TestApi,
  options: { ownerId: string | null; title?: string; visibility?: Visibility; kind?: 'sequence' | 'dataset'; pictures: SeedPicture[] },
): Promise<SeededSequence> {
  const service = api.app.get(CatalogService);
  const collection = await service.createCollection({
    kind: options.kind ?? 'sequence',
    ...(options.kind === 'dataset' ? { extent: 'items-bbox' as const } : { extent: 'items-line' as const, ordered: true }),
    title: options.title ?? `sequence ${Math.random().toString(36).slice(2, 8)}`,
    ownerId: options.ownerId,
    visibility: options.visibility,
    properties: { sort_method: 'time_asc' },
  });
  const items: Item[] = [];
  for (const [i, p] of options.pictures.entries()) {
    const properties: Record<string, unknown> = {};
    if (p.name) properties['original_file:name'] = p.name;
    if (p.heading !== undefined) properties['view:azimuth'] = p.heading;
    const item = await service.createItem({
      collectionId: collection.id,
      kind: options.kind === 'dataset' ? 'dataset' : 'picture',
      ownerId: options.ownerId,
      visibility: p.visibility,
      status: (p.status ?? 'ready') as ItemStatus,
      rank: i + 1,
      datetime: p.datetime ?? new Date(Date.UTC(2024, 4, 1, 10, 0, i * 10)),
      geometry: point(p.lon, p.lat),
      properties,
    });
    await service.updateItem(item.id, { assets: pictureAssets(item.id) });
    items.push((await service.findItem(item.id))!);
  }
  await service.recomputeCollection(collection.id);
  return { collection: (await service.findCollection(collection.id))!, items };
}

export function pictureAssets(id: string): Record<string, Record<string, unknown>> {
  return {
    hd: { href: `pictures/${id}/hd.jpg`, type: 'image/jpeg', roles: ['data'], title: 'Full resolution' },
    sd: { href: `pictures/${id}/sd.jpg`, type: 'image/jpeg', roles: ['visual'] },
    thumb: { href: `pictures/${id}/thumb.jpg`, type: 'image/jpeg', roles: ['thumbnail'] },
  };
}

/** Stores distinct bytes for each file of a picture (and two 360° tiles); returns them by name. */
export async function seedPictureFiles(api: TestApi, id: string, size = 5000): Promise<Record<string, Buffer>> {
  const storage = api.app.get(StorageService);
  const files: Record<string, Buffer> = {};
  const keys: Record<string, string> = {
    hd: pictureKey(id, 'hd'),
    sd: pictureKey(id, 'sd'),
    thumb: pictureKey(id, 'thumb'),
    '0_0': pictureTileKey(id, 0, 0),
    '1_0': pictureTileKey(id, 1, 0),
  };
  for (const [name, key] of Object.entries(keys)) {
    const bytes = Buffer.alloc(size);
    // JPEG start and end markers around bytes that differ per file.
    for (let i = 0; i < size; i++) bytes[i] = (i * 31 + name.charCodeAt(0) * 7) & 0xff;
    bytes[0] = 0xff;
    bytes[1] = 0xd8;
    bytes[size - 2] = 0xff;
    bytes[size - 1] = 0xd9;
    await storage.put(key, Readable.from([bytes]));
    files[name] = bytes;
  }
  return files;
}

/** A spot on Earth no other test is likely to use, so tiles and counts there are this test's alone. */
export function randomSpot(): { lon: number; lat: number } {
  return { lon: -170 + Math.random() * 340, lat: -55 + Math.random() * 110 };
}

/** `n` points going north from a spot, `stepDeg` apart. */
export function pointsNorth(spot: { lon: number; lat: number }, n: number, stepDeg = 0.0002): { lon: number; lat: number }[] {
  return Array.from({ length: n }, (_, i) => ({ lon: spot.lon, lat: spot.lat + i * stepDeg }));
}
