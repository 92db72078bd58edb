/**
 * The fuzzer's own world: a database, queue prefix, storage folder and dataset root of its own
 * (so nothing it leaves queued is picked up by another test file's worker), and real objects in
 * it whose ids the requests can use.
 */
import { copyFile, mkdtemp, readFile, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { Redis } from 'ioredis';
import pg from 'pg';
import { DataSource } from 'typeorm';
import { dataSourceOptions } from '../../src/database/data-source-options.js';
import { tileOf } from '../datasets-support.js';
import { getFiles, uploadPicture } from '../upload-support.js';
import { startApi, type TestApi } from './app.js';
import { createUser, type TestUser } from './auth.js';
import { pointsNorth, seedPictureFiles, seedSequence } from './collections-seed.js';
import { requireTestEnv, sharedPath } from './env.js';
import { json, waitFor } from './net.js';
import { startWorker } from './processes.js';

export interface FuzzEnvironment {
  /** Environment of every process of the fuzzer's world. */
  env: Record<string, string>;
  dispose(): Promise<void>;
}

function adminUrl(url: string): string {
  const u = new URL(url);
  u.pathname = '/postgres';
  return u.toString();
}

/** A fresh migrated database, a queue prefix, a storage folder and a dataset root for the fuzzer. */
export async function fuzzEnvironment(): Promise<FuzzEnvironment> {
  requireTestEnv();
  const base = new URL(process.env.DATABASE_URL!);
  const name = `${decodeURIComponent(base.pathname.slice(1))}_fuzz`.slice(0, 63);
  const admin = new pg.Client({ connectionString: adminUrl(base.toString()) });
  await admin.connect();
  try {
    await admin.query(`DROP DATABASE IF EXISTS "${name}" WITH (FORCE)`);
    await admin.query(`CREATE DATABASE "${name}"`);
  } finally {
    await admin.end();
  }
  const url = new URL(base.toString());
  url.pathname = `/${name}`;
  const source = new DataSource({ ...dataSourceOptions({ DATABASE_URL: url.toString(), DATABASE_POOL_SIZE: 2 }), logging: ['error'] });
  await source.initialize();
  await source.runMigrations();
  await source.destroy();

  const dataDir = await mkdtemp(path.join(os.tmpdir(), 'sightline-fuzz-data-'));
  // Registered files live under DATASET_ROOTS and may be deleted by the API: copies, never the fixtures.
  const roots = await mkdtemp(path.join(os.tmpdir(), 'sightline-fuzz-roots-'));
  for (const f of ['float32.tif', 'world.byte.tif']) await copyFile(sharedPath('fixtures', 'geotiff', f), path.join(roots, f));
  const queuePrefix = `${process.env.QUEUE_PREFIX}:fuzz`;
  const env = { DATABASE_URL: url.toString(), QUEUE_PREFIX: queuePrefix, DATA_DIR: dataDir, DATASET_ROOTS: roots, RECONCILE_INTERVAL_SECONDS: '3600' };

  return {
    env,
    async dispose() {
      const client = new pg.Client({ connectionString: adminUrl(base.toString()) });
      await client.connect();
      await client.query(`DROP DATABASE IF EXISTS "${name}" WITH (FORCE)`).finally(() => client.end());
      const redis = new Redis(process.env.REDIS_URL!, { lazyConnect: true, maxRetriesPerRequest: 1 });
      await redis.connect();
      let cursor = '0';
      do {
        const [next, keys] = await redis.scan(cursor, 'MATCH', `${queuePrefix}:*`, 'COUNT', 1000);
        cursor = next;
        if (keys.length) await redis.del(...keys);
      } while (cursor !== '0');
      await redis.quit();
      await rm(dataDir, { recursive: true, force: true });
      await rm(roots, { recursive: true, force: true });
    },
  };
}

export type CallerName = 'anonymous' | 'user' | 'admin';

export interface FuzzWorld {
  /** The in-process app that made the users (and can mint them new tokens). */
  api: TestApi;
  admin: TestUser;
  user: TestUser;
  /** A user whose role and profile the admin may change. */
  victim: TestUser;
  collectionId: string;
  itemIds: string[];
  uploadSetId: string;
  /** The picture the uploaded file became, when there is one. */
  uploadedPictureId?: string;
  datasetId: string;
  datasetCollectionId: string;
  /** A point inside the dataset, and a tile holding it. */
  datasetPoint: { lon: number; lat: number };
  datasetTile: { z: number; x: number; y: number };
  mapTile: { z: number; x: number; y: number };
  managementJobId: string;
  maintenanceJobId: string;
  commandNames: string[];
  /** Tokens made to be revoked, by caller. */
  expendableTokenIds: Record<CallerName, string>;
  /** Unclaimed tokens of the command-line flow. */
  generatedTokenIds: string[];
  /**
   * Objects for the operations that delete or end them (DELETE, complete, re-ingest), so that the
   * objects above stay usable for the rest of the campaign.
   */
  doomed: { collectionId: string; itemCollectionId: string; itemIds: string[]; datasetId: string; uploadSetId: string };
  files: { tiff: Buffer; jpeg: Buffer };
}

const SPOT = { lon: 2.3522, lat: 48.8566 };

async function expectJson(res: Response, status: number, what: string) {
  const body = await json(res).catch(() => undefined);
  if (res.status !== status) throw new Error(`${what} answered ${res.status}: ${JSON.stringify(body)}`);
  return body;
}

/** Users, a sequence with pictures, an upload set with a file, a dataset ingested by a worker, jobs and tokens. */
export async function seedWorld(fuzzEnv: Record<string, string>): Promise<FuzzWorld> {
  // Without the dataset root: the worker would register its files while the seeds are uploaded.
  const env = { ...fuzzEnv, DATASET_ROOTS: '' };
  const api = await startApi({ env });
  const worker = await startWorker(env);
  try {
    const [admin, user, victim] = [await createUser(api, 'fuzz-admin', 'admin'), await createUser(api, 'fuzz-user'), await createUser(api, 'fuzz-victim')];
    const as = (who: TestUser | null, url: string, body?: unknown, method = 'POST') =>
      api.fetch(url, { method, headers: { 'content-type': 'application/json', ...(who?.headers ?? {}) }, body: body === undefined ? undefined : JSON.stringify(body) });

    const sequence = await seedSequence(api, { ownerId: user.id, title: 'fuzzed sequence', pictures: pointsNorth(SPOT, 4) });
    await seedPictureFiles(api, sequence.items[0]!.id, 2000);

    // A georeferenced raster for the seeded dataset; the smallest file for the multipart bodies.
    const world = await readFile(sharedPath('fixtures', 'geotiff', 'world.byte.tif'));
    const tiff = await readFile(sharedPath('fixtures', 'geotiff', 'float32.tif'));
    const jpeg = await readFile(sharedPath('fixtures', 'photos', 'gps', 'DSCN0010.jpg'));

    const datasetForm = (bytes: Buffer, name: string) => {
      const form = new FormData();
      form.append('title', name);
      form.append('allow_duplicate', 'true');
      form.append('file', new Blob([new Uint8Array(bytes)], { type: 'image/tiff' }), name);
      return form;
    };
    const dataset = await expectJson(
      await api.fetch('/api/datasets', { method: 'POST', headers: user.headers, body: datasetForm(world, 'world.byte.tif') }),
      202,
      'uploading the dataset',
    );

    const doomedDataset = await expectJson(
      await api.fetch('/api/datasets', { method: 'POST', headers: user.headers, body: datasetForm(tiff, 'float32.tif') }),
      202,
      'uploading a dataset to delete',
    );
    const set = await expectJson(await as(user, '/api/upload_sets', { title: 'fuzzed upload set' }), 201, 'creating the upload set');
    const doomedSet = await expectJson(await as(user, '/api/upload_sets', { title: 'upload set to delete' }), 201, 'creating an upload set to delete');
    const doomedSequence = await seedSequence(api, { ownerId: user.id, title: 'sequence to delete', pictures: pointsNorth(SPOT, 2) });
    const doomedItems = await seedSequence(api, { ownerId: user.id, title: 'sequence whose items are deleted', pictures: pointsNorth(SPOT, 3) });
    const uploaded = await uploadPicture(api, user, set.id, { name: 'DSCN0010.jpg', data: jpeg });
    if (uploaded.status !== 202) throw new Error(`uploading a picture answered ${uploaded.status}: ${await uploaded.text()}`);

    const ready = await waitFor(
      'the seeded dataset to be ingested',
      async () => {
        const d = await json(await api.fetch(`/api/datasets/${dataset.id}`, { headers: user.headers }));
        return d.status === 'ready' || d.status === 'broken' ? d : undefined;
      },
      60_000,
      100,
    );
    if (ready.status !== 'ready') throw new Error(`the seeded dataset is ${ready.status}: ${JSON.stringify(ready)}`);
    const [w, s, e, n] = ready.bbox as number[];
    const datasetPoint = { lon: (w! + e!) / 2, lat: (s! + n!) / 2 };
    const [dx, dy] = tileOf(datasetPoint.lon, datasetPoint.lat, 4);
    const [mx, my] = tileOf(SPOT.lon, SPOT.lat, 14);

    // The uploaded picture gets an id at once; its processing by the worker is not needed here.
    const files = await getFiles(api, user, set.id);
    const uploadedPictureId = (files.find((f) => f.picture_id)?.picture_id as string | undefined) ?? undefined;

    const commands = await expectJson(await api.fetch('/api/management/commands', { headers: admin.headers }), 200, 'listing commands');
    const managementJob = await expectJson(
      await as(admin, '/api/management/commands/system.ping/jobs', { args: { message: 'seed' }, autostart: false }),
      201,
      'creating a management job',
    );
    const maintenanceJobId = (await expectJson(await as(admin, '/api/admin/datasets/rehash', { dry_run: true }), 201, 'creating a rehash job')).id as string;

    const expendable = async (who: TestUser) =>
      (await expectJson(await as(who, '/api/users/me/tokens', { description: 'to be revoked by the fuzzer' }), 201, 'creating a token')).id as string;
    const generated = async () => (await expectJson(await as(null, '/api/auth/tokens/generate'), 201, 'generating a token')).id as string;

    return {
      api,
      admin,
      user,
      victim,
      collectionId: sequence.collection.id,
      itemIds: sequence.items.map((i) => i.id),
      uploadSetId: set.id,
      uploadedPictureId,
      datasetId: dataset.id,
      datasetCollectionId: ready.collection_id,
      datasetPoint,
      datasetTile: { z: 4, x: dx, y: dy },
      mapTile: { z: 14, x: mx, y: my },
      managementJobId: managementJob.id,
      maintenanceJobId,
      commandNames: (commands.commands as { name: string }[]).map((c) => c.name),
      expendableTokenIds: { anonymous: await expendable(user), user: await expendable(user), admin: await expendable(admin) },
      generatedTokenIds: [await generated(), await generated()],
      doomed: {
        collectionId: doomedSequence.collection.id,
        itemCollectionId: doomedItems.collection.id,
        itemIds: doomedItems.items.map((i) => i.id),
        datasetId: doomedDataset.id,
        uploadSetId: doomedSet.id,
      },
      files: { tiff, jpeg },
    };
  } catch (error) {
    await api.close();
    throw error;
  } finally {
    // Nothing queued from now on is processed: the fuzzer sees requests, not jobs.
    await worker.stop();
  }
}
