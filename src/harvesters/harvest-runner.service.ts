import { BeforeApplicationShutdown, Injectable, Logger } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { randomUUID } from 'node:crypto';
import os from 'node:os';
import { DataSource } from 'typeorm';
import type { AuthUser } from '../auth/auth.types.js';
import { UsersService } from '../auth/users.service.js';
import { Visibility } from '../auth/visibility.js';
import { CatalogService, type ItemDraft } from '../catalog/catalog.service.js';
import { AppConfig } from '../config/app-config.js';
import { DatasetsService } from '../datasets/datasets.service.js';
import { HttpException } from '@nestjs/common';
import { HarvestSessionsRepository, type RecordOutcome } from './harvest-sessions.repository.js';
import { EMPTY_COUNTERS, type HarvestSession, type SessionCounters, type SessionStatus } from './harvest-session.entity.js';
import type { HarvestableResource } from './harvestable-resource.entity.js';
import type { HarvestedRecord } from './harvested-record.entity.js';
import type { HarvestContext, HarvesterType, ListingEnd, RemoteRecord, RemoteResource } from './harvester-type.js';
import { HarvesterTypes } from './harvester-types.service.js';
import type { Harvester } from './harvester.entity.js';
import { HarvestersRepository } from './harvesters.repository.js';
import { HarvesterState } from './harvester-state.service.js';
import { contentHash, HARVESTED_KIND, itemFields, MappingError } from './record-mapping.js';
import { RemoteHttp } from './remote-http.js';

const BATCH = 200;
/** How often a running session beats (and reads whether it was cancelled). */
const HEARTBEAT_MS = 400;
/** Examples of remote ids kept in a dry run's plan, per action. */
const PLAN_EXAMPLES = 100;

class Cancelled extends Error {
  constructor() {
    super('cancelled on request');
    this.name = 'AbortError';
  }
}

/** The outcome of one session, as recorded. */
export interface SessionOutcome {
  status: SessionStatus;
  counters: SessionCounters;
  error: string | null;
}

interface Plan {
  would_create: string[];
  would_update: string[];
  would_delete: string[];
}

/** What one run works with. */
interface Run {
  session: HarvestSession;
  harvester: Harvester;
  type: HarvesterType;
  ctx: HarvestContext;
  counters: SessionCounters;
  outcomes: RecordOutcome[];
  plan: Plan;
  result: Record<string, unknown>;
  /** Problems that make the session `partially_failed` (a guard that held, a resource that failed). */
  problems: string[];
}

/** `worker:host:pid`: who runs a session. */
function runnerName(): string {
  return `worker:${os.hostname()}:${process.pid}`;
}

function errorText(error: unknown): string {
  return (error as Error)?.message ?? String(error);
}

/**
 * Runs harvesting sessions: check, discover, harvest and clear. The type reads the remote; this
 * engine compares, stores through the catalog, counts, applies the deletion policy and keeps the
 * session's heartbeat, so a cancel stops it within a second and a dead worker's session is
 * recognised by its silence.
 */
@Injectable()
export class HarvestRunner implements BeforeApplicationShutdown {
  private readonly logger = new Logger(HarvestRunner.name);
  private readonly active = new Map<string, AbortController>();

  constructor(
    private readonly sessions: HarvestSessionsRepository,
    private readonly repository: HarvestersRepository,
    private readonly types: HarvesterTypes,
    private readonly http: RemoteHttp,
    private readonly catalog: CatalogService,
    private readonly state: HarvesterState,
    private readonly config: AppConfig,
    @InjectDataSource() private readonly db: DataSource,
    private readonly datasets: DatasetsService,
    private readonly users: UsersService,
  ) {}

  private closing = false;

  /** Running sessions stop at once and go back to the queue, for another worker to run them afresh. */
  beforeApplicationShutdown(): void {
    this.closing = true;
    for (const controller of this.active.values()) controller.abort(new Error('the worker is shutting down'));
  }

  /** Runs a queued session; null when there was nothing to run (cancelled before, or taken). */
  async runQueued(sessionId: string, shutdown?: AbortSignal): Promise<SessionOutcome | null> {
    const runner = runnerName();
    const session = await this.sessions.claim(sessionId, runner);
    if (!session) return null;
    if (this.closing) {
      await this.sessions.release(session.id, runner);
      return null;
    }
    const stop = new AbortController();
    this.active.set(session.id, stop);
    const signal = AbortSignal.any([stop.signal, ...(shutdown ? [shutdown] : [])]);
    const counters: SessionCounters = { ...EMPTY_COUNTERS, ...session.counters };
    let cancelRequested = false;
    let lost = false;
    let beating = true;
    let timer: NodeJS.Timeout | undefined;
    const beat = async () => {
      try {
        const answer = await this.sessions.heartbeat(session.id, runner, counters);
        if (!answer) {
          lost = true;
          stop.abort(new Error('this session was ended elsewhere (timed out)'));
        } else if (answer.cancelRequested && !cancelRequested) {
          cancelRequested = true;
          stop.abort(new Cancelled());
        }
      } catch (error) {
        this.logger.warn({ sessionId: session.id, err: errorText(error) }, 'harvest session heartbeat failed');
      }
      if (beating) timer = setTimeout(() => void beat(), HEARTBEAT_MS).unref();
    };
    timer = setTimeout(() => void beat(), HEARTBEAT_MS).unref();
    if (session.cancelRequestedAt) {
      cancelRequested = true;
      stop.abort(new Cancelled());
    }

    let status: SessionStatus = 'succeeded';
    let error: string | null = null;
    let run: Run | undefined;
    try {
      const harvester = await this.repository.findHarvester(session.harvesterId);
      if (!harvester) throw new Error('its harvester was deleted');
      const type = this.types.get(harvester.type);
      if (!type) throw new Error(`harvester type ${harvester.type} is not known to this worker`);
      run = {
        session,
        harvester,
        type,
        counters,
        outcomes: [],
        plan: { would_create: [], would_update: [], would_delete: [] },
        result: {},
        problems: [],
        ctx: {
          http: this.http,
          signal,
          harvester: { id: harvester.id, name: harvester.name, url: harvester.url, config: harvester.config },
          log: (message, level = 'info') => this.sessions.log(session.id, level, message),
          validators: {
            get: (url) => this.repository.getValidators(harvester.id, url),
            set: (url, value) => this.repository.setValidators(harvester.id, url, value),
          },
        },
      };
      await run.ctx.log(`${session.dryRun ? 'dry run of ' : ''}${session.type} started by ${session.trigger} on ${runner}`);
      if (session.type === 'check') await this.check(run);
      else if (session.type === 'discover') await this.discover(run);
      else if (session.type === 'harvest') await this.harvest(run);
      else await this.clear(run);
      signal.throwIfAborted();
      if (run.problems.length || counters.failed) {
        status = 'partially_failed';
        error = [...run.problems, ...(counters.failed ? [`${counters.failed} records failed`] : [])].join('; ');
      }
    } catch (thrown) {
      if (cancelRequested) {
        status = 'cancelled';
        error = 'cancelled on request';
      } else if (shutdown?.aborted || this.closing) {
        status = 'queued';
        error = 'interrupted: the worker shut down';
      } else {
        status = 'failed';
        error = errorText(thrown);
      }
    } finally {
      beating = false;
      clearTimeout(timer);
      this.active.delete(session.id);
    }
    await this.flush(run).catch((e: unknown) => this.logger.warn({ sessionId: session.id, err: errorText(e) }, 'per-record results not saved'));
    if (lost) return { status: 'timed_out', counters, error: 'the session was ended elsewhere' };
    if (status === 'queued') {
      await this.sessions.release(session.id, runner);
      await this.sessions.log(session.id, 'warn', 'interrupted: the worker shut down; queued again').catch(() => undefined);
      return { status, counters, error };
    }
    if (run) await run.ctx.log(`ended ${status}${error ? `: ${error}` : ''}`, status === 'succeeded' ? 'info' : 'warn').catch(() => undefined);
    const result = run ? { ...run.result, ...(session.dryRun ? { plan: run.plan } : {}) } : null;
    const recorded = await this.sessions.finish(session.id, runner, { status, counters, result, error });
    if (!recorded) return { status: 'timed_out', counters, error: 'the session was ended elsewhere' };
    await this.state.sessionEnded({ ...session, status, error });
    return { status, counters, error };
  }

  private async flush(run: Run | undefined): Promise<void> {
    if (!run?.outcomes.length) return;
    const outcomes = run.outcomes.splice(0);
    await this.sessions.addRecords(run.session.id, outcomes);
  }

  private record(run: Run, outcome: RecordOutcome): void {
    run.counters.done++;
    if (outcome.action === 'hidden') run.counters.deleted++;
    else run.counters[outcome.action]++;
    run.outcomes.push(outcome);
  }

  // ── check ────────────────────────────────────────────────────────────────

  private async check(run: Run): Promise<void> {
    let answer: { available: boolean; message: string };
    try {
      answer = await run.type.check(run.ctx);
    } catch (error) {
      run.ctx.signal.throwIfAborted();
      answer = { available: false, message: errorText(error) };
    }
    run.result = { available: answer.available, message: answer.message };
    if (!run.session.dryRun) await this.state.availability(run.harvester.id, answer);
    await run.ctx.log(`remote ${answer.available ? 'available' : 'unavailable'}: ${answer.message}`, answer.available ? 'info' : 'warn');
    if (!answer.available) throw new Error(`remote unavailable: ${answer.message}`);
  }

  // ── discover ─────────────────────────────────────────────────────────────

  private async discover(run: Run): Promise<void> {
    const found: RemoteResource[] = [];
    const seen = new Set<string>();
    for await (const resource of run.type.discover(run.ctx)) {
      run.ctx.signal.throwIfAborted();
      if (!resource?.remoteId || seen.has(resource.remoteId)) {
        run.counters.skipped++;
        continue;
      }
      seen.add(resource.remoteId);
      found.push(resource);
      run.counters.total = found.length;
    }
    const selectNew = run.harvester.config.select_new_resources === true;
    if (run.session.dryRun) {
      const known = new Set((await this.repository.resourcesOf(run.harvester.id)).map((r) => r.remoteId));
      const fresh = found.filter((r) => !known.has(r.remoteId));
      run.counters.created = fresh.length;
      run.counters.unchanged = found.length - fresh.length;
      run.result = { resources: found.length, new: fresh.slice(0, PLAN_EXAMPLES).map((r) => r.remoteId) };
    } else {
      for (let i = 0; i < found.length; i += 500) {
        const counts = await this.repository.upsertResources(run.harvester.id, found.slice(i, i + 500), selectNew);
        run.counters.created += counts.created;
        run.counters.updated += counts.updated;
        run.counters.unchanged += counts.unchanged;
      }
      const missing = await this.repository.markResourcesMissing(run.harvester.id, [...seen]);
      run.result = { resources: found.length, missing };
      await this.state.discovered(run.harvester.id);
    }
    run.counters.done = found.length;
    await run.ctx.log(`discovered ${found.length} resources (${run.counters.created} new)`);
  }

  // ── harvest ──────────────────────────────────────────────────────────────

  private async harvest(run: Run): Promise<void> {
    const ids = Array.isArray(run.session.options.resource_ids) ? (run.session.options.resource_ids as string[]) : undefined;
    const resources = await this.repository.resourcesOf(run.harvester.id, ids ? { ids } : { selected: true });
    if (!resources.length)
      throw new Error(ids ? 'none of the given resources belongs to this harvester' : 'no harvestable resource is selected: run discover, then select resources');
    const full = run.session.options.full === true;
    const candidates: { resourceId: string; id: string; remoteId: string; hidden: boolean }[] = [];
    const perResource: Record<string, unknown>[] = [];
    for (const resource of resources) {
      run.ctx.signal.throwIfAborted();
      const before = { ...run.counters };
      let error: string | null = null;
      try {
        const due = await this.harvestResource(run, resource, full);
        candidates.push(...due.map((d) => ({ ...d, resourceId: resource.id })));
      } catch (thrown) {
        run.ctx.signal.throwIfAborted();
        error = errorText(thrown);
        run.problems.push(`resource ${resource.remoteId}: ${error}`);
        await run.ctx.log(`resource ${resource.remoteId} failed: ${error}`, 'error');
      }
      const delta = Object.fromEntries(Object.entries(run.counters).map(([k, v]) => [k, v - before[k as keyof SessionCounters]]));
      perResource.push({ resource_id: resource.id, remote_id: resource.remoteId, ...delta, error });
      if (!run.session.dryRun) {
        await this.repository.updateResource(resource.id, {
          lastHarvestedAt: new Date(),
          status: error ? 'failed' : 'harvested',
          lastResult: { session_id: run.session.id, ...delta, error },
        });
      }
      await this.flush(run);
    }
    await this.applyDeletions(run, candidates);
    run.result = { resources: perResource };
    if (!run.session.dryRun && resources.some((r) => !run.problems.some((p) => p.startsWith(`resource ${r.remoteId}:`)))) await this.state.harvested(run.harvester.id);
  }

  /** Harvests one resource; returns its records due for the deletion policy. */
  private async harvestResource(run: Run, resource: HarvestableResource, full: boolean): Promise<{ id: string; remoteId: string; hidden: boolean }[]> {
    const remote: RemoteResource = { remoteId: resource.remoteId, title: resource.title, type: resource.type, remoteUrl: resource.remoteUrl, description: resource.description };
    const collectionId = run.session.dryRun ? resource.collectionId : await this.ensureCollection(run, resource, remote);
    const since = full ? null : resource.watermark;
    const failedBefore = run.counters.failed;
    const listing = run.type.harvest(run.ctx, remote, { since, full });
    let batch: RemoteRecord[] = [];
    let end: ListingEnd;
    const seenInListing = new Set<string>();
    // Records present remotely but not stored again (unchanged, or unreadable now): marked seen in chunks.
    let seen: string[] = [];
    const markSeen = async () => {
      if (!run.session.dryRun && seen.length) await this.repository.markSeen(resource.id, seen, run.session.id);
      seen = [];
    };
    for (;;) {
      const next = await listing.next();
      run.ctx.signal.throwIfAborted();
      if (next.done) {
        end = next.value;
        break;
      }
      run.counters.total++;
      if (seen.length >= 1000) await markSeen();
      const listed = next.value;
      if ('failure' in listed) {
        const remoteId = listed.failure.remoteId || '(no id)';
        // Still listed remotely, though unreadable now: not missing, so its local copy stays.
        if (listed.failure.remoteId) seen.push(remoteId);
        this.record(run, { resourceId: resource.id, remoteId, action: 'failed', error: listed.failure.error, stage: listed.failure.stage });
        continue;
      }
      if ('unchanged' in listed) {
        seenInListing.add(listed.unchanged.remoteId);
        seen.push(listed.unchanged.remoteId);
        this.record(run, { resourceId: resource.id, remoteId: listed.unchanged.remoteId, action: 'unchanged' });
        continue;
      }
      if (!listed.record?.remoteId || typeof listed.record.remoteId !== 'string') {
        this.record(run, { resourceId: resource.id, remoteId: '(no id)', action: 'failed', error: 'the record has no identifier', stage: 'map' });
        continue;
      }
      if (seenInListing.has(listed.record.remoteId)) {
        // Listed twice (an overlapping page): once is enough.
        this.record(run, { resourceId: resource.id, remoteId: listed.record.remoteId, action: 'skipped', error: 'listed twice in this run' });
        continue;
      }
      seenInListing.add(listed.record.remoteId);
      batch.push(listed.record);
      if (batch.length >= BATCH) {
        await this.storeBatch(run, resource, collectionId, batch);
        batch = [];
        await this.flush(run);
      }
    }
    if (batch.length) await this.storeBatch(run, resource, collectionId, batch);
    await markSeen();
    await this.flush(run);

    let exhaustive = end.exhaustive;
    const listIdsEvery = Number(run.harvester.schedule.list_ids_every_hours ?? 24);
    const listingDue = !resource.lastFullListingAt || Date.now() - resource.lastFullListingAt.getTime() >= listIdsEvery * 3600_000;
    if (!exhaustive && since && run.type.listIds && listingDue) {
      exhaustive = await this.listIds(run, resource, remote);
    }
    if (!run.session.dryRun && collectionId)
      await this.catalog.recomputeCollection(collectionId).catch((e: unknown) => run.ctx.log(`extent not refreshed: ${errorText(e)}`, 'warn'));
    const failedHere = run.counters.failed - failedBefore;
    if (!run.session.dryRun) {
      const patch: Parameters<HarvestersRepository['updateResource']>[1] = {};
      // The watermark moves only after a run of this resource without failures.
      if (!failedHere && end.watermark) patch.watermark = end.watermark;
      if (exhaustive) patch.lastFullListingAt = new Date();
      if (Object.keys(patch).length) await this.repository.updateResource(resource.id, patch);
    }
    if (!exhaustive) {
      if (!since) await run.ctx.log(`resource ${resource.remoteId}: the listing was not complete, so no record is counted missing`, 'warn');
      return [];
    }
    return this.repository.countMissing(resource.id, run.session.id, run.harvester.deletionGraceRuns, run.session.dryRun);
  }

  /** Lists every remote id to find deletions after incremental runs; true when the listing was complete. */
  private async listIds(run: Run, resource: HarvestableResource, remote: RemoteResource): Promise<boolean> {
    const listing = run.type.listIds!(run.ctx, remote);
    let chunk: string[] = [];
    let count = 0;
    for (;;) {
      const next = await listing.next();
      run.ctx.signal.throwIfAborted();
      if (next.done) {
        if (!run.session.dryRun) await this.repository.markSeen(resource.id, chunk, run.session.id);
        await run.ctx.log(`resource ${resource.remoteId}: ${count} remote ids listed${next.value.complete ? '' : ' (incomplete)'}`);
        return next.value.complete;
      }
      count++;
      chunk.push(next.value);
      if (chunk.length >= 1000) {
        if (!run.session.dryRun) await this.repository.markSeen(resource.id, chunk, run.session.id);
        chunk = [];
      }
    }
  }

  private async ensureCollection(run: Run, resource: HarvestableResource, remote: RemoteResource): Promise<string> {
    const described = run.type.collection(remote);
    const common = {
      title: described.title || resource.title,
      description: described.description ?? null,
      keywords: (described.keywords ?? []).filter((k) => typeof k === 'string').slice(0, 200),
      license: typeof described.license === 'string' && described.license ? described.license.slice(0, 64) : 'other',
      providers: described.providers ?? [],
      geometry: described.geometry ?? null,
      datetimeStart: described.datetimeStart ?? null,
      datetimeEnd: described.datetimeEnd ?? null,
      summaries: described.summaries ?? {},
      properties: {
        ...described.properties,
        'harvest:harvester_id': run.harvester.id,
        'harvest:remote_id': resource.remoteId,
        'harvest:remote_url': resource.remoteUrl,
      },
    };
    const existing = resource.collectionId ? await this.catalog.findCollection(resource.collectionId) : null;
    if (existing) {
      await this.catalog.updateCollection(existing.id, { ...common, visibility: run.harvester.visibility });
      return existing.id;
    }
    const created = await this.catalog.createCollection({
      ...common,
      kind: HARVESTED_KIND,
      ownerId: run.harvester.ownerId,
      visibility: run.harvester.visibility,
      extent: described.geometry ? 'declared' : 'items-bbox',
    });
    await this.repository.updateResource(resource.id, { collectionId: created.id });
    return created.id;
  }

  /** Stores a batch in one transaction; when that fails, record by record, so one bad record fails alone. */
  private async storeBatch(run: Run, resource: HarvestableResource, collectionId: string | null, batch: RemoteRecord[]): Promise<void> {
    const prepared = batch.map((record) => ({ record, hash: contentHash(record) }));
    if (run.session.dryRun) {
      const known = new Map(
        (
          await this.repository.recordsByRemoteId(
            resource.id,
            batch.map((r) => r.remoteId),
          )
        ).map((r) => [r.remoteId, r]),
      );
      for (const { record, hash } of prepared) {
        const existing = known.get(record.remoteId);
        try {
          this.fields(run, record, hash);
        } catch (error) {
          this.record(run, { resourceId: resource.id, remoteId: record.remoteId, action: 'failed', error: errorText(error), stage: 'map' });
          continue;
        }
        const action = !existing ? 'created' : existing.contentHash !== hash || existing.hidden ? 'updated' : 'unchanged';
        if (action !== 'unchanged') this.plan(run, action === 'created' ? 'would_create' : 'would_update', record.remoteId);
        this.record(run, {
          resourceId: resource.id,
          remoteId: record.remoteId,
          action,
          contentHash: hash,
          remoteUpdated: record.remoteUpdated ?? null,
          itemId: existing?.id ?? null,
        });
      }
      return;
    }
    try {
      const outcomes = await this.db.transaction((manager) => this.store(run, resource, collectionId!, prepared, manager));
      for (const outcome of outcomes) this.record(run, outcome);
      if (run.harvester.assetMode === 'copy') {
        const byId = new Map(batch.map((r) => [r.remoteId, r]));
        for (const outcome of outcomes) {
          if ((outcome.action === 'created' || outcome.action === 'updated') && outcome.itemId) await this.copyAssets(run, resource, byId.get(outcome.remoteId)!, outcome.itemId);
        }
      }
    } catch (error) {
      if (prepared.length === 1) {
        const { record, hash } = prepared[0];
        const mapping = error instanceof MappingError;
        this.record(run, { resourceId: resource.id, remoteId: record.remoteId, action: 'failed', contentHash: hash, error: errorText(error), stage: mapping ? 'map' : 'store' });
        return;
      }
      for (const one of prepared) await this.storeBatch(run, resource, collectionId, [one.record]);
    }
  }

  /**
   * Asset mode `copy`: the record's GeoTIFF assets become datasets of the harvester's owner (in a
   * dataset collection named after the harvester and resource), linked from the item as
   * `alternate`. Content registered already is linked, not copied again.
   */
  private async copyAssets(run: Run, resource: HarvestableResource, record: RemoteRecord, itemId: string): Promise<void> {
    const tiffs = Object.entries(record.assets ?? {}).filter(([, a]) => /image\/tiff/i.test(String(a.type ?? '')) && /^https?:\/\//.test(String(a.href)));
    if (!tiffs.length) return;
    const owner = run.harvester.ownerId ? await this.users.findById(run.harvester.ownerId) : null;
    if (!owner) {
      run.problems.push('asset_mode copy needs the harvester to have an owner');
      return;
    }
    const user: AuthUser = { id: owner.id, name: owner.name, role: owner.role, via: 'api-token' };
    const links: { rel: string; href: string; type: string; title: string }[] = [];
    for (const [key, asset] of tiffs) {
      run.ctx.signal.throwIfAborted();
      const href = new URL(String(asset.href), record.remoteUrl ?? undefined).toString();
      let datasetId: string;
      try {
        const download = await this.http.download(href, run.ctx.signal);
        const name = decodeURIComponent(new URL(download.url).pathname.split('/').pop() || 'data.tif');
        const dataset = await this.datasets.registerStream(user, download.stream, name, {
          title: `${typeof record.properties.title === 'string' ? record.properties.title : record.remoteId} (${key})`.slice(0, 500),
          collection: `${run.harvester.name}: ${resource.title}`.slice(0, 200),
          visibility: run.harvester.visibility,
        });
        datasetId = dataset.id;
      } catch (error) {
        run.ctx.signal.throwIfAborted();
        const existing = error instanceof HttpException ? (error.getResponse() as { details?: { existing_id?: string } }).details?.existing_id : undefined;
        if (!existing) {
          run.problems.push(`asset ${key} of ${record.remoteId} not copied: ${errorText(error)}`);
          await run.ctx.log(`asset ${key} of ${record.remoteId} not copied: ${errorText(error)}`, 'warn');
          continue;
        }
        datasetId = existing;
      }
      links.push({ rel: 'alternate', href: `datasets/${datasetId}`, type: 'application/json', title: `Asset ${key}, copied into this catalog as a dataset` });
    }
    if (!links.length) return;
    const item = await this.catalog.findItem(itemId);
    if (item) await this.catalog.updateItem(itemId, { links: [...item.links.filter((l) => !(l.rel === 'alternate' && l.href.startsWith('datasets/'))), ...links] });
  }

  private plan(run: Run, key: keyof Plan, remoteId: string): void {
    if (run.plan[key].length < PLAN_EXAMPLES) run.plan[key].push(remoteId);
  }

  private fields(run: Run, record: RemoteRecord, hash: string) {
    return itemFields(record, {
      harvesterId: run.harvester.id,
      sessionId: run.session.id,
      remoteId: record.remoteId,
      remoteUrl: record.remoteUrl,
      remoteUpdated: record.remoteUpdated ?? null,
      contentHash: hash,
    });
  }

  private async store(
    run: Run,
    resource: HarvestableResource,
    collectionId: string,
    prepared: { record: RemoteRecord; hash: string }[],
    manager: import('typeorm').EntityManager,
  ): Promise<RecordOutcome[]> {
    const known = new Map<string, HarvestedRecord>(
      (
        await this.repository.recordsByRemoteId(
          resource.id,
          prepared.map((p) => p.record.remoteId),
          manager,
        )
      ).map((r) => [r.remoteId, r]),
    );
    const outcomes: RecordOutcome[] = [];
    const drafts: ItemDraft[] = [];
    const rows: Partial<HarvestedRecord>[] = [];
    const unchanged: string[] = [];
    for (const { record, hash } of prepared) {
      const existing = known.get(record.remoteId);
      const base = { resourceId: resource.id, remoteId: record.remoteId, contentHash: hash, remoteUpdated: record.remoteUpdated ?? null };
      if (existing && existing.contentHash === hash && !existing.hidden) {
        unchanged.push(record.remoteId);
        outcomes.push({ ...base, action: 'unchanged', itemId: existing.id });
        continue;
      }
      const fields = this.fields(run, record, hash);
      const draft = { collectionId, kind: HARVESTED_KIND, ownerId: run.harvester.ownerId, visibility: run.harvester.visibility, status: 'ready' as const, ...fields };
      if (existing) {
        await this.catalog.updateItem(existing.id, draft, manager);
        await this.repository.updateRecord(
          existing.id,
          { contentHash: hash, remoteUpdated: record.remoteUpdated ?? null, hidden: false, missingRuns: 0, lastSessionId: run.session.id },
          manager,
        );
        outcomes.push({ ...base, action: 'updated', itemId: existing.id });
      } else {
        const id = randomUUID();
        drafts.push({ id, ...draft });
        rows.push({
          id,
          harvesterId: run.harvester.id,
          resourceId: resource.id,
          remoteId: record.remoteId,
          contentHash: hash,
          remoteUpdated: record.remoteUpdated ?? null,
          lastSessionId: run.session.id,
        });
        outcomes.push({ ...base, action: 'created', itemId: id });
      }
    }
    await this.catalog.createItems(drafts, manager);
    await this.repository.insertRecords(rows, manager);
    if (unchanged.length)
      await manager.query(`UPDATE harvested_record SET last_session_id = $3, missing_runs = 0 WHERE resource_id = $1 AND remote_id = ANY($2::text[])`, [
        resource.id,
        unchanged,
        run.session.id,
      ]);
    return outcomes;
  }

  /**
   * Applies the deletion policy to records missing for the grace period, unless they are more
   * than the allowed share of the harvester's records (the mass-delete guard).
   */
  private async applyDeletions(run: Run, due: { resourceId: string; id: string; remoteId: string; hidden: boolean }[]): Promise<void> {
    const policy = run.harvester.deletionPolicy;
    const actionable = due.filter((d) => policy === 'delete' || (policy === 'hide' && !d.hidden));
    if (!actionable.length || policy === 'keep') {
      if (due.length && policy === 'keep') await run.ctx.log(`${due.length} records vanished remotely; kept (deletion policy keep)`);
      return;
    }
    const total = await this.repository.countRecords(run.harvester.id);
    const share = total ? (actionable.length / total) * 100 : 100;
    if (share > run.harvester.massDeleteMaxPercent) {
      const message = `mass-delete guard: ${actionable.length} of ${total} records (${share.toFixed(1)} %) vanished remotely, more than the ${run.harvester.massDeleteMaxPercent} % allowed in one run; nothing was ${policy === 'hide' ? 'hidden' : 'deleted'}`;
      run.problems.push(message);
      await run.ctx.log(message, 'warn');
      for (const d of actionable)
        this.record(run, { resourceId: d.resourceId, remoteId: d.remoteId, action: 'skipped', itemId: d.id, error: 'held back by the mass-delete guard' });
      return;
    }
    for (const d of actionable) {
      run.ctx.signal.throwIfAborted();
      const action = policy === 'hide' ? 'hidden' : 'deleted';
      if (run.session.dryRun) {
        this.plan(run, 'would_delete', d.remoteId);
        this.record(run, { resourceId: d.resourceId, remoteId: d.remoteId, action, itemId: d.id });
        continue;
      }
      await this.db.transaction(async (manager) => {
        if (policy === 'hide') {
          await this.catalog.updateItem(d.id, { visibility: Visibility.OwnerOnly }, manager);
          await this.repository.updateRecord(d.id, { hidden: true }, manager);
        } else {
          // The record row goes with its item (foreign key cascade).
          await this.catalog.deleteItem(d.id, manager);
        }
      });
      this.record(run, { resourceId: d.resourceId, remoteId: d.remoteId, action, itemId: d.id });
    }
    for (const collectionId of new Set((await this.repository.collectionsOf(run.harvester.id, [...new Set(actionable.map((d) => d.resourceId))])).map((c) => c.collectionId))) {
      if (!run.session.dryRun) await this.catalog.recomputeCollection(collectionId).catch(() => undefined);
    }
    await run.ctx.log(`${actionable.length} records that vanished remotely were ${policy === 'hide' ? 'hidden' : 'deleted'}`);
  }

  // ── clear ────────────────────────────────────────────────────────────────

  /**
   * Forgets what was harvested (records, watermarks, file validators) so the next harvest starts
   * afresh in a new collection; with `delete_local` the local collections and items go too,
   * without it they stay as they are, no longer updated or deleted by the harvester.
   */
  private async clear(run: Run): Promise<void> {
    const ids = Array.isArray(run.session.options.resource_ids) ? (run.session.options.resource_ids as string[]) : undefined;
    const deleteLocal = run.session.options.delete_local === true;
    const resources = await this.repository.resourcesOf(run.harvester.id, ids ? { ids } : {});
    const counts = await this.repository.recordCountsByResource(run.harvester.id);
    run.counters.total = resources.reduce((n, r) => n + (counts.get(r.id) ?? 0), 0);
    for (const resource of resources) {
      run.ctx.signal.throwIfAborted();
      const n = counts.get(resource.id) ?? 0;
      if (run.session.dryRun) {
        if (deleteLocal) run.counters.deleted += n;
        else run.counters.skipped += n;
        run.counters.done += n;
        continue;
      }
      if (deleteLocal && resource.collectionId) {
        const { purgeId } = await this.catalog.deleteCollectionWithFiles(resource.collectionId);
        await this.catalog.schedulePurge(purgeId);
        run.counters.deleted += n;
      } else {
        run.counters.skipped += n;
      }
      await this.repository.forgetResource(resource.id);
      run.counters.done += n;
    }
    if (!run.session.dryRun && !ids) await this.repository.clearValidators(run.harvester.id);
    run.result = { resources: resources.length, delete_local: deleteLocal };
    await run.ctx.log(`cleared ${resources.length} resources; ${deleteLocal ? `${run.counters.deleted} local items deleted` : 'local items kept, no longer updated'}`);
  }
}
