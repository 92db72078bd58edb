import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type pg from 'pg';
import { HarvestRunner } from '../../src/harvesters/harvest-runner.service.js';
import { HarvestersService } from '../../src/harvesters/harvesters.service.js';
import { startApi, type TestApi } from '../support/app.js';
import { createUser } from '../support/auth.js';
import { testPool } from '../support/db.js';
import { RemoteServer } from '../support/remote-server.js';

/**
 * Scheduling on the real database, sessions run in this process: due actions start as
 * `schedule` sessions, failures back off and finally stop scheduled runs, saying why.
 */
describe('harvest scheduling, back-off and auto-disable', () => {
  let api: TestApi;
  let db: pg.Pool;
  let service: HarvestersService;
  let runner: HarvestRunner;
  const remote = new RemoteServer();
  let harvesterId: string;
  let ownerId: string;

  before(async () => {
    await remote.start();
    remote.route('/down', { status: 500, body: 'broken', headers: { 'content-type': 'text/plain' } });
    api = await startApi({ env: { HARVEST_HTTP_RETRIES: '0' } });
    service = api.app.get(HarvestersService);
    runner = api.app.get(HarvestRunner);
    db = testPool();
    ownerId = (await createUser(api, 'schedule-admin', 'admin')).id;
  });

  after(async () => {
    await api?.close();
    await remote.stop();
    await db?.end();
  });

  const harvester = async () => (await db.query(`SELECT * FROM harvester WHERE id = $1`, [harvesterId])).rows[0];
  const makeDue = () => db.query(`UPDATE harvester SET next_check_at = now() - interval '1 second' WHERE id = $1`, [harvesterId]);
  const scheduledSession = async () =>
    (await db.query(`SELECT * FROM harvest_session WHERE harvester_id = $1 AND status = 'queued' AND trigger = 'schedule'`, [harvesterId])).rows[0];

  it('schedules the first run within one period', async () => {
    const created = await service.create(
      { name: `down ${Date.now()}`, type: 'stac-api', url: `${remote.url}/down`, schedule: { check_every_minutes: 10, jitter_percent: 0 }, disable_after_failures: 3 },
      ownerId,
    );
    harvesterId = created.id;
    const h = await harvester();
    const wait = h.next_check_at.getTime() - Date.now();
    assert.ok(wait > 0 && wait <= 10 * 60_000, `first check in ${wait} ms`);
    assert.equal(h.next_harvest_at, null, 'an action without a period is not scheduled');
  });

  it('starts a due action as a scheduled session, and backs off after each failure', async () => {
    for (const failures of [1, 2]) {
      await makeDue();
      const before = Date.now();
      assert.ok((await service.startDue()) >= 1);
      const session = await scheduledSession();
      assert.ok(session, 'a scheduled session');
      assert.equal(session.type, 'check');
      const outcome = await runner.runQueued(session.id);
      assert.equal(outcome?.status, 'failed');
      assert.match(outcome?.error ?? '', /remote unavailable: HTTP 500/);
      const h = await harvester();
      assert.equal(h.consecutive_failures, failures);
      assert.equal(h.availability, 'unavailable');
      const periods = (h.next_check_at.getTime() - before) / 600_000;
      assert.ok(Math.abs(periods - 2 ** failures) < 0.01, `next check after ${periods.toFixed(3)} periods`);
      assert.equal(h.enabled, true);
    }
  });

  it('stops scheduled runs after disable_after_failures failures in a row and says why', async () => {
    await makeDue();
    await service.startDue();
    const outcome = await runner.runQueued((await scheduledSession()).id);
    assert.equal(outcome?.status, 'failed');
    const h = await harvester();
    assert.equal(h.enabled, false);
    assert.match(h.disabled_reason, /scheduled runs stopped after 3 consecutive failed sessions; last: check failed \(remote unavailable: HTTP 500/);
    await makeDue();
    await service.startDue();
    assert.equal(await scheduledSession(), undefined, 'a disabled harvester is not run on schedule');
  });

  it('runs again once re-enabled, failures forgotten; a success resets the count', async () => {
    const updated = await service.update(harvesterId, { enabled: true });
    assert.equal(updated.enabled, true);
    assert.equal(updated.consecutiveFailures, 0);
    assert.equal(updated.disabledReason, null);
    remote.route('/down', { body: { links: [], conformsTo: ['https://api.stacspec.org/v1.0.0/core'], title: 'Back' } });
    await makeDue();
    await service.startDue();
    const outcome = await runner.runQueued((await scheduledSession()).id);
    assert.equal(outcome?.status, 'succeeded');
    const h = await harvester();
    assert.equal(h.consecutive_failures, 0);
    assert.equal(h.availability, 'available');
  });

  it('cancels a queued session at once; its run then does nothing', async () => {
    const session = await service.start(harvesterId, { type: 'check', trigger: 'api', requestedBy: ownerId });
    const cancelled = await service.cancel(session.id);
    assert.equal(cancelled.status, 'cancelled');
    assert.equal(await runner.runQueued(session.id), null);
    const again = await service.start(harvesterId, { type: 'check', trigger: 'api', requestedBy: ownerId });
    assert.equal((await runner.runQueued(again.id))?.status, 'succeeded', 'the harvester is free again');
  });
});
