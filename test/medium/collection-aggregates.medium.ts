import assert from 'node:assert/strict';
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { writeTiff } from '../../scripts/bench/datasets-tiff-writer.js';
import { CatalogService } from '../../src/catalog/catalog.service.js';
import { DatasetIngestService } from '../../src/datasets/dataset-ingest.service.js';
import { JobQueueService } from '../../src/queue/job-queue.service.js';
import { JobName } from '../../src/queue/queue.constants.js';
import { upload as uploadDataset } from '../datasets-support.js';
import { startApi, type TestApi } from '../support/app.js';
import { createUser, type TestUser } from '../support/auth.js';
import { json } from '../support/net.js';
import { inProcessJobContext } from '../support/jobs.js';

/**
 * Datasets ingested at the same time into one collection: each ingest refreshes the collection's
 * count and extent in its own transaction. Run in-process against the real database, the ingests
 * truly overlap; the aggregates at the end must count every dataset, without a recompute.
 */
describe('collection aggregates under concurrent writers', () => {
  let api: TestApi;
  let owner: TestUser;
  let scratch: string;

  before(async () => {
    scratch = await fs.mkdtemp(path.join(os.tmpdir(), 'aggregates-'));
    api = await startApi({ env: { LOG_LEVEL: 'error' } });
    owner = await createUser(api, 'aggregates');
  });
  after(async () => {
    await api?.close();
    await fs.rm(scratch, { recursive: true, force: true });
  });

  it('counts and bounds every dataset of a collection when their ingests finish together', async () => {
    const collections = api.app.get(CatalogService);
    const ingest = api.app.get(DatasetIngestService);
    const jobs = api.app.get(JobQueueService);
    const lon0 = -150 + Math.random() * 290;
    const lat0 = -50 + Math.random() * 90;
    const name = `concurrent ${Math.random().toString(36).slice(2, 8)}`;
    let collectionId = '';
    for (let round = 0; round < 3; round++) {
      const ids: string[] = [];
      for (let i = 0; i < 4; i++) {
        const file = path.join(scratch, `r${round}-${i}.tif`);
        const west = lon0 + (round * 4 + i) * 0.5;
        await writeTiff(file, {
          width: 32,
          height: 32,
          bands: 1,
          dataType: 'uint8',
          geo: { epsg: 4326, geographic: true, transform: [0.01, 0, west, 0, -0.01, lat0] },
          pixel: (_b, c, r) => 1 + ((c + r + i) % 200),
        });
        const res = await uploadDataset(api, owner, file, `r${round}-${i}.tif`, { collection: name });
        const body = await json(res);
        assert.equal(res.status, 202, JSON.stringify(body));
        ids.push(body.id);
      }
      // The jobs the uploads queued are not needed: the ingests run here, all at once.
      await Promise.all(ids.map((id) => jobs.remove(JobName.DatasetIngest, { datasetId: id, revision: 1 })));
      const outcomes = await Promise.all(ids.map((id) => ingest.ingest({ datasetId: id, revision: 1 }, inProcessJobContext())));
      assert.deepEqual(
        outcomes.map((o) => o.status),
        ids.map(() => 'ready'),
      );
      collectionId = (await collections.findItem(ids[0]!))!.collectionId;
      const c = (await collections.findCollection(collectionId))!;
      const n = (round + 1) * 4;
      assert.equal(c.itemCount, n, `round ${round}: the count after ${n} datasets`);
      const xs = (c.geom as { coordinates: number[][][] }).coordinates[0]!.map((p) => p[0]!);
      assert.ok(Math.max(...xs) >= lon0 + (n - 1) * 0.5 + 0.32 - 1e-6, `round ${round}: the extent reaches the last dataset (${Math.max(...xs)})`);
      assert.ok(Math.min(...xs) <= lon0 + 1e-6, `round ${round}: the extent keeps the first dataset`);
    }
    // What STAC's collection search by bbox finds: the last dataset's place finds the collection.
    const east = lon0 + 11 * 0.5 + 0.1;
    const found = await json(await api.fetch(`/api/collections?bbox=${east},${lat0 - 0.2},${east + 0.05},${lat0 - 0.1}&limit=100`, { headers: owner.headers }));
    assert.ok(
      found.collections.some((c: { id: string }) => c.id === collectionId),
      'collection search by bbox finds the collection through its last dataset',
    );
  });
});
