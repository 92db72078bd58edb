import assert from 'node:assert/strict';
import fs from 'node:fs/promises';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import type pg from 'pg';
import { TokensService } from '../src/auth/tokens.service.js';
import { startApi, TestApi } from './support/app.js';
import { createUser, TestUser } from './support/auth.js';
import { testPool } from './support/db.js';
import { json, waitFor } from './support/net.js';
import { ChildHandle, spawnEntry, startWorker } from './support/processes.js';

// Short stall detection so that a killed worker's job is noticed in seconds.
const ENV = { MANAGEMENT_STALL_SECONDS: '2', RECONCILE_INTERVAL_SECONDS: '1' };
const FINISHED = ['succeeded', 'failed', 'cancelled'];

const exitCode = (child: ChildHandle) =>
  new Promise<number | null>((resolve) => (child.proc.exitCode !== null ? resolve(child.proc.exitCode) : child.proc.once('exit', (code) => resolve(code))));

describe('management jobs', () => {
  let api: TestApi;
  let admin: TestUser;
  let user: TestUser;
  let worker: ChildHandle;
  let db: pg.Pool;

  const post = (url: string, body?: unknown, who: TestUser | null = admin) =>
    api.fetch(url, {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...(who?.headers ?? {}) },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
  const get = (url: string, who: TestUser | null = admin) => api.fetch(url, { headers: who?.headers ?? {} });
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  const create = async (command: string, body: unknown): Promise<any> => {
    const res = await post(`/api/management/commands/${command}/jobs`, body);
    const job = await json(res);
    assert.equal(res.status, 201, JSON.stringify(job));
    return job;
  };
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  const waitJob = (id: string, what: string, done: (job: any) => boolean, timeoutMs = 15_000, intervalMs = 50): Promise<any> =>
    waitFor(
      `job ${id} ${what}`,
      async () => {
        const job = await json(await get(`/api/management/jobs/${id}`));
        return done(job) ? job : undefined;
      },
      timeoutMs,
      intervalMs,
    );

  before(async () => {
    api = await startApi({ env: ENV });
    admin = await createUser(api, 'mgmt-admin', 'admin');
    user = await createUser(api, 'mgmt-user');
    worker = await startWorker(ENV);
    db = testPool();
  });
  after(async () => {
    await worker?.stop();
    await api?.close();
    await db?.end();
  });

  it('lists the registered commands with their argument schemas', async () => {
    const res = await get('/api/management/commands');
    assert.equal(res.status, 200);
    const { commands } = await json(res);
    const names = commands.map((c: { name: string }) => c.name);
    for (const name of ['system.ping', 'system.sleep', 'storage.cleanup-temp', 'tokens.purge-expired', 'management.purge-finished']) assert.ok(names.includes(name), name);
    const ping = await json(await get('/api/management/commands/system.ping'));
    assert.equal(ping.args_schema.type, 'object');
    assert.equal(ping.args_schema.additionalProperties, false);
    assert.equal(ping.args_schema.properties.steps.type, 'integer');
    assert.equal(ping.retryable, true);
    const sleep = await json(await get('/api/management/commands/system.sleep'));
    assert.equal(sleep.exclusive, true);
    assert.equal(sleep.retryable, false);
    const unknown = await get('/api/management/commands/system.nope');
    assert.equal(unknown.status, 404);
    assert.match((await json(unknown)).message, /Unknown management command system\.nope/);
  });

  it('is for admins only: 401 anonymous, 403 for a user', async () => {
    for (const [method, url] of [
      ['GET', '/api/management/commands'],
      ['GET', '/api/management/jobs'],
      ['POST', '/api/management/commands/system.ping/jobs'],
    ]) {
      const anonymous = method === 'GET' ? await get(url, null) : await post(url, {}, null);
      assert.equal(anonymous.status, 401, `${method} ${url}`);
      const forbidden = method === 'GET' ? await get(url, user) : await post(url, {}, user);
      assert.equal(forbidden.status, 403, `${method} ${url}`);
    }
    assert.equal(
      (await json(await get('/api/management/jobs?command=system.ping'))).items.some((j: { user_id: string }) => j.user_id === user.id),
      false,
    );
  });

  it('runs system.ping in the worker: created, queued, succeeded with its output and 100 % progress', async () => {
    const res = await post('/api/management/commands/system.ping/jobs', { args: { message: 'hello', steps: 3 } });
    assert.equal(res.status, 201);
    const created = await json(res);
    assert.equal(res.headers.get('location'), `${api.baseUrl}/api/management/jobs/${created.id}`);
    assert.equal(created.status, 'queued');
    assert.equal(created.command, 'system.ping');
    assert.deepEqual(created.args, { message: 'hello', steps: 3, delay_ms: 0 }, 'arguments are stored with their defaults');
    assert.equal(created.user_id, admin.id);
    assert.equal(created.user_name, admin.name);

    const job = await waitJob(created.id, 'to finish', (j) => FINISHED.includes(j.status));
    assert.equal(job.status, 'succeeded', job.error);
    assert.equal(job.progress, 100);
    assert.equal(job.error, null);
    assert.equal(job.attempt, 1);
    assert.deepEqual(job.result, { pong: true, echo: { message: 'hello', steps: 3, delay_ms: 0 }, steps_done: 3, steps: 3 });
    assert.ok(job.started_at && job.ended_at && job.queued_at);
    assert.ok(new Date(job.ended_at) >= new Date(job.started_at));
    assert.deepEqual(job.output_tail.slice(1), ['step 1/3', 'step 2/3', 'step 3/3', 'pong hello']);
    assert.equal(job.output_lines, 5);

    const out = await get(`/api/management/jobs/${created.id}/output`);
    assert.equal(out.status, 200);
    assert.match(out.headers.get('content-type') ?? '', /^text\/plain/);
    assert.equal(out.headers.get('x-output-lines'), '5');
    const text = await out.text();
    assert.equal(text.split('\n').length, 6);
    assert.match(text, /^ping \{.*"message":"hello".*\}\nstep 1\/3\nstep 2\/3\nstep 3\/3\npong hello\n$/);
    const rest = await (await get(`/api/management/jobs/${created.id}/output?after=2&timestamps=true`)).text();
    assert.match(rest, /^\d{4}-\d\d-\d\dT\S+Z step 3\/3\n\S+ pong hello\n$/);
  });

  it('records a failing command as failed with its error', async () => {
    const created = await create('system.ping', { args: { fail_with: 'the pipe is broken' } });
    const job = await waitJob(created.id, 'to fail', (j) => FINISHED.includes(j.status));
    assert.equal(job.status, 'failed');
    assert.equal(job.error, 'the pipe is broken');
    assert.equal(job.output_tail.at(-1), 'Error: the pipe is broken');
  });

  it('leaves a job created with autostart false until it is started, and starts it only once', async () => {
    const created = await create('system.ping', { args: { message: 'later' }, autostart: false });
    assert.equal(created.status, 'created');
    assert.equal(created.queued_at, null);
    // A job created after it, and started, runs to its end: the worker has been past the first one.
    const later = await create('system.ping', { args: { message: 'after' } });
    await waitJob(later.id, 'to succeed', (j) => FINISHED.includes(j.status));
    assert.equal((await json(await get(`/api/management/jobs/${created.id}`))).status, 'created', 'nothing runs it before start');

    const started = await post(`/api/management/jobs/${created.id}/start`);
    assert.equal(started.status, 200);
    assert.ok(['queued', 'running', 'succeeded'].includes((await json(started)).status));
    const twice = await post(`/api/management/jobs/${created.id}/start`);
    assert.equal(twice.status, 409);
    assert.match((await json(twice)).message, /only a created job can be started/);

    const job = await waitJob(created.id, 'to succeed', (j) => FINISHED.includes(j.status));
    assert.equal(job.status, 'succeeded');
    assert.equal((await post(`/api/management/jobs/${created.id}/start`)).status, 409);
    assert.equal((await post(`/api/management/jobs/${created.id}/stop`)).status, 409, 'an ended job cannot be stopped');
  });

  it('refuses bad arguments with 400 naming the field, and unknown commands or jobs with 404', async () => {
    const cases: [unknown, string][] = [
      [{ args: { steps: 0 } }, 'args.steps'],
      [{ args: { steps: 'three' } }, 'args.steps'],
      [{ args: { bogus: true } }, 'args.bogus'],
      [{ args: 'steps=3' }, 'args'],
      [{ args: {}, autostart: 'yes' }, 'autostart'],
      [{ args: {}, extra: 1 }, 'extra'],
    ];
    for (const [body, field] of cases) {
      const res = await post('/api/management/commands/system.ping/jobs', body);
      const error = await json(res);
      assert.equal(res.status, 400, JSON.stringify(body));
      assert.ok(
        error.details.some((d: { field: string }) => d.field === field),
        `${JSON.stringify(body)} → ${JSON.stringify(error.details)}`,
      );
      assert.match(error.message, new RegExp(field.replace('.', '\\.')));
    }
    const unknown = await post('/api/management/commands/system.nope/jobs', { args: {} });
    assert.equal(unknown.status, 404);
    assert.equal((await get('/api/management/jobs/00000000-0000-4000-8000-000000000000')).status, 404);
    assert.equal((await get('/api/management/jobs/not-a-uuid')).status, 404);
    assert.equal((await post('/api/management/jobs/00000000-0000-4000-8000-000000000000/start')).status, 404);
    assert.equal((await post('/api/management/jobs/00000000-0000-4000-8000-000000000000/stop')).status, 404);
    assert.equal((await get('/api/management/jobs/00000000-0000-4000-8000-000000000000/output')).status, 404);
  });

  it('stops a long job mid-way: cancelled within 2 s, with progress, result and output that agree', async () => {
    const steps = 200;
    const created = await create('system.ping', { args: { delay_ms: 20_000, steps } });
    await waitJob(created.id, 'to make progress', (j) => j.status === 'running' && j.progress >= 3);

    const asked = Date.now();
    const res = await post(`/api/management/jobs/${created.id}/stop`);
    assert.equal(res.status, 202);
    const stopping = await json(res);
    assert.ok(stopping.stop_requested_at);
    const job = await waitJob(created.id, 'to end', (j) => FINISHED.includes(j.status), 5000, 20);
    const tookMs = Date.now() - asked;
    assert.equal(job.status, 'cancelled');
    assert.ok(tookMs < 2000, `ended ${tookMs} ms after the stop request`);

    const done = job.result.steps_done;
    assert.ok(done >= 6 && done < steps, `finished ${done} of ${steps} steps`);
    assert.equal(job.result.pong, false);
    assert.equal(job.progress, Math.round((done / steps) * 100 * 100) / 100, 'the progress recorded is that of the last finished step');
    const text = await (await get(`/api/management/jobs/${created.id}/output`)).text();
    const stepLines = text.split('\n').filter((l) => /^step \d+\/200$/.test(l));
    assert.equal(stepLines.length, done, 'one output line per finished step');
    assert.equal(stepLines.at(-1), `step ${done}/${steps}`);
    assert.match(text, /\[management\] stopped on request/);
    assert.equal((await post(`/api/management/jobs/${created.id}/stop`)).status, 409);
  });

  it('cancels a job that has not started at once', async () => {
    const created = await create('system.ping', { autostart: false });
    const res = await post(`/api/management/jobs/${created.id}/stop`);
    assert.equal(res.status, 202);
    const job = await json(res);
    assert.equal(job.status, 'cancelled');
    assert.equal(job.started_at, null);
    assert.equal((await post(`/api/management/jobs/${created.id}/start`)).status, 409);
  });

  it('refuses a second job of an exclusive command while one is active (409), and accepts one after', async () => {
    const first = await create('system.sleep', { args: { duration_ms: 30_000, steps: 300 } });
    const second = await post('/api/management/commands/system.sleep/jobs', { args: { duration_ms: 10 } });
    assert.equal(second.status, 409);
    const conflict = await json(second);
    assert.equal(conflict.details.active_job_id, first.id);

    const later = await create('system.sleep', { args: { duration_ms: 10 }, autostart: false });
    assert.equal((await post(`/api/management/jobs/${later.id}/start`)).status, 409, 'starting it is refused too');

    await waitJob(first.id, 'to run', (j) => j.status === 'running');
    assert.equal((await post(`/api/management/jobs/${first.id}/stop`)).status, 202);
    await waitJob(first.id, 'to be cancelled', (j) => j.status === 'cancelled', 5000);
    assert.equal((await post(`/api/management/jobs/${later.id}/start`)).status, 200);
    const job = await waitJob(later.id, 'to succeed', (j) => FINISHED.includes(j.status));
    assert.equal(job.status, 'succeeded');
  });

  it('runs storage.cleanup-temp and tokens.purge-expired', async () => {
    const dataDir = process.env.DATA_DIR!;
    const old = path.join(dataDir, 'tmp', 'mgmt', 'abandoned.part');
    await fs.mkdir(path.dirname(old), { recursive: true });
    await fs.writeFile(old, 'x');
    const t = new Date(Date.now() - 3600_000);
    await fs.utimes(old, t, t);
    const cleanup = await create('storage.cleanup-temp', { args: { max_age_seconds: 60 } });
    const cleaned = await waitJob(cleanup.id, 'to finish', (j) => FINISHED.includes(j.status));
    assert.equal(cleaned.status, 'succeeded', cleaned.error);
    assert.ok(cleaned.result.removed >= 1);
    assert.equal(
      await fs.stat(old).then(
        () => true,
        () => false,
      ),
      false,
    );

    const tokens = api.app.get(TokensService);
    const expired = await tokens.create(user.id, 'expired', new Date(Date.now() - 1000));
    const valid = await tokens.create(user.id, 'valid', new Date(Date.now() + 3600_000));
    const unclaimed = await tokens.create(null, 'unclaimed, stale');
    const fresh = await tokens.create(null, 'unclaimed, fresh');
    await db.query(`UPDATE api_token SET created_at = now() - interval '2 days' WHERE id = $1`, [unclaimed.token.id]);
    const dry = await create('tokens.purge-expired', { args: { dry_run: true } });
    const dryJob = await waitJob(dry.id, 'to finish', (j) => FINISHED.includes(j.status));
    assert.equal(dryJob.status, 'succeeded', dryJob.error);
    assert.ok(dryJob.result.expired >= 1 && dryJob.result.unclaimed >= 1);
    const purge = await create('tokens.purge-expired', {});
    const purged = await waitJob(purge.id, 'to finish', (j) => FINISHED.includes(j.status));
    assert.equal(purged.status, 'succeeded', purged.error);
    const { rows } = await db.query(`SELECT id FROM api_token WHERE id = ANY($1::uuid[])`, [[expired, valid, unclaimed, fresh].map((x) => x.token.id)]);
    assert.deepEqual(rows.map((r) => r.id).sort(), [valid.token.id, fresh.token.id].sort());
  });

  it('runs collections.recompute as a job', async () => {
    const job = await create('collections.recompute', { args: {} });
    const done = await waitJob(job.id, 'to finish', (j) => FINISHED.includes(j.status));
    assert.equal(done.status, 'succeeded', done.error);
    assert.equal(done.progress, 100);
    assert.equal(typeof done.result.collections, 'number');
    const unknown = await create('collections.recompute', { args: { collection_id: '00000000-0000-4000-8000-000000000000' } });
    const failed = await waitJob(unknown.id, 'to finish', (j) => FINISHED.includes(j.status));
    assert.equal(failed.status, 'failed');
    assert.match(failed.error, /not found/);
  });

  it('runs the dataset maintenance commands as jobs', async () => {
    const names = (await json(await get('/api/management/commands'))).commands.map((c: { name: string }) => c.name);
    for (const name of ['datasets.rehash', 'datasets.prune-missing', 'datasets.resync']) assert.ok(names.includes(name), name);
    const bad = await post('/api/management/commands/datasets.rehash/jobs', { args: { ids: ['not-a-uuid'] } });
    assert.equal(bad.status, 400);
    assert.match((await json(bad)).message, /ids/);
    const job = await create('datasets.prune-missing', { args: { dry_run: true } });
    const done = await waitJob(job.id, 'to finish', (j) => FINISHED.includes(j.status));
    assert.equal(done.status, 'succeeded', done.error);
    assert.equal(done.progress, 100);
    assert.equal(typeof done.result, 'object');
  });

  it('the older admin routes create management jobs, answered as this API answers them', async () => {
    const recompute = await post('/api/admin/collections/recompute', {});
    const created = await json(recompute);
    assert.equal(recompute.status, 201, JSON.stringify(created));
    assert.equal(recompute.headers.get('location'), `${api.baseUrl}/api/management/jobs/${created.id}`);
    assert.equal(created.command, 'collections.recompute');
    assert.equal(created.source, 'api');
    assert.equal(created.user_id, admin.id);
    const recomputed = await waitJob(created.id, 'to finish', (j) => FINISHED.includes(j.status));
    assert.equal(recomputed.status, 'succeeded', recomputed.error);
    assert.equal(typeof recomputed.result.collections, 'number');

    const prune = await post('/api/admin/datasets/prune-missing?wait=10', { dry_run: true });
    const job = await json(prune);
    assert.equal(prune.status, 201, JSON.stringify(job));
    assert.equal(job.command, 'datasets.prune-missing');
    assert.deepEqual(job.args, { dry_run: true });
    const listed = await json(await get(`/api/management/jobs?command=datasets.prune-missing&user_id=${admin.id}`));
    assert.ok(
      listed.items.some((j: { id: string }) => j.id === job.id),
      'listed with the other management jobs',
    );
    const done = await waitJob(job.id, 'to finish', (j) => FINISHED.includes(j.status));
    assert.equal(done.status, 'succeeded', done.error);
    assert.equal(done.result.dry_run, true);
    const alias = await json(await get(`/api/admin/datasets/jobs/${job.id}`));
    assert.deepEqual({ ...alias, heartbeat_at: null }, { ...done, heartbeat_at: null });
    assert.equal((await get('/api/admin/datasets/jobs/1')).status, 404);
    assert.equal((await post('/api/admin/datasets/rehash', { ids: ['not-a-uuid'] })).status, 400);
  });

  it('purges jobs that ended long ago with management.purge-finished', async () => {
    const old = await create('system.ping', { args: { message: 'old' } });
    await waitJob(old.id, 'to finish', (j) => FINISHED.includes(j.status));
    await db.query(`UPDATE management_job SET ended_at = now() - interval '40 days' WHERE id = $1`, [old.id]);
    const purge = await create('management.purge-finished', { args: { older_than_days: 30 } });
    const done = await waitJob(purge.id, 'to finish', (j) => FINISHED.includes(j.status));
    assert.equal(done.status, 'succeeded', done.error);
    assert.ok(done.result.jobs >= 1 && done.result.lines >= 3);
    assert.equal((await get(`/api/management/jobs/${old.id}`)).status, 404);
    assert.equal((await db.query(`SELECT count(*)::int AS n FROM management_job_output WHERE job_id = $1`, [old.id])).rows[0].n, 0);
  });

  it('filters and pages the job list', async () => {
    const marker = `list-${Date.now()}`;
    const ids: string[] = [];
    for (let i = 0; i < 3; i++) ids.push((await create('system.ping', { args: { message: marker }, autostart: false })).id);
    const since = (await json(await get(`/api/management/jobs/${ids[0]}`))).created_at;

    const page1 = await json(await get(`/api/management/jobs?command=system.ping&status=created&created_after=${encodeURIComponent(since)}&limit=2`));
    assert.equal(page1.total, 3);
    assert.deepEqual(
      page1.items.map((j: { id: string }) => j.id),
      [ids[2], ids[1]],
      'newest first',
    );
    const next = page1.links.find((l: { rel: string }) => l.rel === 'next');
    assert.ok(next);
    const page2 = await json(await get(new URL(next.href).pathname + new URL(next.href).search));
    assert.deepEqual(
      page2.items.map((j: { id: string }) => j.id),
      [ids[0]],
    );
    assert.ok(page2.links.some((l: { rel: string }) => l.rel === 'prev'));

    const mine = await json(await get(`/api/management/jobs?user_id=${admin.id}&status=created,succeeded&limit=1000`));
    assert.ok(mine.items.every((j: { user_id: string; status: string }) => j.user_id === admin.id && ['created', 'succeeded'].includes(j.status)));
    assert.ok(mine.items.some((j: { status: string }) => j.status === 'succeeded'));
    const before = await json(await get(`/api/management/jobs?created_before=${encodeURIComponent(since)}&command=system.ping&status=created`));
    assert.ok(!before.items.some((j: { id: string }) => ids.includes(j.id)));
    assert.equal((await json(await get(`/api/management/jobs?user_id=${user.id}`))).total, 0);

    const bad = await get('/api/management/jobs?status=exploded');
    assert.equal(bad.status, 400);
    assert.equal((await get('/api/management/jobs?created_after=yesterday')).status, 400);
    for (const id of ids) await post(`/api/management/jobs/${id}/stop`);
  });

  it('runs a command from the CLI with the same handler, recorded as a job', async () => {
    const cli = spawnEntry('cli', { args: ['run', 'system.ping', '--args', '{"message":"from the cli","steps":2}'] });
    assert.equal(await exitCode(cli), 0, cli.output());
    assert.match(cli.output(), /step 2\/2/);
    assert.match(cli.output(), /"message": "from the cli"/);
    const list = await json(await get('/api/management/jobs?command=system.ping&limit=50'));
    const job = list.items.find((j: { args: { message?: string } }) => j.args.message === 'from the cli');
    assert.ok(job, 'the CLI run is listed');
    assert.equal(job.source, 'cli');
    assert.equal(job.status, 'succeeded');
    assert.equal(job.user_id, null);

    const bad = spawnEntry('cli', { args: ['run', 'system.ping', '--args', '{"steps":-1}'] });
    assert.equal(await exitCode(bad), 64, bad.output());
    assert.match(bad.output(), /args\.steps must be >= 1/);
  });

  it('a SIGKILLed worker: the non-retryable job fails as stalled, the retryable one succeeds on its next run', async () => {
    const once = await create('system.sleep', { args: { duration_ms: 60_000, steps: 600 } });
    const retried = await create('system.ping', { args: { message: 'again', delay_ms: 3000, steps: 30 } });
    await waitJob(once.id, 'to run', (j) => j.status === 'running' && j.progress > 0);
    await waitJob(retried.id, 'to run', (j) => j.status === 'running' && j.progress > 0);
    await worker.kill('SIGKILL');
    worker = await startWorker(ENV);

    // Read the rows directly: the API also sweeps stalled jobs when read, and this checks that the worker does it alone.
    const status = async (id: string) => (await db.query(`SELECT status, error, attempt FROM management_job WHERE id = $1`, [id])).rows[0];
    const failed = await waitFor(
      'the non-retryable job to end',
      async () => {
        const row = await status(once.id);
        return row.status !== 'running' ? row : undefined;
      },
      20_000,
    );
    assert.equal(failed.status, 'failed');
    assert.match(failed.error, /^Stalled: no heartbeat from worker:/);
    const again = await waitFor(
      'the retryable job to end',
      async () => {
        const row = await status(retried.id);
        return FINISHED.includes(row.status) ? row : undefined;
      },
      30_000,
    );
    assert.equal(again.status, 'succeeded');
    assert.equal(again.attempt, 2);

    const job = await json(await get(`/api/management/jobs/${retried.id}`));
    assert.equal(job.progress, 100);
    assert.equal(job.result.steps_done, 30);
    const text = await (await get(`/api/management/jobs/${retried.id}/output`)).text();
    assert.match(text, /\[management\] run 1 stalled: no heartbeat .* running again \(run 2 of at most 3\)/);
    assert.match(text, /pong again\n$/);
    const stalled = await json(await get(`/api/management/jobs/${once.id}`));
    assert.equal(stalled.status, 'failed');
    assert.ok(stalled.ended_at);
  });
});
