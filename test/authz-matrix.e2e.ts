/**
 * Authorization matrix: content visibility (collection level and item level) × caller
 * (anonymous, owner, another user, admin) × every route that reads or changes that content.
 * Expected rule: anonymous callers see `anyone`; logged-in users `anyone` and `logged-only`;
 * `owner-only` is for its owner and admins; an item shows only when both it and its collection
 * may be seen. A collection's aggregates (count, extent, interval, line) are the same for every
 * caller: they come from the items its whole audience may see (an item no more hidden than its
 * collection), so they never show an item the caller may not see. Search counts are per caller. Each test runs one area's cells
 * and, on failure, lists every cell that does not hold.
 */
import { existsSync } from 'node:fs';
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { writeTiff } from '../scripts/bench/datasets-tiff-writer.js';
import { syntheticJpeg } from '../scripts/bench/ingest-images.js';
import type { AuthUser } from '../src/auth/auth.types.js';
import type { Visibility } from '../src/auth/visibility.js';
import { CatalogService } from '../src/catalog/catalog.service.js';
import { DatasetIngestService } from '../src/datasets/dataset-ingest.service.js';
import { DatasetsService } from '../src/datasets/datasets.service.js';
import { MapGridProcessor } from '../src/map/map-grid.processor.js';
import { JobQueueService } from '../src/queue/job-queue.service.js';
import { JobName } from '../src/queue/queue.constants.js';
import { UploadSetProcessor } from '../src/upload-sets/upload-set.processor.js';
import { tileOf as rasterTileOf, upload as uploadDataset } from './datasets-support.js';
import { startApi, type TestApi } from './support/app.js';
import { createUser, type TestUser } from './support/auth.js';
import {
  aggregateOf,
  aggregateText,
  assertCells,
  AuthzMatrix,
  byStatus,
  type Caller,
  CALLERS,
  type CellResult,
  distanceToLine,
  mayEdit,
  names,
  type Outcome,
  sameAggregate,
  sameSet,
  sees,
  statedAggregate,
  statusText,
  tileUnits,
  type Vis,
  writeStatuses,
} from './support/authz-matrix.js';
import { randomSpot, seedPictureFiles, seedSequence } from './support/collections-seed.js';
import { decodeMvt, lineParts, type MvtLayer, tileOf, vertices } from './support/mvt.js';
import { json } from './support/net.js';
import { createUploadSet, uploadPicture } from './upload-support.js';
import { inProcessJobContext } from './support/jobs.js';

/** A word in every title of this file's content, so searches find only it. */
const TOKEN = `authz${Math.random().toString(36).slice(2, 8)}`;
const PICTURE_BYTES = 5000;
/** Tile units (zoom 14, 4096 per tile) within which a line "passes through" a picture: about 2 m. */
const ON_LINE = 4;

interface PictureSpec {
  key: string;
  dlon: number;
  dlat: number;
  visibility: Vis;
  datetime: string;
}

/**
 * Three sequences around one spot. `public` is a public sequence whose first and middle
 * pictures are hidden (off the path, earliest and latest in time), so its count, extent,
 * interval, thumbnail and line differ for each kind of caller.
 */
const SEQUENCES: { key: string; visibility: Vis; pictures: PictureSpec[] }[] = [
  {
    key: 'seq-public',
    visibility: 'anyone',
    pictures: [
      { key: 'p1', dlon: -0.002, dlat: -0.004, visibility: 'logged-only', datetime: '2023-06-01T00:00:00Z' },
      { key: 'p2', dlon: 0, dlat: -0.0035, visibility: 'anyone', datetime: '2024-05-01T10:00:10Z' },
      { key: 'p3', dlon: 0.002, dlat: -0.003, visibility: 'owner-only', datetime: '2025-06-01T00:00:00Z' },
      { key: 'p4', dlon: 0, dlat: -0.0025, visibility: 'anyone', datetime: '2024-05-01T10:00:30Z' },
      { key: 'p5', dlon: 0, dlat: -0.002, visibility: 'anyone', datetime: '2024-05-01T10:00:40Z' },
    ],
  },
  {
    key: 'seq-logged',
    visibility: 'logged-only',
    pictures: [
      { key: 'l1', dlon: 0.004, dlat: 0, visibility: 'anyone', datetime: '2024-05-02T10:00:00Z' },
      { key: 'l2', dlon: 0.004, dlat: 0.0005, visibility: 'anyone', datetime: '2024-05-02T10:00:10Z' },
    ],
  },
  {
    key: 'seq-private',
    visibility: 'owner-only',
    pictures: [
      { key: 'o1', dlon: -0.004, dlat: 0.002, visibility: 'anyone', datetime: '2024-05-03T10:00:00Z' },
      { key: 'o2', dlon: -0.004, dlat: 0.0025, visibility: 'anyone', datetime: '2024-05-03T10:00:10Z' },
    ],
  },
];

/** Datasets of the owner: three visibilities in a public collection, and a public one in a collection the owner then hides. */
const DATASETS: { key: string; visibility: Vis; collection: 'rasters' | 'hidden-rasters'; dlon: number; tiffTime: string; seed: number }[] = [
  { key: 'd-any', visibility: 'anyone', collection: 'rasters', dlon: 0.1, tiffTime: '2021:01:01 00:00:00', seed: 11 },
  { key: 'd-logged', visibility: 'logged-only', collection: 'rasters', dlon: 0.12, tiffTime: '2021:06:01 00:00:00', seed: 12 },
  { key: 'd-owner', visibility: 'owner-only', collection: 'rasters', dlon: 0.14, tiffTime: '2022:01:01 00:00:00', seed: 13 },
  { key: 'd-in-hidden', visibility: 'anyone', collection: 'hidden-rasters', dlon: 0.16, tiffTime: '2021:03:01 00:00:00', seed: 14 },
];
const DATASET_PIXELS = 64;
const DATASET_STEP = 0.0001;

/** Something published as a STAC item: a picture or a dataset. */
interface Thing {
  key: string;
  id: string;
  visibility: Vis;
  bbox: [number, number, number, number];
  time: number;
}

interface Coll {
  key: string;
  id: string;
  kind: 'sequence' | 'dataset';
  visibility: Vis;
  items: Thing[];
}

interface Picture extends Thing {
  lon: number;
  lat: number;
  collection: Coll;
}

interface Raster extends Thing {
  collection: Coll;
  /** A point inside it, and the zoom-14 tile holding that point. */
  centre: [number, number];
  tile: [number, number];
}

/** A random spot snapped to the centre of its zoom-14 tile, away from the poles, so every picture here is in one tile. */
function matrixSpot(): { lon: number; lat: number } {
  const lon = -150 + Math.random() * 300;
  const lat = -40 + Math.random() * 80;
  const t = tileOf(lon, lat, 14);
  const n = 2 ** 14;
  return {
    lon: ((t.x + 0.5) / n) * 360 - 180,
    lat: (Math.atan(Math.sinh(Math.PI * (1 - (2 * (t.y + 0.5)) / n))) * 180) / Math.PI,
  };
}

const itemVisible = (caller: Caller, item: Thing, collection: Coll) => sees(caller, item.visibility) && sees(caller, collection.visibility);
const itemPublic = (item: Thing, collection: Coll) => item.visibility === 'anyone' && collection.visibility === 'anyone';

describe('authorization matrix: visibility × caller × route', () => {
  let api: TestApi;
  let owner: TestUser;
  let other: TestUser;
  let admin: TestUser;
  let users: Record<Caller, TestUser | undefined>;
  let root: string;
  let scratch: string;
  const spot = matrixSpot();
  const matrix = new AuthzMatrix();
  const collections: Coll[] = [];
  const pictures: Picture[] = [];
  const rasters: Raster[] = [];
  const keyOf = new Map<string, string>();
  const cleanup: { uploadSets: { id: string; user: TestUser }[]; pictureIds: string[]; datasetIds: string[] } = { uploadSets: [], pictureIds: [], datasetIds: [] };

  // ---- requests --------------------------------------------------------------------------

  const headersOf = (caller: Caller): Record<string, string> => users[caller]?.headers ?? {};
  const call = (caller: Caller, url: string, init: RequestInit = {}) =>
    api.fetch(url, { ...init, headers: { ...((init.headers as Record<string, string>) ?? {}), ...headersOf(caller) } });
  const send = (caller: Caller, url: string, body: unknown, method = 'POST') =>
    call(caller, url, { method, headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  const read = async (res: Response): Promise<{ status: number; headers: Headers; body: any }> => {
    const text = await res.text();
    let body: unknown = text;
    try {
      body = text ? JSON.parse(text) : undefined;
    } catch {
      // not JSON: keep the text
    }
    return { status: res.status, headers: res.headers, body };
  };
  const named = (ids: Iterable<string>) => names([...ids].map((id) => keyOf.get(id) ?? id.slice(0, 8)));
  const visibleItems = (caller: Caller, c: Coll) => (sees(caller, c.visibility) ? c.items.filter((i) => sees(caller, i.visibility)) : []);
  const RANK: Record<string, number> = { anyone: 0, 'logged-only': 1, 'owner-only': 2 };
  /** The items a collection's aggregates are made of: those its whole audience may see. */
  const audienceItems = (c: Coll) => c.items.filter((i) => RANK[i.visibility]! <= RANK[c.visibility]!);
  const setupOf = (c: Coll, item?: Thing) => `collection ${c.key} (${c.visibility})${item ? ` / item ${item.key} (${item.visibility})` : ''}`;

  const ingest = async (id: string) => {
    cleanup.datasetIds.push(id);
    const result = await api.app.get(DatasetIngestService).ingest({ datasetId: id, revision: 1 }, inProcessJobContext());
    // The job the registration queued would find nothing left to do; remove it anyway.
    await api.app.get(JobQueueService).remove(JobName.DatasetIngest, { datasetId: id, revision: 1 });
    return result;
  };
  const tiff = (file: string, lon0: number, lat0: number, seed: number, time = '2020:01:01 00:00:00') =>
    writeTiff(file, {
      width: DATASET_PIXELS,
      height: DATASET_PIXELS,
      bands: 1,
      dataType: 'uint8',
      geo: { epsg: 4326, geographic: true, transform: [DATASET_STEP, 0, lon0, 0, -DATASET_STEP, lat0] },
      datetime: time,
      pixel: (_b, c, r) => 1 + ((c * 3 + r * 5 + seed * 17) % 250),
    });
  const authUser = (user: TestUser): AuthUser => ({ id: user.id, name: user.name, role: user.role, via: 'api-token' });

  // ---- fixtures --------------------------------------------------------------------------

  before(async () => {
    root = await fs.mkdtemp(path.join(os.tmpdir(), 'authz-roots-'));
    scratch = await fs.mkdtemp(path.join(os.tmpdir(), 'authz-scratch-'));
    api = await startApi({ env: { DATASET_ROOTS: root, LOG_LEVEL: 'error' } });
    [owner, other, admin] = await Promise.all([createUser(api, 'owner'), createUser(api, 'other'), createUser(api, 'admin', 'admin')]);
    users = { anonymous: undefined, owner, other, admin };

    for (const s of SEQUENCES) {
      const seeded = await seedSequence(api, {
        ownerId: owner.id,
        title: `${TOKEN} ${s.key} sequence`,
        visibility: s.visibility as Visibility,
        pictures: s.pictures.map((p) => ({
          lon: spot.lon + p.dlon,
          lat: spot.lat + p.dlat,
          datetime: new Date(p.datetime),
          visibility: p.visibility as Visibility,
          heading: 0,
          name: `${p.key}.jpg`,
        })),
      });
      const coll: Coll = { key: s.key, id: seeded.collection.id, kind: 'sequence', visibility: s.visibility, items: [] };
      keyOf.set(coll.id, coll.key);
      for (const [i, p] of s.pictures.entries()) {
        const id = seeded.items[i]!.id;
        const lon = spot.lon + p.dlon;
        const lat = spot.lat + p.dlat;
        const picture: Picture = { key: p.key, id, visibility: p.visibility, bbox: [lon, lat, lon, lat], time: Date.parse(p.datetime), lon, lat, collection: coll };
        await seedPictureFiles(api, id, PICTURE_BYTES);
        coll.items.push(picture);
        pictures.push(picture);
        keyOf.set(id, p.key);
      }
      collections.push(coll);
    }

    const rasterColls = new Map<string, Coll>();
    const service = api.app.get(CatalogService);
    for (const d of DATASETS) {
      const lon0 = spot.lon + d.dlon;
      const lat0 = spot.lat + 0.1;
      const file = path.join(scratch, `${d.key}.tif`);
      await tiff(file, lon0, lat0, d.seed, d.tiffTime);
      const res = await uploadDataset(api, owner, file, `${d.key}.tif`, { title: `${TOKEN} ${d.key}`, visibility: d.visibility, collection: `${TOKEN} ${d.collection}` });
      const body = await json(res);
      if (res.status !== 202) throw new Error(`uploading ${d.key} answered ${res.status}: ${JSON.stringify(body)}`);
      const outcome = await ingest(body.id);
      if (outcome.status !== 'ready') throw new Error(`ingesting ${d.key}: ${JSON.stringify(outcome)}`);
      const item = (await service.findItem(body.id))!;
      let coll = rasterColls.get(d.collection);
      if (!coll) {
        const created = (await service.findCollection(item.collectionId))!;
        coll = { key: d.collection, id: created.id, kind: 'dataset', visibility: created.visibility as Vis, items: [] };
        rasterColls.set(d.collection, coll);
        keyOf.set(coll.id, coll.key);
        collections.push(coll);
      }
      const w = lon0;
      const n = lat0;
      const centre: [number, number] = [w + (DATASET_PIXELS / 2) * DATASET_STEP, n - (DATASET_PIXELS / 2) * DATASET_STEP];
      const raster: Raster = {
        key: d.key,
        id: body.id,
        visibility: d.visibility,
        bbox: [w, n - DATASET_PIXELS * DATASET_STEP, w + DATASET_PIXELS * DATASET_STEP, n],
        time: item.datetime!.getTime(),
        collection: coll,
        centre,
        tile: rasterTileOf(centre[0], centre[1], 14),
      };
      coll.items.push(raster);
      rasters.push(raster);
      keyOf.set(raster.id, raster.key);
    }
    // A public dataset in a collection its owner hides afterwards, over HTTP as a person would.
    const hidden = rasterColls.get('hidden-rasters')!;
    const hide = await send('owner', `/api/collections/${hidden.id}`, { visibility: 'owner-only' }, 'PATCH');
    if (hide.status !== 200) throw new Error(`hiding the dataset collection answered ${hide.status}: ${await hide.text()}`);
    hidden.visibility = 'owner-only';
  });

  after(async () => {
    const failing = matrix.results.filter((c) => !c.ok);
    console.log(`authorization matrix: ${matrix.results.length} cells, ${failing.length} failing`);
    if (api) {
      // Upload sets made here: removed as the worker would, and their pictures' jobs dropped.
      const processor = api.app.get(UploadSetProcessor);
      const jobs = api.app.get(JobQueueService);
      for (const { id, user } of cleanup.uploadSets) {
        await api.fetch(`/api/upload_sets/${id}`, { method: 'DELETE', headers: user.headers }).catch(() => undefined);
        await processor.remove({ uploadSetId: id }, inProcessJobContext()).catch(() => undefined);
        await jobs.remove(JobName.UploadSetDelete, { uploadSetId: id }).catch(() => undefined);
      }
      for (const pictureId of cleanup.pictureIds) await jobs.remove(JobName.PictureProcess, { pictureId, generation: 1 }).catch(() => undefined);
      // Datasets made here go too: their files under the roots vanish with the folder, and later
      // tests' maintenance commands (prune-missing, rehash) look at every registered file.
      for (const id of cleanup.datasetIds) await api.fetch(`/api/datasets/${id}`, { method: 'DELETE', headers: admin?.headers ?? {} }).catch(() => undefined);
      await api.close();
    }
    if (root) await fs.rm(root, { recursive: true, force: true });
    if (scratch) await fs.rm(scratch, { recursive: true, force: true });
  });

  // ---- collections and items ------------------------------------------------------------

  it('collections and items: documents, item lists, queryables, landing page, collection search', async () => {
    const mine = new Set(collections.map((c) => c.id));
    for (const caller of CALLERS) {
      for (const c of collections) {
        const visible = sees(caller, c.visibility);
        const expectedItems = visibleItems(caller, c);
        matrix.cell({ route: 'GET /api/collections/{id}', caller, setup: setupOf(c), expected: visible ? '200' : '404' }, async () => {
          const res = await read(await call(caller, `/api/collections/${c.id}`));
          return byStatus(res.status, [visible ? 200 : 404]);
        });
        matrix.cell(
          {
            route: 'GET /api/collections/{id}/items',
            caller,
            setup: setupOf(c),
            expected: visible ? `200, items ${named(expectedItems.map((i) => i.id))}, numberMatched ${expectedItems.length}` : '404',
          },
          async () => {
            const res = await read(await call(caller, `/api/collections/${c.id}/items?limit=100`));
            if (res.status !== 200) return byStatus(res.status, [visible ? 200 : 404]);
            const ids = (res.body.features ?? []).map((f: { id: string }) => f.id);
            const ok =
              visible &&
              sameSet(
                ids,
                expectedItems.map((i) => i.id),
              ) &&
              res.body.numberMatched === expectedItems.length;
            return { ok, got: `200, items ${named(ids)}, numberMatched ${res.body.numberMatched}` };
          },
        );
        matrix.cell({ route: 'GET /api/collections/{id}/queryables', caller, setup: setupOf(c), expected: visible ? '200' : '404' }, async () =>
          byStatus((await read(await call(caller, `/api/collections/${c.id}/queryables`))).status, [visible ? 200 : 404]),
        );
        for (const item of c.items) {
          const itemOk = itemVisible(caller, item, c);
          matrix.cell(
            { route: 'GET /api/collections/{cid}/items/{id}', caller, setup: setupOf(c, item), expected: itemOk ? '200, prev/next links to visible items only' : '404' },
            async () => {
              const res = await read(await call(caller, `/api/collections/${c.id}/items/${item.id}`));
              if (res.status !== 200) return byStatus(res.status, [itemOk ? 200 : 404]);
              const neighbours = (res.body.links ?? []).filter((l: { rel: string }) => l.rel === 'prev' || l.rel === 'next').map((l: { href: string }) => l.href.split('/').pop()!);
              const hidden = neighbours.filter((id: string) => !expectedItems.some((i) => i.id === id));
              return byStatus(200, [itemOk ? 200 : 404], hidden.length ? `links to ${named(hidden)}` : null);
            },
          );
        }
      }
      matrix.cell({ route: 'GET /api/queryables', caller, setup: 'any', expected: '200' }, async () => byStatus((await read(await call(caller, '/api/queryables'))).status, [200]));
      const expectedColls = collections.filter((c) => sees(caller, c.visibility));
      matrix.cell({ route: 'GET /api/ (child links)', caller, setup: 'all collections of this test', expected: `children ${named(expectedColls.map((c) => c.id))}` }, async () => {
        const res = await read(await call(caller, '/api/'));
        const children = (res.body.links ?? [])
          .filter((l: { rel: string }) => l.rel === 'child')
          .map((l: { href: string }) => l.href.split('/').pop()!)
          .filter((id: string) => mine.has(id));
        return {
          ok:
            res.status === 200 &&
            sameSet(
              children,
              expectedColls.map((c) => c.id),
            ),
          got: `${res.status}, children ${named(children)}`,
        };
      });
      matrix.cell(
        {
          route: 'GET /api/collections?q=',
          caller,
          setup: 'all collections of this test',
          expected: `collections ${named(expectedColls.map((c) => c.id))}, numberMatched ${expectedColls.length}`,
        },
        async () => {
          const res = await read(await call(caller, `/api/collections?q=${TOKEN}&limit=100`));
          const ids = (res.body.collections ?? []).map((c: { id: string }) => c.id);
          return {
            ok:
              res.status === 200 &&
              sameSet(
                ids,
                expectedColls.map((c) => c.id),
              ) &&
              res.body.numberMatched === expectedColls.length,
            got: `${res.status}, collections ${named(ids)}, numberMatched ${res.body.numberMatched}`,
          };
        },
      );
    }
    assertCells(await matrix.run());
  });

  // ---- aggregates -----------------------------------------------------------------------

  it('aggregates: item counts, extents, temporal intervals, thumbnails and collection search as each caller sees them', async () => {
    const pub = collections.find((c) => c.key === 'seq-public')!;
    for (const caller of CALLERS) {
      for (const c of collections.filter((x) => sees(caller, x.visibility))) {
        const audience = aggregateOf(audienceItems(c));
        matrix.cell({ route: 'GET /api/collections/{id} (stats:items, extent)', caller, setup: setupOf(c), expected: aggregateText(audience) }, async () => {
          const res = await read(await call(caller, `/api/collections/${c.id}`));
          if (res.status !== 200) return { ok: false, got: String(res.status) };
          const stated = statedAggregate(res.body);
          return { ok: sameAggregate(stated, audience), got: aggregateText(stated) };
        });
      }
      if (sees(caller, pub.visibility)) {
        const allowed = visibleItems(caller, pub).map((i) => i.id);
        matrix.cell({ route: 'GET /api/collections/{id} (thumbnail asset)', caller, setup: setupOf(pub), expected: `thumbnail of one of ${named(allowed)}` }, async () => {
          const res = await read(await call(caller, `/api/collections/${pub.id}`));
          const href: string = res.body?.assets?.thumbnail?.href ?? '';
          const id = /pictures\/([0-9a-f-]{36})\/thumb\.jpg$/.exec(href)?.[1];
          return { ok: res.status === 200 && !!id && allowed.includes(id), got: `${res.status}, thumbnail of ${id ? named([id]) : `'${href}'`}` };
        });
      }
      // Collection search by place and time: a collection may match only through items the caller sees.
      const probes: { what: string; query: string; picture: Picture; hit: (p: Thing) => boolean }[] = [];
      for (const key of ['p1', 'p3']) {
        const p = pictures.find((x) => x.key === key)!;
        const d = 0.0001;
        probes.push({ what: `bbox around ${key} only`, query: `bbox=${p.lon - d},${p.lat - d},${p.lon + d},${p.lat + d}`, picture: p, hit: (x) => x.id === p.id });
        probes.push({ what: `datetime of ${key} only`, query: `datetime=${new Date(p.time).toISOString()}`, picture: p, hit: (x) => x.id === p.id });
      }
      for (const probe of probes) {
        const mustInclude: string[] = [];
        const mustExclude: string[] = [];
        for (const c of collections) {
          // Collections match through their aggregates: the items their whole audience may see.
          const audienceHit = sees(caller, c.visibility) && audienceItems(c).some(probe.hit);
          if (audienceHit) mustInclude.push(c.id);
          else mustExclude.push(c.id);
        }
        matrix.cell(
          {
            route: 'GET /api/collections?q=&bbox|datetime',
            caller,
            setup: `${probe.what} (${probe.picture.visibility}, in ${probe.picture.collection.key})`,
            expected: `includes ${named(mustInclude)}, none of ${named(mustExclude)}`,
          },
          async () => {
            const res = await read(await call(caller, `/api/collections?q=${TOKEN}&${probe.query}&limit=100`));
            const ids: string[] = (res.body.collections ?? []).map((c: { id: string }) => c.id);
            const ok = res.status === 200 && mustInclude.every((id) => ids.includes(id)) && !ids.some((id) => mustExclude.includes(id)) && res.body.numberMatched === ids.length;
            return { ok, got: `${res.status}, collections ${named(ids)}, numberMatched ${res.body.numberMatched}` };
          },
        );
      }
    }
    assertCells(await matrix.run());
  });

  // ---- STAC search ----------------------------------------------------------------------

  it('STAC search: GET and POST by ids, collections, bbox and datetime, with numberMatched', async () => {
    const everything = collections.flatMap((c) => c.items.map((item) => ({ item, c })));
    const allIds = everything.map((e) => e.item.id);
    const pictureColls = collections.filter((c) => c.kind === 'sequence');
    const w = Math.min(...pictures.map((p) => p.lon)) - 0.001;
    const s = Math.min(...pictures.map((p) => p.lat)) - 0.001;
    const e = Math.max(...pictures.map((p) => p.lon)) + 0.001;
    const n = Math.max(...pictures.map((p) => p.lat)) + 0.001;
    const p3 = pictures.find((p) => p.key === 'p3')!;
    const searches: { what: string; get: string; post: Record<string, unknown>; matches: (t: Thing, c: Coll) => boolean }[] = [
      { what: 'ids of every item here', get: `ids=${allIds.join(',')}`, post: { ids: allIds }, matches: () => true },
      {
        what: 'collections of every item here',
        get: `collections=${collections.map((c) => c.id).join(',')}`,
        post: { collections: collections.map((c) => c.id) },
        matches: () => true,
      },
      { what: 'bbox around the pictures', get: `bbox=${w},${s},${e},${n}`, post: { bbox: [w, s, e, n] }, matches: (_t, c) => c.kind === 'sequence' },
      {
        what: 'bbox and datetime of p3 (owner-only)',
        get: `bbox=${w},${s},${e},${n}&datetime=${new Date(p3.time).toISOString()}`,
        post: { bbox: [w, s, e, n], datetime: new Date(p3.time).toISOString() },
        matches: (t) => t.id === p3.id,
      },
      {
        what: 'sequences here',
        get: `collections=${pictureColls.map((c) => c.id).join(',')}`,
        post: { collections: pictureColls.map((c) => c.id) },
        matches: (_t, c) => c.kind === 'sequence',
      },
    ];
    const check = (res: { status: number; body: { features?: { id: string }[]; numberMatched?: number } }, expected: string[]): Outcome => {
      const ids = (res.body?.features ?? []).map((f) => f.id);
      return {
        ok: res.status === 200 && sameSet(ids, expected) && res.body.numberMatched === expected.length,
        got: `${res.status}, items ${named(ids)}, numberMatched ${res.body?.numberMatched}`,
      };
    };
    for (const caller of CALLERS) {
      for (const search of searches) {
        const expected = everything.filter(({ item, c }) => search.matches(item, c) && itemVisible(caller, item, c)).map(({ item }) => item.id);
        const spec = { caller, setup: search.what, expected: `items ${named(expected)}, numberMatched ${expected.length}` };
        matrix.cell({ route: 'GET /api/search', ...spec }, async () => check(await read(await call(caller, `/api/search?${search.get}&limit=100`)), expected));
        matrix.cell({ route: 'POST /api/search', ...spec }, async () => check(await read(await send(caller, '/api/search', { ...search.post, limit: 100 })), expected));
      }
      for (const { item, c } of everything) {
        const expected = itemVisible(caller, item, c) ? [item.id] : [];
        const spec = { caller, setup: setupOf(c, item), expected: `items ${named(expected)}, numberMatched ${expected.length}` };
        matrix.cell({ route: 'GET /api/search?ids={id}', ...spec }, async () => check(await read(await call(caller, `/api/search?ids=${item.id}`)), expected));
        matrix.cell({ route: 'POST /api/search {ids:[id]}', ...spec }, async () => check(await read(await send(caller, '/api/search', { ids: [item.id] })), expected));
      }
    }
    assertCells(await matrix.run());
  });

  // ---- picture files --------------------------------------------------------------------

  it('picture files: hd, sd, thumb and 360° tiles', async () => {
    for (const caller of CALLERS) {
      for (const p of pictures) {
        const visible = itemVisible(caller, p, p.collection);
        for (const variant of ['hd.jpg', 'sd.jpg', 'thumb.jpg', 'tiles/0_0.jpg']) {
          matrix.cell({ route: `GET /api/pictures/{id}/${variant}`, caller, setup: setupOf(p.collection, p), expected: visible ? '200' : '404' }, async () => {
            const res = await call(caller, `/api/pictures/${p.id}/${variant}`);
            const size = (await res.arrayBuffer()).byteLength;
            return byStatus(res.status, [visible ? 200 : 404], res.status === 200 && size !== PICTURE_BYTES ? `${size} bytes` : null);
          });
        }
      }
    }
    assertCells(await matrix.run());
  });

  // ---- vector tiles ---------------------------------------------------------------------

  it('vector tiles: pictures and sequences layers, sequence lines, caching, grid', async () => {
    const tile = tileOf(spot.lon, spot.lat, 14);
    const url = `/api/map/${tile.z}/${tile.x}/${tile.y}.mvt`;
    const pub = collections.find((c) => c.key === 'seq-public')!;
    const sequences = collections.filter((c) => c.kind === 'sequence');
    const mine = new Set([...pictures.map((p) => p.id), ...sequences.map((c) => c.id)]);
    const ids = (layer: MvtLayer | undefined) => (layer?.features.map((f) => String(f.properties.id)) ?? []).filter((id) => mine.has(id));
    const tiles = new Map<Caller, Promise<{ status: number; headers: Headers; layers: Record<string, MvtLayer> }>>();
    const fetchTile = (caller: Caller) => {
      if (!tiles.has(caller)) {
        tiles.set(
          caller,
          call(caller, url).then(async (res) => {
            const body = new Uint8Array(await res.arrayBuffer());
            return { status: res.status, headers: res.headers, layers: res.status === 200 ? decodeMvt(body) : {} };
          }),
        );
      }
      return tiles.get(caller)!;
    };
    await api.app.get(MapGridProcessor).refresh({}, inProcessJobContext());
    const gridCount = async (caller: Caller, z: number): Promise<string> => {
      const t = tileOf(spot.lon, spot.lat, z);
      const res = await call(caller, `/api/map/${t.z}/${t.x}/${t.y}.mvt`);
      if (res.status === 204) return '0';
      if (res.status !== 200) return `status ${res.status}`;
      const grid = decodeMvt(new Uint8Array(await res.arrayBuffer())).grid;
      const fine = tileOf(spot.lon, spot.lat, z + 4);
      const [col, row] = [fine.x - t.x * 16, fine.y - t.y * 16];
      const cell = grid?.features.find((f) => {
        const v = vertices(f);
        return Math.round(Math.min(...v.map((q) => q[0])) / 256) === col && Math.round(Math.min(...v.map((q) => q[1])) / 256) === row;
      });
      return String(cell ? Number(cell.properties.count) : 0);
    };

    for (const caller of CALLERS) {
      const expectedPictures = pictures.filter((p) => itemVisible(caller, p, p.collection)).map((p) => p.id);
      const expectedSequences = sequences.filter((c) => sees(caller, c.visibility)).map((c) => c.id);
      matrix.cell({ route: 'GET /api/map/{z}/{x}/{y}.mvt pictures layer', caller, setup: 'every picture here', expected: `pictures ${named(expectedPictures)}` }, async () => {
        const t = await fetchTile(caller);
        const got = ids(t.layers.pictures);
        return { ok: t.status === 200 && sameSet(got, expectedPictures), got: `${t.status}, pictures ${named(got)}` };
      });
      matrix.cell({ route: 'GET /api/map/{z}/{x}/{y}.mvt sequences layer', caller, setup: 'every sequence here', expected: `sequences ${named(expectedSequences)}` }, async () => {
        const t = await fetchTile(caller);
        const got = ids(t.layers.sequences);
        return { ok: t.status === 200 && sameSet(got, expectedSequences), got: `${t.status}, sequences ${named(got)}` };
      });
      // Every caller gets the same line: through the pictures the sequence's whole audience may see (that
      // also shows the distances measure what they should), and past no other.
      const through = audienceItems(pub) as Picture[];
      const hidden = pub.items.filter((p) => !through.includes(p as Picture)) as Picture[];
      matrix.cell(
        {
          route: 'GET /api/map/{z}/{x}/{y}.mvt sequence line',
          caller,
          setup: setupOf(pub),
          expected: through.length ? `a line through ${named(through.map((p) => p.id))}` : `a line, not within ${ON_LINE} units of ${named(hidden.map((p) => p.id))}`,
        },
        async () => {
          const t = await fetchTile(caller);
          const feature = t.layers.sequences?.features.find((f) => f.properties.id === pub.id);
          if (!feature) return { ok: false, got: `${t.status}, no line for the sequence` };
          const parts = lineParts(feature);
          const distance = (p: Picture) => distanceToLine(tileUnits(p.lon, p.lat, tile), parts);
          const crossed = hidden.filter((p) => distance(p) <= ON_LINE);
          const missed = through.filter((p) => distance(p) > ON_LINE);
          const problems = [
            ...crossed.map((p) => `passes ${distance(p).toFixed(1)} units from hidden ${p.key}`),
            ...missed.map((p) => `misses ${p.key} by ${distance(p).toFixed(1)} units`),
          ];
          return { ok: problems.length === 0, got: problems.length ? problems.join('; ') : through.length ? 'a line through them' : 'a line avoiding them' };
        },
      );
      const expectCache = caller === 'anonymous' ? 'public' : 'private + Vary Authorization, Cookie';
      matrix.cell({ route: 'GET /api/map/{z}/{x}/{y}.mvt Cache-Control', caller, setup: 'every picture here', expected: expectCache }, async () => {
        const t = await fetchTile(caller);
        const cc = t.headers.get('cache-control') ?? '';
        const vary = t.headers.get('vary') ?? '';
        const ok = caller === 'anonymous' ? /public/.test(cc) : /private/.test(cc) && /authorization/i.test(vary) && /cookie/i.test(vary);
        return { ok, got: `Cache-Control '${cc}', Vary '${vary}'` };
      });
      const publicCount = pictures.filter((p) => itemPublic(p, p.collection)).length;
      matrix.cell(
        { route: 'GET /api/map/5/{x}/{y}.mvt grid count', caller, setup: 'every picture here', expected: `${publicCount} (public pictures, for everybody)` },
        async () => {
          const got = await gridCount(caller, 5);
          return { ok: got === String(publicCount), got };
        },
      );
    }
    assertCells(await matrix.run());
  });

  // ---- datasets -------------------------------------------------------------------------

  it('datasets: list, document, footprint, thumbnail, tiles, sampling, file', async () => {
    for (const caller of CALLERS) {
      const expected = rasters.filter((r) => itemVisible(caller, r, r.collection)).map((r) => r.id);
      matrix.cell({ route: 'GET /api/datasets?q=', caller, setup: 'every dataset here', expected: `datasets ${named(expected)}, total ${expected.length}` }, async () => {
        const res = await read(await call(caller, `/api/datasets?q=${TOKEN}&limit=100`));
        const ids = (res.body.items ?? []).map((d: { id: string }) => d.id);
        return { ok: res.status === 200 && sameSet(ids, expected) && res.body.total === expected.length, got: `${res.status}, datasets ${named(ids)}, total ${res.body.total}` };
      });
      for (const r of rasters) {
        const visible = itemVisible(caller, r, r.collection);
        const [lon, lat] = r.centre;
        const routes: { route: string; request: () => Promise<Response> }[] = [
          { route: 'GET /api/datasets/{id}', request: () => call(caller, `/api/datasets/${r.id}`) },
          { route: 'GET /api/datasets/{id}/extent.geojson', request: () => call(caller, `/api/datasets/${r.id}/extent.geojson`) },
          { route: 'GET /api/datasets/{id}/thumbnail.png', request: () => call(caller, `/api/datasets/${r.id}/thumbnail.png?size=32`) },
          { route: 'GET /api/datasets/{id}/tiles/{z}/{x}/{y}.png', request: () => call(caller, `/api/datasets/${r.id}/tiles/14/${r.tile[0]}/${r.tile[1]}.png`) },
          { route: 'GET /api/datasets/{id}/sample', request: () => call(caller, `/api/datasets/${r.id}/sample?lon=${lon}&lat=${lat}`) },
          { route: 'POST /api/datasets/{id}/sample', request: () => send(caller, `/api/datasets/${r.id}/sample`, { points: [{ lon, lat }] }) },
          { route: 'GET /api/datasets/{id}/data.tif', request: () => call(caller, `/api/datasets/${r.id}/data.tif`) },
        ];
        for (const { route, request } of routes) {
          matrix.cell({ route, caller, setup: setupOf(r.collection, r), expected: visible ? '200' : '404' }, async () => {
            const res = await request();
            await res.arrayBuffer();
            // A rendering of a dataset not everybody may see must not land in shared caches.
            const cc = res.headers.get('cache-control') ?? '';
            const leaky = res.status === 200 && !itemPublic(r, r.collection) && /\.png$/.test(route) && /public/.test(cc);
            return byStatus(res.status, [visible ? 200 : 404], leaky ? `Cache-Control '${cc}'` : null);
          });
        }
      }
    }
    assertCells(await matrix.run());
  });

  // ---- upload sets ----------------------------------------------------------------------

  it('upload sets: read, change, add files, complete, delete, list', async () => {
    const set = await createUploadSet(api, owner, { title: `${TOKEN} upload set`, visibility: 'owner-only' });
    cleanup.uploadSets.push({ id: set.id, user: owner });
    const jpeg = await syntheticJpeg({ width: 64, height: 48, lon: spot.lon, lat: spot.lat, time: new Date(Date.UTC(2024, 4, 1)), seed: Math.floor(Math.random() * 1e9) });
    const setup = 'upload set of the owner';
    for (const caller of CALLERS) {
      const expected = caller === 'anonymous' ? [401] : caller === 'other' ? [404] : [200];
      matrix.cell({ route: 'GET /api/upload_sets/{id}', caller, setup, expected: statusText(expected) }, async () =>
        byStatus((await read(await call(caller, `/api/upload_sets/${set.id}`))).status, expected),
      );
      matrix.cell({ route: 'GET /api/upload_sets/{id}/files', caller, setup, expected: statusText(expected) }, async () =>
        byStatus((await read(await call(caller, `/api/upload_sets/${set.id}/files`))).status, expected),
      );
      matrix.cell({ route: 'PATCH /api/upload_sets/{id}', caller, setup, expected: statusText(expected) }, async () =>
        byStatus((await read(await send(caller, `/api/upload_sets/${set.id}`, { title: `${TOKEN} upload set` }, 'PATCH'))).status, expected),
      );
      const listed = caller === 'owner';
      matrix.cell(
        { route: 'GET /api/users/me/upload_sets', caller, setup, expected: caller === 'anonymous' ? '401' : `200, ${listed ? 'lists' : 'does not list'} the set` },
        async () => {
          const res = await read(await call(caller, '/api/users/me/upload_sets?limit=100'));
          if (res.status !== 200) return byStatus(res.status, [caller === 'anonymous' ? 401 : 200]);
          const has = (res.body.items ?? []).some((s: { id: string }) => s.id === set.id);
          return byStatus(200, [caller === 'anonymous' ? 401 : 200], has === listed ? null : has ? 'lists it' : 'does not list it');
        },
      );
      if (caller === 'anonymous' || caller === 'other') {
        // Refusals change nothing, so they run against the owner's set.
        for (const [route, request] of [
          [
            'POST /api/upload_sets/{id}/files',
            () =>
              caller === 'other'
                ? uploadPicture(api, other, set.id, { name: 'intruder.jpg', data: jpeg })
                : api.fetch(`/api/upload_sets/${set.id}/files`, { method: 'POST', body: new FormData() }),
          ],
          ['POST /api/upload_sets/{id}/complete', () => call(caller, `/api/upload_sets/${set.id}/complete`, { method: 'POST' })],
          ['DELETE /api/upload_sets/{id}', () => call(caller, `/api/upload_sets/${set.id}`, { method: 'DELETE' })],
        ] as const) {
          matrix.cell({ route, caller, setup, expected: statusText(expected) }, async () => byStatus((await read(await request())).status, expected));
        }
      }
    }
    const results: CellResult[] = await matrix.run(1);

    // Completing and deleting succeed for the owner and admins, each on a set of its own.
    for (const caller of ['owner', 'admin'] as const) {
      const complete = await createUploadSet(api, owner, { title: `${TOKEN} to complete` });
      const doomed = await createUploadSet(api, owner, { title: `${TOKEN} to delete` });
      cleanup.uploadSets.push({ id: complete.id, user: owner }, { id: doomed.id, user: owner });
      matrix.cell({ route: 'POST /api/upload_sets/{id}/complete', caller, setup, expected: '200' }, async () =>
        byStatus((await read(await call(caller, `/api/upload_sets/${complete.id}/complete`, { method: 'POST' }))).status, [200]),
      );
      matrix.cell({ route: 'DELETE /api/upload_sets/{id}', caller, setup, expected: '204, then 404 for the owner' }, async () => {
        const status = (await read(await call(caller, `/api/upload_sets/${doomed.id}`, { method: 'DELETE' }))).status;
        const after = (await read(await call('owner', `/api/upload_sets/${doomed.id}`))).status;
        return byStatus(status, [204], after === 404 ? null : `owner then gets ${after}`);
      });
    }
    results.push(...(await matrix.run(1)));
    assertCells(results);
  });

  // ---- management jobs and admin routes -------------------------------------------------

  it('management jobs and admin routes: administrators only', async () => {
    const setup = 'admin only';
    const expectFor = (caller: Caller, success: number) => (caller === 'anonymous' ? [401] : caller === 'admin' ? [success] : [403]);
    let jobId = '';
    // The admin creates a job first (unstarted), so the per-job routes have something to refuse.
    for (const caller of ['anonymous', 'owner', 'other', 'admin'] as const) {
      const expected = expectFor(caller, 201);
      matrix.cell({ route: 'POST /api/management/commands/{name}/jobs', caller, setup, expected: statusText(expected) }, async () => {
        const res = await read(await send(caller, '/api/management/commands/system.ping/jobs', { args: {}, autostart: false }));
        if (res.status === 201) jobId = res.body.id;
        return byStatus(res.status, expected);
      });
    }
    await matrix.run(1);
    if (!jobId) throw new Error('the admin could not create a management job');
    for (const caller of CALLERS) {
      const routes: [string, () => Promise<Response>, number][] = [
        ['GET /api/management/commands', () => call(caller, '/api/management/commands'), 200],
        ['GET /api/management/commands/{name}', () => call(caller, '/api/management/commands/system.ping'), 200],
        ['GET /api/management/jobs', () => call(caller, '/api/management/jobs'), 200],
        ['GET /api/management/jobs/{id}', () => call(caller, `/api/management/jobs/${jobId}`), 200],
        ['GET /api/management/jobs/{id}/output', () => call(caller, `/api/management/jobs/${jobId}/output`), 200],
        ['GET /api/admin/queues', () => call(caller, '/api/admin/queues'), 200],
        ['GET /api/users', () => call(caller, '/api/users'), 200],
        ['GET /api/admin/datasets/jobs/{jobId}', () => call(caller, `/api/admin/datasets/jobs/${jobId}`), 200],
      ];
      if (caller !== 'admin') {
        // Only refusals: started jobs (the older admin routes create them too) would run on later tests' workers.
        routes.push(['POST /api/management/jobs/{id}/start', () => call(caller, `/api/management/jobs/${jobId}/start`, { method: 'POST' }), 200]);
        routes.push(['POST /api/admin/datasets/rehash', () => send(caller, '/api/admin/datasets/rehash', {}), 201]);
        routes.push(['POST /api/admin/collections/recompute', () => send(caller, '/api/admin/collections/recompute', { collection_id: collections[0]!.id }), 201]);
      }
      for (const [route, request, success] of routes) {
        const expected = expectFor(caller, success);
        matrix.cell({ route, caller, setup, expected: statusText(expected) }, async () => byStatus((await read(await request())).status, expected));
      }
    }
    await matrix.run();
    for (const caller of ['anonymous', 'owner', 'other', 'admin'] as const) {
      const expected = expectFor(caller, 202);
      matrix.cell({ route: 'POST /api/management/jobs/{id}/stop', caller, setup, expected: statusText(expected) }, async () =>
        byStatus((await read(await call(caller, `/api/management/jobs/${jobId}/stop`, { method: 'POST' }))).status, expected),
      );
    }
    await matrix.run(1);
    assertCells(matrix.results.filter((c) => c.setup === setup));
  });

  // ---- writes ---------------------------------------------------------------------------

  it('writes: PATCH and DELETE of collections, items and datasets', async () => {
    const service = api.app.get(CatalogService);
    const sequences = collections.filter((c) => c.kind === 'sequence');
    const results: CellResult[] = [];
    for (const caller of CALLERS) {
      for (const c of sequences) {
        const expected = writeStatuses(caller, sees(caller, c.visibility), 200);
        matrix.cell({ route: 'PATCH /api/collections/{id}', caller, setup: setupOf(c), expected: statusText(expected) }, async () =>
          byStatus((await read(await send(caller, `/api/collections/${c.id}`, { description: `checked by ${caller}` }, 'PATCH'))).status, expected),
        );
        for (const item of c.items) {
          const expectedItem = writeStatuses(caller, itemVisible(caller, item, c), 200);
          matrix.cell({ route: 'PATCH /api/collections/{cid}/items/{id}', caller, setup: setupOf(c, item), expected: statusText(expectedItem) }, async () =>
            byStatus((await read(await send(caller, `/api/collections/${c.id}/items/${item.id}`, { heading: 42 }, 'PATCH'))).status, expectedItem),
          );
        }
      }
      for (const r of rasters) {
        const visible = itemVisible(caller, r, r.collection);
        const expected = writeStatuses(caller, visible, 200);
        matrix.cell({ route: 'PATCH /api/datasets/{id}', caller, setup: setupOf(r.collection, r), expected: statusText(expected) }, async () =>
          byStatus((await read(await send(caller, `/api/datasets/${r.id}`, { description: `checked by ${caller}` }, 'PATCH'))).status, expected),
        );
        if (!mayEdit(caller)) {
          const refused = writeStatuses(caller, visible, 204);
          matrix.cell({ route: 'DELETE /api/datasets/{id}', caller, setup: setupOf(r.collection, r), expected: `${statusText(refused)}, dataset kept` }, async () => {
            const status = (await read(await call(caller, `/api/datasets/${r.id}`, { method: 'DELETE' }))).status;
            const kept = (await read(await call('admin', `/api/datasets/${r.id}`))).status === 200;
            return byStatus(status, refused, kept ? null : 'the dataset is gone');
          });
        }
      }
    }
    results.push(...(await matrix.run()));

    // Deletions that succeed change the fixture: each runs on content seeded for it alone.
    const itemSetups: [Vis, Vis][] = [
      ['anyone', 'anyone'],
      ['anyone', 'logged-only'],
      ['anyone', 'owner-only'],
      ['logged-only', 'anyone'],
      ['owner-only', 'anyone'],
    ];
    for (const caller of CALLERS) {
      for (const vis of ['anyone', 'logged-only', 'owner-only'] as Vis[]) {
        const expected = writeStatuses(caller, sees(caller, vis), 204);
        matrix.cell(
          { route: 'DELETE /api/collections/{id}', caller, setup: `collection ${vis} (its own)`, expected: `${statusText(expected)}, ${mayEdit(caller) ? 'gone' : 'kept'}` },
          async () => {
            const seeded = await seedSequence(api, { ownerId: owner.id, title: `${TOKEN} doomed`, visibility: vis as Visibility, pictures: [randomSpot()] });
            const status = (await read(await call(caller, `/api/collections/${seeded.collection.id}`, { method: 'DELETE' }))).status;
            const gone = (await service.findCollection(seeded.collection.id)) === null;
            return byStatus(status, expected, gone === mayEdit(caller) ? null : gone ? 'deleted' : 'still there');
          },
        );
      }
      for (const [cv, iv] of itemSetups) {
        const expected = writeStatuses(caller, sees(caller, cv) && sees(caller, iv), 204);
        matrix.cell(
          {
            route: 'DELETE /api/collections/{cid}/items/{id}',
            caller,
            setup: `collection ${cv} / item ${iv} (their own)`,
            expected: `${statusText(expected)}, ${mayEdit(caller) ? 'gone' : 'kept'}`,
          },
          async () => {
            const spot2 = randomSpot();
            const seeded = await seedSequence(api, {
              ownerId: owner.id,
              title: `${TOKEN} doomed`,
              visibility: cv as Visibility,
              pictures: [
                { ...spot2, visibility: iv as Visibility },
                { lon: spot2.lon, lat: spot2.lat + 0.0002 },
              ],
            });
            const target = seeded.items[0]!.id;
            const status = (await read(await call(caller, `/api/collections/${seeded.collection.id}/items/${target}`, { method: 'DELETE' }))).status;
            const gone = (await service.findItem(target)) === null;
            return byStatus(status, expected, gone === mayEdit(caller) ? null : gone ? 'deleted' : 'still there');
          },
        );
      }
    }
    for (const caller of ['owner', 'admin'] as const) {
      for (const vis of ['anyone', 'owner-only'] as Vis[]) {
        matrix.cell({ route: 'DELETE /api/datasets/{id}', caller, setup: `dataset ${vis} (its own)`, expected: '204, gone' }, async () => {
          const file = path.join(scratch, `doomed-${caller}-${vis}.tif`);
          await tiff(file, spot.lon + 0.2, spot.lat + 0.2, Math.floor(Math.random() * 1e6));
          const res = await uploadDataset(api, owner, file, 'doomed.tif', { title: 'doomed', visibility: vis, allow_duplicate: 'true' });
          const id = (await json(res)).id as string;
          await ingest(id);
          const status = (await read(await call(caller, `/api/datasets/${id}`, { method: 'DELETE' }))).status;
          const after = (await read(await call('admin', `/api/datasets/${id}`))).status;
          return byStatus(status, [204], after === 404 ? null : `admin then gets ${after}`);
        });
      }
    }
    results.push(...(await matrix.run(4)));
    assertCells(results);
  });

  // ---- reported attacks -----------------------------------------------------------------

  it('reported attacks: (a) shared server path, (b) deleting server files, (c) duplicates across owners, (d) private caching', async () => {
    const results: CellResult[] = [];
    const datasets = api.app.get(DatasetsService);

    /** Registers a file of DATASET_ROOTS as `caller`, over HTTP; where that is refused, as data registered before the refusal existed. */
    const registerPath = async (caller: 'owner' | 'admin', file: string, visibility: Vis): Promise<{ id: string; via: string }> => {
      const res = await read(await send(caller, '/api/datasets/from-path', { path: file, visibility, title: `path ${file}` }));
      if (res.status === 202) return { id: res.body.id, via: 'registered over HTTP' };
      const seeded = await datasets.registerPath(authUser(users[caller]!), { path: file, visibility: visibility as Visibility, title: `path ${file}` });
      return { id: seeded.id, via: `seeded: HTTP answered ${res.status}` };
    };

    // (a) The owner registers x.tif privately; another user registers the same path publicly.
    const x = path.join(root, 'x.tif');
    await tiff(x, spot.lon + 0.3, spot.lat + 0.3, 101);
    const xBytes = await fs.readFile(x);
    const mineX = await registerPath('owner', 'x.tif', 'owner-only');
    await ingest(mineX.id);
    matrix.cell(
      {
        route: 'POST /api/datasets/from-path + GET …/data.tif',
        caller: 'anonymous',
        setup: '(a) another user registers the owner-only x.tif again as anyone',
        expected: "the owner's file is not served",
      },
      async () => {
        const res = await read(await send('other', '/api/datasets/from-path', { path: 'x.tif', visibility: 'anyone', title: 'mine too' }));
        if (res.status !== 202) return { ok: true, got: `registration refused with ${res.status}` };
        await ingest(res.body.id);
        const file = await call('anonymous', `/api/datasets/${res.body.id}/data.tif`);
        const bytes = Buffer.from(await file.arrayBuffer());
        const leaked = (file.status === 200 || file.status === 206) && xBytes.subarray(0, bytes.length).equals(bytes);
        return { ok: !leaked, got: `registration 202, anonymous data.tif ${file.status}${leaked ? ` with the owner's file (${bytes.length} bytes)` : ''}` };
      },
    );
    matrix.cell({ route: 'GET /api/datasets/{id}/data.tif', caller: 'anonymous', setup: `(a) the owner's owner-only x.tif (${mineX.via})`, expected: '404' }, async () =>
      byStatus((await read(await call('anonymous', `/api/datasets/${mineX.id}/data.tif`))).status, [404]),
    );

    // (b) Registering server paths and deleting server files are for administrators.
    for (const caller of CALLERS) {
      const expected = caller === 'anonymous' ? [401] : caller === 'admin' ? [202] : [403];
      matrix.cell({ route: 'POST /api/datasets/from-path', caller, setup: '(b) a file under DATASET_ROOTS', expected: statusText(expected) }, async () => {
        const name = `b-${caller}.tif`;
        await tiff(path.join(root, name), spot.lon + 0.3, spot.lat + 0.32, 200 + CALLERS.indexOf(caller));
        const res = await read(await send(caller, '/api/datasets/from-path', { path: name }));
        if (res.status === 202) await ingest(res.body.id);
        return byStatus(res.status, expected);
      });
    }
    results.push(...(await matrix.run(1)));
    const y = path.join(root, 'y.tif');
    await tiff(y, spot.lon + 0.3, spot.lat + 0.34, 102);
    const mineY = await registerPath('owner', 'y.tif', 'anyone');
    await ingest(mineY.id);
    matrix.cell(
      {
        route: 'DELETE /api/datasets/{id}?delete_file=true',
        caller: 'owner',
        setup: `(b) a plain user's dataset of y.tif under DATASET_ROOTS (${mineY.via})`,
        expected: '403 (or the record only), the file stays',
      },
      async () => {
        const status = (await read(await call('owner', `/api/datasets/${mineY.id}?delete_file=true`, { method: 'DELETE' }))).status;
        const stays = existsSync(y);
        return { ok: stays && status < 500, got: `${status}, the file ${stays ? 'stays' : 'was deleted'}` };
      },
    );
    const z = path.join(root, 'z.tif');
    await tiff(z, spot.lon + 0.3, spot.lat + 0.36, 103);
    const adminsZ = await registerPath('admin', 'z.tif', 'anyone');
    await ingest(adminsZ.id);
    matrix.cell(
      {
        route: 'DELETE /api/datasets/{id}?delete_file=true',
        caller: 'admin',
        setup: `(b) an admin's dataset of z.tif under DATASET_ROOTS (${adminsZ.via})`,
        expected: '204, the file is deleted',
      },
      async () => {
        const status = (await read(await call('admin', `/api/datasets/${adminsZ.id}?delete_file=true`, { method: 'DELETE' }))).status;
        return byStatus(status, [204], existsSync(z) ? 'the file stays' : null);
      },
    );

    // (c) Duplicates are per owner: the same bytes as someone else's private picture or dataset are accepted.
    const jpeg = await syntheticJpeg({ width: 64, height: 48, lon: spot.lon, lat: spot.lat, time: new Date(Date.UTC(2024, 4, 1, 12)), seed: Math.floor(Math.random() * 1e9) });
    const ownerSet = await createUploadSet(api, owner, { title: `${TOKEN} private uploads`, visibility: 'owner-only' });
    const ownerSet2 = await createUploadSet(api, owner, { title: `${TOKEN} private uploads again`, visibility: 'owner-only' });
    const otherSet = await createUploadSet(api, other, { title: `${TOKEN} someone else's uploads` });
    cleanup.uploadSets.push({ id: ownerSet.id, user: owner }, { id: ownerSet2.id, user: owner }, { id: otherSet.id, user: other });
    const first = await read(await uploadPicture(api, owner, ownerSet.id, { name: 'private.jpg', data: jpeg }));
    if (first.status !== 202) throw new Error(`the owner's upload answered ${first.status}: ${JSON.stringify(first.body)}`);
    cleanup.pictureIds.push(first.body.picture_id);
    matrix.cell(
      { route: 'POST /api/upload_sets/{id}/files', caller: 'other', setup: "(c) bytes identical to the owner's owner-only picture", expected: '202 (not 409 file_duplicate)' },
      async () => {
        const res = await read(await uploadPicture(api, other, otherSet.id, { name: 'mine.jpg', data: jpeg }));
        if (res.body?.picture_id) cleanup.pictureIds.push(res.body.picture_id);
        return byStatus(res.status, [202], null, res.status === 202 ? '' : `${res.body?.details?.reason ?? res.body?.message ?? ''}`);
      },
    );
    matrix.cell({ route: 'POST /api/upload_sets/{id}/files', caller: 'owner', setup: '(c) bytes identical to their own picture, in another set', expected: '409' }, async () => {
      const res = await read(await uploadPicture(api, owner, ownerSet2.id, { name: 'again.jpg', data: jpeg }));
      if (res.body?.picture_id) cleanup.pictureIds.push(res.body.picture_id);
      return byStatus(res.status, [409]);
    });
    const dOwner = rasters.find((r) => r.key === 'd-owner')!;
    matrix.cell({ route: 'POST /api/datasets', caller: 'other', setup: "(c) bytes identical to the owner's owner-only dataset", expected: '202 (not 409 naming it)' }, async () => {
      const res = await read(await uploadDataset(api, other, path.join(scratch, `${dOwner.key}.tif`), 'copy.tif', { title: 'a copy' }));
      if (res.status === 202) await ingest(res.body.id);
      return byStatus(res.status, [202], null, res.status === 409 ? `existing_id ${named([res.body?.details?.existing_id ?? '?'])}` : '');
    });
    // Public copies of d-owner and x.tif now exist: the duplicates report must not reveal the private originals.
    keyOf.set(mineX.id, 'x.tif of the owner');
    for (const caller of CALLERS) {
      const hidden = [...rasters.filter((r) => !itemVisible(caller, r, r.collection)).map((r) => r.id), ...(sees(caller, 'owner-only') ? [] : [mineX.id])];
      matrix.cell(
        { route: 'GET /api/datasets/duplicates', caller, setup: "(c) public copies of the owner's owner-only d-owner and x.tif", expected: `200, none of ${named(hidden)}` },
        async () => {
          const res = await read(await call(caller, '/api/datasets/duplicates?limit=100'));
          const listed: string[] = (res.body.items ?? []).flatMap((g: { datasets: { id: string }[] }) => g.datasets.map((d) => d.id));
          const revealed = listed.filter((id) => hidden.includes(id));
          return byStatus(res.status, [200], revealed.length ? `lists ${named(revealed)}` : null);
        },
      );
    }

    // (d) Files of content not everybody may see: private caching, varying with the credentials.
    const privately = (res: Response) => {
      const cc = res.headers.get('cache-control') ?? '';
      const vary = res.headers.get('vary') ?? '';
      return { ok: /private/.test(cc) && !/public/.test(cc) && /authorization/i.test(vary) && /cookie/i.test(vary), got: `${res.status}, Cache-Control '${cc}', Vary '${vary}'` };
    };
    for (const caller of CALLERS) {
      for (const r of rasters.filter((x) => !itemPublic(x, x.collection) && itemVisible(caller, x, x.collection))) {
        matrix.cell(
          {
            route: 'GET /api/datasets/{id}/data.tif (headers)',
            caller,
            setup: `(d) ${setupOf(r.collection, r)}`,
            expected: '200, Cache-Control private, Vary Authorization, Cookie',
          },
          async () => {
            const res = await call(caller, `/api/datasets/${r.id}/data.tif`);
            await res.arrayBuffer();
            const outcome = privately(res);
            return { ok: outcome.ok && res.status === 200, got: outcome.got };
          },
        );
      }
      for (const p of pictures.filter((x) => !itemPublic(x, x.collection) && itemVisible(caller, x, x.collection))) {
        matrix.cell(
          {
            route: 'GET /api/pictures/{id}/hd.jpg (headers)',
            caller,
            setup: `(d) ${setupOf(p.collection, p)}`,
            expected: '200, Cache-Control private, Vary Authorization, Cookie',
          },
          async () => {
            const res = await call(caller, `/api/pictures/${p.id}/hd.jpg`);
            await res.arrayBuffer();
            const outcome = privately(res);
            return { ok: outcome.ok && res.status === 200, got: outcome.got };
          },
        );
      }
    }
    results.push(...(await matrix.run(1)));
    assertCells(results);
  });
});
