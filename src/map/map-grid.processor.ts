import { Injectable, Logger } from '@nestjs/common';
import { AppConfig } from '../config/app-config.js';
import { JobName, JobPayloads, JobSchedule } from '../queue/queue.constants.js';
import { OnJob, Reconciler } from '../queue/queue.decorators.js';
import type { JobContext, JobReconciler } from '../queue/queue.types.js';
import { MapRepository } from './map.repository.js';

const BATCH = 2000;
/** Below this many dirty cells, always recount them one by one. */
const FULL_REBUILD_MIN_CELLS = 64;

/**
 * Keeps the grid of picture counts fresh: triggers on `item` and `collection` mark the cells
 * whose pictures changed, and this scheduled job recounts them.
 */
@Injectable()
@Reconciler()
export class MapGridProcessor implements JobReconciler {
  private readonly logger = new Logger(MapGridProcessor.name);

  constructor(
    private readonly repository: MapRepository,
    private readonly config: AppConfig,
  ) {}

  schedules(): JobSchedule[] {
    return [{ id: 'map.refresh-grid', name: JobName.MapRefreshGrid, payload: {}, every: this.config.MAP_GRID_REFRESH_SECONDS * 1000 }];
  }

  @OnJob(JobName.MapRefreshGrid)
  async refresh(payload: JobPayloads[JobName.MapRefreshGrid], context: JobContext): Promise<{ cells: number; busy?: true }> {
    const { dirtyCells, gridCells } = await this.repository.gridStats();
    // Recounting cell by cell costs an index scan per cell; past a share of the grid, one pass over all pictures is cheaper.
    if (payload.full || dirtyCells > Math.max(FULL_REBUILD_MIN_CELLS, gridCells / 4)) {
      const cells = await this.repository.rebuildGrid();
      if (cells === null) return { cells: 0, busy: true };
      this.logger.log(`grid rebuilt: ${cells} cells`);
      return { cells };
    }
    let total = 0;
    for (;;) {
      context.signal.throwIfAborted();
      const cells = await this.repository.refreshDirtyCells(BATCH);
      if (cells === null) return { cells: total, busy: true };
      if (cells === 0) break;
      total += cells;
    }
    if (total) await context.log(`recounted ${total} grid cells`);
    return { cells: total };
  }
}
