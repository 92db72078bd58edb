import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { Injectable, Module } from '@nestjs/common';
import type { EntityManager } from 'typeorm';
import type pg from 'pg';
import { Visibility } from '../../src/auth/visibility.js';
import { CatalogModule } from '../../src/catalog/catalog.module.js';
import { ItemSource, type CatalogSource, type ItemsRemovedEvent, type RemovedFiles } from '../../src/catalog/catalog-source.js';
import { CatalogService } from '../../src/catalog/catalog.service.js';
import { startApi, type TestApi } from '../support/app.js';
import { createUser, type TestUser } from '../support/auth.js';
import { testPool } from '../support/db.js';
import { json } from '../support/net.js';

/**
 * A source of items the catalog has never heard of (survey points of a hydrographic survey),
 * defined only here: it declares its kinds and what to do when its items go. Nothing in the
 * catalog or the STAC API knows it; everything below comes from what it stored.
 */
@Injectable()
@ItemSource()
class SurveySource implements CatalogSource {
  readonly itemKinds = ['survey-point'];
  readonly collectionKinds = ['survey'];
  readonly removed: ItemsRemovedEvent[] = [];

  async onItemsRemoved(event: ItemsRemovedEvent, manager: EntityManager): Promise<RemovedFiles> {
    // Runs inside the deleting transaction: the items are still there.
    const [row] = await manager.query(`SELECT count(*)::int AS n FROM item WHERE id = ANY($1::uuid[])`, [event.itemIds]);
    assert.equal(row.n, event.itemIds.length);
    this.removed.push(event);
    return { prefixes: [`surveys/${event.collectionId}/soundings/`] };
  }
}

@Module({ imports: [CatalogModule], providers: [SurveySource] })
class SurveyModule {}

const SURVEY_EXTENSION = 'https://example.org/stac/survey/v1.0.0/schema.json';

describe('a new item source through the catalog service', () => {
  let api: TestApi;
  let owner: TestUser;
  let db: pg.Pool;
  let catalog: CatalogService;
  let collectionId: string;
  let itemIds: string[];
  const west = -20 + Math.random() * 40;
  const south = -40 + Math.random() * 40;
  // The area the remote survey declares: larger than where its three published points lie.
  const declared = {
    type: 'Polygon' as const,
    coordinates: [
      [
        [west, south],
        [west + 1, south],
        [west + 1, south + 1],
        [west, south + 1],
        [west, south],
      ],
    ],
  };

  before(async () => {
    api = await startApi({ env: { LOG_LEVEL: 'error' }, extraModules: [SurveyModule] });
    owner = await createUser(api, 'surveyor');
    db = testPool();
    catalog = api.app.get(CatalogService);
    const collection = await catalog.createCollection({
      kind: 'survey',
      extent: 'declared',
      title: `Harbour survey ${Math.random().toString(36).slice(2, 8)}`,
      description: 'Soundings of the harbour entrance',
      ownerId: owner.id,
      visibility: Visibility.Anyone,
      license: 'CC-BY-4.0',
      keywords: ['bathymetry'],
      geometry: declared,
      datetimeStart: new Date('2023-06-01T00:00:00Z'),
      datetimeEnd: new Date('2023-06-30T00:00:00Z'),
    });
    collectionId = collection.id;
    itemIds = [];
    for (let i = 0; i < 3; i++) {
      const item = await catalog.createItem({
        collectionId,
        kind: 'survey-point',
        ownerId: owner.id,
        status: 'ready',
        datetime: new Date(Date.UTC(2023, 5, 10 + i, 12)),
        geometry: { type: 'Point', coordinates: [west + 0.4 + i * 0.01, south + 0.4] },
        properties: { title: `Sounding ${i + 1}`, platform: 'survey launch' },
        assets: { data: { href: `https://survey.example.org/soundings/${i + 1}.xyz`, type: 'text/plain', roles: ['data'] } },
        links: [{ rel: 'via', href: `https://survey.example.org/soundings/${i + 1}`, type: 'text/html', title: 'At the surveyor' }],
        extensions: [SURVEY_EXTENSION],
      });
      itemIds.push(item.id);
    }
    await catalog.recomputeCollection(collectionId);
  });
  after(async () => {
    await db?.end();
    await api?.close();
  });

  it('publishes the items in /api/search and /api/collections/{id}/items, with their stored links and extensions', async () => {
    const search = await json(await api.fetch(`/api/search?collections=${collectionId}&limit=10`));
    assert.deepEqual(search.features.map((f: { id: string }) => f.id).sort(), [...itemIds].sort());
    const items = await json(await api.fetch(`/api/collections/${collectionId}/items?limit=10`));
    assert.equal(items.features.length, 3);
    for (const feature of items.features) {
      const via = feature.links.find((l: { rel: string }) => l.rel === 'via');
      assert.match(via?.href ?? '', /^https:\/\/survey\.example\.org\/soundings\/\d$/);
      assert.ok(feature.stac_extensions.includes(SURVEY_EXTENSION), JSON.stringify(feature.stac_extensions));
      // Unordered items: no prev / next.
      assert.equal(
        feature.links.some((l: { rel: string }) => l.rel === 'prev' || l.rel === 'next'),
        false,
      );
    }
  });

  it('filters on its kind, which the queryables list', async () => {
    const filter = new URLSearchParams({ collections: collectionId, filter: "sightline:kind = 'survey-point'", limit: '10' });
    assert.equal((await json(await api.fetch(`/api/search?${filter}`))).features.length, 3);
    const none = new URLSearchParams({ collections: collectionId, filter: "sightline:kind = 'picture'" });
    assert.equal((await json(await api.fetch(`/api/search?${none}`))).features.length, 0);

    const queryables = await json(await api.fetch('/api/queryables'));
    assert.ok(queryables.properties['sightline:kind'].enum.includes('survey-point'), JSON.stringify(queryables.properties['sightline:kind']));
    assert.ok(queryables.properties['sightline:kind'].enum.includes('picture'));
    const ofCollection = await json(await api.fetch(`/api/collections/${collectionId}/queryables`));
    assert.ok(ofCollection.properties['sightline:kind'].enum.includes('survey-point'));
    const collectionQueryables = await json(await api.fetch('/api/collections-queryables'));
    assert.ok(collectionQueryables.properties['sightline:kind'].enum.includes('survey'));
    const surveys = await json(await api.fetch(`/api/collections?${new URLSearchParams({ filter: "sightline:kind = 'survey'", limit: '100' })}`));
    assert.ok(surveys.collections.some((c: { id: string }) => c.id === collectionId));
  });

  it('keeps the extent the source declared, and counts the published items', async () => {
    const collection = await json(await api.fetch(`/api/collections/${collectionId}`));
    assert.equal(collection['sightline:kind'], 'survey');
    assert.deepEqual(
      collection.extent.spatial.bbox[0].map((v: number) => Math.round(v * 1e6) / 1e6),
      [west, south, west + 1, south + 1].map((v) => Math.round(v * 1e6) / 1e6),
    );
    assert.deepEqual(collection.extent.temporal.interval[0], ['2023-06-01T00:00:00Z', '2023-06-30T00:00:00Z']);
    assert.equal((await catalog.findCollection(collectionId))?.itemCount, 3);
  });

  it('asks the source to clean up when its owner deletes the collection, and purges what it names', async () => {
    const res = await api.fetch(`/api/collections/${collectionId}`, { method: 'DELETE', headers: owner.headers });
    assert.equal(res.status, 204);
    const event = SURVEY_SOURCE(api).removed.find((e) => e.collectionId === collectionId);
    assert.ok(event, 'the source heard of the removal');
    assert.equal(event.collectionDeleted, true);
    assert.deepEqual([...event.itemIds].sort(), [...itemIds].sort());
    const { rows } = await db.query(`SELECT prefixes FROM file_purge WHERE reason = $1`, [`collection ${collectionId} deleted`]);
    assert.deepEqual(rows[0]?.prefixes, [`surveys/${collectionId}/soundings/`]);
    assert.equal((await api.fetch(`/api/collections/${collectionId}`)).status, 404);
  });
});

const SURVEY_SOURCE = (api: TestApi) => api.app.get(SurveySource);
