import { Injectable, Logger } from '@nestjs/common';
import { InjectDataSource, InjectRepository } from '@nestjs/typeorm';
import { DataSource, EntityManager, In, Repository } from 'typeorm';
import { Visibility } from '../../auth/visibility.js';
import { CatalogService } from '../../catalog/catalog.service.js';
import { PictureSourceHandler, type PictureRejection, type PictureSource } from '../../pictures/picture-source.js';
import { PicturesService } from '../../pictures/pictures.service.js';
import { SequencesService, type ItemDecoration, type SequencingOptions } from '../../pictures/sequences.service.js';
import { DroneDevice } from '../device.entity.js';
import { DroneMedia } from '../drone-media.entity.js';
import { DroneFlight } from '../flight.entity.js';
import { DroneWorkspace } from '../workspace.entity.js';
import { photoItemDecoration } from './media-coverage.js';
import { aircraftName } from './media-files.js';

/** The picture source kind of drone flights: a flight's photos are one batch. */
export const FLIGHT_SOURCE = 'flight';

const TIME = new Intl.DateTimeFormat('en-GB', { day: 'numeric', month: 'long', year: 'numeric', hour: '2-digit', minute: '2-digit', hour12: false, timeZone: 'UTC' });

/**
 * Drone flights as a source of pictures: a flight's photos become one sequence, titled after the
 * flight, owned by the workspace's owner, private unless its owner published it (the sequence
 * keeps the visibility it was given); items carry the photo's ground footprint and DJI fields.
 */
@Injectable()
@PictureSourceHandler()
export class FlightPictures implements PictureSource {
  readonly pictureSourceKind = FLIGHT_SOURCE;
  private readonly logger = new Logger(FlightPictures.name);

  constructor(
    @InjectRepository(DroneMedia) private readonly media: Repository<DroneMedia>,
    @InjectDataSource() private readonly db: DataSource,
    private readonly sequences: SequencesService,
    private readonly pictures: PicturesService,
    private readonly catalog: CatalogService,
  ) {}

  /** Locks the flight row: cuts and finalisations of one flight take turns. */
  private async lockFlight(flightId: string, manager: EntityManager): Promise<DroneFlight | null> {
    return manager.getRepository(DroneFlight).findOne({ where: { id: flightId }, lock: { mode: 'pessimistic_write' } });
  }

  /** The visibility the flight's sequence has now (its owner may have published it), else private. */
  private async currentVisibility(flightId: string, manager: EntityManager): Promise<Visibility> {
    const placed = await manager.getRepository(DroneMedia).find({ where: { flightId }, select: { pictureId: true }, take: 20 });
    const ids = placed.map((m) => m.pictureId).filter((id): id is string => !!id);
    if (!ids.length) return Visibility.OwnerOnly;
    const sequenceId = (await this.pictures.findMany(ids)).map((p) => p.sequenceId).find((s): s is string => !!s);
    const current = sequenceId ? await this.catalog.findCollection(sequenceId, manager) : null;
    return (current?.visibility as Visibility | undefined) ?? Visibility.OwnerOnly;
  }

  private async sequencing(flight: DroneFlight, manager: EntityManager): Promise<SequencingOptions> {
    const workspace = await manager.getRepository(DroneWorkspace).findOneBy({ id: flight.workspaceId });
    const title = flight.name?.trim() || `Flight of ${flight.deviceSn ?? 'an aircraft'} on ${TIME.format(flight.startedAt)} UTC`;
    return {
      title,
      ownerId: workspace?.ownerId ?? null,
      visibility: await this.currentVisibility(flight.id, manager),
      // One sequence per flight, in capture order; overlapping survey shots are all kept.
      params: { sortMethod: 'time-asc', splitDistance: null, splitTime: null, duplicateDistance: null, duplicateRotation: null },
      relativeHeading: 0,
      properties: { drone_flight_id: flight.id, drone_workspace_id: flight.workspaceId },
      decorate: (pictureIds) => this.decorations(pictureIds, manager),
    };
  }

  /** The STAC decoration of these pictures' items, from their media rows. */
  async decorations(pictureIds: string[], manager?: EntityManager): Promise<Map<string, ItemDecoration>> {
    const repo = manager ? manager.getRepository(DroneMedia) : this.media;
    const rows = pictureIds.length ? await repo.findBy({ pictureId: In(pictureIds) }) : [];
    const sns = [...new Set(rows.map((r) => r.deviceSn).filter((s): s is string => !!s))];
    const devices = sns.length ? await (manager ?? this.db.manager).getRepository(DroneDevice).findBy({ sn: In(sns) }) : [];
    const deviceName = new Map(devices.map((d) => [d.sn, d.modelName ?? aircraftName(d.modelKey)]));
    const out = new Map<string, ItemDecoration>();
    for (const row of rows) {
      const sender = (row.metadata as { sender?: { drone_model_key?: string | null } }).sender;
      const camera = (row.metadata as { camera?: { name?: string | null } }).camera;
      const platform =
        aircraftName(sender?.drone_model_key ?? null) ??
        (row.deviceSn ? deviceName.get(row.deviceSn) : null) ??
        (camera?.name && !/^zenmuse/i.test(camera.name) ? camera.name : null);
      out.set(row.pictureId!, photoItemDecoration(row, platform));
    }
    return out;
  }

  /** Cuts the flight's photos into its sequence (new photos get their items). */
  async cut(flightId: string): Promise<void> {
    const outcome = await this.db.transaction(async (manager) => {
      const flight = await this.lockFlight(flightId, manager);
      if (!flight) return null;
      return this.sequences.cut({ kind: FLIGHT_SOURCE, id: flightId }, await this.sequencing(flight, manager), manager);
    });
    if (outcome) await this.sequences.afterCut(outcome.duplicateIds);
    await this.onPicturesSettled(flightId);
  }

  /** Once none of the flight's photos is waiting or in processing: its sequence is finalised, its media marked ready. */
  async onPicturesSettled(flightId: string | null): Promise<void> {
    if (!flightId) return;
    try {
      await this.markSettled(flightId);
      if (await this.sequences.hasUnfinished({ kind: FLIGHT_SOURCE, id: flightId })) return;
      await this.db.transaction(async (manager) => {
        const flight = await this.lockFlight(flightId, manager);
        if (flight) await this.sequences.finalize({ kind: FLIGHT_SOURCE, id: flightId }, await this.sequencing(flight, manager), manager);
      });
    } catch (error) {
      // The next photo of the flight (or a reprocess) finalises it again.
      this.logger.warn({ flightId, err: (error as Error).message }, 'flight sequence not finalised');
    }
  }

  /** Photos whose picture is ready are `ready`; broken ones `rejected` with the reason. */
  private async markSettled(flightId: string): Promise<void> {
    const waiting = await this.media.find({ where: { flightId, status: 'processing' }, select: { id: true, pictureId: true } });
    const ids = waiting.map((m) => m.pictureId).filter((id): id is string => !!id);
    if (!ids.length) return;
    const pictures = await this.pictures.findMany(ids);
    const ready = pictures.filter((p) => p.status === 'ready').map((p) => p.id);
    const broken = pictures.filter((p) => p.status === 'broken');
    if (ready.length) await this.media.update({ pictureId: In(ready), status: 'processing' }, { status: 'ready', statusMessage: null });
    for (const p of broken) {
      await this.media.update(
        { pictureId: p.id, status: 'processing' },
        { status: 'rejected', statusMessage: `The picture pipeline could not process the photo: ${p.lastError ?? 'unknown error'}` },
      );
    }
  }

  /** Removes the flight's sequence, its pictures and their files. */
  remove(flightId: string, context: { signal: AbortSignal; progress(percent: number): Promise<void> }): Promise<{ pictures: number; files: number }> {
    return this.sequences.removeSource({ kind: FLIGHT_SOURCE, id: flightId }, context);
  }

  async onPicturesRejected(_flightId: string | null, rejections: PictureRejection[], manager: EntityManager): Promise<void> {
    for (const r of rejections) {
      await manager.getRepository(DroneMedia).update({ pictureId: r.pictureId }, { status: 'rejected', statusMessage: `Not published as a picture: ${r.message}` });
    }
  }
}
