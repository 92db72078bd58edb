import { BadRequestException, HttpException, Injectable, Logger } from '@nestjs/common';
import type { AuthUser } from '../auth/auth.types.js';
import { UsersService } from '../auth/users.service.js';
import { Visibility, VISIBILITIES } from '../auth/visibility.js';
import { CatalogService } from '../catalog/catalog.service.js';
import { StorageService } from '../storage/storage.service.js';
import { DatasetFiles } from './dataset-files.js';
import { multihashSha256 } from './dataset-stac.js';
import { type DatasetWithItem, DatasetsService, type Registrant } from './datasets.service.js';
import { DatasetsRepository } from './datasets.repository.js';

/** What a maintenance command gets from the management job that runs it. */
export interface MaintenanceContext {
  log(line: string): Promise<void>;
  progress(percent: number): Promise<void>;
  signal: AbortSignal;
  /** The user who started the command (owner of what it registers), null for the system. */
  userId: string | null;
}

export type MaintenanceCommand = 'rehash' | 'prune-missing' | 'resync';

/** The commands, with a JSON schema of their arguments, for the management-jobs module's allow-list. */
export const DATASET_MAINTENANCE_COMMANDS: {
  name: `datasets.${MaintenanceCommand}`;
  method: 'rehash' | 'pruneMissing' | 'resync';
  description: string;
  argsSchema: Record<string, unknown>;
}[] = [
  {
    name: 'datasets.rehash',
    method: 'rehash',
    description: 'Recompute the SHA-256 of every dataset file (or of `ids`), report and record the changes; `reingest` re-reads changed files',
    argsSchema: {
      type: 'object',
      additionalProperties: false,
      properties: {
        ids: { type: 'array', items: { type: 'string', format: 'uuid' }, maxItems: 10000 },
        dry_run: { type: 'boolean', default: false },
        reingest: { type: 'boolean', default: false },
      },
    },
  },
  {
    name: 'datasets.prune-missing',
    method: 'pruneMissing',
    description: 'Delete datasets whose file is gone, and stored dataset files no dataset refers to',
    argsSchema: { type: 'object', additionalProperties: false, properties: { dry_run: { type: 'boolean', default: false } } },
  },
  {
    name: 'datasets.resync',
    method: 'resync',
    description: 'Register new GeoTIFFs found under DATASET_ROOTS and re-read the registered ones that changed',
    argsSchema: {
      type: 'object',
      additionalProperties: false,
      properties: {
        dry_run: { type: 'boolean', default: false },
        visibility: { type: 'string', enum: VISIBILITIES },
        collection: { type: 'string', minLength: 1, maxLength: 300 },
      },
    },
  },
];

const ORPHAN_MIN_AGE_MS = 3600_000;
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

function args<T extends Record<string, unknown>>(raw: unknown, allowed: Record<keyof T, (v: unknown) => boolean>): Partial<T> {
  if (raw === undefined || raw === null) return {};
  if (typeof raw !== 'object' || Array.isArray(raw)) throw new BadRequestException('arguments must be an object');
  for (const [key, value] of Object.entries(raw)) {
    const check = allowed[key as keyof T];
    if (!check) throw new BadRequestException(`unknown argument ${key}`);
    if (value !== undefined && !check(value)) throw new BadRequestException(`invalid argument ${key}`);
  }
  return raw as Partial<T>;
}
const isBool = (v: unknown) => typeof v === 'boolean';

/** rehash, prune-missing and resync: long walks over every dataset, cooperative with `signal`. */
@Injectable()
export class DatasetMaintenanceService {
  private readonly logger = new Logger(DatasetMaintenanceService.name);

  constructor(
    private readonly repo: DatasetsRepository,
    private readonly datasets: DatasetsService,
    private readonly collections: CatalogService,
    private readonly files: DatasetFiles,
    private readonly storage: StorageService,
    private readonly users: UsersService,
  ) {}

  private async *all(ctx: MaintenanceContext, ids?: string[]): AsyncIterable<DatasetWithItem> {
    let after: string | null = null;
    for (;;) {
      ctx.signal.throwIfAborted();
      const batch = await this.repo.batchAfter(after, 200, ids);
      if (batch.length === 0) return;
      for (const d of batch) if (d.item) yield d as DatasetWithItem;
      after = batch[batch.length - 1]!.id;
    }
  }

  /** Recomputes every file's SHA-256; records (and reports) the ones that changed. */
  async rehash(raw: object, ctx: MaintenanceContext) {
    const a = args<{ ids: string[]; dry_run: boolean; reingest: boolean }>(raw, {
      ids: (v) => Array.isArray(v) && v.every((x) => typeof x === 'string' && UUID.test(x)),
      dry_run: isBool,
      reingest: isBool,
    });
    const total = await this.repo.countAll(a.ids);
    const changed: { id: string; title: string; old_sha256: string | null; new_sha256: string; old_size: number | null; new_size: number }[] = [];
    const missing: { id: string; title: string }[] = [];
    let checked = 0;
    let unchanged = 0;
    let skipped = 0;
    for await (const d of this.all(ctx, a.ids)) {
      checked++;
      if (d.status === 'pending') {
        skipped++;
        continue;
      }
      const hashed = await this.files.hash(d, ctx.signal);
      if (!hashed) {
        missing.push({ id: d.id, title: d.title });
        await ctx.log(`missing: ${d.id} (${d.title})`);
      } else if (hashed.sha256 !== d.sha256 || hashed.size !== d.size) {
        changed.push({ id: d.id, title: d.title, old_sha256: d.sha256, new_sha256: hashed.sha256, old_size: d.size, new_size: hashed.size });
        await ctx.log(`changed: ${d.id} (${d.title}) ${d.sha256 ?? '-'} → ${hashed.sha256}`);
        if (!a.dry_run) await this.recordHash(d, hashed.sha256, hashed.size, a.reingest === true);
      } else {
        unchanged++;
      }
      await ctx.progress(Math.round((100 * checked) / Math.max(1, total)));
    }
    await ctx.progress(100);
    return { checked, unchanged, skipped_pending: skipped, changed, missing, dry_run: a.dry_run === true };
  }

  private async recordHash(d: DatasetWithItem, sha256: string, size: number, reingest: boolean): Promise<void> {
    await this.repo.transaction(async (m) => {
      await this.repo.update(d.id, { sha256, size }, m);
      const data = d.item.assets?.data;
      if (data) await this.collections.updateItem(d.id, { assets: { ...d.item.assets, data: { ...data, 'file:checksum': multihashSha256(sha256), 'file:size': size } } }, m);
    });
    if (reingest) await this.datasets.requestIngest({ ...d, sha256, size }, { rehash: false });
  }

  /** Deletes datasets whose file is gone, and stored files under datasets/ that no dataset owns. */
  async pruneMissing(raw: object, ctx: MaintenanceContext) {
    const a = args<{ dry_run: boolean }>(raw, { dry_run: isBool });
    const total = await this.repo.countAll();
    const pruned: { id: string; title: string; source: string; file: string | null }[] = [];
    const inaccessible: { id: string; title: string; file: string | null }[] = [];
    let checked = 0;
    for await (const d of this.all(ctx)) {
      checked++;
      const presence = await this.files.presence(d);
      if (presence === 'inaccessible') {
        // The file exists but is outside DATASET_ROOTS now: a configuration matter, not a loss.
        inaccessible.push({ id: d.id, title: d.title, file: d.filePath });
        await ctx.log(`kept ${d.id} (${d.title}): ${d.filePath} exists but is not under DATASET_ROOTS`);
      } else if (presence === 'missing') {
        pruned.push({ id: d.id, title: d.title, source: d.source, file: d.filePath ?? d.storageKey });
        await ctx.log(`${a.dry_run ? 'would prune' : 'pruning'} ${d.id} (${d.title}): file ${d.filePath ?? d.storageKey} is gone`);
        if (!a.dry_run) await this.datasets.deleteRecords(d);
      }
      await ctx.progress(Math.round((90 * checked) / Math.max(1, total)));
    }
    // Uploads stored under datasets/<id>/ whose registration never completed or was lost.
    const byId = new Map<string, number>();
    for await (const object of this.storage.list('datasets/')) {
      ctx.signal.throwIfAborted();
      const id = object.key.split('/')[1] ?? '';
      if (!UUID.test(id)) continue;
      byId.set(id, Math.max(byId.get(id) ?? 0, object.modifiedAt.getTime()));
    }
    const ids = [...byId.keys()];
    const known = new Set<string>();
    for (let i = 0; i < ids.length; i += 500) for (const id of await this.repo.existingIds(ids.slice(i, i + 500))) known.add(id);
    const orphans: string[] = [];
    for (const [id, newest] of byId) {
      if (known.has(id) || Date.now() - newest < ORPHAN_MIN_AGE_MS) continue;
      orphans.push(`datasets/${id}/`);
      await ctx.log(`${a.dry_run ? 'would remove' : 'removing'} orphaned files under datasets/${id}/`);
      if (!a.dry_run) await this.storage.deletePrefix(`datasets/${id}/`);
    }
    await ctx.progress(100);
    return { checked, pruned, inaccessible, orphans, dry_run: a.dry_run === true };
  }

  /** Registers new rasters under DATASET_ROOTS and re-reads registered ones whose size or date changed. */
  async resync(raw: object, ctx: MaintenanceContext) {
    const a = args<{ dry_run: boolean; visibility: Visibility; collection: string }>(raw, {
      dry_run: isBool,
      visibility: (v) => VISIBILITIES.includes(v as Visibility),
      collection: (v) => typeof v === 'string' && v.length > 0 && v.length <= 300,
    });
    const roots = await this.files.roots();
    if (roots.length === 0) throw new BadRequestException('DATASET_ROOTS is empty or names no existing folder: nothing to resync');
    const registrant = await this.registrant(ctx.userId);
    const added: { id: string | null; path: string }[] = [];
    const refreshed: { id: string; path: string }[] = [];
    const skipped: { path: string; reason: string }[] = [];
    let scanned = 0;
    let unchanged = 0;
    for await (const file of this.files.walk(ctx.signal)) {
      scanned++;
      const registered = await this.repo.findByPath(file.path);
      if (registered.length === 0) {
        try {
          if (a.dry_run) {
            await this.datasets.checkFile(file.path);
            added.push({ id: null, path: file.path });
            continue;
          }
          const d = await this.datasets.registerResolvedPath(registrant, file.path, { visibility: a.visibility, collection: a.collection });
          added.push({ id: d.id, path: file.path });
          await ctx.log(`registered ${file.path} as ${d.id}`);
        } catch (error) {
          if (!(error instanceof HttpException)) throw error;
          const reason = (error.getResponse() as { message?: string }).message ?? error.message;
          skipped.push({ path: file.path, reason });
          await ctx.log(`skipped ${file.path}: ${reason}`);
        }
        continue;
      }
      for (const d of registered) {
        const same = d.size === file.size && d.fileModifiedAt?.getTime() === file.modifiedAt.getTime();
        if (same || d.status === 'pending') {
          unchanged++;
          continue;
        }
        refreshed.push({ id: d.id, path: file.path });
        await ctx.log(`${a.dry_run ? 'would re-read' : 're-reading'} ${file.path} (${d.id}): it changed`);
        if (!a.dry_run) await this.datasets.requestIngest(d, { rehash: true });
      }
      if (scanned % 50 === 0) await ctx.progress(50);
    }
    await ctx.progress(100);
    this.logger.log({ scanned, added: added.length, refreshed: refreshed.length }, 'datasets resync');
    return { roots, scanned, added, refreshed, unchanged, skipped, dry_run: a.dry_run === true };
  }

  private async registrant(userId: string | null): Promise<Registrant> {
    if (!userId) return null;
    const user = await this.users.findById(userId);
    if (!user) return null;
    return { id: user.id, name: user.name, role: user.role, email: user.email, via: 'api-token' } satisfies AuthUser;
  }
}
