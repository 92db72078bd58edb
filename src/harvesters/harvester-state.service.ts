import { Injectable } from '@nestjs/common';
import { InjectRepository } from '@nestjs/typeorm';
import { Repository } from 'typeorm';
import type { HarvestSession, SessionType } from './harvest-session.entity.js';
import { Harvester, type HarvesterSchedule } from './harvester.entity.js';
import { row } from './harvesters.repository.js';

/** Longest wait between scheduled runs of a failing harvester (back-off cap). */
const MAX_BACKOFF_FACTOR = 64;

const NEXT_COLUMN: Record<Exclude<SessionType, 'clear'>, 'nextCheckAt' | 'nextDiscoverAt' | 'nextHarvestAt'> = {
  check: 'nextCheckAt',
  discover: 'nextDiscoverAt',
  harvest: 'nextHarvestAt',
};

const PERIOD: Record<Exclude<SessionType, 'clear'>, keyof HarvesterSchedule> = {
  check: 'check_every_minutes',
  discover: 'discover_every_minutes',
  harvest: 'harvest_every_minutes',
};

/**
 * When a scheduled action is next due: the period, spread at random by ± jitter, and doubled for
 * every consecutive failure (up to 64×). Null when the action is not scheduled.
 */
export function nextRun(schedule: HarvesterSchedule, type: Exclude<SessionType, 'clear'>, failures: number, now = Date.now(), random = Math.random): Date | null {
  const minutes = schedule[PERIOD[type]];
  if (typeof minutes !== 'number' || minutes <= 0) return null;
  const jitter = Math.min(50, Math.max(0, schedule.jitter_percent ?? 10)) / 100;
  const factor = Math.min(MAX_BACKOFF_FACTOR, 2 ** Math.max(0, failures));
  const spread = 1 + jitter * (2 * random() - 1);
  return new Date(now + minutes * 60_000 * factor * spread);
}

/** A harvester's own state as sessions end: last times, availability, failures, back-off and auto-disable. */
@Injectable()
export class HarvesterState {
  constructor(@InjectRepository(Harvester) private readonly harvesters: Repository<Harvester>) {}

  async availability(harvesterId: string, answer: { available: boolean; message: string }): Promise<void> {
    await this.harvesters.update(
      { id: harvesterId },
      { availability: answer.available ? 'available' : 'unavailable', availabilityMessage: answer.message.slice(0, 2000), lastCheckedAt: new Date() },
    );
  }

  async discovered(harvesterId: string): Promise<void> {
    await this.harvesters.update({ id: harvesterId }, { lastDiscoveredAt: new Date() });
  }

  async harvested(harvesterId: string): Promise<void> {
    await this.harvesters.update({ id: harvesterId }, { lastHarvestedAt: new Date() });
  }

  /** The schedule's first due times (on creation, on a change of schedule, when re-enabled): within one period, at random. */
  initialSchedule(schedule: HarvesterSchedule, now = Date.now(), random = Math.random): Pick<Harvester, 'nextCheckAt' | 'nextDiscoverAt' | 'nextHarvestAt'> {
    const first = (type: Exclude<SessionType, 'clear'>) => {
      const minutes = schedule[PERIOD[type]];
      return typeof minutes === 'number' && minutes > 0 ? new Date(now + minutes * 60_000 * random()) : null;
    };
    return { nextCheckAt: first('check'), nextDiscoverAt: first('discover'), nextHarvestAt: first('harvest') };
  }

  /**
   * After a session: consecutive failures rise or reset, the next scheduled run of its action
   * moves (backed off after failures), and scheduled runs stop after `disableAfterFailures`
   * failures in a row, saying why. A cancelled session changes nothing but the next run.
   */
  async sessionEnded(session: Pick<HarvestSession, 'harvesterId' | 'type' | 'status' | 'error' | 'trigger'>): Promise<void> {
    const harvester = await this.harvesters.findOneBy({ id: session.harvesterId });
    if (!harvester) return;
    const patch: Partial<Harvester> = {};
    if (session.status === 'failed' || session.status === 'timed_out') {
      patch.consecutiveFailures = harvester.consecutiveFailures + 1;
      if (harvester.enabled && patch.consecutiveFailures >= harvester.disableAfterFailures) {
        patch.enabled = false;
        patch.disabledReason = `scheduled runs stopped after ${patch.consecutiveFailures} consecutive failed sessions; last: ${session.type} ${session.status}${session.error ? ` (${session.error.slice(0, 500)})` : ''}`;
      }
    } else if (session.status === 'succeeded' || session.status === 'partially_failed') {
      patch.consecutiveFailures = 0;
    }
    if (session.type !== 'clear') {
      patch[NEXT_COLUMN[session.type]] = nextRun(harvester.schedule, session.type, patch.consecutiveFailures ?? harvester.consecutiveFailures);
    }
    await this.harvesters.update({ id: harvester.id }, row<Harvester>(patch));
  }
}
