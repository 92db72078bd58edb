import { BadRequestException, ConflictException, Injectable, Logger, NotFoundException } from '@nestjs/common';
import { Ajv, type ErrorObject, type ValidateFunction } from 'ajv';
import addFormatsPlugin from 'ajv-formats';
import { UsersService } from '../auth/users.service.js';
import { Visibility } from '../auth/visibility.js';
import type { CatalogSource } from '../catalog/catalog-source.js';
import { ItemSource } from '../catalog/catalog-source.js';
import { AppConfig } from '../config/app-config.js';
import { JobQueueService } from '../queue/job-queue.service.js';
import { JobName } from '../queue/queue.constants.js';
import { HarvestSessionsRepository, SessionConflict } from './harvest-sessions.repository.js';
import type { HarvestSession, SessionTrigger, SessionType } from './harvest-session.entity.js';
import type { HarvestableResource } from './harvestable-resource.entity.js';
import type { HarvesterType } from './harvester-type.js';
import { HarvesterTypes } from './harvester-types.service.js';
import { HarvesterState } from './harvester-state.service.js';
import { type AssetMode, type DeletionPolicy, Harvester, type HarvesterSchedule } from './harvester.entity.js';
import { HarvestersRepository, row, type ResourceFilter } from './harvesters.repository.js';
import { HARVESTED_KIND } from './record-mapping.js';
import { RemoteHttp } from './remote-http.js';

// ajv-formats is CommonJS; its default export arrives as the module object or the function.
const addFormats = ((addFormatsPlugin as unknown as { default?: unknown }).default ?? addFormatsPlugin) as (ajv: Ajv) => Ajv;

/** What a person gives to create or change a harvester (API field names). */
export interface HarvesterInput {
  name?: string;
  type?: string;
  url?: string;
  config?: Record<string, unknown>;
  owner_id?: string | null;
  visibility?: Visibility;
  enabled?: boolean;
  schedule?: HarvesterSchedule;
  deletion_policy?: DeletionPolicy;
  deletion_grace_runs?: number;
  mass_delete_max_percent?: number;
  asset_mode?: AssetMode;
  disable_after_failures?: number;
}

export interface ActionRequest {
  type: SessionType;
  trigger: SessionTrigger;
  requestedBy: string | null;
  dryRun?: boolean;
  options?: Record<string, unknown>;
}

/** GeoNode's harvester statuses: the action a PATCH of `status` asks for, and the status an active session shows. */
export const GEONODE_STATUS: Record<string, SessionType | 'abort'> = {
  'checking-availability': 'check',
  'updating-harvestable-resources': 'discover',
  'harvesting-resources': 'harvest',
  'aborting-update-harvestable-resources': 'abort',
  'aborting-performing-harvesting': 'abort',
};

function ajvMessage(errors: ErrorObject[] | null | undefined): string {
  return (errors ?? [])
    .map(
      (e) => `config${e.instancePath || ''} ${e.message ?? 'is invalid'}${e.params && 'allowedValues' in e.params ? ` (${(e.params.allowedValues as unknown[]).join(', ')})` : ''}`,
    )
    .join('; ');
}

/** Harvesters: their settings, resources, actions and sessions; also the catalog source of harvested items. */
@Injectable()
@ItemSource()
export class HarvestersService implements CatalogSource {
  readonly itemKinds = [HARVESTED_KIND];
  readonly collectionKinds = [HARVESTED_KIND];
  private readonly logger = new Logger(HarvestersService.name);
  private readonly ajv = addFormats(new Ajv({ allErrors: true, useDefaults: true, strict: false, coerceTypes: false }));
  private readonly validators = new Map<string, ValidateFunction>();

  constructor(
    private readonly repository: HarvestersRepository,
    private readonly sessions: HarvestSessionsRepository,
    private readonly types: HarvesterTypes,
    private readonly state: HarvesterState,
    private readonly http: RemoteHttp,
    private readonly jobs: JobQueueService,
    private readonly users: UsersService,
    private readonly config: AppConfig,
  ) {}

  listTypes(): HarvesterType[] {
    return this.types.list();
  }

  private type(id: string): HarvesterType {
    const type = this.types.get(id);
    if (!type)
      throw new BadRequestException(
        `Unknown harvester type ${JSON.stringify(id)}; known: ${this.types
          .list()
          .map((t) => t.id)
          .join(', ')}`,
      );
    return type;
  }

  /** The config with the schema's defaults filled in, or a 400 naming every problem. */
  private validConfig(type: HarvesterType, config: Record<string, unknown>): Record<string, unknown> {
    let validate = this.validators.get(type.id);
    if (!validate) {
      validate = this.ajv.compile(type.configSchema);
      this.validators.set(type.id, validate);
    }
    // Settings of the engine itself, valid for every type.
    const { select_new_resources: selectNew, ...own } = structuredClone(config);
    if (selectNew !== undefined && typeof selectNew !== 'boolean') throw new BadRequestException('config.select_new_resources must be a boolean');
    if (!validate(own)) throw new BadRequestException(`Invalid configuration for a ${type.id} harvester: ${ajvMessage(validate.errors)}`);
    return selectNew === undefined ? own : { ...own, select_new_resources: selectNew };
  }

  private checkUrl(url: string): string {
    try {
      return this.http.checkUrl(url).toString();
    } catch (error) {
      throw new BadRequestException(`url: ${(error as Error).message}`);
    }
  }

  async get(id: string): Promise<Harvester> {
    const harvester = await this.repository.findHarvester(id);
    if (!harvester) throw new NotFoundException('Harvester not found');
    return harvester;
  }

  list(page: { limit: number; offset: number }, q?: string) {
    return this.repository.listHarvesters(page, q);
  }

  private async ownerId(given: string | null | undefined, fallback: string | null): Promise<string | null> {
    if (given === undefined) return fallback;
    if (given === null) return null;
    if (!(await this.users.findById(given))) throw new BadRequestException(`owner_id: no user ${given}`);
    return given;
  }

  async create(input: HarvesterInput, createdBy: string | null): Promise<Harvester> {
    if (!input.name || !input.type || !input.url) throw new BadRequestException('name, type and url are required');
    const type = this.type(input.type);
    const schedule = input.schedule ?? {};
    const harvester = this.repository.harvesters.create({
      name: input.name,
      type: type.id,
      url: this.checkUrl(input.url),
      config: this.validConfig(type, input.config ?? {}),
      ownerId: await this.ownerId(input.owner_id, createdBy),
      visibility: input.visibility ?? Visibility.Anyone,
      enabled: input.enabled ?? true,
      schedule,
      deletionPolicy: input.deletion_policy ?? 'delete',
      deletionGraceRuns: input.deletion_grace_runs ?? 2,
      massDeleteMaxPercent: input.mass_delete_max_percent ?? 20,
      assetMode: input.asset_mode ?? 'link',
      disableAfterFailures: input.disable_after_failures ?? 5,
      createdBy,
      ...this.state.initialSchedule(schedule),
    });
    try {
      return await this.repository.harvesters.save(harvester);
    } catch (error) {
      if ((error as { code?: string }).code === '23505') throw new ConflictException(`A harvester is already called ${JSON.stringify(input.name)}`);
      throw error;
    }
  }

  async update(id: string, input: HarvesterInput): Promise<Harvester> {
    const harvester = await this.get(id);
    if (input.type !== undefined && input.type !== harvester.type) throw new BadRequestException('type cannot change; create another harvester');
    const type = this.type(harvester.type);
    const patch: Partial<Harvester> = {};
    if (input.name !== undefined) patch.name = input.name;
    if (input.url !== undefined) patch.url = this.checkUrl(input.url);
    if (input.config !== undefined) patch.config = this.validConfig(type, input.config);
    if (input.owner_id !== undefined) patch.ownerId = await this.ownerId(input.owner_id, harvester.ownerId);
    if (input.visibility !== undefined) patch.visibility = input.visibility;
    if (input.deletion_policy !== undefined) patch.deletionPolicy = input.deletion_policy;
    if (input.deletion_grace_runs !== undefined) patch.deletionGraceRuns = input.deletion_grace_runs;
    if (input.mass_delete_max_percent !== undefined) patch.massDeleteMaxPercent = input.mass_delete_max_percent;
    if (input.asset_mode !== undefined) patch.assetMode = input.asset_mode;
    if (input.disable_after_failures !== undefined) patch.disableAfterFailures = input.disable_after_failures;
    if (input.schedule !== undefined) Object.assign(patch, { schedule: input.schedule }, this.state.initialSchedule(input.schedule));
    if (input.enabled !== undefined) {
      patch.enabled = input.enabled;
      if (input.enabled && !harvester.enabled)
        Object.assign(patch, { consecutiveFailures: 0, disabledReason: null }, this.state.initialSchedule(input.schedule ?? harvester.schedule));
    }
    try {
      await this.repository.harvesters.update({ id }, row<Harvester>(patch));
    } catch (error) {
      if ((error as { code?: string }).code === '23505') throw new ConflictException(`A harvester is already called ${JSON.stringify(input.name)}`);
      throw error;
    }
    return this.get(id);
  }

  /** Deletes a harvester and what it knows of the remote; the local collections stay (a clear with delete_local removes them first). */
  async remove(id: string): Promise<void> {
    const harvester = await this.get(id);
    const active = await this.activeSession(harvester.id);
    if (active) throw new ConflictException({ message: `The harvester is busy with ${active.type} session ${active.id}; cancel it first`, details: { session_id: active.id } });
    await this.repository.harvesters.delete({ id });
  }

  /** The active session, after ending those whose worker went silent (so a dead worker never blocks a harvester). */
  async activeSession(harvesterId: string): Promise<HarvestSession | null> {
    const stalled = await this.sessions.sweepStalled(this.config.HARVEST_STALL_SECONDS, harvesterId);
    for (const session of stalled) await this.state.sessionEnded(session);
    return this.sessions.active(harvesterId);
  }

  /** The active sessions of several harvesters (one sweep of silent sessions, one query), by harvester id. */
  async activeSessions(harvesterIds: string[]): Promise<Map<string, HarvestSession>> {
    await this.sweepStalled();
    return this.sessions.activeOf(harvesterIds);
  }

  /**
   * Starts an action: a queued session and its job. A second action while one is active is a
   * 409 naming the active session.
   */
  async start(harvesterId: string, request: ActionRequest): Promise<HarvestSession> {
    const harvester = await this.get(harvesterId);
    this.type(harvester.type);
    if (request.type === 'harvest' && Array.isArray(request.options?.resource_ids)) {
      const ids = request.options.resource_ids as string[];
      const found = await this.repository.resourcesOf(harvester.id, { ids });
      const missing = ids.filter((id) => !found.some((r) => r.id === id));
      if (missing.length) throw new BadRequestException(`resource_ids: not resources of this harvester: ${missing.slice(0, 10).join(', ')}`);
    }
    await this.activeSession(harvester.id);
    let session: HarvestSession;
    try {
      session = await this.sessions.create({
        harvesterId: harvester.id,
        type: request.type,
        trigger: request.trigger,
        requestedBy: request.requestedBy,
        dryRun: request.dryRun ?? false,
        options: request.options ?? {},
      });
    } catch (error) {
      if (error instanceof SessionConflict) {
        throw new ConflictException({
          message: `The harvester is busy with ${error.active.type} session ${error.active.id} (${error.active.status})`,
          details: { session_id: error.active.id, session_url: `/api/harvesting-sessions/${error.active.id}` },
        });
      }
      throw error;
    }
    await this.enqueue(session);
    return session;
  }

  async enqueue(session: Pick<HarvestSession, 'id'>): Promise<void> {
    await this.jobs.add(JobName.HarvestRun, { sessionId: session.id });
  }

  async getSession(id: string): Promise<HarvestSession> {
    const session = await this.sessions.findById(id);
    if (!session) throw new NotFoundException('Harvesting session not found');
    if (session.status === 'running' || session.status === 'cancelling') {
      const stalled = await this.sessions.sweepStalled(this.config.HARVEST_STALL_SECONDS, session.harvesterId);
      for (const s of stalled) await this.state.sessionEnded(s);
      if (stalled.length) return (await this.sessions.findById(id))!;
    }
    return session;
  }

  /** Cancels a session: a queued one at once, a running one within a heartbeat. 409 when it has ended. */
  async cancel(id: string): Promise<HarvestSession> {
    const session = await this.getSession(id);
    if (!['queued', 'running', 'cancelling'].includes(session.status)) throw new ConflictException(`The session has ended (${session.status})`);
    const after = (await this.sessions.requestCancel(id))!;
    if (after.status === 'cancelled') {
      await this.jobs.remove(JobName.HarvestRun, { sessionId: id }).catch(() => undefined);
      await this.state.sessionEnded(after);
    }
    return after;
  }

  listSessions(filter: Parameters<HarvestSessionsRepository['list']>[0], page: { limit: number; offset: number }) {
    return this.sessions.list(filter, page);
  }

  sessionErrors(id: string) {
    return this.sessions.errorGroups(id);
  }

  sessionRecords(id: string, after: string | null, limit: number, action?: Parameters<HarvestSessionsRepository['recordPage']>[3]) {
    return this.sessions.recordPage(id, after, limit, action);
  }

  sessionLog(id: string, after: string | null, limit: number) {
    return this.sessions.logPage(id, after, limit);
  }

  async listResources(harvesterId: string, filter: ResourceFilter, page: { limit: number; offset: number }) {
    await this.get(harvesterId);
    return this.repository.listResources(harvesterId, filter, page);
  }

  async getResource(harvesterId: string, id: string): Promise<HarvestableResource> {
    const resource = await this.repository.findResource(harvesterId, id);
    if (!resource) throw new NotFoundException('Harvestable resource not found');
    return resource;
  }

  /** Selects or unselects resources: by id, by remote id, or every one a filter matches. */
  async select(harvesterId: string, filter: ResourceFilter, selected: boolean): Promise<number> {
    await this.get(harvesterId);
    return this.repository.select(harvesterId, filter, selected);
  }

  /** GeoNode's status for a harvester: its active session's action, else `ready`. */
  geonodeStatus(active: HarvestSession | null): string {
    if (!active) return 'ready';
    if (active.status === 'cancelling') return active.type === 'harvest' ? 'aborting-performing-harvesting' : 'aborting-update-harvestable-resources';
    return Object.entries(GEONODE_STATUS).find(([, type]) => type === active.type)?.[0] ?? 'ready';
  }

  // ── the worker's side ───────────────────────────────────────────────────

  /** Ends silent sessions; returns how many. */
  async sweepStalled(): Promise<number> {
    const stalled = await this.sessions.sweepStalled(this.config.HARVEST_STALL_SECONDS);
    for (const session of stalled) {
      this.logger.warn({ sessionId: session.id, harvesterId: session.harvesterId }, `harvest session ${session.status}: ${session.error}`);
      await this.sessions.log(session.id, 'error', session.error ?? session.status);
      await this.state.sessionEnded(session);
    }
    return stalled.length;
  }

  /** Queued sessions whose queue entry is gone (Redis flushed) are enqueued again. */
  async requeueLost(graceSeconds: number): Promise<number> {
    let count = 0;
    for (const session of await this.sessions.queuedOlderThan(graceSeconds)) {
      const state = await this.jobs.removeIfEnded(JobName.HarvestRun, { sessionId: session.id });
      if (!['completed', 'failed', 'missing', 'unknown'].includes(state)) continue;
      await this.enqueue(session);
      count++;
    }
    return count;
  }

  /** Starts the scheduled actions that are due (check, then discover, then harvest; one at a time per harvester). */
  async startDue(): Promise<number> {
    let started = 0;
    for (const harvester of await this.repository.due()) {
      const now = Date.now();
      const due = (['check', 'discover', 'harvest'] as const).find((type) => {
        const at = type === 'check' ? harvester.nextCheckAt : type === 'discover' ? harvester.nextDiscoverAt : harvester.nextHarvestAt;
        return at && at.getTime() <= now;
      });
      if (!due) continue;
      try {
        await this.start(harvester.id, { type: due, trigger: 'schedule', requestedBy: null });
        started++;
      } catch (error) {
        if (error instanceof ConflictException) continue;
        this.logger.warn({ harvesterId: harvester.id, err: (error as Error).message }, 'scheduled harvesting action not started');
      }
    }
    return started;
  }
}
