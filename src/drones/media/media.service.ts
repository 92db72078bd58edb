import {
  BadRequestException,
  ConflictException,
  ForbiddenException,
  GoneException,
  HttpException,
  Injectable,
  Logger,
  NotFoundException,
  PayloadTooLargeException,
} from '@nestjs/common';
import { InjectDataSource, InjectRepository } from '@nestjs/typeorm';
import { randomUUID } from 'node:crypto';
import type { Readable } from 'node:stream';
import { DataSource, EntityManager, In, IsNull, Repository } from 'typeorm';
import type { QueryDeepPartialEntity } from 'typeorm/query-builder/QueryPartialEntity.js';
import { AppConfig } from '../../config/app-config.js';
import { PictureIntakeRejection, PictureIntakeService, type PictureDraft } from '../../pictures/picture-intake.service.js';
import { originalTempKey } from '../../pictures/picture-storage.js';
import { StorageService } from '../../storage/storage.service.js';
import { TemporaryCredentialsUnavailableError, type TemporaryUploadCredentials } from '../../storage/temporary-credentials.js';
import { assertValidKey, InvalidStorageKeyError, StorageLimitError, StorageNotFoundError, type ByteRange } from '../../storage/storage.types.js';
import { DroneDevice } from '../device.entity.js';
import { readDjiMetadata } from '../dji-metadata.js';
import { DroneMedia, type DroneMediaKind } from '../drone-media.entity.js';
import { DroneEventsService } from '../drone-events.service.js';
import { DroneFlight } from '../flight.entity.js';
import { FLIGHT_SOURCE, FlightPictures } from './flight-pictures.js';
import { groundCoverageFeature, photoMetadata } from './media-coverage.js';
import { contentType, mediaKey, mediaKind, safeFileName, senderFacts, uploadPrefix, type SenderFacts } from './media-files.js';

/** Bytes read from the start of a photo for its metadata (DJI's XMP and EXIF come before the image data). */
const HEAD_BYTES = 2 * 1024 * 1024;
/** How long DJI Pilot 2's temporary credentials last. */
const STS_TTL_SECONDS = 3600;
/** Slack around a flight's span when a photo's capture time is matched to it (camera and aircraft clocks differ a little). */
const FLIGHT_SLACK_MS = 60_000;
const UNIQUE_VIOLATION = '23505';

/** TypeORM types partial rows deeply (every JSON value too); these columns are exact. */
const row = (p: Partial<DroneMedia>) => p as QueryDeepPartialEntity<DroneMedia>;

/** Who sent a file: a pilot app (a connection) or a person. */
export interface MediaSender {
  connectionId?: string | null;
  userId?: string | null;
}

/** A file a receiver already stored, at the key the media will keep. */
export interface StoredMediaUpload {
  mediaId: string;
  key: string;
  size: number;
  sha256: string;
  head: Buffer;
  originalName: string;
}

/** DJI's `sts` answer. */
export interface DjiStsData {
  bucket: string;
  credentials: { access_key_id: string; access_key_secret: string; expire: number; security_token: string };
  endpoint: string;
  object_key_prefix: string;
  provider: string;
  region: string;
}

export interface MediaPageFilters {
  flightId?: string;
  kind?: DroneMediaKind;
  limit: number;
  offset: number;
}

/** Media of a flight, and its ground coverage. */
export interface MediaWithCoverage {
  media: DroneMedia;
}

/**
 * Media a pilot app sends (photos, videos, other files): received through DJI Pilot 2's
 * direct-to-bucket flow or a multipart upload, deduplicated by fingerprint per workspace,
 * hashed (SHA-256), attached to the flight that covers their capture time, photos taken into
 * the picture pipeline as the flight's sequence with their ground coverage.
 */
@Injectable()
export class DroneMediaService {
  private readonly logger = new Logger(DroneMediaService.name);

  constructor(
    @InjectRepository(DroneMedia) private readonly media: Repository<DroneMedia>,
    @InjectDataSource() private readonly db: DataSource,
    private readonly storage: StorageService,
    private readonly config: AppConfig,
    private readonly intake: PictureIntakeService,
    private readonly flightPictures: FlightPictures,
    private readonly events: DroneEventsService,
  ) {}

  // --- temporary credentials ---------------------------------------------------------------

  /** Credentials to upload into this workspace's prefix of the bucket (DJI's `sts` answer). */
  async temporaryCredentials(workspaceId: string): Promise<DjiStsData> {
    let c: TemporaryUploadCredentials;
    try {
      c = await this.storage.temporaryUploadCredentials(uploadPrefix(workspaceId), STS_TTL_SECONDS);
    } catch (error) {
      if (error instanceof TemporaryCredentialsUnavailableError) throw new HttpException({ message: error.message }, error.status);
      throw error;
    }
    return {
      bucket: c.bucket,
      credentials: {
        access_key_id: c.credentials.access_key_id,
        access_key_secret: c.credentials.secret_access_key,
        expire: c.credentials.expire,
        security_token: c.credentials.session_token,
      },
      endpoint: c.endpoint,
      object_key_prefix: c.object_key_prefix.replace(/\/$/, ''),
      provider: c.provider,
      region: c.region,
    };
  }

  // --- fingerprints -----------------------------------------------------------------------

  byFingerprint(workspaceId: string, fingerprint: string): Promise<DroneMedia | null> {
    return this.media.findOneBy({ workspaceId, fingerprint });
  }

  /** Of these tiny fingerprints, those a file of this workspace has. */
  async existingTinyFingerprints(workspaceId: string, tiny: string[]): Promise<string[]> {
    const wanted = [...new Set(tiny.filter((t) => typeof t === 'string' && t.length > 0 && t.length <= 128))];
    if (!wanted.length) return [];
    const rows = await this.media.find({ where: { workspaceId, tinyFingerprint: In(wanted) }, select: { tinyFingerprint: true } });
    const found = new Set(rows.map((r) => r.tinyFingerprint));
    return wanted.filter((t) => found.has(t));
  }

  // --- receiving --------------------------------------------------------------------------

  /**
   * DJI's upload callback: the object `object_key` was written into the bucket under this
   * workspace's upload prefix. It is moved to Sightline's own key (hashed, size-checked on the
   * way) and taken in. A fingerprint the workspace has already answers with the existing media.
   */
  async uploadCallback(workspaceId: string, ownerId: string | null, sender: MediaSender, body: unknown): Promise<{ media: DroneMedia; existing: boolean }> {
    const facts = senderFacts(body);
    if (!facts.fingerprint) throw new BadRequestException({ message: 'fingerprint is required', details: [{ field: 'fingerprint', problems: ['required'] }] });
    if (facts.fingerprint.length > 128)
      throw new BadRequestException({ message: 'fingerprint is longer than 128 characters', details: [{ field: 'fingerprint', problems: ['too long'] }] });
    if (!facts.objectKey) throw new BadRequestException({ message: 'object_key is required', details: [{ field: 'object_key', problems: ['required'] }] });
    const uploadKey = this.uploadedKey(workspaceId, facts.objectKey);
    const known = await this.byFingerprint(workspaceId, facts.fingerprint);
    if (known) {
      await this.discardUpload(uploadKey, known);
      return { media: known, existing: true };
    }
    const stat = await this.storage.stat(uploadKey);
    if (!stat) throw new NotFoundException({ message: `No object at ${facts.objectKey}: upload the file before reporting it`, details: { object_key: facts.objectKey } });
    const limit = this.config.DRONE_MEDIA_MAX_BYTES;
    if (stat.size > limit) {
      await this.storage.delete(uploadKey);
      throw new PayloadTooLargeException({ message: `The file is larger than the limit of ${limit} bytes (DRONE_MEDIA_MAX_BYTES)`, details: { limit, size: stat.size } });
    }
    const name = facts.name ?? facts.objectKey.split('/').pop()!;
    const mediaId = randomUUID();
    const claimed = await this.claim(mediaId, workspaceId, facts, name, sender);
    if (!claimed) {
      const existing = (await this.byFingerprint(workspaceId, facts.fingerprint))!;
      await this.discardUpload(uploadKey, existing);
      return { media: existing, existing: true };
    }
    const key = mediaKey(workspaceId, mediaId, name);
    let stored;
    try {
      stored = await this.storage.put(key, await this.storage.get(uploadKey), { maxBytes: limit, contentType: contentType(name, 'other') });
    } catch (error) {
      // The fingerprint is free again: the pilot app may retry.
      await this.media.delete({ id: mediaId });
      if (error instanceof StorageNotFoundError) throw new NotFoundException({ message: `No object at ${facts.objectKey}: upload the file before reporting it` });
      if (error instanceof StorageLimitError) throw new PayloadTooLargeException({ message: `The file is larger than the limit of ${limit} bytes (DRONE_MEDIA_MAX_BYTES)` });
      throw error;
    }
    await this.storage.delete(uploadKey);
    const head = await this.readHead(key, stored.size);
    const media = await this.takeInOrRelease(mediaId, workspaceId, ownerId, { key, size: stored.size, sha256: stored.sha256, head, name }, facts);
    return { media, existing: false };
  }

  /**
   * A multipart upload (OpenFlightHub's route) already stored at its key: recorded and taken in;
   * a fingerprint the workspace has is a 409 naming the existing media (the stored file goes).
   */
  async receiveUpload(workspaceId: string, ownerId: string | null, sender: MediaSender, upload: StoredMediaUpload, fields: Record<string, unknown>): Promise<DroneMedia> {
    const facts = senderFacts(fields);
    const problem = !facts.fingerprint ? 'required' : facts.fingerprint.length > 128 ? 'longer than 128 characters' : null;
    if (problem) {
      await this.storage.delete(upload.key);
      throw new BadRequestException({ message: `fingerprint is ${problem}`, details: [{ field: 'fingerprint', problems: [problem] }] });
    }
    const name = facts.name ?? upload.originalName;
    const claimed = await this.claim(upload.mediaId, workspaceId, facts, name, sender);
    if (!claimed) {
      await this.storage.delete(upload.key);
      const existing = await this.byFingerprint(workspaceId, facts.fingerprint!);
      throw new ConflictException({
        message: `This workspace has a file with fingerprint ${facts.fingerprint} already: media ${existing?.id}`,
        details: { existing_media: existing ? { id: existing.id, name: existing.name, href: `/api/drones/workspaces/${workspaceId}/media/${existing.id}` } : null },
      });
    }
    return this.takeInOrRelease(upload.mediaId, workspaceId, ownerId, { key: upload.key, size: upload.size, sha256: upload.sha256, head: upload.head, name }, facts);
  }

  /** The storage key of an object a pilot uploaded, from the bucket key it reports; only under this workspace's prefix. */
  private uploadedKey(workspaceId: string, objectKey: string): string {
    const bucketPrefix = this.config.STORAGE_DRIVER === 's3' && this.config.S3_PREFIX ? this.config.S3_PREFIX.replace(/\/?$/, '/') : '';
    const relative = objectKey.startsWith(bucketPrefix) ? objectKey.slice(bucketPrefix.length) : null;
    const prefix = uploadPrefix(workspaceId);
    if (relative === null || !relative.startsWith(prefix) || relative.length === prefix.length) {
      throw new ForbiddenException({
        message: `object_key ${JSON.stringify(objectKey)} is not under this workspace's upload prefix ${bucketPrefix}${prefix}`,
        details: { object_key: objectKey, object_key_prefix: `${bucketPrefix}${prefix}` },
      });
    }
    try {
      assertValidKey(relative);
    } catch (error) {
      if (error instanceof InvalidStorageKeyError) throw new BadRequestException({ message: `object_key is not a valid key: ${error.message}` });
      throw error;
    }
    return relative;
  }

  /** A second upload of a file the workspace has: the copy in the upload prefix is not needed. */
  private async discardUpload(uploadKey: string, known: DroneMedia): Promise<void> {
    if (uploadKey !== known.storageKey) await this.storage.delete(uploadKey).catch(() => undefined);
  }

  /** Records the media under its fingerprint; false when the workspace has that fingerprint already (race-safe: the unique index decides). */
  private async claim(id: string, workspaceId: string, facts: SenderFacts, name: string, sender: MediaSender): Promise<boolean> {
    try {
      const result = await this.media
        .createQueryBuilder()
        .insert()
        .into(DroneMedia)
        .values({
          id,
          workspaceId,
          fingerprint: facts.fingerprint!,
          tinyFingerprint: facts.tinyFingerprint?.slice(0, 128) ?? null,
          name: safeName(name),
          path: facts.path,
          kind: 'other',
          status: 'received',
          deviceSn: facts.sn?.slice(0, 64) ?? null,
          uploadedBy: sender.userId ?? null,
          capturedAt: facts.createdTime,
          metadata: { sender: senderJson(facts, sender) },
        })
        .orIgnore()
        .returning(['id'])
        .execute();
      return (result.raw as unknown[]).length > 0;
    } catch (error) {
      if ((error as { code?: string }).code === UNIQUE_VIOLATION) return false;
      throw error;
    }
  }

  private async readHead(key: string, size: number): Promise<Buffer> {
    if (size === 0) return Buffer.alloc(0);
    const chunks: Buffer[] = [];
    for await (const chunk of await this.storage.get(key, { start: 0, end: Math.min(size, HEAD_BYTES) - 1 })) chunks.push(chunk as Buffer);
    return Buffer.concat(chunks);
  }

  /**
   * takeIn; when it fails before the photo became a picture (storage or database down), the media
   * and its file go, so that the sender's retry is taken in afresh instead of answered "have it".
   */
  private async takeInOrRelease(
    mediaId: string,
    workspaceId: string,
    ownerId: string | null,
    file: Parameters<DroneMediaService['takeIn']>[3],
    facts: SenderFacts,
  ): Promise<DroneMedia> {
    try {
      return await this.takeIn(mediaId, workspaceId, ownerId, file, facts);
    } catch (error) {
      const row = await this.media.findOne({ where: { id: mediaId }, select: { id: true, pictureId: true } }).catch(() => null);
      if (row && !row.pictureId) {
        await this.media.delete({ id: mediaId }).catch(() => undefined);
        await this.storage.delete(file.key).catch(() => undefined);
      }
      throw error;
    }
  }

  /**
   * Takes a stored file in: its kind, a photo's DJI metadata and ground coverage, its flight;
   * a photo goes into the picture pipeline (the flight's sequence), anything else is stored and listed.
   */
  private async takeIn(
    mediaId: string,
    workspaceId: string,
    ownerId: string | null,
    file: { key: string; size: number; sha256: string; head: Buffer; name: string },
    facts: SenderFacts,
  ): Promise<DroneMedia> {
    const kind = mediaKind(file.name, file.head);
    const current = (await this.media.findOneBy({ id: mediaId }))!;
    const metadata: Record<string, unknown> = { ...current.metadata };
    const patch: Partial<DroneMedia> = { kind, storageKey: file.key, size: String(file.size), sha256: file.sha256, status: 'ready', statusMessage: null };
    if (kind !== 'photo') {
      const flight = facts.createdTime ? await this.flightFor(workspaceId, facts.sn, facts.createdTime) : null;
      await this.media.update({ id: mediaId }, row({ ...patch, flightId: flight?.id ?? null, metadata }));
      return this.published(mediaId);
    }

    const dji = await readDjiMetadata(file.head);
    const photo = photoMetadata(dji);
    Object.assign(metadata, photo);
    patch.groundCoverage = (photo.coverage?.polygon.type === 'Polygon' ? photo.coverage.polygon : null) as DroneMedia['groundCoverage'];
    patch.coverageTruncated = photo.coverage ? photo.coverage.truncated : null;
    if (!patch.deviceSn && facts.sn) patch.deviceSn = facts.sn;

    const pictureId = randomUUID();
    const tempKey = originalTempKey(pictureId);
    await this.storage.put(tempKey, await this.storage.get(file.key), { contentType: 'image/jpeg' });
    const overrides = {
      ...(dji.lat === null && facts.shootPosition ? { lon: facts.shootPosition.lon, lat: facts.shootPosition.lat } : {}),
      ...(dji.dateTimeOriginal === null && facts.createdTime ? { capturedAt: facts.createdTime } : {}),
    };
    let draft: PictureDraft;
    try {
      draft = await this.intake.check({
        pictureId,
        storageKey: tempKey,
        fileName: safeName(file.name),
        size: file.size,
        sha256: file.sha256,
        source: { kind: FLIGHT_SOURCE, id: null },
        ownerId,
        overrides,
      });
    } catch (error) {
      await this.storage.delete(tempKey);
      if (!(error instanceof PictureIntakeRejection)) throw error;
      return this.notAPicture(mediaId, workspaceId, facts, patch, metadata, error.message);
    }
    const flight = await this.flightFor(workspaceId, patch.deviceSn ?? null, new Date(draft.capturedAt!));
    draft.sourceId = flight.id;
    try {
      await this.db.transaction(async (manager) => {
        await this.intake.record(draft, manager);
        await manager
          .getRepository(DroneMedia)
          .update({ id: mediaId }, row({ ...patch, status: 'processing', pictureId, flightId: flight.id, capturedAt: draft.capturedAt, metadata }));
      });
    } catch (error) {
      await this.storage.delete(tempKey);
      if (!(error instanceof PictureIntakeRejection)) throw error;
      return this.notAPicture(mediaId, workspaceId, facts, patch, metadata, error.message);
    }
    await this.intake.enqueue(pictureId);
    await this.flightPictures.cut(flight.id);
    return this.published(mediaId);
  }

  /** A photo the picture pipeline turned away: stored and listed, with the reason. */
  private async notAPicture(
    mediaId: string,
    workspaceId: string,
    facts: SenderFacts,
    patch: Partial<DroneMedia>,
    metadata: Record<string, unknown>,
    why: string,
  ): Promise<DroneMedia> {
    const flight = facts.createdTime ? await this.flightFor(workspaceId, patch.deviceSn ?? null, facts.createdTime) : null;
    await this.media.update({ id: mediaId }, row({ ...patch, status: 'rejected', statusMessage: `Not published as a picture: ${why}`, flightId: flight?.id ?? null, metadata }));
    return this.published(mediaId);
  }

  /** The media as stored now, announced to the workspace's live followers (`media_arrived`). */
  private async published(mediaId: string): Promise<DroneMedia> {
    const media = (await this.media.findOneBy({ id: mediaId }))!;
    try {
      await this.events.publish(media.workspaceId, {
        type: 'media_arrived',
        at: new Date().toISOString(),
        media_id: media.id,
        flight_id: media.flightId,
        sn: media.deviceSn,
        kind: media.kind,
        name: media.name,
        status: media.status,
        picture_id: media.pictureId,
      });
    } catch (error) {
      this.logger.warn({ mediaId, err: (error as Error).message }, 'media event not published');
    }
    return media;
  }

  /**
   * The flight a file taken at `at` by aircraft `sn` belongs to: the workspace's flight of that
   * aircraft whose span covers the time (detected flights first), else that aircraft's
   * "unassigned" flight of that UTC day, created by hand (`is_created_manually`) when needed.
   */
  async flightFor(workspaceId: string, sn: string | null, at: Date): Promise<DroneFlight> {
    const flights = this.db.getRepository(DroneFlight);
    const covering = await flights
      .createQueryBuilder('f')
      .where('f.workspace_id = :workspaceId', { workspaceId })
      .andWhere('f.device_sn IS NOT DISTINCT FROM :sn', { sn })
      .andWhere('f.started_at <= :late', { late: new Date(at.getTime() + FLIGHT_SLACK_MS) })
      .andWhere("COALESCE(f.ended_at, 'infinity'::timestamptz) >= :early", { early: new Date(at.getTime() - FLIGHT_SLACK_MS) })
      .orderBy('f.is_created_manually', 'ASC')
      .addOrderBy('f.started_at', 'DESC')
      .getOne();
    if (covering) return covering;
    const day = at.toISOString().slice(0, 10);
    const start = new Date(`${day}T00:00:00.000Z`);
    const end = new Date(start.getTime() + 86_400_000 - 1);
    const name = `Unassigned photos of ${sn ?? 'an unknown aircraft'}, ${day}`;
    return this.db.transaction(async (manager: EntityManager) => {
      // One creator per workspace, aircraft and day.
      await manager.query('SELECT pg_advisory_xact_lock(hashtext($1))', [`drone-unassigned|${workspaceId}|${sn ?? ''}|${day}`]);
      const repo = manager.getRepository(DroneFlight);
      const existing = await repo.findOne({ where: { workspaceId, deviceSn: sn ?? IsNull(), isCreatedManually: true, startedAt: start, name } });
      if (existing) return existing;
      const device = sn ? await manager.getRepository(DroneDevice).findOneBy({ sn }) : null;
      return repo.save(
        repo.create({
          workspaceId,
          deviceId: device && device.workspaceId === workspaceId ? device.id : null,
          deviceSn: sn,
          name,
          status: 'ended',
          startedAt: start,
          endedAt: end,
          endReason: 'manual',
          isCreatedManually: true,
        }),
      );
    });
  }

  // --- reading ----------------------------------------------------------------------------

  async list(workspaceId: string, filters: MediaPageFilters): Promise<{ items: DroneMedia[]; total: number }> {
    const where = { workspaceId, ...(filters.flightId ? { flightId: filters.flightId } : {}), ...(filters.kind ? { kind: filters.kind } : {}) };
    const [items, total] = await this.media.findAndCount({ where, order: { createdAt: 'DESC', id: 'ASC' }, take: filters.limit, skip: filters.offset });
    return { items, total };
  }

  async get(workspaceId: string, mediaId: string): Promise<DroneMedia> {
    const media = await this.media.findOneBy({ id: mediaId, workspaceId });
    if (!media) throw new NotFoundException(`No media ${mediaId} in this workspace`);
    return media;
  }

  /** Whether the workspace has this flight. */
  async hasFlight(workspaceId: string, flightId: string): Promise<boolean> {
    return this.db.getRepository(DroneFlight).existsBy({ id: flightId, workspaceId });
  }

  /** The stored file of a media, to serve; 410 Gone when its bytes are not (or no longer) in storage. */
  async file(workspaceId: string, mediaId: string): Promise<{ media: DroneMedia; size: number; modifiedAt: Date; open: (range?: ByteRange) => Promise<Readable> }> {
    const media = await this.get(workspaceId, mediaId);
    const stat = media.storageKey ? await this.storage.stat(media.storageKey) : null;
    if (!stat) throw new GoneException({ message: `The file of media ${mediaId} is not stored (any more)`, details: { status: media.status } });
    return { media, size: stat.size, modifiedAt: stat.modifiedAt, open: (range) => this.storage.get(media.storageKey!, range) };
  }

  /** The ground coverage of a photo as a GeoJSON Feature; 404 with the reason when it has none. */
  async groundCoverage(workspaceId: string, mediaId: string): Promise<Record<string, unknown>> {
    const media = await this.get(workspaceId, mediaId);
    const feature = groundCoverageFeature(media);
    if (!feature) {
      const reason = (media.metadata as { coverage_reason?: string }).coverage_reason;
      throw new NotFoundException({
        message:
          media.kind !== 'photo'
            ? `Media ${mediaId} is a ${media.kind}, not a photo: it has no ground coverage`
            : `Photo ${mediaId} has no ground coverage: ${reason ?? 'its metadata does not say enough'}`,
      });
    }
    return feature;
  }

  /**
   * Removes what a workspace's media left outside its rows (call before deleting the workspace):
   * each flight's sequence and pictures, the stored files, anything left in its upload prefix.
   */
  async removeWorkspaceMedia(workspaceId: string, context: { signal: AbortSignal; progress(percent: number): Promise<void> }): Promise<{ pictures: number; files: number }> {
    const flights: { flight_id: string }[] = await this.db.query(
      'SELECT DISTINCT flight_id FROM drone_media WHERE workspace_id = $1 AND picture_id IS NOT NULL AND flight_id IS NOT NULL',
      [workspaceId],
    );
    let pictures = 0;
    let files = 0;
    for (const { flight_id } of flights) {
      const removed = await this.flightPictures.remove(flight_id, context);
      pictures += removed.pictures;
      files += removed.files;
    }
    files += await this.storage.deletePrefix(`drones/media/${workspaceId}/`);
    files += await this.storage.deletePrefix(uploadPrefix(workspaceId));
    return { pictures, files };
  }

  contentType(media: DroneMedia): string {
    return contentType(media.name, media.kind);
  }
}

/** A display name: control characters dropped, at most 255 characters. */
const safeName = (name: string) =>
  [...name]
    .filter((c) => c.charCodeAt(0) >= 0x20)
    .join('')
    .slice(0, 255) || safeFileName(name);

function senderJson(f: SenderFacts, sender: MediaSender): Record<string, unknown> {
  return {
    connection_id: sender.connectionId ?? null,
    user_id: sender.userId ?? null,
    object_key: f.objectKey,
    drone_model_key: f.droneModelKey,
    payload_model_key: f.payloadModelKey,
    is_original: f.isOriginal,
    file_group_id: f.fileGroupId,
    created_time: f.createdTime?.toISOString() ?? null,
    shoot_position: f.shootPosition,
    absolute_altitude: f.absoluteAltitude,
    relative_altitude: f.relativeAltitude,
    gimbal_yaw_degree: f.gimbalYaw,
    sub_file_type: f.subFileType,
    result: f.result,
  };
}
