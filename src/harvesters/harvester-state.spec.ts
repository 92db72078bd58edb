import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { nextRun } from './harvester-state.service.js';

describe('nextRun', () => {
  const now = Date.UTC(2026, 0, 1);
  it('is the period, spread by the jitter', () => {
    assert.equal(nextRun({ harvest_every_minutes: 60, jitter_percent: 10 }, 'harvest', 0, now, () => 0.5)?.getTime(), now + 3_600_000);
    assert.equal(nextRun({ harvest_every_minutes: 60, jitter_percent: 10 }, 'harvest', 0, now, () => 0)?.getTime(), now + 3_240_000);
    assert.equal(nextRun({ harvest_every_minutes: 60, jitter_percent: 10 }, 'harvest', 0, now, () => 1)?.getTime(), now + 3_960_000);
  });
  it('backs off exponentially after failures, up to 64 periods', () => {
    const at = (failures: number) => (nextRun({ check_every_minutes: 10, jitter_percent: 0 }, 'check', failures, now)!.getTime() - now) / 600_000;
    assert.deepEqual([0, 1, 2, 3, 6, 7, 20].map(at), [1, 2, 4, 8, 64, 64, 64]);
  });
  it('is null for an action that is not scheduled', () => {
    assert.equal(nextRun({}, 'discover', 0, now), null);
    assert.equal(nextRun({ discover_every_minutes: null }, 'discover', 0, now), null);
  });
});
