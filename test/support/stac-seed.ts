import { randomUUID } from 'node:crypto';
import { Visibility } from '../../src/auth/visibility.js';
import type { Collection } from '../../src/catalog/collection.entity.js';
import { CatalogService } from '../../src/catalog/catalog.service.js';
import type { Item, ItemStatus } from '../../src/catalog/item.entity.js';
import type { TestApi } from './app.js';
import { createUser, type TestUser } from './auth.js';

/**
 * STAC test content, made through CatalogService (as the pipeline, datasets and
 * harvesters do). Every name carries a run tag so test files do not see each other's data.
 */
export interface StacWorld {
  tag: string;
  owner: TestUser;
  other: TestUser;
  admin: TestUser;
  /** Public sequence of 30 pictures along a street in Paris. */
  walk: Collection;
  walkItems: Item[];
  /** Picture of `walk` that only its owner sees. */
  privatePicture: Item;
  /** Picture of `walk` still being processed (never published). */
  pendingPicture: Item;
  /** Public dataset collection with 5 items near (100.5, 0.5). */
  datasets: Collection;
  datasetItems: Item[];
  /** Owner-only sequence. */
  hidden: Collection;
  hiddenItems: Item[];
  /** Sequence visible to logged-in users only. */
  members: Collection;
  membersItems: Item[];
  /** A collection still being prepared: not published. */
  preparing: Collection;
  /** A harvested collection whose item keeps absolute asset hrefs and its own extensions. */
  harvested: Collection;
  harvestedItem: Item;
}

const PICTURE_START = Date.parse('2021-06-01T10:00:00Z');

function pictureAssets(id: string) {
  return {
    hd: { href: `pictures/${id}/hd.jpg`, type: 'image/jpeg', roles: ['data'], title: 'Full resolution (blurred)' },
    sd: { href: `pictures/${id}/sd.jpg`, type: 'image/jpeg', roles: ['visual'], title: '2048 px wide' },
    thumb: { href: `pictures/${id}/thumb.jpg`, type: 'image/jpeg', roles: ['thumbnail'], title: 'Thumbnail' },
  };
}

async function sequence(
  svc: CatalogService,
  owner: TestUser,
  title: string,
  visibility: Visibility,
  count: number,
  origin: [number, number],
  options: { statusOf?: (rank: number) => string; visibilityOf?: (rank: number) => Visibility; startMs?: number } = {},
): Promise<{ collection: Collection; items: Item[] }> {
  const collection = await svc.createCollection({
    kind: 'sequence',
    extent: 'items-line',
    ordered: true,
    title,
    description: `Walk recorded for ${title}`,
    ownerId: owner.id,
    visibility,
    license: 'CC-BY-SA-4.0',
    keywords: ['street', 'walk'],
    providers: [{ name: 'Sightline tests', roles: ['producer', 'host'] }],
    properties: { upload_set_id: randomUUID(), relative_heading: 0, sort_method: 'time_asc' },
    summaries: { 'pers:interior_orientation': [{ camera_manufacturer: 'GoPro', camera_model: 'MAX' }] },
  });
  const items: Item[] = [];
  for (let rank = 1; rank <= count; rank++) {
    const id = randomUUID();
    const item = await svc.createItem({
      id,
      collectionId: collection.id,
      kind: 'picture',
      ownerId: owner.id,
      visibility: options.visibilityOf?.(rank) ?? visibility,
      status: (options.statusOf?.(rank) ?? 'ready') as ItemStatus,
      datetime: new Date((options.startMs ?? PICTURE_START) + rank * 10_000),
      geometry: { type: 'Point', coordinates: [Math.round((origin[0] + rank * 0.0001) * 1e7) / 1e7, Math.round((origin[1] + rank * 0.00005) * 1e7) / 1e7] },
      rank,
      properties: {
        'view:azimuth': (rank * 37) % 360,
        'pers:interior_orientation': { camera_manufacturer: 'GoPro', camera_model: 'MAX', focal_length: 3, field_of_view: 360 },
        // Not a field of the perspective-imagery extension: served as sightline:pitch.
        'pers:pitch': 2.5,
        'sightline:projection': 'equirectangular',
      },
      assets: pictureAssets(id),
    });
    items.push(item);
  }
  await svc.refreshExtent(collection.id);
  return { collection: (await svc.findCollection(collection.id))!, items };
}

export async function seedStacWorld(api: TestApi): Promise<StacWorld> {
  const svc = api.app.get(CatalogService);
  const tag = `t${Math.random().toString(36).slice(2, 8)}`;
  const [owner, other, admin] = await Promise.all([createUser(api, 'owner'), createUser(api, 'other'), createUser(api, 'admin', 'admin')]);

  const walk = await sequence(svc, owner, `Rue de la Paix ${tag}`, Visibility.Anyone, 30, [2.33, 48.86], {
    statusOf: (rank) => (rank === 7 ? 'pending' : 'ready'),
    visibilityOf: (rank) => (rank === 12 ? Visibility.OwnerOnly : Visibility.Anyone),
  });
  const hidden = await sequence(svc, owner, `Private garden ${tag}`, Visibility.OwnerOnly, 3, [2.2, 48.8]);
  const members = await sequence(svc, owner, `Members walk ${tag}`, Visibility.LoggedOnly, 3, [2.4, 48.9]);
  const preparing = await svc.createCollection({
    kind: 'sequence',
    extent: 'items-line',
    ordered: true,
    title: `Preparing ${tag}`,
    ownerId: owner.id,
    status: 'preparing',
    visibility: Visibility.Anyone,
  });
  await svc.createItem({
    collectionId: preparing.id,
    kind: 'picture',
    ownerId: owner.id,
    datetime: new Date(PICTURE_START),
    geometry: { type: 'Point', coordinates: [2.3, 48.8] },
    rank: 1,
    assets: pictureAssets(randomUUID()),
  });

  const datasets = await svc.createCollection({
    kind: 'dataset',
    extent: 'items-bbox',
    title: `Sentinel scenes ${tag}`,
    description: 'Raster datasets for filter tests',
    ownerId: admin.id,
    license: 'proprietary',
    keywords: ['raster', tag],
    properties: { license_url: 'https://example.org/license.html' },
    summaries: { 'eo:cloud_cover': { minimum: 0, maximum: 55 }, 'sightline:band_count': [3], platform: ['sentinel-2a', 'landsat-8'] },
  });
  const covers = [0, 5, 12, 55, null];
  const datasetItems: Item[] = [];
  for (const [i, cover] of covers.entries()) {
    const x = Math.round((100.2 + i * 0.15) * 1e6) / 1e6;
    const x1 = Math.round((x + 0.1) * 1e6) / 1e6;
    datasetItems.push(
      await svc.createItem({
        collectionId: datasets.id,
        kind: 'dataset',
        ownerId: admin.id,
        datetime: new Date(Date.parse('2021-04-08T04:39:23Z') + (i - 2) * 86_400_000),
        geometry: {
          type: 'Polygon',
          coordinates: [
            [
              [x, 0.2],
              [x1, 0.2],
              [x1, 0.6],
              [x, 0.6],
              [x, 0.2],
            ],
          ],
        },
        properties: {
          title: i === 0 ? `Clear scene ${tag}` : `Scene ${i} ${tag}`,
          ...(cover === null ? {} : { 'eo:cloud_cover': cover }),
          platform: i < 3 ? 'sentinel-2a' : 'landsat-8',
          mission: i < 3 ? 'sentinel-2' : 'landsat',
          instruments: i < 3 ? ['msi'] : ['oli', 'tirs'],
          gsd: 10 + i,
          'proj:code': 'EPSG:32631',
          'sightline:band_count': 3,
        },
        assets: {
          data: {
            href: `datasets/${tag}-${i}.tif`,
            type: 'image/tiff; application=geotiff; profile=cloud-optimized',
            roles: ['data'],
            'file:size': 1000 + i,
            'raster:bands': [{ data_type: 'uint8' }],
          },
          thumbnail: { href: `datasets/${tag}-${i}/thumbnail.png`, type: 'image/png', roles: ['thumbnail'] },
        },
      }),
    );
  }
  await svc.refreshExtent(datasets.id);

  const harvested = await svc.createCollection({
    kind: 'harvested',
    extent: 'declared',
    ownerId: null,
    title: `Harvested catalog ${tag}`,
    description: 'From a remote STAC API',
    license: 'CC0-1.0',
    properties: { source: 'https://remote.example.org/stac', 'sci:doi': '10.1000/xyz' },
  });
  const harvestedItem = await svc.createItem({
    collectionId: harvested.id,
    kind: 'harvested',
    ownerId: null,
    datetime: new Date('2019-05-05T05:05:05.123Z'),
    geometry: { type: 'Point', coordinates: [-3.5, 47.5] },
    properties: {
      title: `Remote item ${tag}`,
      stac_extensions: ['https://stac-extensions.github.io/view/v1.1.0/schema.json'],
      'view:sun_elevation': 35,
    },
    assets: { visual: { href: 'https://remote.example.org/data/visual.tif', type: 'image/tiff', roles: ['visual'] } },
  });
  await svc.refreshExtent(harvested.id);

  return {
    tag,
    owner,
    other,
    admin,
    walk: walk.collection,
    walkItems: walk.items,
    privatePicture: walk.items[11],
    pendingPicture: walk.items[6],
    datasets: (await svc.findCollection(datasets.id))!,
    datasetItems,
    hidden: hidden.collection,
    hiddenItems: hidden.items,
    members: members.collection,
    membersItems: members.items,
    preparing,
    harvested: (await svc.findCollection(harvested.id))!,
    harvestedItem,
  };
}
