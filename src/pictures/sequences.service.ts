import { Injectable, Logger } from '@nestjs/common';
import { EntityManager } from 'typeorm';
import type { Visibility } from '../auth/visibility.js';
import { CatalogService, DESCRIPTION_GENERATED, type CollectionDraft } from '../catalog/catalog.service.js';
import type { StoredLink } from '../catalog/catalog.types.js';
import type { Geometry } from '../database/geometry.js';
import { JobQueueService } from '../queue/job-queue.service.js';
import { JobName } from '../queue/queue.constants.js';
import type { JobContext } from '../queue/queue.types.js';
import { StorageService } from '../storage/storage.service.js';
import { pictureItemAssets, pictureItemProperties } from './picture-item.js';
import type { Picture } from './picture.entity.js';
import { picturePrefix } from './picture-storage.js';
import { PictureSources, type PictureSourceRef } from './picture-source.js';
import { PicturesRepository } from './pictures.repository.js';
import { dispatchPictures, type DispatchParams, type DispatchPicture, type DispatchReport, type SortMethod } from './sequence-dispatch.js';
import { pathGeometry, pathHeadings } from './sequence-geometry.js';

const withoutKey = (o: Record<string, unknown>, key: string) => Object.fromEntries(Object.entries(o).filter(([k]) => k !== key));

const escapeRegExp = (s: string) => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

const itemStatus = (p: Picture) => (p.status === 'ready' ? 'ready' : p.status === 'broken' ? 'broken' : 'pending');

/** The catalog's vocabulary for a sort method (`time-asc` → `time_asc`), as collection editing writes it. */
export const catalogSortMethod = (method: SortMethod) => method.replace('-', '_');

/** Sequences are ordered collections whose extent is the line through their pictures. */
const SEQUENCE: Pick<CollectionDraft, 'kind' | 'extent' | 'ordered'> = { kind: 'sequence', extent: 'items-line', ordered: true };

function toDispatchPicture(p: Picture): DispatchPicture {
  return {
    id: p.id,
    fileName: p.fileName,
    lon: p.geom.coordinates[0]!,
    lat: p.geom.coordinates[1]!,
    capturedAt: new Date(p.capturedAt),
    gpsTime: p.gpsTime ? new Date(p.gpsTime) : null,
    cameraTime: p.cameraTime ? new Date(p.cameraTime) : null,
    heading: p.heading,
    projection: p.projection,
  };
}

const DAY = new Intl.DateTimeFormat('en-GB', { day: 'numeric', month: 'long', year: 'numeric', timeZone: 'UTC' });
const HOUR = new Intl.DateTimeFormat('en-GB', { hour: '2-digit', minute: '2-digit', hour12: false, timeZone: 'UTC' });

/**
 * What a sequence is, in a sentence: how many pictures, when, with which camera, by whom, e.g.
 * "30 pictures taken on 1 June 2021 between 10:00 and 10:05 UTC with a GoPro MAX, by Alice."
 */
export function describeSequence(ready: Pick<Picture, 'capturedAt' | 'metadata' | 'projection'>[], producer?: string): string {
  if (!ready.length) return 'A sequence whose pictures could not be processed.';
  const times = ready.map((p) => new Date(p.capturedAt).getTime()).sort((a, b) => a - b);
  const [first, last] = [new Date(times[0]!), new Date(times[times.length - 1]!)];
  const when =
    DAY.format(first) !== DAY.format(last)
      ? `from ${DAY.format(first)} to ${DAY.format(last)}`
      : HOUR.format(first) === HOUR.format(last)
        ? `on ${DAY.format(first)} at ${HOUR.format(first)} UTC`
        : `on ${DAY.format(first)} between ${HOUR.format(first)} and ${HOUR.format(last)} UTC`;
  const cameras = new Map<string, number>();
  for (const p of ready) {
    const m = p.metadata as { make?: string | null; model?: string | null };
    const name = [m.make, m.model].filter((v): v is string => !!v?.trim()).join(' ');
    if (name) cameras.set(name, (cameras.get(name) ?? 0) + 1);
  }
  const camera = [...cameras.entries()].sort((a, b) => b[1] - a[1])[0]?.[0];
  const kind = ready.every((p) => p.projection === 'equirectangular') ? '360° pictures' : 'pictures';
  const what = ready.length === 1 ? (kind === 'pictures' ? '1 picture' : '1 360° picture') : `${ready.length} ${kind}`;
  return `${what} taken ${when}${camera ? ` with a ${camera}` : ''}${producer ? `, by ${producer}` : ''}.`;
}

/** What a source puts on its pictures' items besides the pipeline's fields (a drone photo: its ground footprint). */
export interface ItemDecoration {
  /** Replaces the picture's point. */
  geometry?: Geometry;
  /** Merged over the picture's properties. */
  properties?: Record<string, unknown>;
  stacExtensions?: string[];
  /** Hrefs may be relative to the API root. */
  links?: StoredLink[];
}

/** How a batch of pictures becomes sequences. */
export interface SequencingOptions {
  /** The sequences' title; numbered (`title-1`, `title-2`…) when the batch splits. */
  title: string;
  ownerId: string | null;
  visibility: Visibility;
  /** Sorting, splitting and de-duplication. */
  params: DispatchParams;
  /** Degrees added to the direction of travel for derived headings (0 = forward). */
  relativeHeading: number;
  /** Further collection properties the source wants on its sequences (e.g. its own id). */
  properties?: Record<string, unknown>;
  /** License of the sequences; undefined: the instance's content license. */
  license?: string;
  /** The source's decoration of these pictures' items, by picture id (applied by cut and finalize). */
  decorate?(pictureIds: string[]): Promise<Map<string, ItemDecoration>>;
}

type FinalizeOptions = Pick<SequencingOptions, 'relativeHeading' | 'params' | 'properties' | 'decorate'>;

/** An item's fields with a source's decoration applied. */
function decorated(p: Picture, properties: Record<string, unknown>, d: ItemDecoration | undefined) {
  return {
    geometry: d?.geometry ?? p.geom,
    properties: d?.properties ? { ...properties, ...d.properties } : properties,
    ...(d?.links ? { links: d.links } : {}),
    ...(d?.stacExtensions ? { extensions: d.stacExtensions } : {}),
  };
}

/**
 * Cuts a batch of pictures (an upload set, a flight…) into sequences and publishes them through
 * the catalog: sorted, split where time or distance jump, capture duplicates rejected; then,
 * once every picture is processed, the headings from the path, the line and the extents.
 */
@Injectable()
export class SequencesService {
  private readonly logger = new Logger(SequencesService.name);

  constructor(
    private readonly pictures: PicturesRepository,
    private readonly catalog: CatalogService,
    private readonly sources: PictureSources,
    private readonly storage: StorageService,
    private readonly jobs: JobQueueService,
  ) {}

  private collectionProperties(options: Pick<SequencingOptions, 'relativeHeading' | 'params' | 'properties'>): Record<string, unknown> {
    return { ...options.properties, relative_heading: options.relativeHeading, sort_method: catalogSortMethod(options.params.sortMethod) };
  }

  /**
   * Cuts the batch into sequences in `manager`'s transaction (the pictures locked): sequences
   * already holding some of its pictures keep their id, edits and links. Call `afterCut` with
   * the result once the transaction commits.
   */
  async cut(ref: PictureSourceRef, options: SequencingOptions, manager: EntityManager): Promise<{ report: DispatchReport; duplicateIds: string[] }> {
    // Locking the pictures orders this against their processing runs: a run that ends
    // meanwhile updates an item this transaction has created (or creates none to update).
    const pictures = await this.pictures.ofSource(ref, manager, { lock: true });
    const byId = new Map(pictures.map((p) => [p.id, p]));
    const report = dispatchPictures(pictures.map(toDispatchPicture), options.params);

    // Duplicates: rejected, removed from any sequence, their files deleted after the commit.
    const duplicateIds = report.duplicates.map((d) => d.picture.id);
    for (const id of duplicateIds) if (byId.get(id)!.sequenceId) await this.catalog.deleteItem(id, manager);
    await this.pictures.markForRemoval(duplicateIds, 'rejected', manager);
    await this.sources.rejected(
      ref,
      report.duplicates.map((d) => ({
        pictureId: d.picture.id,
        reason: 'capture_duplicate',
        severity: 'info',
        message: 'The picture is too similar to another one of its sequence (nearby and looking the same way)',
        details: { duplicate_of: d.duplicateOf.id, duplicate_of_file: d.duplicateOf.fileName, distance: d.distance, angle: d.angle },
      })),
      manager,
    );

    const previous = new Set(pictures.map((p) => p.sequenceId).filter((s): s is string => !!s));
    const reused = new Set<string>();
    const numbered = report.sequences.length > 1;
    const properties = this.collectionProperties(options);
    for (const [index, sequence] of report.sequences.entries()) {
      const members = sequence.map((d) => byId.get(d.id)!);
      const existing = members.map((p) => p.sequenceId).find((s): s is string => !!s && !reused.has(s));
      const title = numbered ? `${options.title}-${index + 1}` : options.title;
      let sequenceId: string;
      if (existing) {
        sequenceId = existing;
        // Renumber titles this cut gave; a title the owner changed stays.
        const current = await this.catalog.findCollection(existing, manager);
        const derived = current && (current.title === options.title || new RegExp(`^${escapeRegExp(options.title)}-\\d+$`).test(current.title));
        await this.catalog.updateCollection(sequenceId, { status: 'preparing', visibility: options.visibility, ...(derived ? { title } : {}) }, manager);
      } else {
        const created = await this.catalog.createCollection(
          { ...SEQUENCE, title, ownerId: options.ownerId, visibility: options.visibility, status: 'preparing', properties, license: options.license },
          manager,
        );
        sequenceId = created.id;
      }
      reused.add(sequenceId);
      const fresh: Picture[] = [];
      for (const [i, p] of members.entries()) {
        if (p.sequenceId) await this.catalog.updateItem(p.id, { collectionId: sequenceId, rank: i + 1 }, manager);
        else fresh.push(p);
      }
      const rankOf = new Map(members.map((p, i) => [p.id, i + 1]));
      const decorations = options.decorate && fresh.length ? await options.decorate(fresh.map((p) => p.id)) : undefined;
      await this.catalog.createItems(
        fresh.map((p) => ({
          id: p.id,
          collectionId: sequenceId,
          kind: 'picture',
          ownerId: options.ownerId,
          visibility: options.visibility,
          status: itemStatus(p),
          datetime: p.capturedAt,
          rank: rankOf.get(p.id)!,
          ...decorated(p, pictureItemProperties(p, { value: p.heading, source: p.heading === null ? null : 'exif' }), decorations?.get(p.id)),
          assets: pictureItemAssets(p),
        })),
        manager,
      );
      await this.pictures.assignSequence(
        sequenceId,
        members.map((p) => p.id),
        manager,
      );
    }
    for (const old of previous) if (!reused.has(old)) await this.catalog.deleteCollection(old, manager);
    return { report, duplicateIds };
  }

  /** After the cut committed: the duplicates' files go. */
  async afterCut(duplicateIds: string[]): Promise<void> {
    await this.jobs.addBulk(
      JobName.PictureDelete,
      duplicateIds.map((pictureId) => ({ pictureId })),
    );
  }

  /** Whether some picture of the batch is still waiting for or in processing. */
  async hasUnfinished(ref: PictureSourceRef): Promise<boolean> {
    return ref.id !== null && (await this.pictures.unfinishedSources(ref.kind, [ref.id])).size > 0;
  }

  /** Of these batches of one kind, those with pictures still waiting for or in processing. */
  unfinishedSources(kind: string, ids: string[]): Promise<Set<string>> {
    return this.pictures.unfinishedSources(kind, ids);
  }

  /**
   * Once every picture of the batch is processed, in `manager`'s transaction: headings from the
   * path, ranks without gaps, the line of each sequence, its extents, counts and status.
   * Returns how many sequences were finalised.
   */
  async finalize(ref: PictureSourceRef, options: FinalizeOptions, manager: EntityManager): Promise<number> {
    const pictures = await this.pictures.ofSource(ref, manager, { settledInSequence: true });
    const bySequence = new Map<string, Picture[]>();
    for (const p of pictures) bySequence.set(p.sequenceId!, [...(bySequence.get(p.sequenceId!) ?? []), p]);
    for (const [sequenceId, members] of bySequence) await this.finalizeSequence(sequenceId, members, options, manager);
    return bySequence.size;
  }

  private async finalizeSequence(sequenceId: string, members: Picture[], options: FinalizeOptions, manager: EntityManager): Promise<void> {
    const ready = members.filter((p) => p.status === 'ready');
    const headings = pathHeadings(
      ready.map((p) => ({ lon: p.geom.coordinates[0]!, lat: p.geom.coordinates[1]!, heading: p.heading })),
      options.relativeHeading,
    );
    const headingOf = new Map(ready.map((p, i) => [p.id, headings[i]!]));
    const decorations = options.decorate ? await options.decorate(members.map((p) => p.id)) : undefined;
    for (const [i, p] of members.entries()) {
      const rank = i + 1;
      const h = headingOf.get(p.id) ?? { heading: p.heading, source: p.heading === null ? null : ('exif' as const) };
      const d = decorations?.get(p.id);
      const item = decorated(p, pictureItemProperties(p, { value: h.heading, source: h.source }), d);
      await this.catalog.updateItem(p.id, { rank, status: itemStatus(p), ...(d ? item : { properties: item.properties }), assets: pictureItemAssets(p) }, manager);
      if (p.rank !== rank) await this.pictures.setRank(p.id, rank, manager);
    }
    const geometry = pathGeometry(ready.map((p) => ({ lon: p.geom.coordinates[0]!, lat: p.geom.coordinates[1]! })));
    const current = await this.catalog.findCollection(sequenceId, manager);
    // A description its owner wrote stays; one written here follows the pictures.
    const describe = !current?.description?.trim() || current.properties?.[DESCRIPTION_GENERATED] === true;
    const producer = (current?.providers as { name?: string; roles?: string[] }[] | undefined)?.find((p) => p.roles?.includes('producer'))?.name;
    await this.catalog.updateCollection(
      sequenceId,
      {
        geometry,
        status: ready.length ? 'ready' : 'broken',
        properties: { ...(current?.properties ?? {}), ...this.collectionProperties(options), ...(describe ? { [DESCRIPTION_GENERATED]: true } : {}) },
        ...(describe ? { description: describeSequence(ready, producer) } : {}),
      },
      manager,
    );
    await this.catalog.refreshExtent(sequenceId, { keepGeometry: true }, manager);
  }

  /** The sequences of a batch (and, for the visibility, their items) take this visibility and license. */
  async updateSequences(ref: PictureSourceRef, patch: { visibility?: Visibility; license?: string }, manager: EntityManager): Promise<void> {
    const rows = await this.pictures.inSequences(ref, manager);
    for (const sequenceId of new Set(rows.map((r) => r.sequence_id))) {
      const current = patch.license !== undefined ? await this.catalog.findCollection(sequenceId, manager) : null;
      await this.catalog.updateCollection(
        sequenceId,
        {
          ...(patch.visibility !== undefined ? { visibility: patch.visibility } : {}),
          // A license chosen here replaces the instance's, and the link that came with it.
          ...(patch.license !== undefined ? { license: patch.license, properties: withoutKey(current?.properties ?? {}, 'license_url') } : {}),
        },
        manager,
      );
    }
    if (patch.visibility !== undefined) {
      await this.catalog.updateItems(
        rows.map((r) => r.id),
        { visibility: patch.visibility },
        manager,
      );
    }
  }

  /** Removes a batch: its sequences, then every picture's files, then the rows. */
  async removeSource(ref: PictureSourceRef, context: Pick<JobContext, 'signal' | 'progress'>): Promise<{ pictures: number; files: number }> {
    const rows = await this.pictures.markSourceDeleting(ref);
    for (const sequenceId of new Set(rows.map((r) => r.sequence_id).filter((s): s is string => !!s))) {
      await this.catalog.deleteCollection(sequenceId);
    }
    let files = 0;
    for (const [i, row] of rows.entries()) {
      context.signal.throwIfAborted();
      files += await this.storage.deletePrefix(picturePrefix(row.id));
      if (row.source_key) await this.storage.delete(row.source_key);
      if (i % 50 === 0) await context.progress(Math.round((i / rows.length) * 100));
    }
    await this.pictures.deleteSourceRows(ref);
    this.logger.log({ source: ref, pictures: rows.length, files }, 'pictures of a source removed');
    return { pictures: rows.length, files };
  }
}
