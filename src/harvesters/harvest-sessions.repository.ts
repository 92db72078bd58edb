import { Injectable } from '@nestjs/common';
import { InjectDataSource, InjectRepository } from '@nestjs/typeorm';
import { DataSource, Repository } from 'typeorm';
import { HarvestSessionLog, HarvestSessionRecord, type RecordAction } from './harvest-session-record.entity.js';
import {
  ACTIVE_SESSION_STATUSES,
  EMPTY_COUNTERS,
  HarvestSession,
  type SessionCounters,
  type SessionStatus,
  type SessionTrigger,
  type SessionType,
} from './harvest-session.entity.js';

/** A record's outcome, as the engine reports it. */
export interface RecordOutcome {
  resourceId: string | null;
  remoteId: string;
  action: RecordAction;
  itemId?: string | null;
  contentHash?: string | null;
  remoteUpdated?: string | null;
  error?: string | null;
  stage?: string | null;
}

/** Thrown when an action is asked while another session of the harvester is active. */
export class SessionConflict extends Error {
  constructor(readonly active: HarvestSession) {
    super(`harvester busy with ${active.type} session ${active.id} (${active.status})`);
  }
}

const UNIQUE_VIOLATION = '23505';

/** Sessions, their per-record results and their logs. */
@Injectable()
export class HarvestSessionsRepository {
  constructor(
    @InjectRepository(HarvestSession) private readonly sessions: Repository<HarvestSession>,
    @InjectRepository(HarvestSessionRecord) private readonly records: Repository<HarvestSessionRecord>,
    @InjectRepository(HarvestSessionLog) private readonly logs: Repository<HarvestSessionLog>,
    @InjectDataSource() private readonly db: DataSource,
  ) {}

  findById(id: string): Promise<HarvestSession | null> {
    return this.sessions.findOneBy({ id });
  }

  /** The harvester's queued, running or cancelling session. */
  active(harvesterId: string): Promise<HarvestSession | null> {
    return this.sessions
      .createQueryBuilder('s')
      .where('s.harvester_id = :harvesterId', { harvesterId })
      .andWhere('s.status IN (:...statuses)', { statuses: ACTIVE_SESSION_STATUSES })
      .getOne();
  }

  /** The active sessions of these harvesters, by harvester id. */
  async activeOf(harvesterIds: string[]): Promise<Map<string, HarvestSession>> {
    if (!harvesterIds.length) return new Map();
    const rows = await this.sessions
      .createQueryBuilder('s')
      .where('s.harvester_id IN (:...harvesterIds)', { harvesterIds })
      .andWhere('s.status IN (:...statuses)', { statuses: ACTIVE_SESSION_STATUSES })
      .getMany();
    return new Map(rows.map((r) => [r.harvesterId, r]));
  }

  /** Inserts a queued session; SessionConflict when the harvester has an active one (the partial unique index decides). */
  async create(input: {
    harvesterId: string;
    type: SessionType;
    trigger: SessionTrigger;
    requestedBy: string | null;
    dryRun: boolean;
    options: Record<string, unknown>;
  }): Promise<HarvestSession> {
    try {
      return await this.sessions.save(this.sessions.create({ ...input, status: 'queued', counters: { ...EMPTY_COUNTERS } }));
    } catch (error) {
      if ((error as { code?: string }).code !== UNIQUE_VIOLATION) throw error;
      const active = await this.active(input.harvesterId);
      if (!active) throw error;
      throw new SessionConflict(active);
    }
  }

  /** queued → running for this runner; null when it is not queued any more (cancelled, or taken). */
  async claim(id: string, runner: string): Promise<HarvestSession | null> {
    const rows: HarvestSession[] = await this.sessions
      .createQueryBuilder()
      .update()
      .set({ status: 'running', runner, startedAt: () => 'now()', heartbeatAt: () => 'now()' })
      .where('id = :id AND status = :queued', { id, queued: 'queued' })
      .returning('*')
      .execute()
      .then((r) => r.raw as HarvestSession[]);
    return rows.length ? this.findById(id) : null;
  }

  /** Beats and saves progress; answers whether a cancel was asked, or null when the session is no longer this runner's. */
  async heartbeat(id: string, runner: string, counters: SessionCounters): Promise<{ cancelRequested: boolean } | null> {
    const rows = (await this.db.query(
      `UPDATE harvest_session SET heartbeat_at = now(), counters = $3, updated_at = now()
        WHERE id = $1 AND runner = $2 AND status IN ('running', 'cancelling')
        RETURNING cancel_requested_at`,
      [id, runner, JSON.stringify(counters)],
    )) as [{ cancel_requested_at: Date | null }[], number];
    const row = rows[0]?.[0];
    return row ? { cancelRequested: row.cancel_requested_at !== null } : null;
  }

  /** Records the end of a run; false when the session was no longer this runner's (timed out meanwhile). */
  async finish(
    id: string,
    runner: string,
    end: { status: SessionStatus; counters: SessionCounters; result: Record<string, unknown> | null; error: string | null },
  ): Promise<boolean> {
    const rows = (await this.db.query(
      `UPDATE harvest_session SET status = $3, counters = $4, result = $5, error = $6, ended_at = now(), heartbeat_at = now(), updated_at = now()
        WHERE id = $1 AND runner = $2 AND status IN ('running', 'cancelling')
        RETURNING id`,
      [id, runner, end.status, JSON.stringify(end.counters), end.result === null ? null : JSON.stringify(end.result), end.error],
    )) as [unknown[], number];
    return rows[0].length > 0;
  }

  /** Gives a running session back to the queue (its worker is shutting down); the reconciler enqueues it again. */
  async release(id: string, runner: string): Promise<boolean> {
    const rows = (await this.db.query(
      `UPDATE harvest_session SET status = 'queued', runner = NULL, heartbeat_at = NULL, updated_at = now()
        WHERE id = $1 AND runner = $2 AND status = 'running' RETURNING id`,
      [id, runner],
    )) as [unknown[], number];
    return rows[0].length > 0;
  }

  /**
   * Asks a session to stop: a queued one ends `cancelled` at once, a running one becomes
   * `cancelling` until its runner stops. Null when it had ended already.
   */
  async requestCancel(id: string): Promise<HarvestSession | null> {
    await this.db.query(
      `UPDATE harvest_session SET
          status = CASE WHEN status = 'queued' THEN 'cancelled' ELSE 'cancelling' END,
          ended_at = CASE WHEN status = 'queued' THEN now() ELSE ended_at END,
          error = CASE WHEN status = 'queued' THEN 'cancelled before it started' ELSE error END,
          cancel_requested_at = coalesce(cancel_requested_at, now()), updated_at = now()
        WHERE id = $1 AND status IN ('queued', 'running', 'cancelling')`,
      [id],
    );
    return this.findById(id);
  }

  /**
   * Ends the sessions whose runner stopped beating: `timed_out` (`cancelled` when a cancel was
   * asked). Returns them, so their harvesters' state can follow.
   */
  async sweepStalled(stallSeconds: number, harvesterId?: string): Promise<HarvestSession[]> {
    const rows = (await this.db.query(
      `UPDATE harvest_session SET
          status = CASE WHEN status = 'cancelling' THEN 'cancelled' ELSE 'timed_out' END,
          error = CASE WHEN status = 'cancelling' THEN 'cancelled; its worker stopped before confirming'
                       ELSE format('its worker stopped answering (no heartbeat for %s s)', $1::int) END,
          ended_at = now(), updated_at = now()
        WHERE status IN ('running', 'cancelling') AND heartbeat_at < now() - make_interval(secs => $1::int)
          AND ($2::uuid IS NULL OR harvester_id = $2)
        RETURNING id`,
      [stallSeconds, harvesterId ?? null],
    )) as [{ id: string }[], number];
    const ids = rows[0].map((r) => r.id);
    return ids.length ? this.sessions.createQueryBuilder('s').whereInIds(ids).getMany() : [];
  }

  /** Queued sessions older than `graceSeconds` (their queue entry may be lost). */
  queuedOlderThan(graceSeconds: number): Promise<HarvestSession[]> {
    return this.sessions
      .createQueryBuilder('s')
      .where("s.status = 'queued' AND s.created_at < now() - make_interval(secs => :grace)", { grace: graceSeconds })
      .orderBy('s.created_at')
      .limit(100)
      .getMany();
  }

  async addRecords(sessionId: string, outcomes: RecordOutcome[]): Promise<void> {
    if (!outcomes.length) return;
    for (let i = 0; i < outcomes.length; i += 1000) {
      await this.records.insert(
        outcomes.slice(i, i + 1000).map((o) => ({
          sessionId,
          resourceId: o.resourceId,
          remoteId: o.remoteId.slice(0, 2000),
          action: o.action,
          itemId: o.itemId ?? null,
          contentHash: o.contentHash ?? null,
          remoteUpdated: o.remoteUpdated ?? null,
          error: o.error ? o.error.slice(0, 2000) : null,
          stage: o.stage ?? null,
        })),
      );
    }
  }

  async log(sessionId: string, level: 'info' | 'warn' | 'error', message: string): Promise<void> {
    await this.logs.insert({ sessionId, level, message: message.slice(0, 4000) });
  }

  /** Log lines after the cursor (a line id), oldest first. */
  logPage(sessionId: string, after: string | null, limit: number): Promise<HarvestSessionLog[]> {
    const query = this.logs.createQueryBuilder('l').where('l.session_id = :sessionId', { sessionId });
    if (after) query.andWhere('l.id > :after', { after });
    return query.orderBy('l.id').limit(limit).getMany();
  }

  /** Per-record results after the cursor, optionally of one action. */
  recordPage(sessionId: string, after: string | null, limit: number, action?: RecordAction): Promise<HarvestSessionRecord[]> {
    const query = this.records.createQueryBuilder('r').where('r.session_id = :sessionId', { sessionId });
    if (action) query.andWhere('r.action = :action', { action });
    if (after) query.andWhere('r.id > :after', { after });
    return query.orderBy('r.id').limit(limit).getMany();
  }

  /** Failures grouped by message, largest groups first, with a few remote ids each. */
  async errorGroups(sessionId: string, limit = 20): Promise<{ error: string; stage: string | null; count: number; examples: string[] }[]> {
    const rows = (await this.db.query(
      `SELECT error, stage, count(*)::int AS count, (array_agg(remote_id ORDER BY id))[1:5] AS examples
         FROM harvest_session_record WHERE session_id = $1 AND action = 'failed'
        GROUP BY error, stage ORDER BY count(*) DESC, error LIMIT $2`,
      [sessionId, limit],
    )) as { error: string | null; stage: string | null; count: number; examples: string[] }[];
    return rows.map((r) => ({ ...r, error: r.error ?? 'unknown error' }));
  }

  list(filter: { harvesterId?: string; status?: SessionStatus; type?: SessionType }, page: { limit: number; offset: number }): Promise<[HarvestSession[], number]> {
    const query = this.sessions.createQueryBuilder('s');
    if (filter.harvesterId) query.andWhere('s.harvester_id = :harvesterId', { harvesterId: filter.harvesterId });
    if (filter.status) query.andWhere('s.status = :status', { status: filter.status });
    if (filter.type) query.andWhere('s.type = :type', { type: filter.type });
    return query.orderBy('s.created_at', 'DESC').addOrderBy('s.id', 'DESC').take(page.limit).skip(page.offset).getManyAndCount();
  }
}
