import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { ModuleRef } from '@nestjs/core';
import { AppConfig } from '../config/app-config.js';
import { runAsJob } from './job-context.js';
import { JobQueueService } from './job-queue.service.js';
import { JobName } from './queue.constants.js';

/** No queue is registered: a job that passes the follow-up check fails next, on the missing queue. */
function service(env: AppConfig['NODE_ENV']): JobQueueService {
  const config = Object.assign(new AppConfig(), { NODE_ENV: env });
  return new JobQueueService({} as ModuleRef, config);
}

describe('declared follow-up jobs', () => {
  it('refuses, outside production, a job its running parent does not declare', async () => {
    await assert.rejects(
      runAsJob(JobName.PictureDelete, () => service('test').add(JobName.UploadSetFinalize, { uploadSetId: 'x', round: 1 })),
      /job picture.delete added upload-set.finalize, which is not among its declared follow-ups/,
    );
    await assert.rejects(
      runAsJob(JobName.CollectionsPurgeFiles, () => service('test').addBulk(JobName.PictureDelete, [{ pictureId: 'x' }])),
      /not among its declared follow-ups/,
    );
  });

  it('lets declared follow-ups, commands and work outside any job through', async () => {
    const unknownQueue = /Unknown queue/;
    await assert.rejects(
      runAsJob(JobName.UploadSetDispatch, () => service('test').add(JobName.PictureDelete, { pictureId: 'x' })),
      unknownQueue,
    );
    await assert.rejects(
      runAsJob(JobName.ManagementRun, () => service('test').add(JobName.DatasetIngest, { datasetId: 'x', revision: 1 })),
      unknownQueue,
    );
    await assert.rejects(service('test').add(JobName.PictureDelete, { pictureId: 'x' }), unknownQueue);
    // In production an undeclared follow-up is logged, not refused.
    await assert.rejects(
      runAsJob(JobName.PictureDelete, () => service('production').add(JobName.UploadSetFinalize, { uploadSetId: 'x', round: 1 })),
      unknownQueue,
    );
  });
});
