import { BadRequestException, ConflictException, ForbiddenException, HttpException, Injectable, Logger, NotFoundException } from '@nestjs/common';
import { randomUUID } from 'node:crypto';
import path from 'node:path';
import type { Readable } from 'node:stream';
import { EntityManager } from 'typeorm';
import type { AuthUser } from '../auth/auth.types.js';
import { UsersService } from '../auth/users.service.js';
import { canEdit, canSee, Visibility } from '../auth/visibility.js';
import { canSeeItem } from '../catalog/item-visibility.js';
import { ItemSource, type CatalogSource } from '../catalog/catalog-source.js';
import type { Collection } from '../catalog/catalog.types.js';
import { CatalogService } from '../catalog/catalog.service.js';
import type { Item } from '../catalog/catalog.types.js';
import { type Page, pageParams, toPage } from '../common/pagination.js';
import { storedFileEtag, type ServedFile } from '../common/stored-file-response.js';
import { AppConfig } from '../config/app-config.js';
import { JobQueueService } from '../queue/job-queue.service.js';
import { JobName } from '../queue/queue.constants.js';
import { StorageService } from '../storage/storage.service.js';
import {
  type DatasetDto,
  type DuplicateGroupDto,
  type DuplicatesQueryDto,
  type ListDatasetsQueryDto,
  type RegisterPathDto,
  toDatasetDto,
  type UpdateDatasetDto,
  type UploadDatasetDto,
} from './dataset.dto.js';
import type { Dataset } from './dataset.entity.js';
import { DatasetFiles } from './dataset-files.js';
import { geotiffMediaType } from './dataset-stac.js';
import { type DatasetFilters, DatasetsRepository } from './datasets.repository.js';
import { OpenRasters } from './open-rasters.js';
import { stacBbox } from './raster/footprint.js';
import { probeRaster, type RangedFile } from './raster/geotiff-raster.js';
import { RasterProblem } from './raster/raster-info.js';

/** What the upload storage engine stored for a request. */
export interface StoredDatasetUpload {
  datasetId: string;
  storageKey: string;
  originalName: string;
  size: number;
  sha256: string;
}

/** Who registers: a user, or the system (a maintenance run without a user). */
export type Registrant = AuthUser | null;

/** What a registration by another domain may say of the dataset (the fields of an upload's form). */
export type DatasetDescription = Pick<UploadDatasetDto, 'title' | 'description' | 'collection' | 'visibility' | 'license'>;

export type DatasetWithItem = Dataset & { item: Item };

const DEFAULT_COLLECTION_MARKER = { 'sightline:default': 'datasets' };

/** Dataset collections: unordered, their extent the box of their datasets' footprints. */
const DATASET_COLLECTION = { kind: 'dataset', extent: 'items-bbox' } as const;

/**
 * How long a ready dataset's row is reused by tiles, thumbnails and samples without reading it
 * again. Changes made through this process forget it at once; one made elsewhere (another
 * replica, a collection's visibility) shows within this delay, well inside the 300 s clients
 * may keep a tile.
 */
const READY_ROW_TTL_MS = 5_000;
const READY_ROW_MAX = 1_000;

/** Registration, reading and editing of datasets; ingest and rendering live in their own services. */
@Injectable()
@ItemSource()
export class DatasetsService implements CatalogSource {
  /** Datasets are `dataset` items of `dataset` collections (their rows go with the item, by cascade). */
  readonly itemKinds = ['dataset'];
  readonly collectionKinds = ['dataset'];

  private readonly logger = new Logger(DatasetsService.name);
  /** Ready datasets recently read by accessReady (a map asks for dozens of tiles at once). */
  private readonly readyRows = new Map<string, { at: number; dataset: DatasetWithItem }>();

  constructor(
    private readonly repo: DatasetsRepository,
    private readonly collections: CatalogService,
    private readonly files: DatasetFiles,
    private readonly storage: StorageService,
    private readonly jobs: JobQueueService,
    private readonly users: UsersService,
    private readonly config: AppConfig,
    private readonly rasters: OpenRasters,
  ) {}

  /** Absolute URL of the API root (`…/api/`), the base of every relative href. */
  apiRoot(): string {
    return new URL('/api/', this.config.PUBLIC_URL).toString();
  }

  toDto(dataset: DatasetWithItem, user: AuthUser | undefined): DatasetDto {
    return toDatasetDto(dataset, dataset.item, { apiRoot: this.apiRoot(), showPath: user?.role === 'admin' });
  }

  // --- registration ---------------------------------------------------------------------------

  /** Registers a file the upload engine has stored; removes it again when the registration is refused. */
  async registerUpload(user: AuthUser, upload: StoredDatasetUpload, dto: UploadDatasetDto): Promise<DatasetDto> {
    try {
      const stored = await this.files.storedRaster(upload.storageKey);
      if (!stored) throw new Error(`The uploaded file ${upload.storageKey} is missing from storage`);
      await this.probe(stored);
      const dataset = await this.create(user, dto, {
        id: upload.datasetId,
        source: 'upload',
        storageKey: upload.storageKey,
        filePath: null,
        fileName: upload.originalName,
        size: upload.size,
        sha256: upload.sha256,
        fileModifiedAt: new Date(),
      });
      return this.toDto(dataset, user);
    } catch (error) {
      await this.storage.delete(upload.storageKey).catch(() => undefined);
      throw error;
    }
  }

  /**
   * Registers a file read from a stream (a remote GeoTIFF a harvester found): stored as an upload
   * would be (hashed, stopped past DATASET_MAX_BYTES), then registered, or removed again when refused.
   */
  async registerStream(user: AuthUser, body: Readable, fileName: string, dto: DatasetDescription): Promise<DatasetDto> {
    const datasetId = randomUUID();
    const storageKey = `datasets/${datasetId}/data.tif`;
    const stored = await this.storage.put(storageKey, body, { maxBytes: this.config.DATASET_MAX_BYTES, contentType: 'image/tiff' });
    return this.registerUpload(user, { datasetId, storageKey, originalName: fileName, size: stored.size, sha256: stored.sha256 }, dto as UploadDatasetDto);
  }

  /**
   * Registers a file under DATASET_ROOTS where it is. Its SHA-256 is computed now (a read of the
   * file), so that content registered already is a 409 at once, as for an upload.
   */
  async registerPath(user: Registrant, dto: RegisterPathDto): Promise<DatasetWithItem> {
    const real = await this.files.resolveForRegistration(dto.path);
    return this.registerResolvedPath(user, real, dto);
  }

  /** The same, for a path already resolved and checked (resync). */
  async registerResolvedPath(user: Registrant, real: string, dto: Omit<RegisterPathDto, 'path'>): Promise<DatasetWithItem> {
    await this.probe(real);
    if (!dto.allow_duplicate) {
      // Every registration of the path counts, whoever made it and whoever may see it: otherwise a
      // second registration could publish a file its first registrant keeps private.
      const existing = (await this.repo.findByPath(real))[0];
      if (existing) {
        throw new ConflictException({ message: 'This file is registered already', details: { existing_id: existing.id, path_registered: true } });
      }
    }
    const facts = await this.files.stat({ source: 'path', storageKey: null, filePath: real });
    const hashed = facts ? await this.files.hash({ source: 'path', storageKey: null, filePath: real }) : null;
    if (!facts || !hashed) throw new BadRequestException('The file disappeared while it was being registered');
    return this.create(user, dto, {
      id: randomUUID(),
      source: 'path',
      storageKey: null,
      filePath: real,
      fileName: path.basename(real),
      size: hashed.size,
      sha256: hashed.sha256,
      fileModifiedAt: facts.modifiedAt,
    });
  }

  /** The checks registration makes on a file (415 / 422 …), without registering it. */
  checkFile(local: string): Promise<void> {
    return this.probe(local);
  }

  /** The cheap header checks; a RasterProblem becomes the HTTP answer it names. */
  private async probe(local: string | RangedFile): Promise<void> {
    try {
      await probeRaster(local);
    } catch (error) {
      if (error instanceof RasterProblem) throw new HttpException({ message: error.message, details: { reason: error.code } }, error.status);
      throw error;
    }
  }

  private async create(
    user: Registrant,
    dto: Omit<UploadDatasetDto, 'path'>,
    file: Pick<Dataset, 'id' | 'source' | 'storageKey' | 'filePath' | 'fileName' | 'size' | 'sha256' | 'fileModifiedAt'>,
  ): Promise<DatasetWithItem> {
    const visibility = dto.visibility ?? (user ? (await this.users.findById(user.id))?.defaultVisibility : undefined) ?? Visibility.Anyone;
    const title = dto.title?.trim() || file.fileName;
    await this.repo.transaction(async (m) => {
      if (file.sha256 && !dto.allow_duplicate) {
        await this.repo.lockHash(file.sha256, m);
        const existing = await this.repo.findVisibleByHash(file.sha256, user ?? undefined, null, m);
        if (existing)
          throw new ConflictException({ message: 'A dataset with the same content (SHA-256) is registered already', details: { existing_id: existing, sha256: file.sha256 } });
      }
      const collection = await this.resolveCollection(user, dto.collection, m);
      await this.collections.createItem(
        {
          id: file.id,
          collectionId: collection.id,
          kind: 'dataset',
          ownerId: user?.id ?? null,
          visibility,
          status: 'pending',
          datetime: new Date(),
          properties: { title, ...(dto.description ? { description: dto.description } : {}), ...(dto.license ? { license: dto.license } : {}) },
          assets: {},
        },
        m,
      );
      await this.repo.insert({ ...file, title, description: dto.description ?? null, status: 'pending', revision: 1, allowDuplicate: dto.allow_duplicate === true }, m);
    });
    await this.enqueue(file.id, 1);
    return (await this.repo.findWithItem(file.id)) as DatasetWithItem;
  }

  /**
   * The collection a new dataset goes to: by id (a dataset collection the registrant may edit),
   * by name (theirs, created when missing), or their default "Datasets" collection.
   */
  private async resolveCollection(user: Registrant, ref: string | undefined, m: EntityManager): Promise<Collection> {
    const ownerId = user?.id ?? null;
    if (ref && /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i.test(ref)) {
      const c = await this.collections.findCollection(ref, m);
      if (!c || (user && !canSee(user, c))) throw new NotFoundException(`Collection ${ref} not found`);
      if (c.kind !== 'dataset')
        throw new BadRequestException({ message: `Collection ${ref} is not a dataset collection`, details: [{ field: 'collection', problems: [`kind is ${c.kind}`] }] });
      if (user && !canEdit(user, c)) throw new ForbiddenException(`You may not add datasets to collection ${ref}`);
      return c;
    }
    if (ref) {
      const name = ref.trim();
      await this.repo.lockKey(`dataset-collection:${ownerId ?? '-'}:${name}`, m);
      const found = await this.collections.findCollectionBy({ kind: 'dataset', ownerId, title: name }, m);
      return found ?? this.collections.createCollection({ ...DATASET_COLLECTION, ownerId, title: name, description: `Raster datasets: ${name}` }, m);
    }
    await this.repo.lockKey(`dataset-collection:${ownerId ?? '-'}:default`, m);
    const found = await this.collections.findCollectionBy({ kind: 'dataset', ownerId, properties: DEFAULT_COLLECTION_MARKER }, m);
    return (
      found ??
      this.collections.createCollection(
        {
          ...DATASET_COLLECTION,
          ownerId,
          title: 'Datasets',
          description: user ? `Raster datasets registered by ${user.name}` : 'Raster datasets registered from the server folders',
          properties: { ...DEFAULT_COLLECTION_MARKER },
        },
        m,
      )
    );
  }

  /** Adds the ingest job; the reconciler re-adds it should Redis be unavailable now. */
  async enqueue(id: string, revision: number): Promise<void> {
    try {
      await this.jobs.add(JobName.DatasetIngest, { datasetId: id, revision });
    } catch (error) {
      this.logger.warn({ dataset: id, err: (error as Error).message }, 'could not enqueue the ingest job; the reconciler will');
    }
  }

  /** Marks a dataset for a new read of its file (changed file, broken earlier…). */
  async requestIngest(dataset: Dataset, options: { rehash: boolean }): Promise<number> {
    const revision = dataset.revision + 1;
    await this.repo.transaction(async (m) => {
      await this.repo.update(dataset.id, { status: 'pending', error: null, revision, ingestRuns: 0, ...(options.rehash && dataset.source === 'path' ? { sha256: null } : {}) }, m);
      await this.collections.updateItem(dataset.id, { status: 'pending' }, m);
    });
    this.forget(dataset.id);
    await this.enqueue(dataset.id, revision);
    return revision;
  }

  async reingest(user: AuthUser, id: string): Promise<DatasetDto> {
    const dataset = await this.access(user, id, { edit: true });
    if (dataset.status === 'pending') throw new ConflictException('The dataset is being read already');
    await this.requestIngest(dataset, { rehash: true });
    return this.toDto((await this.repo.findWithItem(id)) as DatasetWithItem, user);
  }

  // --- reading --------------------------------------------------------------------------------

  /**
   * A dataset the caller may see (404 otherwise, as for one that does not exist). Pending and
   * broken datasets are visible to their owner and admins only; `edit` requires owner or admin (403).
   */
  async access(user: AuthUser | undefined, id: string, options: { edit?: boolean } = {}): Promise<DatasetWithItem> {
    return this.check(user, id, await this.repo.findWithItem(id), options);
  }

  private check(user: AuthUser | undefined, id: string, dataset: Dataset | null, options: { edit?: boolean } = {}): DatasetWithItem {
    // Visible only when both the dataset's item and its collection are (as for every item).
    const visible = !!dataset?.item && (dataset.item.collection ? canSeeItem(user, dataset.item, dataset.item.collection) : canSee(user, dataset.item));
    if (!dataset?.item || !visible || (dataset.status !== 'ready' && !canEdit(user, dataset.item))) {
      throw new NotFoundException(`Dataset ${id} not found`);
    }
    if (options.edit && !canEdit(user, dataset.item)) throw new ForbiddenException('Only the owner of a dataset (or an admin) may change it');
    return dataset as DatasetWithItem;
  }

  /** Like access, and the dataset must be ready (409 with its state otherwise). */
  async accessReady(user: AuthUser | undefined, id: string): Promise<DatasetWithItem> {
    const dataset = this.check(user, id, await this.readyRow(id));
    if (dataset.status !== 'ready' || !dataset.raster) {
      throw new ConflictException({
        message: dataset.status === 'broken' ? `The dataset is broken: ${dataset.error ?? 'unknown reason'}` : 'The dataset is still being read; try again shortly',
        details: { status: dataset.status },
      });
    }
    return dataset;
  }

  /** The dataset's row, reused for READY_ROW_TTL_MS while it is ready (callers must not change it). */
  private async readyRow(id: string): Promise<Dataset | null> {
    const now = Date.now();
    const hit = this.readyRows.get(id);
    if (hit && now - hit.at < READY_ROW_TTL_MS) return hit.dataset;
    const dataset = await this.repo.findWithItem(id);
    if (dataset?.item && dataset.status === 'ready' && dataset.raster) {
      this.readyRows.delete(id);
      this.readyRows.set(id, { at: now, dataset: dataset as DatasetWithItem });
      // Oldest first out.
      for (const key of this.readyRows.keys()) {
        if (this.readyRows.size <= READY_ROW_MAX) break;
        this.readyRows.delete(key);
      }
    } else {
      this.readyRows.delete(id);
    }
    return dataset;
  }

  /** Forgets what this process holds about a dataset (open file, cached row) after a change. */
  private forget(id: string): void {
    this.readyRows.delete(id);
    this.rasters.forget(`${id}:`);
  }

  async get(user: AuthUser | undefined, id: string): Promise<DatasetDto> {
    return this.toDto(await this.access(user, id), user);
  }

  async list(user: AuthUser | undefined, query: ListDatasetsQueryDto, url: URL): Promise<Page<DatasetDto>> {
    const params = pageParams(query);
    const filters: DatasetFilters = { sort: query.sort ?? '-created', q: query.q?.trim() || undefined, status: query.status, collectionId: query.collection };
    if (query.bbox) filters.bboxes = parseBbox(query.bbox);
    if (query.datetime) filters.datetime = parseDatetime(query.datetime);
    if (query.crs) filters.crs = `EPSG:${query.crs.replace(/^epsg:/i, '')}`;
    if (query.owner) {
      if (query.owner.toLowerCase() === 'me' && !user)
        throw new BadRequestException({ message: 'owner=me needs a logged-in caller', details: [{ field: 'owner', problems: ['not logged in'] }] });
      filters.ownerId = query.owner.toLowerCase() === 'me' ? user!.id : query.owner;
    }
    const { ids, total } = await this.repo.list(user, filters, params.limit, params.offset);
    const rows = await this.repo.findManyWithItem(ids);
    return toPage(
      rows.map((d) => this.toDto(d as DatasetWithItem, user)),
      total,
      params,
      url,
    );
  }

  async duplicates(user: AuthUser | undefined, query: DuplicatesQueryDto, url: URL): Promise<Page<DuplicateGroupDto>> {
    const params = pageParams(query);
    const { groups, total } = await this.repo.duplicateGroups(user, params.limit, params.offset);
    const rows = await this.repo.findManyWithItem(groups.flatMap((g) => g.ids));
    const byId = new Map(rows.map((r) => [r.id, r as DatasetWithItem]));
    const items = groups.map((g) => {
      const datasets = g.ids.map((id) => byId.get(id)).filter((d): d is DatasetWithItem => !!d);
      return { sha256: g.sha256, count: datasets.length, datasets: datasets.map((d) => this.toDto(d, user)) };
    });
    return toPage(items, total, params, url);
  }

  /** The footprint as a GeoJSON Feature. */
  async extent(user: AuthUser | undefined, id: string): Promise<Record<string, unknown>> {
    const dataset = await this.accessReady(user, id);
    const info = dataset.raster!;
    if (!info.footprint) throw new NotFoundException({ message: 'The dataset is not georeferenced: it has no footprint', details: { warnings: info.warnings } });
    return {
      type: 'Feature',
      id: dataset.id,
      bbox: stacBbox(info.wgs84Bboxes),
      geometry: info.footprint,
      properties: {
        title: dataset.title,
        crs: info.crs?.code ?? null,
        native_bbox: info.nativeBounds,
        width: info.width,
        height: info.height,
        datetime: dataset.item.datetime?.toISOString() ?? null,
      },
    };
  }

  // --- editing --------------------------------------------------------------------------------

  async update(user: AuthUser, id: string, dto: UpdateDatasetDto): Promise<DatasetDto> {
    const dataset = await this.access(user, id, { edit: true });
    const title = dto.title?.trim() || dataset.title;
    const description = dto.description === undefined ? dataset.description : dto.description;
    const properties: Record<string, unknown> = { ...dataset.item.properties, title };
    if (description) properties.description = description;
    else delete properties.description;
    if (dto.license !== undefined) properties.license = dto.license;
    const links = dataset.item.links.map((l) => (l.rel === 'xyz' ? { ...l, title: `${title} (XYZ tiles)` } : l));
    const assets = { ...dataset.item.assets };
    if (assets.thumbnail) assets.thumbnail = { ...assets.thumbnail, title: `Thumbnail of ${title}` };
    await this.repo.transaction(async (m) => {
      await this.repo.update(id, { title, description }, m);
      await this.collections.updateItem(id, { properties, assets, links, ...(dto.visibility ? { visibility: dto.visibility } : {}) }, m);
      // The collection's count and extent include only what its audience may see.
      if (dto.visibility) await this.collections.refreshExtent(dataset.item.collectionId, {}, m);
    });
    this.readyRows.delete(id);
    return this.get(user, id);
  }

  /** Deletes the dataset and its item; its cached renders and uploaded file always, a registered file only when asked. */
  async remove(user: AuthUser, id: string, deleteFile: boolean): Promise<{ fileDeleted: boolean }> {
    const dataset = await this.access(user, id, { edit: true });
    if (deleteFile && dataset.source === 'path' && user.role !== 'admin') {
      throw new ForbiddenException({
        message: 'Only an administrator may delete a file that was on the server before it was registered (delete_file=true)',
        details: [{ field: 'delete_file', problems: ['administrators only for files registered from a server path'] }],
      });
    }
    if (deleteFile && dataset.source === 'path' && dataset.filePath && (await this.repo.countByPath(dataset.filePath, id)) > 0) {
      throw new ConflictException({ message: 'Another dataset is registered with the same file: it is not deleted', details: { path_shared: true } });
    }
    await this.deleteRecords(dataset);
    let fileDeleted = dataset.source === 'upload';
    if (deleteFile && dataset.source === 'path' && dataset.filePath) fileDeleted = await this.files.deleteRegisteredFile(dataset.filePath);
    return { fileDeleted };
  }

  /** Removes the rows (item and dataset), the queued job, open files and everything stored under the dataset's prefix. */
  async deleteRecords(dataset: DatasetWithItem): Promise<void> {
    await this.repo.transaction(async (m) => {
      await this.collections.deleteItem(dataset.id, m);
      await this.collections.refreshExtent(dataset.item.collectionId, {}, m);
    });
    this.forget(dataset.id);
    await this.jobs.remove(JobName.DatasetIngest, { datasetId: dataset.id, revision: dataset.revision }).catch(() => undefined);
    await this.storage.deletePrefix(`datasets/${dataset.id}/`);
  }

  // --- the file -------------------------------------------------------------------------------

  /** The file for download: size, type, validator, and a way to open any byte range. */
  /** The dataset's file as served (conditional and range requests: see common/stored-file-response.ts). */
  async dataFile(user: AuthUser | undefined, id: string): Promise<ServedFile> {
    const dataset = await this.accessReady(user, id);
    const facts = await this.files.stat(dataset);
    if (!facts) throw new NotFoundException({ message: 'The file of this dataset is missing', details: { reason: 'file_missing' } });
    // Only a file everyone may see may sit in shared caches.
    const isPublic = isPublicDataset(dataset);
    return {
      size: facts.size,
      modifiedAt: facts.modifiedAt,
      contentType: geotiffMediaType(dataset.isCog),
      // The content hash when the file is still the one that was hashed.
      etag: dataset.sha256 && facts.size === dataset.size ? `"${dataset.sha256}"` : storedFileEtag(facts.size, facts.modifiedAt),
      cacheControl: isPublic ? 'public, no-transform' : 'private, no-transform',
      headers: {
        'Content-Disposition': `attachment; filename*=UTF-8''${encodeURIComponent(dataset.fileName)}`,
        ...(isPublic ? {} : { Vary: 'Authorization, Cookie' }),
      },
      open: async (range) => {
        const stream = await this.files.open(dataset, range);
        if (!stream) throw new NotFoundException('The file of this dataset is missing');
        return stream;
      },
    };
  }
}

/** Whether everyone may see the dataset (its item and its collection): only then may shared caches keep its files. */
export function isPublicDataset(dataset: DatasetWithItem): boolean {
  return dataset.item.visibility === Visibility.Anyone && (dataset.item.collection?.visibility ?? Visibility.Anyone) === Visibility.Anyone;
}

/** `w,s,e,n` → one box, or two when it crosses the antimeridian (w > e). */
export function parseBbox(text: string): [number, number, number, number][] {
  const [w, s, e, n] = text.split(',').map((v) => Number(v.trim())) as [number, number, number, number];
  const bad = (why: string) => new BadRequestException({ message: `bbox ${why}`, details: [{ field: 'bbox', problems: [why] }] });
  if (![w, s, e, n].every(Number.isFinite)) throw bad('must be four numbers');
  if (w < -180 || w > 180 || e < -180 || e > 180) throw bad('longitudes must be within [-180, 180]');
  if (s < -90 || n > 90 || s > n) throw bad('latitudes must be within [-90, 90] with south ≤ north');
  return w <= e
    ? [[w, s, e, n]]
    : [
        [w, s, 180, n],
        [-180, s, e, n],
      ];
}

/** RFC 3339 instant or interval with open ends (`..` or empty). */
export function parseDatetime(text: string): { start: Date | null; end: Date | null } {
  const bad = () =>
    new BadRequestException({
      message: 'datetime must be an RFC 3339 date-time or an interval start/end (either may be ..)',
      details: [{ field: 'datetime', problems: ['invalid'] }],
    });
  const parse = (part: string): Date | null => {
    const p = part.trim();
    if (p === '' || p === '..') return null;
    if (!/^\d{4}-\d{2}-\d{2}([Tt ]\d{2}:\d{2}(:\d{2}(\.\d+)?)?([Zz]|[+-]\d{2}:\d{2})?)?$/.test(p)) throw bad();
    const d = new Date(p);
    if (Number.isNaN(d.getTime())) throw bad();
    return d;
  };
  const parts = text.split('/');
  if (parts.length === 1) {
    const at = parse(parts[0]!);
    if (!at) throw bad();
    return { start: at, end: at };
  }
  if (parts.length !== 2) throw bad();
  const start = parse(parts[0]!);
  const end = parse(parts[1]!);
  if (!start && !end) throw bad();
  if (start && end && start > end) throw bad();
  return { start, end };
}
