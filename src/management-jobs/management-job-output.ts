import type { ManagementJobsRepository } from './management-jobs.repository.js';

/** Longest line kept; longer lines are cut (a log line, not a data channel). */
export const MAX_LINE_CHARS = 8000;
/** Lines kept per job, all runs together; further lines are counted and dropped. */
export const MAX_OUTPUT_LINES = 100_000;
/** Results larger than this (as JSON) are replaced by a note. */
export const MAX_RESULT_CHARS = 256 * 1024;

/**
 * Captures a job's output in management_job_output. Lines are written in batches: a line
 * logged while a write is in flight goes out with the next one; `log()` resolves once its
 * line is stored, so a handler that awaits it knows the line is visible.
 */
export class JobOutputWriter {
  private pending: { at: Date; line: string }[] = [];
  private chain: Promise<void> = Promise.resolve();
  private next?: Promise<void>;
  private count: number;
  private dropped = 0;

  constructor(
    private readonly repository: ManagementJobsRepository,
    private readonly jobId: string,
    existingLines: number,
    private readonly echo?: (line: string) => void,
  ) {
    this.count = existingLines;
  }

  log(text: string): Promise<void> {
    for (const raw of String(text).split(/\r?\n/)) {
      if (this.count >= MAX_OUTPUT_LINES) {
        this.dropped++;
        continue;
      }
      const line = raw.length > MAX_LINE_CHARS ? `${raw.slice(0, MAX_LINE_CHARS)}… (${raw.length - MAX_LINE_CHARS} more characters)` : raw;
      this.echo?.(line);
      this.pending.push({ at: new Date(), line });
      this.count++;
    }
    return this.flush();
  }

  /** A line from the job machinery itself (retries, stalls), beyond the line limit if need be. */
  note(text: string): Promise<void> {
    const line = `[management] ${text}`;
    this.echo?.(line);
    this.pending.push({ at: new Date(), line });
    this.count++;
    return this.flush();
  }

  flush(): Promise<void> {
    if (this.next) return this.next;
    if (!this.pending.length) return this.chain;
    const write = this.chain.then(() => {
      this.next = undefined;
      const batch = this.pending.splice(0);
      return this.repository.appendOutput(this.jobId, batch);
    });
    this.next = write;
    this.chain = write.catch(() => undefined);
    return write;
  }

  /** Writes what is left, with a note about dropped lines; never throws. */
  async close(): Promise<void> {
    if (this.dropped) await this.note(`${this.dropped} more lines were not kept (limit ${MAX_OUTPUT_LINES} lines per job)`).catch(() => undefined);
    await this.flush().catch(() => undefined);
  }
}

/**
 * Reports progress without a write per call: at most one write every `intervalMs`, the last
 * value always written in the end (by the caller, with the final status).
 */
export class JobProgressReporter {
  private value: number | null = null;
  private written: number | null = null;
  private lastWrite = 0;
  private timer?: NodeJS.Timeout;
  private chain: Promise<void> = Promise.resolve();

  constructor(
    private readonly write: (value: number) => Promise<void>,
    private readonly intervalMs = 250,
  ) {}

  /** The last value reported, or null when none was. */
  get current(): number | null {
    return this.value;
  }

  report(percent: number): Promise<void> {
    if (typeof percent !== 'number' || !Number.isFinite(percent)) return Promise.resolve();
    this.value = Math.round(Math.min(100, Math.max(0, percent)) * 100) / 100;
    if (this.timer) return Promise.resolve();
    const wait = this.lastWrite + this.intervalMs - Date.now();
    if (wait <= 0) return this.flush();
    this.timer = setTimeout(() => {
      this.timer = undefined;
      void this.flush().catch(() => undefined);
    }, wait);
    this.timer.unref();
    return Promise.resolve();
  }

  private flush(): Promise<void> {
    this.lastWrite = Date.now();
    const run = this.chain.then(async () => {
      const value = this.value;
      if (value === null || value === this.written) return;
      await this.write(value);
      this.written = value;
    });
    this.chain = run.catch(() => undefined);
    return run;
  }

  /** Stops the timer and waits for writes in flight; returns the last value reported. */
  async close(): Promise<number | null> {
    clearTimeout(this.timer);
    this.timer = undefined;
    await this.chain;
    return this.value;
  }
}

/** A handler's return value as stored: JSON, bounded in size. */
export function storedResult(result: unknown): unknown {
  if (result === undefined) return null;
  let json: string;
  try {
    json = JSON.stringify(result);
  } catch (error) {
    return { note: `the result could not be stored as JSON: ${(error as Error).message}` };
  }
  if (json === undefined) return null;
  if (json.length > MAX_RESULT_CHARS) return { note: `the result was ${json.length} characters of JSON, more than the ${MAX_RESULT_CHARS} kept` };
  return JSON.parse(json);
}
