import { Injectable, Logger } from '@nestjs/common';
import { CatalogService } from '../catalog/catalog.service.js';
import { AppConfig } from '../config/app-config.js';
import { JobQueueService } from '../queue/job-queue.service.js';
import { JobName, type JobPayloads, JOBS } from '../queue/queue.constants.js';
import { OnJob, Reconciler } from '../queue/queue.decorators.js';
import type { JobContext, JobReconciler } from '../queue/queue.types.js';
import { StorageService } from '../storage/storage.service.js';
import type { Dataset } from './dataset.entity.js';
import { DatasetFiles } from './dataset-files.js';
import { datasetItemAssets, datasetItemStac, itemDatetime } from './dataset-stac.js';
import { DatasetsRepository } from './datasets.repository.js';
import { analyseRasterIsolated } from './raster/analyse-isolated.js';
import { RasterProblem } from './raster/raster-info.js';

/** Runs of one revision's ingest before a dataset that never finishes is given up (broken). */
const MAX_INGEST_RUNS = 3;

/**
 * The `datasets.ingest` job: hash (when not known), read and check the raster, then publish the
 * STAC item (`ready`) or record why it cannot be (`broken`), all in one transaction. Idempotent:
 * a job for another revision, or for a dataset no longer pending, does nothing.
 */
@Injectable()
@Reconciler()
export class DatasetIngestService implements JobReconciler {
  private readonly logger = new Logger(DatasetIngestService.name);

  constructor(
    private readonly repo: DatasetsRepository,
    private readonly collections: CatalogService,
    private readonly files: DatasetFiles,
    private readonly storage: StorageService,
    private readonly jobs: JobQueueService,
    private readonly config: AppConfig,
  ) {}

  /**
   * Re-adds the ingest job of every pending dataset (same deterministic id: a no-op while it is
   * queued). A job that failed for good without recording it (its worker was killed during the
   * last attempt) would block that id: its dataset is marked broken instead.
   */
  async reconcile(): Promise<number> {
    const pending = await this.repo.pending(1000);
    if (pending.length === 0) return 0;
    const payloads: JobPayloads[JobName.DatasetIngest][] = [];
    for (const p of pending) {
      const payload = { datasetId: p.id, revision: p.revision };
      const job = await this.jobs.find(JobName.DatasetIngest, payload);
      if (job.state === 'failed') {
        const dataset = await this.repo.findWithItem(p.id);
        if (dataset?.status === 'pending' && dataset.revision === p.revision) await this.broken(dataset, `Reading the file failed: ${job.failedReason}`);
        continue;
      }
      payloads.push(payload);
    }
    if (payloads.length) await this.jobs.addBulk(JobName.DatasetIngest, payloads);
    return payloads.length;
  }

  @OnJob(JobName.DatasetIngest)
  async ingest(payload: JobPayloads[JobName.DatasetIngest], context: JobContext): Promise<{ status: string; reason?: string }> {
    const dataset = await this.repo.findWithItem(payload.datasetId);
    if (!dataset?.item) return { status: 'skipped', reason: 'deleted' };
    const item = dataset.item;
    if (dataset.status !== 'pending' || dataset.revision !== payload.revision) return { status: 'skipped', reason: `now ${dataset.status} at revision ${dataset.revision}` };
    // Counted before the file is read: a run that kills or wedges the worker still counts.
    const runs = await this.repo.startIngestRun(dataset.id, dataset.revision);
    if (runs === null) return { status: 'skipped', reason: 'no longer pending' };
    if (runs > MAX_INGEST_RUNS) {
      return this.broken(
        dataset,
        `Reading the file was started ${runs - 1} times without finishing (the worker crashed, ran out of memory or was stopped): it is not tried again. Fix or replace the file, then ask for a new read (POST /api/datasets/{id}/ingest)`,
      );
    }
    const started = Date.now();
    // Renders of an older revision are stale now.
    await this.storage.deletePrefix(`datasets/${dataset.id}/cache/`);
    try {
      // A URL of an object outlives the read's time budget.
      const local = await this.files.threadRasterSource(dataset, this.config.DATASET_INGEST_TIMEOUT_SECONDS + 300);
      const facts = local ? await this.files.stat(dataset) : null;
      if (!local || !facts) return this.broken(dataset, 'The file is missing (moved, deleted, or no longer under DATASET_ROOTS)');
      let { sha256, size } = dataset;
      if (!sha256 || size !== facts.size) {
        await context.log('hashing the file');
        const hashed = await this.files.hash(dataset, context.signal);
        if (!hashed) return this.broken(dataset, 'The file is missing');
        ({ sha256, size } = hashed);
      }
      if (dataset.source === 'path' && !dataset.allowDuplicate) {
        const owner = dataset.item.ownerId ? { id: dataset.item.ownerId, name: '', role: 'user' as const, via: 'api-token' as const } : undefined;
        const other = await this.repo.findVisibleByHash(sha256, owner, dataset.id);
        if (other) return this.broken(dataset, `A dataset with the same content (SHA-256) is registered already: ${other}`, sha256);
      }
      await context.progress(20);
      const info = await analyseRasterIsolated(
        local,
        size ?? facts.size,
        { timeoutMs: this.config.DATASET_INGEST_TIMEOUT_SECONDS * 1000, maxHeapMb: this.config.DATASET_INGEST_MAX_HEAP_MB },
        context.signal,
      );
      await context.progress(90);
      const done = { ...dataset, sha256, size };
      const published = await this.repo.transaction(async (m) => {
        const applied = await this.repo.updateIfPending(
          dataset.id,
          dataset.revision,
          {
            status: 'ready',
            error: null,
            sha256,
            size,
            fileModifiedAt: facts.modifiedAt,
            crs: info.crs?.code ?? null,
            width: info.width,
            height: info.height,
            bandCount: info.bandCount,
            isCog: info.isCog,
            raster: info,
            ingestedAt: new Date(),
            ingestMs: Date.now() - started,
          },
          m,
        );
        if (!applied) return false;
        const stac = datasetItemStac(done, info);
        // A license its owner chose stays across re-reads.
        const license = typeof item.properties?.license === 'string' ? { license: item.properties.license } : {};
        await this.collections.updateItem(
          dataset.id,
          {
            status: 'ready',
            geometry: info.footprint,
            datetime: itemDatetime(dataset, info),
            ...stac,
            properties: { ...stac.properties, ...license },
            assets: datasetItemAssets(done, info),
          },
          m,
        );
        await this.collections.refreshExtent(item.collectionId, {}, m);
        return true;
      });
      await context.progress(100);
      this.logger.log({ dataset: dataset.id, ms: Date.now() - started, published }, 'dataset ingested');
      return { status: published ? 'ready' : 'skipped' };
    } catch (error) {
      if (error instanceof RasterProblem) return this.broken(dataset, error.message);
      if (context.signal.aborted) throw error;
      const attempts = JOBS[JobName.DatasetIngest].attempts ?? this.config.JOB_ATTEMPTS;
      if (context.attempt >= attempts) return this.broken(dataset, `Reading the file failed ${attempts} times: ${(error as Error).message}`);
      throw error;
    }
  }

  private async broken(dataset: Dataset & { item?: { collectionId: string } }, reason: string, sha256?: string): Promise<{ status: string; reason: string }> {
    await this.repo.transaction(async (m) => {
      const applied = await this.repo.updateIfPending(dataset.id, dataset.revision, { status: 'broken', error: reason, ...(sha256 ? { sha256 } : {}) }, m);
      if (!applied) return;
      await this.collections.updateItem(dataset.id, { status: 'broken' }, m);
      if (dataset.item) await this.collections.refreshExtent(dataset.item.collectionId, {}, m);
    });
    this.logger.warn({ dataset: dataset.id, reason }, 'dataset broken');
    return { status: 'broken', reason };
  }
}
