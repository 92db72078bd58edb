import { Inject, Injectable, Logger } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { UnrecoverableError } from 'bullmq';
import { DataSource } from 'typeorm';
import { CatalogService } from '../catalog/catalog.service.js';
import { pictureKey, picturePrefix, pictureTileKey } from './picture-storage.js';
import { AppConfig } from '../config/app-config.js';
import { MediaService } from '../media/media.service.js';
import { Derivatives, InvalidPictureError } from '../media/media.types.js';
import { JobQueueService } from '../queue/job-queue.service.js';
import { JobName, JobPayloads, JOBS } from '../queue/queue.constants.js';
import { OnJob } from '../queue/queue.decorators.js';
import type { JobContext } from '../queue/queue.types.js';
import { StorageService } from '../storage/storage.service.js';
import { StorageNotFoundError } from '../storage/storage.types.js';
import { BlurInput, BlurProvider, BlurRefusedError } from './blur/blur-provider.js';
import { PictureSources, type PictureSourceRef } from './picture-source.js';
import { type ClaimedPicture, PicturesRepository } from './pictures.repository.js';

const sourceOf = (picture: Pick<ClaimedPicture, 'sourceKind' | 'sourceId'>): PictureSourceRef => ({ kind: picture.sourceKind, id: picture.sourceId });

/** The stored original is gone (e.g. a temporary file cleaned after a long outage): nothing to retry. */
class MissingOriginalError extends Error {}

const errorText = (error: unknown) => ((error as Error)?.message ?? String(error)).split('\n')[0]!.slice(0, 1000);

/**
 * The `pictures` queue: blur (unless off or already blurred) → `hd` → derivatives → `ready`.
 * Each step checks the row first, so a run after a crash redoes only what is missing, and
 * the end is one guarded transition: a picture becomes `ready` once per processing generation.
 */
@Injectable()
export class PictureProcessor {
  private readonly logger = new Logger(PictureProcessor.name);

  constructor(
    private readonly pictures: PicturesRepository,
    private readonly storage: StorageService,
    private readonly media: MediaService,
    private readonly collections: CatalogService,
    private readonly sources: PictureSources,
    private readonly jobs: JobQueueService,
    private readonly config: AppConfig,
    @Inject(BlurProvider) private readonly blur: BlurProvider,
    @InjectDataSource() private readonly db: DataSource,
  ) {}

  private get maxAttempts(): number {
    return JOBS[JobName.PictureProcess].attempts ?? this.config.JOB_ATTEMPTS;
  }

  @OnJob(JobName.PictureProcess)
  async process(payload: JobPayloads[JobName.PictureProcess], context: JobContext) {
    const { pictureId, generation } = payload;
    const picture = await this.pictures.claim(pictureId, generation);
    if (!picture) return { skipped: 'nothing to do' };
    // Runs that never reach an end (the worker killed each time, e.g. out of memory) are counted too.
    if (picture.attempts > this.maxAttempts * 2) {
      await this.fail(picture, generation, `gave up after ${picture.attempts - 1} runs that did not finish`, true);
      return { broken: true };
    }
    try {
      await this.storeHd(picture, context.signal);
      if (!(await this.deriveInPlace(picture))) {
        const derived = await this.derive(picture);
        await this.writeDerivatives(picture.id, derived, context.signal);
      }
      await this.finish(picture, generation);
      return { ready: true, blurred: picture.blurred };
    } catch (error) {
      if (error instanceof InvalidPictureError) {
        await this.reject(picture, error.message);
        return { rejected: 'invalid_file' };
      }
      const permanent = error instanceof BlurRefusedError || error instanceof MissingOriginalError;
      const final = permanent || context.attempt >= this.maxAttempts;
      await this.fail(picture, generation, errorText(error), final);
      if (permanent) throw new UnrecoverableError(errorText(error));
      throw error;
    }
  }

  /** Whether the public `hd` loses the upload's private metadata (PICTURE_HD_METADATA). */
  private get stripPrivate(): boolean {
    return this.config.PICTURE_HD_METADATA === 'strip-private';
  }

  /**
   * Writes the permanent `hd`: the blurred picture when blurring applies, else the upload itself;
   * without its private metadata when the instance says so.
   */
  private async storeHd(picture: ClaimedPicture, signal: AbortSignal): Promise<void> {
    const hdKey = pictureKey(picture.id, 'hd');
    const needBlur = this.blur.enabled && !picture.isBlurred && !picture.blurred;
    if (picture.hdStoredAt && !needBlur) {
      // A reprocess applies a setting changed since: the stored hd is stripped if it was not.
      if (this.stripPrivate) await this.stripStoredHd(hdKey);
      return this.dropSource(picture);
    }
    // A re-blur starts from the stored hd; a first run from the temporary original.
    const sourceKey = picture.sourceKey ?? (picture.hdStoredAt ? hdKey : null);
    if (!needBlur && !this.stripPrivate && sourceKey && sourceKey !== hdKey) {
      // The upload itself becomes hd: a rename, not a copy, where storage allows it. The row
      // records it when the run ends (markReady); a run stopped before finds hd in place below.
      try {
        await this.storage.move(sourceKey, hdKey);
      } catch (error) {
        if (!(error instanceof StorageNotFoundError)) throw error;
        return this.adoptStoredHd(picture, hdKey);
      }
      picture.hdStoredAt = new Date();
      // Moved: nothing is left at the original's key.
      picture.sourceKey = null;
      return;
    }
    if (!sourceKey || !(await this.storage.stat(sourceKey))) {
      if (!needBlur && sourceKey && sourceKey !== hdKey) return this.adoptStoredHd(picture, hdKey);
      throw new MissingOriginalError('The uploaded original is no longer available');
    }
    if (needBlur) {
      const input = await this.readInput(sourceKey);
      const outcome = await this.blur.blur(input, signal);
      let image: Buffer;
      if (outcome.kind === 'image') {
        image = outcome.image;
        try {
          await this.media.assertDecodableJpeg(image);
        } catch (error) {
          // The service's answer is bad, not the user's file: worth another attempt.
          throw new Error(`blur service answered an unusable picture: ${errorText(error)}`, { cause: error });
        }
      } else {
        image = await this.media.blurRegions(input.path ?? input.buffer!, outcome.boxes);
      }
      if (this.stripPrivate) image = (await this.media.withoutPrivateMetadata(image)).jpeg;
      await this.storage.put(hdKey, image);
      picture.blurred = true;
      await this.pictures.markHdStored(picture.id, { blurred: true, blurMetadata: outcome.metadata });
    } else {
      const input = await this.readInput(sourceKey);
      await this.storage.put(hdKey, (await this.media.withoutPrivateMetadata(input.path ?? input.buffer!)).jpeg);
      await this.pictures.markHdStored(picture.id, { blurred: picture.blurred });
    }
    picture.hdStoredAt = new Date();
    // The row no longer names the original (markHdStored cleared it); a crash before this
    // delete leaves a file under tmp/ that the scheduled temp cleanup removes.
    if (picture.sourceKey && picture.sourceKey !== hdKey) await this.storage.delete(picture.sourceKey);
    picture.sourceKey = null;
  }

  /** The original is gone from its temporary key: a run that moved it into place and stopped before recording it. */
  private async adoptStoredHd(picture: ClaimedPicture, hdKey: string): Promise<void> {
    if (!(await this.storage.stat(hdKey))) throw new MissingOriginalError('The uploaded original is no longer available');
    await this.pictures.markHdStored(picture.id, { blurred: picture.blurred });
    picture.hdStoredAt = new Date();
    picture.sourceKey = null;
  }

  private async stripStoredHd(hdKey: string): Promise<void> {
    const input = await this.readInput(hdKey);
    const { jpeg, changed } = await this.media.withoutPrivateMetadata(input.path ?? input.buffer!);
    if (changed) await this.storage.put(hdKey, jpeg);
  }

  /** A temporary original left by a run that stopped after writing `hd`. */
  private async dropSource(picture: ClaimedPicture): Promise<void> {
    if (!picture.sourceKey) return;
    await this.storage.delete(picture.sourceKey);
    await this.pictures.clearSource(picture.id);
    picture.sourceKey = null;
  }

  private async readInput(key: string): Promise<BlurInput> {
    const path = this.storage.localPath(key);
    if (path) return { path };
    const chunks: Buffer[] = [];
    for await (const chunk of await this.storage.get(key)) chunks.push(chunk as Buffer);
    return { buffer: Buffer.concat(chunks) };
  }

  private async derive(picture: ClaimedPicture): Promise<Derivatives> {
    const input = await this.readInput(pictureKey(picture.id, 'hd'));
    return this.media.derive(input.path ?? input.buffer!, picture.projection);
  }

  /**
   * On local storage, a perspective picture's sd and thumb are written by libvips into scratch
   * files and moved into place; false when that does not apply (an object store, a 360°).
   */
  private async deriveInPlace(picture: ClaimedPicture): Promise<boolean> {
    if (picture.projection === 'equirectangular') return false;
    const hd = this.storage.localPath(pictureKey(picture.id, 'hd'));
    if (!hd) return false;
    const sd = await this.storage.scratchFile('.jpg');
    if (!sd) return false;
    const scratch = [sd];
    try {
      const thumb = await this.storage.scratchFile('.jpg');
      if (!thumb) return false;
      scratch.push(thumb);
      await this.media.derivePerspectiveFiles(hd, { sd: sd.path, thumb: thumb.path });
      await this.storage.move(sd.key, pictureKey(picture.id, 'sd'));
      await this.storage.move(thumb.key, pictureKey(picture.id, 'thumb'));
      scratch.length = 0;
      return true;
    } finally {
      // What was not moved into place (a failure midway) goes.
      for (const file of scratch) await this.storage.delete(file.key).catch(() => undefined);
    }
  }

  private async writeDerivatives(id: string, derived: Derivatives, signal: AbortSignal): Promise<void> {
    const writes: [string, Buffer][] = [
      [pictureKey(id, 'sd'), derived.sd],
      [pictureKey(id, 'thumb'), derived.thumb],
      ...(derived.tiles?.tiles ?? []).map((t): [string, Buffer] => [pictureTileKey(id, t.col, t.row), t.data]),
    ];
    for (let i = 0; i < writes.length; i += 8) {
      signal.throwIfAborted();
      await Promise.all(writes.slice(i, i + 8).map(([key, data]) => this.storage.put(key, data)));
    }
  }

  /** `ready` (and its item too), unless the picture was rejected or deleted meanwhile. */
  private async finish(picture: ClaimedPicture, generation: number): Promise<void> {
    const done = await this.db.transaction(async (manager) => {
      const ok = await this.pictures.markReady(picture.id, generation, manager);
      if (ok) await this.collections.setItemStatus(picture.id, 'ready', manager);
      return ok;
    });
    if (!done) {
      const now = await this.pictures.find(picture.id);
      // Rejected or deleted while this run worked: what it wrote must not stay.
      if (!now || now.status === 'rejected' || now.status === 'deleting') await this.storage.deletePrefix(picturePrefix(picture.id));
      return;
    }
    await this.sources.settled(sourceOf(picture));
  }

  private async fail(picture: ClaimedPicture, generation: number, message: string, final: boolean): Promise<void> {
    await this.db.transaction(async (manager) => {
      const ok = await this.pictures.markFailed(picture.id, generation, message, final, manager);
      if (ok && final) await this.collections.setItemStatus(picture.id, 'broken', manager);
    });
    if (final) {
      this.logger.warn({ pictureId: picture.id, err: message }, 'picture broken');
      await this.sources.settled(sourceOf(picture));
    }
  }

  /** The file cannot be decoded: an `invalid_file` rejection, and the picture goes. */
  private async reject(picture: ClaimedPicture, message: string): Promise<void> {
    await this.db.transaction(async (manager) => {
      await this.pictures.markForRemoval([picture.id], 'rejected', manager);
      const source = sourceOf(picture);
      await this.sources.rejected(
        source,
        [{ pictureId: picture.id, reason: 'invalid_file', severity: 'error', message: `The picture cannot be decoded: ${message}`, details: null }],
        manager,
      );
      await this.collections.deleteItem(picture.id, manager);
      if (picture.sequenceId) {
        if (source.id) await this.sources.reprocessed([source], manager);
        // A sequence left without pictures goes too.
        if (!(await this.pictures.sequenceHasPictures(picture.sequenceId, manager))) await this.collections.deleteCollection(picture.sequenceId, manager);
      }
    });
    await this.jobs.add(JobName.PictureDelete, { pictureId: picture.id });
    await this.sources.settled(sourceOf(picture));
  }

  @OnJob(JobName.PictureDelete)
  async remove(payload: JobPayloads[JobName.PictureDelete]) {
    const picture = await this.pictures.find(payload.pictureId);
    if (!picture || (picture.status !== 'rejected' && picture.status !== 'deleting')) return { skipped: true };
    const files = await this.storage.deletePrefix(picturePrefix(picture.id));
    if (picture.sourceKey) await this.storage.delete(picture.sourceKey);
    await this.collections.deleteItem(picture.id);
    await this.pictures.deleteRow(picture.id);
    return { files };
  }
}
