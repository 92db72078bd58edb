import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { existsSync } from 'node:fs';
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { Queue } from 'bullmq';
import type pg from 'pg';
import { type TiffSpec, writeTiff } from '../scripts/bench/datasets-tiff-writer.js';
import { redisOptions } from '../src/queue/redis-connection.js';
import { GEOTIFF_DIR, postJson, upload, waitIngested } from './datasets-support.js';
import { startApi, type TestApi } from './support/app.js';
import { createUser, type TestUser } from './support/auth.js';
import { testPool } from './support/db.js';
import { sharedPath } from './support/env.js';
import { json, waitFor } from './support/net.js';
import { type ChildHandle, startWorker } from './support/processes.js';

const skip = existsSync(GEOTIFF_DIR) ? false : `${GEOTIFF_DIR} is absent (../shared is not checked out beside the project)`;
const dataDir = process.env.DATA_DIR!;

/** A small north-up UTM 33N raster whose pixels depend on `seed`. */
function spec(seed: number): TiffSpec {
  return {
    width: 64,
    height: 48,
    bands: 1,
    dataType: 'uint16',
    geo: { epsg: 32633, transform: [10, 0, 400_000 + seed * 1000, 0, -10, 5_500_000] },
    pixel: (_b, c, r) => (c * 7 + r * 13 + seed * 101) % 4000,
  };
}

describe('datasets: maintenance commands and the reconciler', { skip }, () => {
  let api: TestApi;
  let worker: ChildHandle | undefined;
  let pool: pg.Pool;
  let admin: TestUser;
  let user: TestUser;
  let root: string;
  let outside: string;
  let env: Record<string, string>;
  const ids: Record<string, string> = {};

  before(async () => {
    root = await fs.mkdtemp(path.join(os.tmpdir(), 'datasets-maint-'));
    outside = await fs.mkdtemp(path.join(os.tmpdir(), 'datasets-maint-outside-'));
    env = { DATASET_ROOTS: root, RECONCILE_INTERVAL_SECONDS: '2' };
    api = await startApi({ env });
    pool = testPool();
    admin = await createUser(api, 'admin', 'admin');
    user = await createUser(api, 'dora');
  });
  after(async () => {
    await Promise.all([api?.close(), worker?.stop(), pool?.end()]);
    await fs.rm(root, { recursive: true, force: true });
    await fs.rm(outside, { recursive: true, force: true });
  });

  /**
   * Runs a command through the older admin route: it creates a management job of the matching
   * command, which a worker runs; answers the job once it has ended (succeeded).
   */
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  async function run(command: string, args: object = {}): Promise<any> {
    const res = await postJson(api, admin, `/api/admin/datasets/${command}`, args);
    const created = await json(res);
    assert.equal(res.status, 201, JSON.stringify(created));
    assert.equal(created.command, `datasets.${command}`);
    assert.equal(created.user_id, admin.id);
    assert.equal(res.headers.get('location'), `${api.baseUrl}/api/management/jobs/${created.id}`);
    const job = await waitFor(
      `the ${command} job to end`,
      async () => {
        const j = await json(await api.fetch(new URL(res.headers.get('location')!).pathname, { headers: admin.headers }));
        return ['succeeded', 'failed', 'cancelled'].includes(j.status) ? j : undefined;
      },
      60_000,
      200,
    );
    assert.equal(job.status, 'succeeded', JSON.stringify(job));
    assert.equal(job.progress, 100);
    return job;
  }

  it('ingests a dataset whose job was lost, once a worker reconciles', async () => {
    await writeTiff(path.join(root, 'a.tif'), spec(1));
    const res = await postJson(api, admin, '/api/datasets/from-path', { path: 'a.tif' });
    const body = await json(res);
    assert.equal(res.status, 202, JSON.stringify(body));
    ids.a = body.id;
    // No worker yet; drop the queued job as a Redis flush would.
    const queue = new Queue('datasets', { connection: redisOptions(process.env.REDIS_URL!), prefix: process.env.QUEUE_PREFIX! });
    try {
      const job = await queue.getJob(`datasets.ingest__${body.id}__1`);
      assert.ok(job, 'the ingest job was queued');
      await job.remove();
      assert.equal(await queue.getJob(`datasets.ingest__${body.id}__1`), undefined);
    } finally {
      await queue.close();
    }
    worker = await startWorker(env);
    const d = await waitIngested(api, admin, body.id, 30_000);
    assert.equal(d.status, 'ready', d.error);
    assert.equal(d.crs, 'EPSG:32633');
  });

  it('is for admins only, and refuses unknown arguments without creating a job', async () => {
    const jobs = async () => (await json(await api.fetch('/api/management/jobs?command=datasets.rehash', { headers: admin.headers }))).total;
    const before = await jobs();
    assert.equal((await postJson(api, user, '/api/admin/datasets/resync', {})).status, 403);
    assert.equal((await postJson(api, undefined, '/api/admin/datasets/rehash', {})).status, 401);
    assert.equal((await postJson(api, admin, '/api/admin/datasets/rehash', { colour: 'red' })).status, 400);
    assert.equal(await jobs(), before);
  });

  it('accepts the older wait parameter, answers at once, and refuses a second job of the command while one is active', async () => {
    // The worker is running: the job may finish at any time, so the second request is made at once.
    const first = await postJson(api, admin, '/api/admin/datasets/prune-missing?wait=30', { dry_run: true });
    const second = await postJson(api, admin, '/api/admin/datasets/prune-missing', { dry_run: true });
    const job = await json(first);
    assert.equal(first.status, 201, JSON.stringify(job));
    assert.ok(['queued', 'running', 'succeeded'].includes(job.status), job.status);
    assert.deepEqual(job.args, { dry_run: true });
    if (second.status === 409) assert.equal((await json(second)).details.active_job_id, job.id);
    else assert.equal(second.status, 201, 'a second job is refused only while the first is active');
    await waitFor('the prune-missing jobs to end', async () => {
      const { items } = await json(await api.fetch('/api/management/jobs?command=datasets.prune-missing&status=queued,running', { headers: admin.headers }));
      return items.length === 0;
    });
  });

  it('resync registers new rasters under the roots, skips what it cannot read, and re-reads changed files', async () => {
    await writeTiff(path.join(root, 'b.tif'), spec(2));
    await fs.mkdir(path.join(root, 'sub'));
    await writeTiff(path.join(root, 'sub', 'c.TIFF'), spec(3));
    await fs.writeFile(path.join(root, 'notes.txt'), 'not a raster');
    await fs.copyFile(sharedPath('fixtures', 'photos', 'gps', 'DSCN0010.jpg'), path.join(root, 'photo.tif'));
    await writeTiff(path.join(outside, 'elsewhere.tif'), spec(9));
    await fs.symlink(path.join(outside, 'elsewhere.tif'), path.join(root, 'link.tif'));

    const owned = async () => (await json(await api.fetch(`/api/datasets?owner=${admin.id}`, { headers: admin.headers }))).total;
    const ownedBefore = await owned();
    const dry = await run('resync', { dry_run: true });
    assert.deepEqual(dry.result.added.map((a: { path: string }) => path.basename(a.path)).sort(), ['b.tif', 'c.TIFF']);
    assert.deepEqual(
      dry.result.skipped.map((a: { path: string }) => path.basename(a.path)),
      ['photo.tif'],
    );
    assert.equal(await owned(), ownedBefore, 'a dry run registers nothing');

    const job = await run('resync', { visibility: 'logged-only' });
    const r = job.result;
    assert.deepEqual(r.added.map((a: { path: string }) => path.basename(a.path)).sort(), ['b.tif', 'c.TIFF']);
    assert.deepEqual(
      r.skipped.map((s: { path: string }) => path.basename(s.path)),
      ['photo.tif'],
    );
    assert.match(r.skipped[0].reason, /not a TIFF/);
    assert.equal(r.unchanged, 1, 'a.tif is registered and unchanged');
    assert.ok(!JSON.stringify(r).includes('elsewhere'), 'a symlink leading outside the roots is ignored');
    assert.ok(
      job.output_tail.some((l: string) => l.startsWith('registered')),
      'the job logged what it did',
    );
    for (const a of r.added) {
      const d = await waitIngested(api, admin, a.id);
      assert.equal(d.status, 'ready', d.error);
      assert.equal(d.owner_id, admin.id, 'owned by the admin who ran resync');
      assert.equal(d.visibility, 'logged-only');
      ids[path.basename(a.path)] = a.id;
    }
    // The older job route reads the management job.
    const status = await json(await api.fetch(`/api/admin/datasets/jobs/${job.id}`, { headers: admin.headers }));
    assert.equal(status.command, 'datasets.resync');
    assert.equal(status.status, 'succeeded');
    assert.equal(status.progress, 100);
    assert.deepEqual(status.result, job.result);
    assert.equal(status.links[0].href, `${api.baseUrl}/api/management/jobs/${job.id}`);
    assert.equal((await api.fetch('/api/admin/datasets/jobs/nope', { headers: admin.headers })).status, 404);
    assert.equal((await api.fetch('/api/admin/datasets/jobs/42', { headers: admin.headers })).status, 404, 'an id of the older jobs');
    assert.equal((await api.fetch(`/api/admin/datasets/jobs/${randomUUID()}`, { headers: admin.headers })).status, 404);
    assert.equal((await api.fetch(`/api/admin/datasets/jobs/${job.id}`, { headers: user.headers })).status, 403);

    // a.tif changes (other pixels, other size): resync re-reads it.
    const before = await json(await api.fetch(`/api/datasets/${ids.a}`, { headers: user.headers }));
    await writeTiff(path.join(root, 'a.tif'), { ...spec(4), width: 80 });
    const again = await run('resync');
    assert.deepEqual(
      again.result.refreshed.map((x: { id: string }) => x.id),
      [ids.a],
    );
    assert.equal(again.result.added.length, 0);
    const after = await waitFor('a.tif re-read', async () => {
      const d = await json(await api.fetch(`/api/datasets/${ids.a}`, { headers: user.headers }));
      return d.status === 'ready' && d.width === 80 ? d : undefined;
    });
    assert.notEqual(after.sha256, before.sha256);
  });

  it('rehash reports and records files whose content changed', async () => {
    const own = path.join(outside, 'upload.tif');
    await writeTiff(own, spec(7));
    const up = await upload(api, user, own, 'upload.tif');
    const uploaded = await waitIngested(api, user, (await json(up)).id);
    assert.equal(uploaded.status, 'ready');
    // Same size, other pixels: only the hash can tell.
    const b = path.join(root, 'b.tif');
    const old = await json(await api.fetch(`/api/datasets/${ids['b.tif']}`, { headers: admin.headers }));
    await writeTiff(b, { ...spec(2), pixel: (_band, c, r) => (c + r) % 7 });
    assert.equal((await fs.stat(b)).size, old.size);

    const dry = await run('rehash', { dry_run: true });
    assert.deepEqual(
      dry.result.changed.map((c: { id: string }) => c.id),
      [ids['b.tif']],
    );
    assert.equal((await json(await api.fetch(`/api/datasets/${ids['b.tif']}`, { headers: admin.headers }))).sha256, old.sha256, 'a dry run changes nothing');

    const job = await run('rehash');
    const [change] = job.result.changed;
    assert.equal(job.result.changed.length, 1);
    assert.deepEqual([change.id, change.old_sha256], [ids['b.tif'], old.sha256]);
    assert.ok(job.result.unchanged >= 3, 'the others, the upload included, are unchanged');
    const now = await json(await api.fetch(`/api/datasets/${ids['b.tif']}`, { headers: admin.headers }));
    assert.equal(now.sha256, change.new_sha256);
    const { rows } = await pool.query('SELECT assets FROM item WHERE id = $1', [ids['b.tif']]);
    assert.equal(rows[0].assets.data['file:checksum'], `1220${change.new_sha256}`);
    const only = await run('rehash', { ids: [uploaded.id] });
    assert.equal(only.result.checked, 1);
  });

  it('prune-missing deletes datasets whose file is gone and old orphaned uploads', async () => {
    await fs.rm(path.join(root, 'sub', 'c.TIFF'));
    const old = path.join(dataDir, 'datasets', randomUUID(), 'data.tif');
    const fresh = path.join(dataDir, 'datasets', randomUUID(), 'data.tif');
    for (const f of [old, fresh]) {
      await fs.mkdir(path.dirname(f), { recursive: true });
      await fs.writeFile(f, 'left over');
    }
    const twoHoursAgo = new Date(Date.now() - 2 * 3600_000);
    await fs.utimes(old, twoHoursAgo, twoHoursAgo);

    const dry = await run('prune-missing', { dry_run: true });
    assert.deepEqual(
      dry.result.pruned.map((p: { id: string }) => p.id),
      [ids['c.TIFF']],
    );
    assert.equal((await api.fetch(`/api/datasets/${ids['c.TIFF']}`, { headers: admin.headers })).status, 200);
    assert.ok(existsSync(old));

    const job = await run('prune-missing');
    assert.deepEqual(
      job.result.pruned.map((p: { id: string }) => p.id),
      [ids['c.TIFF']],
    );
    assert.deepEqual(job.result.orphans, [`datasets/${path.basename(path.dirname(old))}/`]);
    assert.equal((await api.fetch(`/api/datasets/${ids['c.TIFF']}`, { headers: admin.headers })).status, 404);
    assert.equal((await pool.query('SELECT 1 FROM item WHERE id = $1', [ids['c.TIFF']])).rowCount, 0);
    assert.equal(existsSync(old), false, 'an old orphan is removed');
    assert.ok(existsSync(fresh), 'a recent one may be an upload in progress: kept');
    assert.equal((await api.fetch(`/api/datasets/${ids.a}`, { headers: admin.headers })).status, 200, 'datasets with files stay');
  });
});
