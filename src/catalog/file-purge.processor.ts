import { Injectable, Logger } from '@nestjs/common';
import { JobQueueService } from '../queue/job-queue.service.js';
import { JobName, JobPayloads } from '../queue/queue.constants.js';
import { OnJob, Reconciler } from '../queue/queue.decorators.js';
import type { JobContext, JobReconciler } from '../queue/queue.types.js';
import { StorageService } from '../storage/storage.service.js';
import { CatalogRepository } from './catalog.repository.js';

/** A purge younger than this is left to the job its deletion enqueued. */
const STALE_PURGE_SECONDS = 60;

/** Removes the files of deleted items and collections, after their rows are gone. */
@Injectable()
@Reconciler()
export class FilePurgeProcessor implements JobReconciler {
  private readonly logger = new Logger(FilePurgeProcessor.name);

  constructor(
    private readonly repository: CatalogRepository,
    private readonly storage: StorageService,
    private readonly jobs: JobQueueService,
  ) {}

  /** Purges whose job was lost (Redis flushed, worker killed) or failed for good get a new one. */
  async reconcile(): Promise<number> {
    if (!(await this.repository.countStalePurges(STALE_PURGE_SECONDS))) return 0;
    await this.jobs.add(JobName.CollectionsPurgeFiles, {});
    return 1;
  }

  /** A folder at least two levels deep: a listener's mistake must not empty the whole storage. */
  private safePrefix(prefix: string, reason: string): boolean {
    const ok = /^[^/]+\/[^/]+/.test(prefix) && !prefix.split('/').some((s) => s === '..' || s === '.');
    if (!ok) this.logger.warn({ prefix, reason }, 'refusing to purge a storage prefix that is not a folder at least two levels deep');
    return ok;
  }

  /** One purge when `purgeId` is given (nothing if it is done already), else every pending one. */
  @OnJob(JobName.CollectionsPurgeFiles)
  async purge(payload: JobPayloads[JobName.CollectionsPurgeFiles], context: JobContext): Promise<{ purges: number; files: number }> {
    let purges = 0;
    let files = 0;
    for (;;) {
      context.signal.throwIfAborted();
      const found = await this.repository.withNextPurge(payload.purgeId, async (row) => {
        // An item that exists again (a picture moved to another sequence) keeps its files.
        const alive = await this.repository.existingItemIds(row.item_ids);
        const itemFolders = row.item_ids.map((id, i) => (alive.has(id) ? undefined : row.item_prefixes[i])).filter((p): p is string => !!p);
        const prefixes = [...itemFolders, ...row.prefixes].filter((p) => this.safePrefix(p, row.reason));
        for (const prefix of prefixes) {
          context.signal.throwIfAborted();
          files += await this.storage.deletePrefix(prefix);
        }
        await context.log(`${row.reason}: removed ${prefixes.length} folders`);
      });
      if (!found) break;
      purges++;
      if (payload.purgeId) break;
    }
    if (purges) this.logger.log(`purged the files of ${purges} deletions (${files} files)`);
    await context.progress(100);
    return { purges, files };
  }
}
