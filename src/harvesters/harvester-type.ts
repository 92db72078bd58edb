import { SetMetadata } from '@nestjs/common';
import type { Geometry } from '../database/geometry.js';
import type { RemoteHttp } from './remote-http.js';

export const HARVESTER_TYPE = Symbol('sightline:harvester-type');

/**
 * Marks a provider as a harvester type (see HarvesterType); the registry finds every marked
 * provider when the application starts.
 */
export const HarvesterTypeProvider = (): ClassDecorator => SetMetadata(HARVESTER_TYPE, true);

/** A remote unit a person can select for harvesting, as discovery found it. */
export interface RemoteResource {
  /** The remote's identifier of it: stable across renames. */
  remoteId: string;
  title: string;
  /** The remote kind (`stac-collection`, `dataset`, `map`, `csw-records`…). */
  type: string;
  remoteUrl?: string | null;
  /** What the remote says of it (kept, and used to describe the local collection). */
  description?: Record<string, unknown>;
}

/** How a resource's local collection is described. */
export interface LocalCollection {
  title: string;
  description?: string | null;
  keywords?: string[];
  /** SPDX id, `other` or `proprietary`; the instance's content license is not applied to remote content. */
  license?: string;
  providers?: unknown[];
  /** The remote's declared extent, when it has one (else the local items' box is used). */
  geometry?: Geometry | null;
  datetimeStart?: Date | null;
  datetimeEnd?: Date | null;
  summaries?: Record<string, unknown>;
  /** Further STAC collection fields (extensions' fields, links the remote gives…). */
  properties?: Record<string, unknown>;
}

/** A link of a harvested STAC item. */
export interface RemoteLink {
  rel: string;
  href: string;
  type?: string;
  title?: string;
}

/** One remote record mapped to a STAC item (without id and collection: those are local). */
export interface RemoteRecord {
  /** The remote's identifier: records are matched by it, never by title. */
  remoteId: string;
  /** The record's own address: the local item's `via` link. */
  remoteUrl: string | null;
  /** The remote's last-modified time of the record (ISO 8601), when it says. */
  remoteUpdated?: string | null;
  geometry: Geometry | null;
  /** STAC properties (datetime or start/end_datetime included). */
  properties: Record<string, unknown>;
  /** STAC assets with absolute hrefs. */
  assets?: Record<string, Record<string, unknown>>;
  /** The remote's other links (self, root, parent, collection and items are replaced by local ones). */
  links?: RemoteLink[];
  stac_extensions?: string[];
  /** What the content hash is computed over (default: the record above); volatile fields left out. */
  content?: unknown;
}

/** A record that could not be read or mapped: recorded as failed, the listing goes on. */
export interface RemoteRecordFailure {
  remoteId: string;
  error: string;
  /** `fetch`, `parse` or `map`. */
  stage: string;
}

/** A record the remote says has not changed (a 304 to a conditional GET): kept as it is. */
export interface RemoteRecordUnchanged {
  remoteId: string;
}

export type Listed = { record: RemoteRecord } | { failure: RemoteRecordFailure } | { unchanged: RemoteRecordUnchanged };

/** Validators of a remote file fetched before (see HarvestContext.validators). */
export interface FileValidators {
  etag: string | null;
  lastModified: string | null;
  /** The remote id of the record the file holds. */
  remoteId?: string | null;
  /** What the type keeps of the file (small index files: their links). */
  data?: unknown;
}

/** How a listing ended. */
export interface ListingEnd {
  /**
   * Every remote record of the resource was listed (not an incremental run, no page failed):
   * records absent from it may be counted missing.
   */
  exhaustive: boolean;
  /** The new watermark (the latest remote `updated` seen), saved only if the run succeeds. */
  watermark?: string | null;
}

/** What a type's code may use while it runs. */
export interface HarvestContext {
  /** The polite HTTP client (per-host limits, retries, deny list, size limits); pass `signal` on. */
  http: RemoteHttp;
  /** Aborted when the session is cancelled or its worker stops. */
  signal: AbortSignal;
  harvester: { id: string; name: string; url: string; config: Record<string, unknown> };
  log(message: string, level?: 'info' | 'warn' | 'error'): Promise<void>;
  /** Per-harvester store of the validators of remote files, for conditional GETs (saved at once, even in a dry run). */
  validators: {
    get(url: string): Promise<FileValidators | null>;
    set(url: string, validators: FileValidators): Promise<void>;
  };
}

export interface HarvestOptions {
  /** The resource's watermark: records updated since (minus the type's overlap) are enough. */
  since: string | null;
  /** Everything, ignoring the watermark. */
  full: boolean;
}

/**
 * A kind of remote catalog (remote STAC API, static STAC catalog, GeoNode, CSW). Its code reads
 * the remote; the harvesting engine stores, compares, counts, deletes and schedules.
 */
export interface HarvesterType {
  /** Short identifier (`stac-api`, `geonode`…). */
  readonly id: string;
  readonly title: string;
  readonly description: string;
  /** JSON schema (draft 2020-12 subset: object) of the type's `config`; published. */
  readonly configSchema: Record<string, unknown>;
  /** Whether the remote answers as this type expects. */
  check(ctx: HarvestContext): Promise<{ available: boolean; message: string }>;
  /** Lists the remote's harvestable resources; throws when the listing cannot be completed. */
  discover(ctx: HarvestContext): AsyncIterable<RemoteResource>;
  /** Describes the local collection of a resource. */
  collection(resource: RemoteResource): LocalCollection;
  /** Lists a resource's records, page by page (never all in memory). */
  harvest(ctx: HarvestContext, resource: RemoteResource, options: HarvestOptions): AsyncGenerator<Listed, ListingEnd>;
  /**
   * Lists every remote id of a resource cheaply, to find deletions after incremental runs; types
   * whose harvest always lists everything need not implement it.
   */
  listIds?(ctx: HarvestContext, resource: RemoteResource): AsyncGenerator<string, { complete: boolean }>;
}
