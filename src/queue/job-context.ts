import { AsyncLocalStorage } from 'node:async_hooks';
import type { JobName } from './queue.constants.js';

const running = new AsyncLocalStorage<{ job: JobName }>();

/** Runs a job handler, so that the jobs it adds can be checked against its declared follow-ups. */
export function runAsJob<T>(job: JobName, work: () => Promise<T>): Promise<T> {
  return running.run({ job }, work);
}

/** The job whose handler is running here, if any. */
export function currentJob(): JobName | undefined {
  return running.getStore()?.job;
}
