import { SetMetadata } from '@nestjs/common';
import type { JobName } from './queue.constants.js';

export const ON_JOB = Symbol('sightline:on-job');
export const JOB_RECONCILER = Symbol('sightline:job-reconciler');

/** Marks a provider method as the handler of a job. It runs only in the worker process. */
export const OnJob = (name: JobName): MethodDecorator => SetMetadata(ON_JOB, name);

/** Marks a provider as a reconciler, called periodically by the worker (see JobReconciler). */
export const Reconciler = (): ClassDecorator => SetMetadata(JOB_RECONCILER, true);
