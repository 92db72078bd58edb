import { Worker } from 'node:worker_threads';
import type { RasterUrl } from './geotiff-raster.js';
import { type RasterInfo, RasterProblem } from './raster-info.js';

export interface AnalysisBudget {
  /** Wall-clock time the read may take. */
  timeoutMs: number;
  /** JavaScript heap the read may use, in MB. */
  maxHeapMb: number;
}

type Reply = { ok: true; info: RasterInfo } | { ok: false; problem: { status: RasterProblem['status']; code: RasterProblem['code']; message: string } | null; message: string };

/**
 * analyseRaster in a worker thread of its own, within a time and memory budget: the worker's
 * event loop stays free (health, SIGTERM, other queues) however long the file takes to read,
 * and a file that would loop or exhaust memory ends as a RasterProblem naming the budget.
 * Aborting `signal` stops the thread. `path` is a local file or a URL (a presigned object URL):
 * what crosses to the thread is data, never a storage client.
 */
export function analyseRasterIsolated(path: string | RasterUrl, fileSize: number, budget: AnalysisBudget, signal?: AbortSignal): Promise<RasterInfo> {
  signal?.throwIfAborted();
  return new Promise<RasterInfo>((resolve, reject) => {
    const worker = new Worker(new URL('./analyse.worker.js', import.meta.url), {
      workerData: { path, fileSize },
      resourceLimits: { maxOldGenerationSizeMb: budget.maxHeapMb, maxYoungGenerationSizeMb: Math.min(64, Math.max(16, budget.maxHeapMb / 16)) },
    });
    let settled = false;
    const finish = (outcome: () => void) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      signal?.removeEventListener('abort', onAbort);
      void worker.terminate();
      outcome();
    };
    const timer = setTimeout(
      () =>
        finish(() =>
          reject(
            new RasterProblem(422, `Reading the file took longer than ${Math.round(budget.timeoutMs / 1000)} s (DATASET_INGEST_TIMEOUT_SECONDS): it was stopped`, 'unsupported'),
          ),
        ),
      budget.timeoutMs,
    );
    const onAbort = () => finish(() => reject(signal!.reason ?? new Error('aborted')));
    signal?.addEventListener('abort', onAbort, { once: true });
    worker.on('message', (reply: Reply) =>
      finish(() => {
        if (reply.ok) resolve(reply.info);
        else if (reply.problem) reject(new RasterProblem(reply.problem.status, reply.problem.message, reply.problem.code));
        else reject(new Error(reply.message));
      }),
    );
    worker.on('error', (error: Error & { code?: string }) =>
      finish(() =>
        reject(
          error.code === 'ERR_WORKER_OUT_OF_MEMORY'
            ? new RasterProblem(422, `Reading the file needed more than ${budget.maxHeapMb} MB of memory (DATASET_INGEST_MAX_HEAP_MB): it was stopped`, 'unsupported')
            : error,
        ),
      ),
    );
    worker.on('exit', (code) => finish(() => reject(new Error(`The raster reader stopped (exit code ${code}) before answering`))));
  });
}
