import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource } from 'typeorm';
import type { ManagementJobSource, ManagementJobStatus } from './management-job.entity.js';

/** A management_job row as services see it, with the name of the user who created it. */
export interface ManagementJobRow {
  id: string;
  command: string;
  args: Record<string, unknown>;
  status: ManagementJobStatus;
  exclusive: boolean;
  source: ManagementJobSource;
  userId: string | null;
  userName: string | null;
  progress: number;
  result: unknown;
  error: string | null;
  attempt: number;
  runner: string | null;
  outputLines: number;
  createdAt: Date;
  queuedAt: Date | null;
  startedAt: Date | null;
  endedAt: Date | null;
  heartbeatAt: Date | null;
  stopRequestedAt: Date | null;
}

export interface ManagementJobFilter {
  command?: string;
  statuses?: ManagementJobStatus[];
  userId?: string;
  createdAfter?: Date;
  createdBefore?: Date;
}

export interface OutputLine {
  seq: number;
  at: Date;
  line: string;
}

/** Raised when an exclusive command already has a queued or running job. */
export class ExclusiveConflictError extends Error {
  constructor(
    readonly command: string,
    readonly activeJobId: string | null,
  ) {
    super(`${command} is exclusive and job ${activeJobId ?? '(just finished)'} is already queued or running`);
  }
}

const COLUMNS = `j.id, j.command, j.args, j.status, j.exclusive, j.source, j.user_id, u.name AS user_name, j.progress, j.result,
  j.error, j.attempt, j.runner, j.output_lines, j.created_at, j.queued_at, j.started_at, j.ended_at, j.heartbeat_at, j.stop_requested_at`;

const EXCLUSIVE_INDEX = 'ux_management_job_exclusive_active';

// eslint-disable-next-line @typescript-eslint/no-explicit-any
function toRow(r: any): ManagementJobRow {
  return {
    id: r.id,
    command: r.command,
    args: r.args ?? {},
    status: r.status,
    exclusive: r.exclusive,
    source: r.source,
    userId: r.user_id,
    userName: r.user_name ?? null,
    progress: Number(r.progress),
    result: r.result ?? null,
    error: r.error,
    attempt: r.attempt,
    runner: r.runner,
    outputLines: r.output_lines,
    createdAt: r.created_at,
    queuedAt: r.queued_at,
    startedAt: r.started_at,
    endedAt: r.ended_at,
    heartbeatAt: r.heartbeat_at,
    stopRequestedAt: r.stop_requested_at,
  };
}

function isExclusiveViolation(error: unknown): boolean {
  const e = error as { code?: string; constraint?: string; driverError?: { code?: string; constraint?: string } };
  const code = e.driverError?.code ?? e.code;
  const constraint = e.driverError?.constraint ?? e.constraint;
  return code === '23505' && constraint === EXCLUSIVE_INDEX;
}

/** SQL over management_job and management_job_output. Status changes are conditional updates, safe under races. */
@Injectable()
export class ManagementJobsRepository {
  constructor(@InjectDataSource() private readonly db: DataSource) {}

  /** The rows a statement returns (TypeORM answers a bare UPDATE or DELETE with `[rows, count]`). */
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  private async rows(sql: string, params: unknown[]): Promise<any[]> {
    const result = await this.db.query(sql, params);
    return /^\s*(UPDATE|DELETE)\b/i.test(sql) ? result[0] : result;
  }

  /** Runs `UPDATE management_job … RETURNING id` and reads the row back with its user's name. */
  private async updateReturning(sql: string, params: unknown[]): Promise<ManagementJobRow | null> {
    const rows = await this.guardExclusive(params, () => this.rows(`WITH j AS (${sql} RETURNING *) SELECT ${COLUMNS} FROM j LEFT JOIN users u ON u.id = j.user_id`, params));
    return rows.length ? toRow(rows[0]) : null;
  }

  /** Maps a violation of the exclusivity index (two writers racing) to ExclusiveConflictError naming the active job. */
  private async guardExclusive<T>(params: unknown[], run: () => Promise<T>): Promise<T> {
    try {
      return await run();
    } catch (error) {
      if (!isExclusiveViolation(error)) throw error;
      const name = (await this.rows(`SELECT command FROM management_job WHERE id = $1`, [params[0]]))[0]?.command;
      throw new ExclusiveConflictError(name, await this.activeExclusiveId(name));
    }
  }

  private async activeExclusiveId(command: string): Promise<string | null> {
    const rows = await this.rows(`SELECT id FROM management_job WHERE command = $1 AND exclusive AND status IN ('queued', 'running') LIMIT 1`, [command]);
    return rows[0]?.id ?? null;
  }

  /**
   * A new job: `created`, `queued` (attempt 1) or, for the CLI which runs it at once,
   * `running` (attempt 1, heartbeat now).
   */
  async insert(job: {
    command: string;
    args: Record<string, unknown>;
    status: 'created' | 'queued' | 'running';
    exclusive: boolean;
    source: ManagementJobSource;
    userId: string | null;
    runner?: string;
  }): Promise<ManagementJobRow> {
    const rows = await this.rows(
      `WITH j AS (
         INSERT INTO management_job (command, args, status, exclusive, source, user_id, runner, attempt, queued_at, started_at, heartbeat_at)
         VALUES ($1, $2::jsonb, $3::text, $4, $5, $6, $7,
                 CASE WHEN $3::text = 'created' THEN 0 ELSE 1 END,
                 CASE WHEN $3::text = 'queued' THEN now() END,
                 CASE WHEN $3::text = 'running' THEN now() END,
                 CASE WHEN $3::text = 'running' THEN now() END)
         ON CONFLICT (command) WHERE "exclusive" AND "status" IN ('queued', 'running') DO NOTHING
         RETURNING *)
       SELECT ${COLUMNS} FROM j LEFT JOIN users u ON u.id = j.user_id`,
      [job.command, JSON.stringify(job.args), job.status, job.exclusive, job.source, job.userId, job.runner ?? null],
    );
    if (!rows.length) throw new ExclusiveConflictError(job.command, await this.activeExclusiveId(job.command));
    return toRow(rows[0]);
  }

  async findById(id: string): Promise<ManagementJobRow | null> {
    const rows = await this.rows(`SELECT ${COLUMNS} FROM management_job j LEFT JOIN users u ON u.id = j.user_id WHERE j.id = $1`, [id]);
    return rows.length ? toRow(rows[0]) : null;
  }

  /** Newest first. */
  async list(filter: ManagementJobFilter, limit: number, offset: number): Promise<{ rows: ManagementJobRow[]; total: number }> {
    const where: string[] = [];
    const params: unknown[] = [];
    const add = (sql: string, value: unknown) => {
      params.push(value);
      where.push(sql.replace('?', `$${params.length}`));
    };
    if (filter.command) add('j.command = ?', filter.command);
    if (filter.statuses?.length) add('j.status = ANY(?::text[])', filter.statuses);
    if (filter.userId) add('j.user_id = ?', filter.userId);
    if (filter.createdAfter) add('j.created_at >= ?', filter.createdAfter);
    if (filter.createdBefore) add('j.created_at < ?', filter.createdBefore);
    const clause = where.length ? `WHERE ${where.join(' AND ')}` : '';
    const [{ total }] = await this.rows(`SELECT count(*)::int AS total FROM management_job j ${clause}`, params);
    const rows = await this.rows(
      `SELECT ${COLUMNS} FROM management_job j LEFT JOIN users u ON u.id = j.user_id ${clause}
       ORDER BY j.created_at DESC, j.id DESC LIMIT $${params.length + 1} OFFSET $${params.length + 2}`,
      [...params, limit, offset],
    );
    return { rows: rows.map(toRow), total };
  }

  /**
   * created → queued (a new attempt); null when the job is not `created`. Throws
   * ExclusiveConflictError when its command is exclusive and another job of it is active.
   */
  async queue(id: string): Promise<ManagementJobRow | null> {
    const row = await this.updateReturning(
      `UPDATE management_job SET status = 'queued', attempt = attempt + 1, queued_at = now()
       WHERE id = $1 AND status = 'created'
         AND NOT (exclusive AND EXISTS (
           SELECT 1 FROM management_job o WHERE o.command = management_job.command AND o.exclusive AND o.status IN ('queued', 'running')))`,
      [id],
    );
    if (row) return row;
    const current = await this.findById(id);
    if (current?.status === 'created' && current.exclusive) throw new ExclusiveConflictError(current.command, await this.activeExclusiveId(current.command));
    return null;
  }

  /** created | queued → cancelled; null when the job has started or ended. */
  cancelUnstarted(id: string): Promise<ManagementJobRow | null> {
    return this.updateReturning(
      `UPDATE management_job SET status = 'cancelled', stop_requested_at = now(), ended_at = now(), error = 'Stopped before it started'
       WHERE id = $1 AND status IN ('created', 'queued')`,
      [id],
    );
  }

  /** Records a stop request on a running job (the first request's time is kept); null when not running. */
  requestStop(id: string): Promise<ManagementJobRow | null> {
    return this.updateReturning(`UPDATE management_job SET stop_requested_at = coalesce(stop_requested_at, now()) WHERE id = $1 AND status = 'running'`, [id]);
  }

  /** queued → running for this attempt, by this runner; null when the run is not (or no longer) due. */
  claim(id: string, attempt: number, runner: string): Promise<ManagementJobRow | null> {
    return this.updateReturning(
      `UPDATE management_job SET status = 'running', runner = $3, started_at = coalesce(started_at, now()), heartbeat_at = now()
       WHERE id = $1 AND attempt = $2 AND status = 'queued'`,
      [id, attempt, runner],
    );
  }

  /**
   * Refreshes the heartbeat of a run (and its progress when given). Null when the run is no
   * longer this one's (stalled and failed or re-queued meanwhile).
   */
  async heartbeat(id: string, attempt: number, progress: number | null): Promise<{ stopRequested: boolean } | null> {
    const rows = await this.rows(
      `UPDATE management_job SET heartbeat_at = now(), progress = coalesce($3::real, progress)
       WHERE id = $1 AND attempt = $2 AND status = 'running' RETURNING stop_requested_at`,
      [id, attempt, progress],
    );
    return rows.length ? { stopRequested: rows[0].stop_requested_at !== null } : null;
  }

  async setProgress(id: string, attempt: number, progress: number): Promise<void> {
    await this.rows(`UPDATE management_job SET progress = $3 WHERE id = $1 AND attempt = $2 AND status = 'running'`, [id, attempt, progress]);
  }

  /** Appends lines, numbering them after the job's last line. */
  async appendOutput(id: string, lines: { at: Date; line: string }[]): Promise<void> {
    if (!lines.length) return;
    await this.rows(
      `WITH j AS (
         UPDATE management_job SET output_lines = output_lines + $4 WHERE id = $1 RETURNING output_lines - $4 AS base
       )
       INSERT INTO management_job_output (job_id, seq, at, line)
       SELECT $1, j.base + t.ord - 1, t.at, t.line
       FROM j, unnest($2::text[], $3::timestamptz[]) WITH ORDINALITY AS t(line, at, ord)`,
      [id, lines.map((l) => l.line), lines.map((l) => l.at), lines.length],
    );
  }

  /** running → a final status, for this attempt only; false when the run was taken away meanwhile. */
  async finish(
    id: string,
    attempt: number,
    outcome: { status: 'succeeded' | 'failed' | 'cancelled'; progress: number | null; result: unknown; error: string | null },
  ): Promise<boolean> {
    const rows = await this.rows(
      `UPDATE management_job SET status = $3, progress = coalesce($4::real, progress), result = $5::jsonb, error = $6, ended_at = now()
       WHERE id = $1 AND attempt = $2 AND status = 'running' RETURNING id`,
      [id, attempt, outcome.status, outcome.progress, outcome.result === undefined ? null : JSON.stringify(outcome.result), outcome.error],
    );
    return rows.length > 0;
  }

  /**
   * running → queued for a new attempt (the previous run was interrupted). With `staleSeconds`,
   * only when the heartbeat is at least that old. Null when the condition does not hold.
   */
  requeue(id: string, attempt: number, staleSeconds?: number): Promise<ManagementJobRow | null> {
    return this.updateReturning(
      `UPDATE management_job SET status = 'queued', attempt = attempt + 1, queued_at = now(), progress = 0, runner = NULL, heartbeat_at = NULL
       WHERE id = $1 AND attempt = $2 AND status = 'running'
         AND ($3::float8 IS NULL OR heartbeat_at IS NULL OR heartbeat_at < now() - make_interval(secs => $3::float8))`,
      [id, attempt, staleSeconds ?? null],
    );
  }

  /** running → failed for a stalled run: only when its heartbeat is at least `staleSeconds` old. */
  failStalled(id: string, attempt: number, staleSeconds: number | null, error: string): Promise<ManagementJobRow | null> {
    return this.updateReturning(
      `UPDATE management_job SET status = 'failed', error = $4, ended_at = now()
       WHERE id = $1 AND attempt = $2 AND status = 'running'
         AND ($3::float8 IS NULL OR heartbeat_at IS NULL OR heartbeat_at < now() - make_interval(secs => $3::float8))`,
      [id, attempt, staleSeconds, error],
    );
  }

  /** Running jobs whose heartbeat is older than `staleSeconds`. */
  async stalled(staleSeconds: number): Promise<ManagementJobRow[]> {
    const rows = await this.rows(
      `SELECT ${COLUMNS} FROM management_job j LEFT JOIN users u ON u.id = j.user_id
       WHERE j.status = 'running' AND (j.heartbeat_at IS NULL OR j.heartbeat_at < now() - make_interval(secs => $1::float8))
       ORDER BY j.heartbeat_at NULLS FIRST LIMIT 100`,
      [staleSeconds],
    );
    return rows.map(toRow);
  }

  /** Jobs waiting for a worker (queued at least `minAgeSeconds` ago), oldest first. */
  async queued(minAgeSeconds: number, limit = 500): Promise<{ id: string; attempt: number }[]> {
    return this.rows(
      `SELECT id, attempt FROM management_job
       WHERE status = 'queued' AND source = 'api' AND queued_at < now() - make_interval(secs => $1::float8)
       ORDER BY queued_at LIMIT $2`,
      [minAgeSeconds, limit],
    );
  }

  /** Deletes jobs that ended more than `olderThanDays` ago (their output goes with them); counts only with `dryRun`. */
  async purgeFinished(olderThanDays: number, dryRun: boolean): Promise<{ jobs: number; lines: number }> {
    const where = `status IN ('succeeded', 'failed', 'cancelled') AND ended_at < now() - make_interval(days => $1::int)`;
    if (dryRun) {
      const [row] = await this.rows(`SELECT count(*)::int AS jobs, coalesce(sum(output_lines), 0)::int AS lines FROM management_job WHERE ${where}`, [olderThanDays]);
      return row;
    }
    const [row] = await this.rows(
      `WITH d AS (DELETE FROM management_job WHERE ${where} RETURNING output_lines)
       SELECT count(*)::int AS jobs, coalesce(sum(output_lines), 0)::int AS lines FROM d`,
      [olderThanDays],
    );
    return row;
  }

  /** The last `count` lines, oldest first. */
  async outputTail(id: string, count: number): Promise<OutputLine[]> {
    const rows = await this.rows(`SELECT seq, at, line FROM (SELECT seq, at, line FROM management_job_output WHERE job_id = $1 ORDER BY seq DESC LIMIT $2) t ORDER BY seq`, [
      id,
      count,
    ]);
    return rows;
  }

  /** Lines with `after < seq < before`, in order, at most `limit`. */
  async outputPage(id: string, after: number, before: number, limit: number): Promise<OutputLine[]> {
    return this.rows(`SELECT seq, at, line FROM management_job_output WHERE job_id = $1 AND seq > $2 AND seq < $3 ORDER BY seq LIMIT $4`, [id, after, before, limit]);
  }
}
