import { Worker } from 'node:worker_threads';
import type { RasterUrl } from './geotiff-raster.js';
import { type RasterInfo, RasterProblem } from './raster-info.js';
import type { PixelSample, Resampling } from './render.js';

/** Where a render thread reads a raster: a local path or a URL answering Range requests. */
export type ThreadSource = string | RasterUrl;

/** What a render thread is asked to do with one raster. */
export type RenderJob =
  { kind: 'tile'; z: number; x: number; y: number; resampling: Resampling } | { kind: 'thumbnail'; size: number } | { kind: 'sample'; pixels: { col: number; row: number }[] };

export interface RenderRequest {
  id: number;
  /** Dataset and revision: the thread keeps the file open under it. */
  key: string;
  source: ThreadSource;
  info: RasterInfo;
  job: RenderJob;
}

export type RenderReply =
  | { id: number; ok: true; png?: Uint8Array; samples?: PixelSample[] }
  | { id: number; ok: false; problem: { status: RasterProblem['status']; code: RasterProblem['code']; message: string } | null; message: string; notFound?: boolean };

interface Pending {
  resolve: (reply: RenderReply & { ok: true }) => void;
  reject: (error: Error) => void;
}

interface Thread {
  worker: Worker;
  pending: Map<number, Pending>;
}

/** The render thread's answer when the raster's file cannot be found any more. */
export class RasterFileGone extends Error {}

/**
 * A few worker threads that draw tiles and thumbnails (read, decode, resample, encode) and sample
 * pixels, so that the API's event loop stays free for the requests that need none of it. Each
 * thread keeps recently used files open and a cache of decoded blocks. Threads start on first use;
 * one that dies is replaced, and what it was doing fails.
 */
export class RenderPool {
  private readonly threads: (Thread | null)[];
  private nextId = 1;
  private turn = 0;
  private lastUsed = Date.now();
  private idleTimer?: NodeJS.Timeout;

  /**
   * `idleMs`: threads with nothing to do for that long are stopped (their memory, some 25 MB each,
   * goes back to the system), and started again by the next job.
   */
  constructor(
    readonly size: number,
    private readonly cacheBytes: number,
    private readonly idleMs = 10 * 60_000,
  ) {
    this.threads = Array.from({ length: size }, () => null);
  }

  /** Starts every thread (each loads its modules once, ahead of the first job). */
  start(): void {
    for (let i = 0; i < this.size; i++) this.threads[i] ??= this.spawn(i);
    this.idleTimer ??= setInterval(() => this.stopIfIdle(), Math.max(1000, Math.min(60_000, this.idleMs / 4)));
    this.idleTimer.unref();
  }

  /** Whether any thread is running. */
  get running(): boolean {
    return this.threads.some((t) => t !== null);
  }

  private stopIfIdle(): void {
    const busy = this.threads.some((t) => t !== null && t.pending.size > 0);
    if (busy || Date.now() - this.lastUsed < this.idleMs) return;
    const threads = this.threads.filter((t): t is Thread => t !== null);
    this.threads.fill(null);
    clearInterval(this.idleTimer);
    this.idleTimer = undefined;
    for (const t of threads) void t.worker.terminate();
  }

  /** Runs a job on the least busy thread; samples of a raster go to the same thread (its cache has the blocks). */
  run(key: string, source: ThreadSource, info: RasterInfo, job: RenderJob): Promise<RenderReply & { ok: true }> {
    return this.runOn(job.kind === 'sample' ? hash(key) % this.size : this.leastBusy(), key, source, info, job);
  }

  /**
   * Full-resolution pixels of a raster, sampled by every thread at once: each block belongs to
   * one thread (by its index), which reads, decodes and caches it, so the threads' caches hold
   * different blocks and a batch of points spread over the raster is decoded on every core.
   */
  async sample(key: string, source: ThreadSource, info: RasterInfo, pixels: { col: number; row: number }[]): Promise<PixelSample[]> {
    if (this.size === 1) return (await this.runOn(0, key, source, info, { kind: 'sample', pixels })).samples!;
    const across = Math.ceil(info.width / info.blockWidth);
    const offset = hash(key);
    const parts = Array.from({ length: this.size }, () => ({ pixels: [] as { col: number; row: number }[], at: [] as number[] }));
    pixels.forEach((p, i) => {
      const block = Math.floor(p.row / info.blockHeight) * across + Math.floor(p.col / info.blockWidth);
      const part = parts[(offset + block) % this.size]!;
      part.pixels.push(p);
      part.at.push(i);
    });
    const samples: PixelSample[] = new Array(pixels.length);
    await Promise.all(
      parts.map(async (part, thread) => {
        if (part.pixels.length === 0) return;
        const reply = await this.runOn(thread, key, source, info, { kind: 'sample', pixels: part.pixels });
        reply.samples!.forEach((s, k) => (samples[part.at[k]!] = s));
      }),
    );
    return samples;
  }

  private runOn(index: number, key: string, source: ThreadSource, info: RasterInfo, job: RenderJob): Promise<RenderReply & { ok: true }> {
    this.lastUsed = Date.now();
    if (this.threads[index] === null) this.start();
    const thread = this.threads[index]!;
    const id = this.nextId++;
    const request: RenderRequest = { id, key, source, info, job };
    return new Promise((resolve, reject) => {
      thread.pending.set(id, { resolve, reject });
      thread.worker.postMessage(request);
    });
  }

  async close(): Promise<void> {
    clearInterval(this.idleTimer);
    this.idleTimer = undefined;
    const threads = this.threads.filter((t): t is Thread => t !== null);
    this.threads.fill(null);
    await Promise.all(threads.map((t) => t.worker.terminate()));
  }

  private leastBusy(): number {
    let best = -1;
    let load = Infinity;
    for (let k = 0; k < this.size; k++) {
      const i = (this.turn + k) % this.size;
      const busy = this.threads[i]?.pending.size ?? 0;
      if (busy < load) {
        best = i;
        load = busy;
      }
    }
    this.turn = (this.turn + 1) % this.size;
    return best;
  }

  private spawn(index: number): Thread {
    const worker = new Worker(new URL('./render.worker.js', import.meta.url), { workerData: { cacheBytes: this.cacheBytes } });
    worker.unref();
    const thread: Thread = { worker, pending: new Map() };
    worker.on('message', (reply: RenderReply) => {
      const pending = thread.pending.get(reply.id);
      if (!pending) return;
      thread.pending.delete(reply.id);
      if (reply.ok) pending.resolve(reply);
      else if (reply.problem) pending.reject(new RasterProblem(reply.problem.status, reply.problem.message, reply.problem.code));
      else if (reply.notFound) pending.reject(new RasterFileGone(reply.message));
      else pending.reject(new Error(reply.message));
    });
    const fail = (error: Error) => {
      if (this.threads[index] === thread) this.threads[index] = null;
      for (const p of thread.pending.values()) p.reject(error);
      thread.pending.clear();
    };
    worker.on('error', fail);
    worker.on('exit', (code) => fail(new Error(`A render thread stopped (exit code ${code})`)));
    return thread;
  }
}

function hash(text: string): number {
  let h = 2166136261;
  for (let i = 0; i < text.length; i++) h = Math.imul(h ^ text.charCodeAt(i), 16777619);
  return h >>> 0;
}
