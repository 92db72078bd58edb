import type { JobContext } from '../../src/queue/queue.types.js';

/** What a job handler gets when a test runs it in-process: first attempt, never aborted, progress and log ignored. */
export function inProcessJobContext(jobId = 'test'): JobContext {
  return { jobId, attempt: 1, signal: new AbortController().signal, progress: async () => undefined, log: async () => undefined };
}
