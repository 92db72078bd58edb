import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import type pg from 'pg';
import { DatasetIngestService } from '../../src/datasets/dataset-ingest.service.js';
import { analyseRasterIsolated } from '../../src/datasets/raster/analyse-isolated.js';
import { RasterProblem } from '../../src/datasets/raster/raster-info.js';
import { JobQueueService } from '../../src/queue/job-queue.service.js';
import { JobName } from '../../src/queue/queue.constants.js';
import { postJson } from '../datasets-support.js';
import { startApi, type TestApi } from '../support/app.js';
import { createUser, type TestUser } from '../support/auth.js';
import { testPool } from '../support/db.js';
import { sharedPath } from '../support/env.js';
import { json } from '../support/net.js';
import { inProcessJobContext } from '../support/jobs.js';

const HARD = sharedPath('fixtures', 'geotiff', 'hard');

/** Files that took the worker down: each is read in a thread of its own, within a budget, and a run that never ends is given up. */
describe('datasets: files that could take the worker down', { skip: existsSync(HARD) ? undefined : `${HARD} is absent (../shared is not beside the project)` }, () => {
  let api: TestApi;
  let admin: TestUser;
  let db: pg.Pool;
  let root: string;

  before(async () => {
    root = await fs.mkdtemp(path.join(os.tmpdir(), 'hostile-'));
    for (const name of ['b09_ifd_loop.tif', 'b07_huge_sparse.tif']) await fs.copyFile(path.join(HARD, name), path.join(root, name));
    await fs.copyFile(sharedPath('fixtures', 'geotiff', 'RGB.byte.tif'), path.join(root, 'poison.tif'));
    api = await startApi({ env: { DATASET_ROOTS: root, LOG_LEVEL: 'error' } });
    admin = await createUser(api, 'operator', 'admin');
    db = testPool();
  });
  after(async () => {
    await db?.end();
    await api?.close();
    await fs.rm(root, { recursive: true, force: true });
  });

  /** Registers a file from the root, drops its queued job, and runs the ingest here. */
  const register = async (name: string): Promise<string> => {
    const res = await postJson(api, admin, '/api/datasets/from-path', { path: name, allow_duplicate: true });
    const body = await json(res);
    assert.equal(res.status, 202, JSON.stringify(body));
    await api.app.get(JobQueueService).remove(JobName.DatasetIngest, { datasetId: body.id, revision: 1 });
    return body.id;
  };
  const ingest = (id: string) => api.app.get(DatasetIngestService).ingest({ datasetId: id, revision: 1 }, inProcessJobContext());
  const dataset = async (id: string) => json(await api.fetch(`/api/datasets/${id}`, { headers: admin.headers }));

  it('reads a TIFF whose image directory points to itself, as GDAL does: the first image, with a warning', async () => {
    const id = await register('b09_ifd_loop.tif');
    assert.equal((await ingest(id)).status, 'ready');
    const d = await dataset(id);
    assert.equal(d.status, 'ready');
    assert.deepEqual([d.width, d.height], [8, 8]);
    assert.ok(
      d.warnings.some((w: string) => /loop/.test(w)),
      JSON.stringify(d.warnings),
    );
  });

  it('reads a sparse 200,000 × 200,000 GeoTIFF, with statistics estimated from blocks spread over it', async () => {
    const id = await register('b07_huge_sparse.tif');
    assert.equal((await ingest(id)).status, 'ready');
    const d = await dataset(id);
    assert.deepEqual([d.width, d.height], [200_000, 200_000]);
    assert.ok(
      d.warnings.some((w: string) => /estimated from \d+ blocks/.test(w)),
      JSON.stringify(d.warnings),
    );
    assert.equal(d.bbox?.length, 4, 'it has a place on Earth');
  });

  it('gives up a file whose ingest was started again and again without finishing (a poison job never loops)', async () => {
    const id = await register('poison.tif');
    // Three runs that never finished, as when the worker died reading the file each time.
    await db.query('UPDATE dataset SET ingest_runs = 3 WHERE id = $1', [id]);
    const outcome = await ingest(id);
    assert.equal(outcome.status, 'broken');
    const d = await dataset(id);
    assert.equal(d.status, 'broken');
    assert.match(d.error, /started 3 times without finishing/);
    // A new read (after the file was fixed) starts counting again.
    const again = await json(await api.fetch(`/api/datasets/${id}/ingest`, { method: 'POST', headers: admin.headers }));
    assert.equal(again.status, 'pending');
    await api.app.get(JobQueueService).remove(JobName.DatasetIngest, { datasetId: id, revision: 2 });
    assert.equal((await api.app.get(DatasetIngestService).ingest({ datasetId: id, revision: 2 }, inProcessJobContext())).status, 'ready');
  });

  it('stops a read past its time budget with a reason naming the setting', async () => {
    await assert.rejects(
      analyseRasterIsolated(path.join(root, 'b07_huge_sparse.tif'), (await fs.stat(path.join(root, 'b07_huge_sparse.tif'))).size, { timeoutMs: 1, maxHeapMb: 256 }),
      (error: unknown) => error instanceof RasterProblem && /DATASET_INGEST_TIMEOUT_SECONDS/.test(error.message),
    );
  });
});
