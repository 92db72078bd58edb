import { HttpStatus, Injectable, Logger } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource, EntityManager } from 'typeorm';
import { point } from '../database/geometry.js';
import { MediaService } from '../media/media.service.js';
import { InvalidPictureError } from '../media/media.types.js';
import { fieldOfView, missingFields, readJpegHeader, readJpegHeaderFrom, readPictureMetadata } from '../media/picture-metadata.js';
import { tileGrid } from '../media/tiles.js';
import { JobQueueService } from '../queue/job-queue.service.js';
import { JobName } from '../queue/queue.constants.js';
import { StorageService } from '../storage/storage.service.js';
import type { StoredPictureMetadata } from './picture-item.js';
import type { PictureSourceRef } from './picture-source.js';
import { type PictureDraft, PicturesRepository } from './pictures.repository.js';

/** A file the pipeline refuses, with what the uploader should be told. */
export class PictureIntakeRejection extends Error {
  constructor(
    readonly reason: 'file_duplicate' | 'invalid_file' | 'invalid_metadata',
    readonly status: number,
    message: string,
    readonly details: Record<string, unknown> | null = null,
    readonly severity: 'error' | 'info' = 'error',
  ) {
    super(message);
  }
}

/** A received file, stored (usually under `tmp/`), to take in as a picture. */
export interface PictureIntakeInput {
  /** Chosen before the file was stored, so the stored file can carry it. */
  pictureId: string;
  storageKey: string;
  fileName: string;
  size: number;
  sha256: string;
  /** Whether the file starts / ends with the JPEG markers, when the receiver saw it pass; read from the file otherwise. */
  jpegStart?: boolean;
  jpegEnd?: boolean;
  source: PictureSourceRef;
  ownerId: string | null;
  /** The sender says the picture is blurred already. */
  isBlurred?: boolean;
  /** Values that replace (or supply) what the file's metadata says. */
  overrides?: { capturedAt?: Date; lon?: number; lat?: number };
}

/** A checked picture, ready to be recorded (see PictureIntakeService.record). */
export type { PictureDraft };

const UNIQUE_VIOLATION = '23505';

/**
 * The way into the picture pipeline for every source: reads the file's metadata, checks it
 * (a JPEG, whole, with a position and a capture time, not a duplicate of the owner's), records
 * the picture and queues its processing (blur → derivatives → ready). Its source then cuts the
 * batch into sequences (SequencesService).
 */
@Injectable()
export class PictureIntakeService {
  private readonly logger = new Logger(PictureIntakeService.name);

  constructor(
    private readonly pictures: PicturesRepository,
    private readonly media: MediaService,
    private readonly storage: StorageService,
    private readonly jobs: JobQueueService,
    @InjectDataSource() private readonly db: DataSource,
  ) {}

  /** Checks, records and queues a picture (in a transaction of its own); throws PictureIntakeRejection. */
  async intake(input: PictureIntakeInput): Promise<PictureDraft> {
    const draft = await this.check(input);
    await this.db.transaction((manager) => this.record(draft, manager));
    await this.enqueue(draft.id);
    return draft;
  }

  /** The checks of a stored file; the picture to record, or a PictureIntakeRejection. */
  async check(input: PictureIntakeInput): Promise<PictureDraft> {
    // Duplicates are per owner: another person's identical file is neither refused nor revealed.
    const existing = input.ownerId ? await this.pictures.findBySha256(input.ownerId, input.sha256) : null;
    if (existing) {
      throw new PictureIntakeRejection(
        'file_duplicate',
        HttpStatus.CONFLICT,
        'The same file was already uploaded',
        {
          existing_item: {
            id: existing.id,
            ...(existing.sourceKind === 'upload-set' ? { upload_set_id: existing.sourceId } : { source: { kind: existing.sourceKind, id: existing.sourceId } }),
          },
        },
        'info',
      );
    }
    // Only the head of the file is read: its metadata segments (EXIF, XMP) and the frame header
    // come before the image data; the rest is never loaded (a 100 MB file costs a read or two).
    const head = await this.readHead(input.storageKey);
    const markers =
      input.jpegStart === undefined || input.jpegEnd === undefined
        ? { start: head[0] === 0xff && head[1] === 0xd8 && head[2] === 0xff, end: await this.endsWithEoi(input.storageKey) }
        : { start: input.jpegStart, end: input.jpegEnd };
    if (!markers.start) throw new PictureIntakeRejection('invalid_file', HttpStatus.BAD_REQUEST, 'The file is not a JPEG picture');
    let probe;
    try {
      probe = await this.media.probe(head);
    } catch (error) {
      if (error instanceof InvalidPictureError) throw new PictureIntakeRejection('invalid_file', HttpStatus.BAD_REQUEST, `The file is not a valid JPEG picture: ${error.message}`);
      throw error;
    }
    if (probe.format !== 'jpeg') throw new PictureIntakeRejection('invalid_file', HttpStatus.BAD_REQUEST, `The file is a ${probe.format} picture, not a JPEG`);
    if (!markers.end) throw new PictureIntakeRejection('invalid_file', HttpStatus.BAD_REQUEST, 'The file is truncated: it does not end with a JPEG end-of-image marker');

    const overrides = input.overrides ?? {};
    const meta = await readPictureMetadata(head, overrides);
    const missing = missingFields(meta);
    if (missing.length) {
      const what = missing.map((m) => (m === 'location' ? 'GPS position' : 'capture time')).join(' and ');
      throw new PictureIntakeRejection('invalid_metadata', HttpStatus.BAD_REQUEST, `The picture has no ${what} in its EXIF/XMP metadata (send override fields to provide them)`, {
        missing_fields: missing,
        ...(meta.warnings.length ? { warnings: meta.warnings } : {}),
      });
    }
    const metadata: StoredPictureMetadata = {
      make: meta.make,
      model: meta.model,
      focalLength: meta.focalLength,
      focalLength35mm: meta.focalLength35mm,
      fieldOfView: fieldOfView(meta.projection, meta.focalLength35mm, probe.uprightWidth, probe.uprightHeight),
      pitch: meta.pitch,
      roll: meta.roll,
      altitude: meta.altitude,
      relativeAltitude: meta.relativeAltitude,
      gpsAccuracy: meta.gpsAccuracy,
      gpsDop: meta.gpsDop,
      headingSource: meta.headingSource,
      captureTimeSource: meta.captureTimeSource,
      cameraTimeOffset: meta.cameraTimeOffset,
      cameraTimeOffsetSource: meta.cameraTimeOffsetSource,
      timeZone: meta.timeZone,
      magneticDeclination: meta.magneticDeclination,
      crop: meta.crop,
      tiles: meta.projection === 'equirectangular' ? tileGrid(probe.uprightWidth, probe.uprightHeight) : null,
      overridden: [...(overrides.capturedAt ? ['capture_time'] : []), ...(overrides.lon !== undefined ? ['position'] : [])],
      warnings: meta.warnings,
    };
    return {
      id: input.pictureId,
      sourceKind: input.source.kind,
      sourceId: input.source.id,
      ownerId: input.ownerId,
      status: 'pending',
      fileName: input.fileName,
      size: input.size,
      sha256: input.sha256,
      sourceKey: input.storageKey,
      isBlurred: input.isBlurred ?? false,
      width: probe.uprightWidth,
      height: probe.uprightHeight,
      orientation: probe.orientation,
      projection: meta.projection,
      capturedAt: meta.capturedAt!,
      gpsTime: meta.gpsTime,
      cameraTime: meta.cameraTime,
      geom: point(meta.lon!, meta.lat!),
      heading: meta.heading,
      metadata: metadata as Record<string, unknown>,
      processGeneration: 1,
    };
  }

  /**
   * Records a checked picture in `manager`'s transaction; a concurrent duplicate is a
   * PictureIntakeRejection, after which the transaction is aborted: callers let it roll back.
   */
  async record(draft: PictureDraft, manager: EntityManager): Promise<void> {
    try {
      await this.pictures.insert(draft, manager);
    } catch (error) {
      const e = error as { code?: string; constraint?: string; detail?: string };
      if (e.code === UNIQUE_VIOLATION && /sha256/.test(e.constraint ?? String(e.detail))) {
        throw new PictureIntakeRejection('file_duplicate', HttpStatus.CONFLICT, 'The same file was already uploaded', null, 'info');
      }
      throw error;
    }
  }

  /** Queues the processing of a recorded picture (the reconciler queues it should this fail). */
  async enqueue(pictureId: string): Promise<void> {
    await this.jobs
      .add(JobName.PictureProcess, { pictureId, generation: 1 })
      .catch((error: Error) => this.logger.warn({ err: error.message }, 'picture not queued; the reconciler will'));
  }

  /** The metadata part of a stored JPEG (see readJpegHeaderFrom); a file's first bytes when it is not one. */
  private async readHead(key: string): Promise<Buffer> {
    const path = this.storage.localPath(key);
    if (path) return readJpegHeader(path);
    return readJpegHeaderFrom((position, size) => this.readRange(key, position, size));
  }

  /** Whether the stored file ends with a JPEG end-of-image marker. */
  private async endsWithEoi(key: string): Promise<boolean> {
    const stat = await this.storage.stat(key);
    if (!stat || stat.size < 2) return false;
    const tail = await this.readRange(key, stat.size - 2, 2);
    return tail[0] === 0xff && tail[1] === 0xd9;
  }

  /** Up to `size` bytes of a stored object from `position` (fewer at its end, none past it). */
  private async readRange(key: string, position: number, size: number): Promise<Buffer> {
    const chunks: Buffer[] = [];
    let length = 0;
    for await (const chunk of await this.storage.get(key, { start: position, end: position + size - 1 })) {
      chunks.push(chunk as Buffer);
      length += (chunk as Buffer).length;
    }
    return Buffer.concat(chunks, length).subarray(0, size);
  }
}
