import { BadRequestException, ConflictException, HttpException, Injectable, Logger, NotFoundException } from '@nestjs/common';
import { plainToInstance } from 'class-transformer';
import { validate } from 'class-validator';
import type { AuthUser } from '../auth/auth.types.js';
import { UsersService } from '../auth/users.service.js';
import { canEdit, Visibility } from '../auth/visibility.js';
import { CatalogService } from '../catalog/catalog.service.js';
import { pageParams, toPage } from '../common/pagination.js';
import { AppConfig } from '../config/app-config.js';
import { PictureIntakeRejection, PictureIntakeService, type PictureDraft } from '../pictures/picture-intake.service.js';
import { PicturesService } from '../pictures/pictures.service.js';
import type { Picture } from '../pictures/pictures.types.js';
import { SequencesService } from '../pictures/sequences.service.js';
import { JobQueueService } from '../queue/job-queue.service.js';
import { JobName } from '../queue/queue.constants.js';
import { StorageService } from '../storage/storage.service.js';
import { type RejectionReason, type RejectionSeverity } from './upload-file.entity.js';
import { rejectionOf, toUploadFileDto, UploadFileDto, UploadFileFieldsDto, UploadFileListDto } from './upload-file.dto.js';
import type { ReceivedUpload } from './upload-receiver.js';
import {
  AssociatedCollectionDto,
  CreateUploadSetDto,
  isDispatched,
  ItemsStatusDto,
  toUploadSetDto,
  UpdateUploadSetDto,
  UploadSetDto,
  UploadSetListQueryDto,
  UploadSetPageDto,
  UploadSetStatusView,
} from './upload-set.dto.js';
import { UPLOAD_SET_SOURCE } from './upload-set-pictures.js';
import type { UploadSet } from './upload-set.entity.js';
import { FileNameTakenError, type UploadSetAccess, UploadSetsRepository } from './upload-sets.repository.js';

/** The set when the caller owns it (or is an admin); 404 otherwise, and for a set being deleted. */
function ownedOr404<T extends UploadSetAccess>(set: T | null, id: string, user: AuthUser | undefined): T {
  if (!set || set.status === 'deleting' || !canEdit(user, { ownerId: set.ownerId })) throw new NotFoundException(`Upload set ${id} not found`);
  return set;
}

/** A file refused for a reason the uploader should see in the files list. */
class Rejection {
  constructor(
    readonly reason: RejectionReason,
    readonly status: number,
    readonly message: string,
    readonly details: Record<string, unknown> | null = null,
    readonly severity: RejectionSeverity = 'error',
  ) {}

  static of(refused: PictureIntakeRejection): Rejection {
    return new Rejection(refused.reason, refused.status, refused.message, refused.details, refused.severity);
  }
}

function fieldProblem(field: string, problem: string): BadRequestException {
  return new BadRequestException({ message: problem, details: [{ field, problems: [problem] }] });
}

// eslint-disable-next-line no-control-regex
const CONTROL_CHARACTERS = /[\u0000-\u001f\u007f]/g;

/** A file name as the uploader's computer knew it, without any path, bounded. */
function cleanFileName(name: string | undefined, fallback: string): string {
  const base = (name ?? '').split(/[\\/]/).pop()!.replace(CONTROL_CHARACTERS, '').trim();
  return (base || fallback).slice(0, 255);
}

/** RFC 3339 with an offset, or read as UTC when none is given. */
function parseCaptureTime(value: string): Date {
  const hasZone = /(Z|[+-]\d{2}:?\d{2})$/i.test(value) || !value.includes('T');
  return new Date(hasZone ? value : `${value}Z`);
}

@Injectable()
export class UploadSetsService {
  private readonly logger = new Logger(UploadSetsService.name);
  private readonly apiBase: string;

  constructor(
    private readonly repo: UploadSetsRepository,
    private readonly pictures: PicturesService,
    private readonly intake: PictureIntakeService,
    private readonly sequences: SequencesService,
    private readonly collections: CatalogService,
    private readonly users: UsersService,
    private readonly storage: StorageService,
    private readonly jobs: JobQueueService,
    private readonly config: AppConfig,
  ) {
    this.apiBase = `${config.PUBLIC_URL.replace(/\/+$/, '')}/api`;
  }

  // --- upload sets ---

  async create(dto: CreateUploadSetDto, user: AuthUser, userAgent: string | undefined): Promise<UploadSetDto> {
    if (dto.no_split && (dto.split_distance !== undefined || dto.split_time !== undefined)) {
      throw fieldProblem('no_split', 'no_split cannot be combined with split_distance or split_time');
    }
    if (dto.no_deduplication && (dto.duplicate_distance !== undefined || dto.duplicate_rotation !== undefined)) {
      throw fieldProblem('no_deduplication', 'no_deduplication cannot be combined with duplicate_distance or duplicate_rotation');
    }
    const owner = await this.users.findById(user.id);
    const set = await this.repo.create({
      ownerId: user.id,
      title: dto.title,
      estimatedNbFiles: dto.estimated_nb_files ?? null,
      sortMethod: dto.sort_method ?? 'time-asc',
      noSplit: dto.no_split ?? false,
      splitDistance: dto.no_split ? null : (dto.split_distance ?? this.config.UPLOAD_SPLIT_DISTANCE_METERS),
      splitTime: dto.no_split ? null : (dto.split_time ?? this.config.UPLOAD_SPLIT_TIME_SECONDS),
      noDeduplication: dto.no_deduplication ?? false,
      duplicateDistance: dto.no_deduplication ? null : (dto.duplicate_distance ?? this.config.UPLOAD_DUPLICATE_DISTANCE_METERS),
      duplicateRotation: dto.no_deduplication ? null : (dto.duplicate_rotation ?? this.config.UPLOAD_DUPLICATE_ROTATION_DEGREES),
      relativeHeading: dto.relative_heading ?? 0,
      visibility: dto.visibility ?? owner?.defaultVisibility ?? Visibility.Anyone,
      license: dto.license ?? null,
      metadata: dto.metadata ?? {},
      userAgent: userAgent?.slice(0, 500) ?? null,
    });
    return this.toDto(set);
  }

  /** A set the caller owns (or any, for an admin); 404 otherwise, and for sets being deleted. */
  private async getOwned(id: string, user: AuthUser | undefined): Promise<UploadSet> {
    return ownedOr404(await this.repo.find(id), id, user);
  }

  async get(id: string, user: AuthUser): Promise<UploadSetDto> {
    return this.toDto(await this.getOwned(id, user));
  }

  async list(user: AuthUser, query: UploadSetListQueryDto, url: URL): Promise<UploadSetPageDto> {
    const params = pageParams(query);
    const { rows, total } = await this.repo.listByOwner(user.id, { completed: query.completed, dispatched: query.dispatched }, params.limit, params.offset);
    const views = await this.statusViews(rows);
    return toPage(
      rows.map((s) => toUploadSetDto(s, views.get(s.id)!, this.apiBase)),
      total,
      params,
      url,
    );
  }

  async update(id: string, dto: UpdateUploadSetDto, user: AuthUser): Promise<UploadSetDto> {
    const set = await this.getOwned(id, user);
    const noSplit = dto.no_split ?? set.noSplit;
    if (noSplit && (dto.split_distance !== undefined || dto.split_time !== undefined)) {
      throw fieldProblem('no_split', 'no_split cannot be combined with split_distance or split_time');
    }
    const noDedup = dto.no_deduplication ?? set.noDeduplication;
    if (noDedup && (dto.duplicate_distance !== undefined || dto.duplicate_rotation !== undefined)) {
      throw fieldProblem('no_deduplication', 'no_deduplication cannot be combined with duplicate_distance or duplicate_rotation');
    }
    const next: Partial<UploadSet> = {
      title: dto.title ?? set.title,
      estimatedNbFiles: dto.estimated_nb_files ?? set.estimatedNbFiles,
      sortMethod: dto.sort_method ?? set.sortMethod,
      noSplit,
      splitDistance: noSplit ? null : (dto.split_distance ?? set.splitDistance ?? this.config.UPLOAD_SPLIT_DISTANCE_METERS),
      splitTime: noSplit ? null : (dto.split_time ?? set.splitTime ?? this.config.UPLOAD_SPLIT_TIME_SECONDS),
      noDeduplication: noDedup,
      duplicateDistance: noDedup ? null : (dto.duplicate_distance ?? set.duplicateDistance ?? this.config.UPLOAD_DUPLICATE_DISTANCE_METERS),
      duplicateRotation: noDedup ? null : (dto.duplicate_rotation ?? set.duplicateRotation ?? this.config.UPLOAD_DUPLICATE_ROTATION_DEGREES),
      relativeHeading: dto.relative_heading ?? set.relativeHeading,
      visibility: dto.visibility ?? set.visibility,
      license: dto.license ?? set.license,
      metadata: dto.metadata ?? set.metadata,
    };
    const dispatchKeys: (keyof UploadSet)[] = [
      'sortMethod',
      'noSplit',
      'splitDistance',
      'splitTime',
      'noDeduplication',
      'duplicateDistance',
      'duplicateRotation',
      'relativeHeading',
    ];
    const redispatch = set.status === 'completed' && dispatchKeys.some((k) => next[k] !== set[k]);
    const visibilityChanged = next.visibility !== set.visibility;
    const licenseChanged = next.license !== set.license;
    const generation = await this.repo.transaction(async (manager) => {
      await this.repo.update(id, next, manager);
      // The sequences (and items) of a set follow its visibility and license.
      if (visibilityChanged || licenseChanged) {
        await this.sequences.updateSequences(
          { kind: UPLOAD_SET_SOURCE, id },
          { ...(visibilityChanged ? { visibility: next.visibility! } : {}), ...(licenseChanged ? { license: next.license! } : {}) },
          manager,
        );
      }
      return redispatch ? this.repo.requestDispatch(id, manager) : null;
    });
    if (generation !== null) await this.enqueueDispatch(id, generation);
    if (set.status === 'open') await this.completeIfEstimateReached(id);
    return this.toDto((await this.repo.find(id))!);
  }

  async complete(id: string, user: AuthUser): Promise<UploadSetDto> {
    await this.getOwned(id, user);
    const generation = await this.repo.complete(id);
    if (generation !== null) await this.enqueueDispatch(id, generation);
    return this.toDto((await this.repo.find(id))!);
  }

  async remove(id: string, user: AuthUser): Promise<void> {
    await this.getOwned(id, user);
    if (await this.repo.markDeleting(id)) {
      await this.jobs
        .add(JobName.UploadSetDelete, { uploadSetId: id })
        .catch((error: Error) => this.logger.warn({ err: error.message }, 'delete job not queued; the reconciler will'));
    }
  }

  /**
   * Deletes open sets nobody touched for `olderThanDays` days (abandoned uploads), like DELETE
   * does; for the `upload-sets.cleanup-stale` management command. Returns how many.
   */
  async deleteStale(olderThanDays: number): Promise<number> {
    const ids = await this.repo.markStaleDeleting(olderThanDays);
    await this.jobs.addBulk(
      JobName.UploadSetDelete,
      ids.map((uploadSetId) => ({ uploadSetId })),
    );
    return ids.length;
  }

  private async enqueueDispatch(uploadSetId: string, generation: number): Promise<void> {
    await this.jobs
      .add(JobName.UploadSetDispatch, { uploadSetId, generation })
      .catch((error: Error) => this.logger.warn({ err: error.message }, 'dispatch not queued; the reconciler will'));
  }

  private async completeIfEstimateReached(id: string): Promise<void> {
    const generation = await this.repo.completeIfEstimateReached(id);
    if (generation !== null) await this.enqueueDispatch(id, generation);
  }

  // --- files ---

  async listFiles(id: string, user: AuthUser): Promise<UploadFileListDto> {
    const set = await this.getOwned(id, user);
    const files = await this.repo.listFiles(set.id);
    const pictures = new Map((await this.pictures.findMany(files.map((f) => f.pictureId).filter((p): p is string => !!p))).map((p) => [p.id, p]));
    return {
      upload_set_id: set.id,
      files: files.map((f) => toUploadFileDto(f, f.pictureId ? pictures.get(f.pictureId) : undefined, this.apiBase)),
      links: [
        { rel: 'self', href: `${this.apiBase}/upload_sets/${set.id}/files`, type: 'application/json' },
        { rel: 'parent', href: `${this.apiBase}/upload_sets/${set.id}`, type: 'application/json' },
      ],
    };
  }

  /**
   * Receives one picture: streamed to temporary storage, checked (duplicate content, JPEG,
   * position and time), then recorded and queued for processing. A refused file is recorded
   * with its reason and its bytes are deleted.
   */
  async addFile(id: string, user: AuthUser, upload: ReceivedUpload): Promise<UploadFileDto> {
    let kept = false;
    try {
      // Found open before the file was received; the recording transaction checks again under a lock.
      const set = upload.uploadSet?.id === id ? upload.uploadSet : await this.openForUpload(id, user);
      const fileDto = await this.accept(set, user, upload);
      kept = true;
      return fileDto;
    } finally {
      if (!kept) await this.storage.delete(upload.file.key).catch(() => undefined);
    }
  }

  /** The caller's set, open for files: 404 when it is not theirs, 409 when it is completed. */
  async openForUpload(id: string, user: AuthUser | undefined): Promise<UploadSetAccess> {
    const set = ownedOr404(await this.repo.findAccess(id), id, user);
    if (set.status !== 'open') throw new ConflictException({ message: 'The upload set is completed: no more files can be added to it', details: { upload_set_id: set.id } });
    return set;
  }

  private async validateFields(fields: Record<string, unknown>): Promise<UploadFileFieldsDto> {
    // Most uploads carry the file alone: every field is optional, so there is nothing to check.
    if (Object.keys(fields).length === 0) return new UploadFileFieldsDto();
    const dto = plainToInstance(UploadFileFieldsDto, fields);
    const errors = await validate(dto, { whitelist: true, forbidNonWhitelisted: true });
    if (errors.length) {
      const details = errors.map((e) => ({ field: e.property, problems: Object.values(e.constraints ?? {}) }));
      throw new BadRequestException({ message: details.map((d) => d.problems.join('; ')).join('; '), details });
    }
    if ((dto.override_longitude === undefined) !== (dto.override_latitude === undefined)) {
      throw fieldProblem(dto.override_longitude === undefined ? 'override_longitude' : 'override_latitude', 'override_longitude and override_latitude go together');
    }
    return dto;
  }

  private async accept(set: UploadSetAccess, user: AuthUser, upload: ReceivedUpload): Promise<UploadFileDto> {
    const fields = await this.validateFields(upload.fields);
    const { file } = upload;
    const fileName = cleanFileName(file.originalName, `${file.pictureId}.jpg`);
    const record = { uploadSetId: set.id, fileName, size: file.size, sha256: file.sha256 };

    const sameName = await this.repo.findFileByName(set.id, fileName);
    if (sameName?.pictureId) {
      const same = sameName.sha256 === file.sha256;
      throw new ConflictException({
        message: same ? 'This file was already uploaded to this set' : 'A different picture with the same name has already been added to this upload set',
        details: { reason: same ? 'file_duplicate' : 'file_name_taken', existing_item: { id: sameName.pictureId } },
      });
    }
    try {
      const picture = await this.check(set, upload, fields, fileName);
      try {
        const saved = await this.repo.transaction(async (manager) => {
          const status = await this.repo.lockStatus(set.id, manager);
          if (!status || status === 'deleting') throw new NotFoundException(`Upload set ${set.id} not found`);
          if (status !== 'open') throw new ConflictException('The upload set was completed while the file was being received');
          await this.intake.record(picture, manager);
          return this.repo.saveFile({ ...record, pictureId: picture.id }, manager);
        });
        await this.intake.enqueue(picture.id);
        await this.completeIfEstimateReached(set.id);
        return toUploadFileDto(saved, { ...picture, attempts: 0, lastError: null, processingStartedAt: null, processedAt: null, blurred: false } as Picture, this.apiBase);
      } catch (error) {
        if (error instanceof PictureIntakeRejection) throw Rejection.of(error);
        if (error instanceof FileNameTakenError) throw new ConflictException('A different picture with the same name has already been added to this upload set');
        throw error;
      }
    } catch (error) {
      if (!(error instanceof Rejection)) throw error;
      const rejection = { reason: error.reason, severity: error.severity, message: error.message, details: error.details };
      await this.repo
        .saveFile({ ...record, rejectionReason: rejection.reason, rejectionSeverity: rejection.severity, rejectionMessage: rejection.message, rejectionDetails: rejection.details })
        .catch((e: Error) => this.logger.warn({ err: e.message }, 'rejection not recorded'));
      await this.completeIfEstimateReached(set.id);
      throw new HttpException(
        {
          message: error.message,
          details: rejectionOf({
            rejectionReason: rejection.reason,
            rejectionSeverity: rejection.severity,
            rejectionMessage: rejection.message,
            rejectionDetails: rejection.details,
          }),
        },
        error.status,
      );
    }
  }

  /** The pipeline's checks of a received file, with the set's owner and the uploader's overrides. */
  private async check(set: UploadSetAccess, upload: ReceivedUpload, fields: UploadFileFieldsDto, fileName: string): Promise<PictureDraft> {
    const { file } = upload;
    try {
      return await this.intake.check({
        pictureId: file.pictureId,
        storageKey: file.key,
        fileName,
        size: file.size,
        sha256: file.sha256,
        jpegStart: file.jpegStart,
        jpegEnd: file.jpegEnd,
        source: { kind: UPLOAD_SET_SOURCE, id: set.id },
        // The set's owner owns its pictures (an admin may upload to another person's set).
        ownerId: set.ownerId,
        isBlurred: fields.is_blurred ?? false,
        overrides: {
          capturedAt: fields.override_capture_time ? parseCaptureTime(fields.override_capture_time) : undefined,
          lon: fields.override_longitude,
          lat: fields.override_latitude,
        },
      });
    } catch (error) {
      if (error instanceof PictureIntakeRejection) throw Rejection.of(error);
      throw error;
    }
  }

  // --- status ---

  private async toDto(set: UploadSet): Promise<UploadSetDto> {
    const [views, errors] = await Promise.all([this.statusViews([set]), this.pictures.processingErrors({ kind: UPLOAD_SET_SOURCE, id: set.id }, 20)]);
    return {
      ...toUploadSetDto(set, views.get(set.id)!, this.apiBase),
      processing_errors: errors.map((e) => ({
        picture_id: e.picture_id,
        file_name: e.file_name,
        status: e.status,
        attempts: e.attempts,
        last_error: e.last_error,
        at: new Date(e.updated_at).toISOString(),
      })),
    };
  }

  /** items_status, nb_items and associated collections of many sets, in a few queries. */
  private async statusViews(sets: UploadSet[]): Promise<Map<string, UploadSetStatusView>> {
    const ids = sets.map((s) => s.id);
    const [bySource, rejected] = await Promise.all([this.pictures.countsBySource(UPLOAD_SET_SOURCE, ids), this.repo.rejectedCounts(ids)]);
    const counts = bySource.map((c) => ({ uploadSetId: c.sourceId, sequenceId: c.sequenceId, ...c.counts }));
    const collections = new Map((await this.collections.findCollections([...new Set(counts.map((c) => c.sequenceId).filter((c): c is string => !!c))])).map((c) => [c.id, c]));
    const views = new Map<string, UploadSetStatusView>();
    for (const set of sets) {
      const total: Required<ItemsStatusDto> = { prepared: 0, preparing: 0, broken: 0, not_processed: 0, rejected: rejected.get(set.id) ?? 0 };
      const associated: AssociatedCollectionDto[] = [];
      const finalized = isDispatched(set) && set.finalizedRound >= set.finalizeRound;
      for (const c of counts.filter((x) => x.uploadSetId === set.id)) {
        total.prepared += c.prepared;
        total.preparing += c.preparing;
        total.broken += c.broken;
        total.not_processed += c.not_processed;
        const col = c.sequenceId ? collections.get(c.sequenceId) : undefined;
        if (!col) continue;
        const items_status = { prepared: c.prepared, preparing: c.preparing, broken: c.broken, not_processed: c.not_processed };
        associated.push({
          id: col.id,
          title: col.title,
          nb_items: c.prepared + c.preparing + c.broken + c.not_processed,
          status: col.status,
          ready: finalized && col.status === 'ready' && c.preparing === 0 && c.not_processed === 0,
          items_status,
          extent: { temporal: { interval: [[col.datetimeStart?.toISOString() ?? null, col.datetimeEnd?.toISOString() ?? null]] } },
          links: [{ rel: 'self', href: `${this.apiBase}/collections/${col.id}`, type: 'application/json' }],
        });
      }
      associated.sort((a, b) => a.title.localeCompare(b.title, 'en', { numeric: true }) || a.id.localeCompare(b.id));
      views.set(set.id, {
        itemsStatus: total,
        nbItems: total.prepared + total.preparing + total.broken + total.not_processed,
        collections: associated,
      });
    }
    return views;
  }
}
