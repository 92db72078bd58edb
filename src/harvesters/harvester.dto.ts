import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { Transform, Type } from 'class-transformer';
import {
  ArrayMaxSize,
  IsArray,
  IsBoolean,
  IsIn,
  IsInt,
  IsNumber,
  IsObject,
  IsOptional,
  IsString,
  IsUrl,
  IsUUID,
  Matches,
  Max,
  MaxLength,
  Min,
  MinLength,
  ValidateNested,
} from 'class-validator';
import { Visibility, VISIBILITIES } from '../auth/visibility.js';
import { LinkDto, PageQueryDto } from '../common/pagination.js';
import type { HarvestSessionLog, HarvestSessionRecord, RecordAction } from './harvest-session-record.entity.js';
import { SESSION_STATUSES, SESSION_TYPES, type HarvestSession, type SessionStatus, type SessionType } from './harvest-session.entity.js';
import type { HarvestableResource, ResourceStatus } from './harvestable-resource.entity.js';
import type { HarvesterType } from './harvester-type.js';
import { ASSET_MODES, DELETION_POLICIES, type AssetMode, type DeletionPolicy, type Harvester } from './harvester.entity.js';

const toBool = ({ value }: { value: unknown }) => (value === 'true' || value === '1' ? true : value === 'false' || value === '0' ? false : value);
const RECORD_ACTIONS: RecordAction[] = ['created', 'updated', 'unchanged', 'deleted', 'hidden', 'failed', 'skipped'];
const RESOURCE_STATUSES: ResourceStatus[] = ['available', 'missing', 'harvested', 'failed'];

// ---- requests

export class HarvesterScheduleDto {
  @ApiPropertyOptional({ type: Number, nullable: true, minimum: 1, description: 'Check availability every N minutes (null: never on its own)' })
  @IsOptional()
  @IsInt()
  @Min(1)
  @Max(525600)
  check_every_minutes?: number | null;

  @ApiPropertyOptional({ type: Number, nullable: true, minimum: 1, description: 'Discover harvestable resources every N minutes' })
  @IsOptional()
  @IsInt()
  @Min(1)
  @Max(525600)
  discover_every_minutes?: number | null;

  @ApiPropertyOptional({ type: Number, nullable: true, minimum: 1, description: 'Harvest the selected resources every N minutes' })
  @IsOptional()
  @IsInt()
  @Min(1)
  @Max(525600)
  harvest_every_minutes?: number | null;

  @ApiPropertyOptional({ minimum: 0, maximum: 50, default: 10, description: 'Each period is spread at random by ± this percent' })
  @IsOptional()
  @IsNumber()
  @Min(0)
  @Max(50)
  jitter_percent?: number;

  @ApiPropertyOptional({ minimum: 0, default: 24, description: 'After incremental harvests, list every remote id at most this often (hours; 0 = every run) to find deletions' })
  @IsOptional()
  @IsNumber()
  @Min(0)
  @Max(8760)
  list_ids_every_hours?: number;
}

/** What creating and editing a harvester may set; name and URL are required on creation (class-validator merges inherited rules, so each subclass declares its own). */
class HarvesterFieldsDto {
  @ApiPropertyOptional({ type: 'object', additionalProperties: true, description: "Type-specific settings, checked against the type's config_schema (defaults filled in)" })
  @IsOptional()
  @IsObject()
  config?: Record<string, unknown>;

  @ApiPropertyOptional({ type: String, format: 'uuid', nullable: true, description: 'Owner of the collections and items it creates (default: the creator)' })
  @IsOptional()
  @IsUUID()
  owner_id?: string | null;

  @ApiPropertyOptional({ enum: VISIBILITIES, description: 'Visibility of what it creates' })
  @IsOptional()
  @IsIn(VISIBILITIES)
  visibility?: Visibility;

  @ApiPropertyOptional({ description: 'Scheduled runs happen (actions asked through the API always run)' })
  @IsOptional()
  @IsBoolean()
  enabled?: boolean;

  @ApiPropertyOptional({ type: HarvesterScheduleDto })
  @IsOptional()
  @ValidateNested()
  @Type(() => HarvesterScheduleDto)
  schedule?: HarvesterScheduleDto;

  @ApiPropertyOptional({ enum: DELETION_POLICIES, description: 'What happens to local copies of records that vanished remotely: delete, hide (owner only) or keep' })
  @IsOptional()
  @IsIn(DELETION_POLICIES)
  deletion_policy?: DeletionPolicy;

  @ApiPropertyOptional({ minimum: 1, maximum: 100, default: 2, description: 'Consecutive complete listings a record must be missing from before the policy applies' })
  @IsOptional()
  @IsInt()
  @Min(1)
  @Max(100)
  deletion_grace_runs?: number;

  @ApiPropertyOptional({ minimum: 0, maximum: 100, default: 20, description: 'A run never deletes or hides more than this percent of the harvester’s records' })
  @IsOptional()
  @IsInt()
  @Min(0)
  @Max(100)
  mass_delete_max_percent?: number;

  @ApiPropertyOptional({
    enum: ASSET_MODES,
    default: 'link',
    description:
      'link: assets stay remote links; copy: GeoTIFF / COG assets are also copied into datasets of the owner (up to DATASET_MAX_BYTES each), linked from the item as `alternate`',
  })
  @IsOptional()
  @IsIn(ASSET_MODES)
  asset_mode?: AssetMode;

  @ApiPropertyOptional({ minimum: 1, maximum: 1000, default: 5, description: 'Scheduled runs stop after this many consecutive failed sessions' })
  @IsOptional()
  @IsInt()
  @Min(1)
  @Max(1000)
  disable_after_failures?: number;

  @ApiPropertyOptional({
    enum: ['checking-availability', 'updating-harvestable-resources', 'harvesting-resources', 'aborting-update-harvestable-resources', 'aborting-performing-harvesting'],
    description: "GeoNode's way of starting an action (or aborting the active one): the same as POST …/check, …/discover, …/harvest or cancelling the session",
  })
  @IsOptional()
  @IsIn(['checking-availability', 'updating-harvestable-resources', 'harvesting-resources', 'aborting-update-harvestable-resources', 'aborting-performing-harvesting'])
  status?: string;
}

export class UpdateHarvesterDto extends HarvesterFieldsDto {
  @ApiPropertyOptional({ example: 'Earth Search', maxLength: 200 })
  @IsOptional()
  @IsString()
  @MinLength(1)
  @MaxLength(200)
  name?: string;

  @ApiPropertyOptional({ example: 'https://earth-search.aws.element84.com/v1', description: 'The remote (landing page, catalog file, GeoNode or CSW endpoint)' })
  @IsOptional()
  @IsUrl({ require_tld: false, require_protocol: true, protocols: ['http', 'https'] })
  @MaxLength(2000)
  url?: string;
}

export class CreateHarvesterDto extends HarvesterFieldsDto {
  @ApiProperty({ example: 'Earth Search', maxLength: 200 })
  @IsString()
  @MinLength(1)
  @MaxLength(200)
  name: string;

  @ApiProperty({ example: 'stac-api', description: 'One of GET /api/harvester-types' })
  @IsString()
  @MaxLength(32)
  type: string;

  @ApiProperty({ example: 'https://earth-search.aws.element84.com/v1' })
  @IsUrl({ require_tld: false, require_protocol: true, protocols: ['http', 'https'] })
  @MaxLength(2000)
  url: string;
}

export class ListHarvestersQueryDto extends PageQueryDto {
  @ApiPropertyOptional({ description: 'Name or URL contains' })
  @IsOptional()
  @IsString()
  @MaxLength(200)
  q?: string;
}

export class ActionDto {
  @ApiPropertyOptional({ default: false, description: 'Report what would be created, updated and deleted without changing anything' })
  @IsOptional()
  @IsBoolean()
  dry_run?: boolean;
}

export class HarvestActionDto extends ActionDto {
  @ApiPropertyOptional({ type: [String], format: 'uuid', description: 'Harvest these resources (default: every selected one)' })
  @IsOptional()
  @IsArray()
  @ArrayMaxSize(10000)
  @IsUUID('all', { each: true })
  resource_ids?: string[];

  @ApiPropertyOptional({ default: false, description: 'Ignore the watermark: list and compare every remote record' })
  @IsOptional()
  @IsBoolean()
  full?: boolean;
}

export class ClearActionDto extends ActionDto {
  @ApiPropertyOptional({ default: false, description: 'Also delete the local collections and items (else they stay, no longer updated)' })
  @IsOptional()
  @IsBoolean()
  delete_local?: boolean;

  @ApiPropertyOptional({ type: [String], format: 'uuid', description: 'Clear these resources only' })
  @IsOptional()
  @IsArray()
  @ArrayMaxSize(10000)
  @IsUUID('all', { each: true })
  resource_ids?: string[];
}

export class ListResourcesQueryDto extends PageQueryDto {
  @ApiPropertyOptional({ description: 'Title or remote id contains' })
  @IsOptional()
  @IsString()
  @MaxLength(200)
  q?: string;

  @ApiPropertyOptional({ description: 'Remote kind (stac-collection, layers…)' })
  @IsOptional()
  @IsString()
  @MaxLength(32)
  type?: string;

  @ApiPropertyOptional({ enum: RESOURCE_STATUSES })
  @IsOptional()
  @IsIn(RESOURCE_STATUSES)
  status?: ResourceStatus;

  @ApiPropertyOptional()
  @IsOptional()
  @Transform(toBool)
  @IsBoolean()
  selected?: boolean;
}

export class ResourceSelectionDto {
  @ApiPropertyOptional({ format: 'uuid' })
  @IsOptional()
  @IsUUID()
  id?: string;

  @ApiPropertyOptional({ description: 'The remote id (instead of id)' })
  @IsOptional()
  @IsString()
  @MaxLength(2000)
  remote_id?: string;

  @ApiProperty()
  @IsBoolean()
  selected: boolean;
}

export class ResourceFilterDto {
  @ApiPropertyOptional() @IsOptional() @IsString() @MaxLength(200) q?: string;
  @ApiPropertyOptional() @IsOptional() @IsString() @MaxLength(32) type?: string;
  @ApiPropertyOptional({ enum: RESOURCE_STATUSES }) @IsOptional() @IsIn(RESOURCE_STATUSES) status?: ResourceStatus;
}

export class SelectResourcesDto {
  @ApiPropertyOptional({ type: [ResourceSelectionDto], description: "GeoNode's bulk PATCH: a list of {id or remote_id, selected}" })
  @IsOptional()
  @IsArray()
  @ArrayMaxSize(10000)
  @ValidateNested({ each: true })
  @Type(() => ResourceSelectionDto)
  resources?: ResourceSelectionDto[];

  @ApiPropertyOptional({ type: ResourceFilterDto, description: 'Or: every resource this filter matches (an empty filter: all) gets `selected`' })
  @IsOptional()
  @ValidateNested()
  @Type(() => ResourceFilterDto)
  filter?: ResourceFilterDto;

  @ApiPropertyOptional({ description: 'With `filter`: the value to set' })
  @IsOptional()
  @IsBoolean()
  selected?: boolean;
}

export class ListSessionsQueryDto extends PageQueryDto {
  @ApiPropertyOptional({ format: 'uuid' }) @IsOptional() @IsUUID() harvester_id?: string;
  @ApiPropertyOptional({ enum: SESSION_STATUSES }) @IsOptional() @IsIn(SESSION_STATUSES) status?: SessionStatus;
  @ApiPropertyOptional({ enum: SESSION_TYPES }) @IsOptional() @IsIn(SESSION_TYPES) type?: SessionType;
}

export class CursorQueryDto {
  @ApiPropertyOptional({ description: 'Only entries after this cursor (the `cursor` of the last entry read)' })
  @IsOptional()
  @Matches(/^\d{1,18}$/, { message: 'after must be a cursor returned earlier' })
  after?: string;

  @ApiPropertyOptional({ minimum: 1, maximum: 1000, default: 100 })
  @IsOptional()
  @Type(() => Number)
  @IsInt()
  @Min(1)
  @Max(1000)
  limit?: number;
}

export class SessionRecordsQueryDto extends CursorQueryDto {
  @ApiPropertyOptional({ enum: RECORD_ACTIONS }) @IsOptional() @IsIn(RECORD_ACTIONS) action?: RecordAction;
}

// ---- responses

export class HarvesterTypeDto {
  @ApiProperty({ example: 'stac-api' }) id: string;
  @ApiProperty() title: string;
  @ApiProperty() description: string;
  @ApiProperty({ type: 'object', additionalProperties: true, description: 'JSON schema of the `config` of harvesters of this type' }) config_schema: Record<string, unknown>;
}

export class HarvesterTypeListDto {
  @ApiProperty({ type: [HarvesterTypeDto] }) types: HarvesterTypeDto[];
}

export class CountersDto {
  @ApiProperty() total: number;
  @ApiProperty() done: number;
  @ApiProperty() created: number;
  @ApiProperty() updated: number;
  @ApiProperty() unchanged: number;
  @ApiProperty({ description: 'Deleted or hidden by the deletion policy (clear: local items deleted)' }) deleted: number;
  @ApiProperty() failed: number;
  @ApiProperty() skipped: number;
}

export class HarvestSessionDto {
  @ApiProperty({ format: 'uuid' }) id: string;
  @ApiProperty({ format: 'uuid' }) harvester_id: string;
  @ApiProperty({ enum: SESSION_TYPES }) type: SessionType;
  @ApiProperty({ enum: ['schedule', 'person', 'api'] }) trigger: string;
  @ApiProperty({ type: String, format: 'uuid', nullable: true }) requested_by: string | null;
  @ApiProperty({ enum: SESSION_STATUSES }) status: SessionStatus;
  @ApiProperty() dry_run: boolean;
  @ApiProperty({ type: 'object', additionalProperties: true }) options: Record<string, unknown>;
  @ApiProperty({ type: CountersDto }) counters: CountersDto;
  @ApiProperty({ type: 'object', additionalProperties: true, nullable: true, description: 'Availability, discovered resources, per-resource counts, a dry run’s plan' })
  result: Record<string, unknown> | null;
  @ApiProperty({ type: String, nullable: true }) error: string | null;
  @ApiProperty({ type: String, nullable: true }) runner: string | null;
  @ApiProperty({ type: String, format: 'date-time', nullable: true }) heartbeat_at: string | null;
  @ApiProperty({ type: String, format: 'date-time', nullable: true }) cancel_requested_at: string | null;
  @ApiProperty({ format: 'date-time' }) created_at: string;
  @ApiProperty({ type: String, format: 'date-time', nullable: true }) started_at: string | null;
  @ApiProperty({ type: String, format: 'date-time', nullable: true }) ended_at: string | null;
  @ApiProperty({ type: [LinkDto] }) links: LinkDto[];
}

export class ErrorGroupDto {
  @ApiProperty() error: string;
  @ApiProperty({ type: String, nullable: true, description: 'fetch, parse, map or store' }) stage: string | null;
  @ApiProperty() count: number;
  @ApiProperty({ type: [String], description: 'A few remote ids' }) examples: string[];
}

export class HarvestSessionDetailDto extends HarvestSessionDto {
  @ApiProperty({ type: [ErrorGroupDto], description: 'Failed records grouped by message' }) errors: ErrorGroupDto[];
}

export class HarvestSessionPageDto {
  @ApiProperty({ type: [HarvestSessionDto] }) items: HarvestSessionDto[];
  @ApiProperty() total: number;
  @ApiProperty() page: number;
  @ApiProperty() limit: number;
  @ApiProperty({ type: [LinkDto] }) links: LinkDto[];
}

export class SessionRecordDto {
  @ApiProperty() cursor: string;
  @ApiProperty({ type: String, format: 'uuid', nullable: true }) resource_id: string | null;
  @ApiProperty() remote_id: string;
  @ApiProperty({ enum: RECORD_ACTIONS }) action: RecordAction;
  @ApiProperty({ type: String, format: 'uuid', nullable: true, description: 'The local item' }) item_id: string | null;
  @ApiProperty({ type: String, nullable: true }) content_hash: string | null;
  @ApiProperty({ type: String, nullable: true }) remote_updated: string | null;
  @ApiProperty({ type: String, nullable: true }) error: string | null;
  @ApiProperty({ type: String, nullable: true }) stage: string | null;
  @ApiProperty({ format: 'date-time' }) at: string;
}

export class SessionRecordPageDto {
  @ApiProperty({ type: [SessionRecordDto] }) items: SessionRecordDto[];
  @ApiProperty({ type: String, nullable: true, description: 'Pass as `after` for the next page (null: nothing more yet)' }) next_cursor: string | null;
}

export class SessionLogLineDto {
  @ApiProperty() cursor: string;
  @ApiProperty({ enum: ['info', 'warn', 'error'] }) level: string;
  @ApiProperty() message: string;
  @ApiProperty({ format: 'date-time' }) at: string;
}

export class SessionLogPageDto {
  @ApiProperty({ type: [SessionLogLineDto] }) items: SessionLogLineDto[];
  @ApiProperty({ type: String, nullable: true }) next_cursor: string | null;
}

export class HarvesterDto {
  @ApiProperty({ format: 'uuid' }) id: string;
  @ApiProperty() name: string;
  @ApiProperty() type: string;
  @ApiProperty() url: string;
  @ApiProperty({ type: 'object', additionalProperties: true }) config: Record<string, unknown>;
  @ApiProperty({ type: String, format: 'uuid', nullable: true }) owner_id: string | null;
  @ApiProperty({ enum: VISIBILITIES }) visibility: Visibility;
  @ApiProperty() enabled: boolean;
  @ApiProperty({ type: String, nullable: true, description: 'Why scheduled runs stopped on their own' }) disabled_reason: string | null;
  @ApiProperty({ type: HarvesterScheduleDto }) schedule: HarvesterScheduleDto;
  @ApiProperty({ enum: DELETION_POLICIES }) deletion_policy: DeletionPolicy;
  @ApiProperty() deletion_grace_runs: number;
  @ApiProperty() mass_delete_max_percent: number;
  @ApiProperty({ enum: ASSET_MODES }) asset_mode: AssetMode;
  @ApiProperty() disable_after_failures: number;
  @ApiProperty() consecutive_failures: number;
  @ApiProperty({ enum: ['unknown', 'available', 'unavailable'] }) availability: string;
  @ApiProperty({ type: String, nullable: true }) availability_message: string | null;
  @ApiProperty({ type: String, format: 'date-time', nullable: true }) last_checked_at: string | null;
  @ApiProperty({ type: String, format: 'date-time', nullable: true }) last_discovered_at: string | null;
  @ApiProperty({ type: String, format: 'date-time', nullable: true }) last_harvested_at: string | null;
  @ApiProperty({ type: String, format: 'date-time', nullable: true }) next_check_at: string | null;
  @ApiProperty({ type: String, format: 'date-time', nullable: true }) next_discover_at: string | null;
  @ApiProperty({ type: String, format: 'date-time', nullable: true }) next_harvest_at: string | null;
  @ApiProperty({ description: "GeoNode's status: ready, or the action of the active session" }) status: string;
  @ApiProperty({ type: HarvestSessionDto, nullable: true, description: 'The queued, running or cancelling session' }) active_session: HarvestSessionDto | null;
  @ApiProperty({ format: 'date-time' }) created_at: string;
  @ApiProperty({ format: 'date-time' }) updated_at: string;
  @ApiProperty({ type: [LinkDto] }) links: LinkDto[];
}

export class HarvesterPageDto {
  @ApiProperty({ type: [HarvesterDto] }) items: HarvesterDto[];
  @ApiProperty() total: number;
  @ApiProperty() page: number;
  @ApiProperty() limit: number;
  @ApiProperty({ type: [LinkDto] }) links: LinkDto[];
}

export class HarvestableResourceDto {
  @ApiProperty({ format: 'uuid' }) id: string;
  @ApiProperty() remote_id: string;
  @ApiProperty() title: string;
  @ApiProperty() type: string;
  @ApiProperty({ type: String, nullable: true }) remote_url: string | null;
  @ApiProperty() selected: boolean;
  @ApiProperty({ enum: RESOURCE_STATUSES }) status: ResourceStatus;
  @ApiProperty({ type: String, format: 'date-time', nullable: true }) last_seen_at: string | null;
  @ApiProperty({ type: String, format: 'date-time', nullable: true }) missing_since: string | null;
  @ApiProperty({ type: String, format: 'date-time', nullable: true }) last_harvested_at: string | null;
  @ApiProperty({ type: 'object', additionalProperties: true, nullable: true }) last_result: Record<string, unknown> | null;
  @ApiProperty({ type: String, nullable: true, description: 'Remote `updated` time up to which records are known' }) watermark: string | null;
  @ApiProperty({ type: String, format: 'uuid', nullable: true, description: 'The local collection it feeds' }) collection_id: string | null;
  @ApiProperty({ type: [LinkDto] }) links: LinkDto[];
}

export class HarvestableResourcePageDto {
  @ApiProperty({ type: [HarvestableResourceDto] }) items: HarvestableResourceDto[];
  @ApiProperty() total: number;
  @ApiProperty() page: number;
  @ApiProperty() limit: number;
  @ApiProperty({ type: [LinkDto] }) links: LinkDto[];
}

export class SelectionResultDto {
  @ApiProperty({ description: 'Resources whose selection changed' }) changed: number;
}

// ---- mappers

const iso = (d: Date | null | undefined) => (d ? new Date(d).toISOString() : null);

export function toHarvesterTypeDto(type: HarvesterType): HarvesterTypeDto {
  return { id: type.id, title: type.title, description: type.description, config_schema: type.configSchema };
}

export function toSessionDto(s: HarvestSession, origin: string): HarvestSessionDto {
  const self = `${origin}/api/harvesting-sessions/${s.id}`;
  return {
    id: s.id,
    harvester_id: s.harvesterId,
    type: s.type,
    trigger: s.trigger,
    requested_by: s.requestedBy,
    status: s.status,
    dry_run: s.dryRun,
    options: s.options,
    counters: s.counters,
    result: s.result,
    error: s.error,
    runner: s.runner,
    heartbeat_at: iso(s.heartbeatAt),
    cancel_requested_at: iso(s.cancelRequestedAt),
    created_at: iso(s.createdAt)!,
    started_at: iso(s.startedAt),
    ended_at: iso(s.endedAt),
    links: [
      { rel: 'self', href: self, type: 'application/json' },
      { rel: 'records', href: `${self}/records`, type: 'application/json' },
      { rel: 'log', href: `${self}/log`, type: 'application/json' },
      { rel: 'harvester', href: `${origin}/api/harvesters/${s.harvesterId}`, type: 'application/json' },
    ],
  };
}

export function toHarvesterDto(h: Harvester, active: HarvestSession | null, status: string, origin: string): HarvesterDto {
  const self = `${origin}/api/harvesters/${h.id}`;
  return {
    id: h.id,
    name: h.name,
    type: h.type,
    url: h.url,
    config: h.config,
    owner_id: h.ownerId,
    visibility: h.visibility,
    enabled: h.enabled,
    disabled_reason: h.disabledReason,
    schedule: h.schedule,
    deletion_policy: h.deletionPolicy,
    deletion_grace_runs: h.deletionGraceRuns,
    mass_delete_max_percent: h.massDeleteMaxPercent,
    asset_mode: h.assetMode,
    disable_after_failures: h.disableAfterFailures,
    consecutive_failures: h.consecutiveFailures,
    availability: h.availability,
    availability_message: h.availabilityMessage,
    last_checked_at: iso(h.lastCheckedAt),
    last_discovered_at: iso(h.lastDiscoveredAt),
    last_harvested_at: iso(h.lastHarvestedAt),
    next_check_at: iso(h.nextCheckAt),
    next_discover_at: iso(h.nextDiscoverAt),
    next_harvest_at: iso(h.nextHarvestAt),
    status,
    active_session: active ? toSessionDto(active, origin) : null,
    created_at: iso(h.createdAt)!,
    updated_at: iso(h.updatedAt)!,
    links: [
      { rel: 'self', href: self, type: 'application/json' },
      { rel: 'harvestable-resources', href: `${self}/harvestable-resources`, type: 'application/json' },
      { rel: 'sessions', href: `${origin}/api/harvesting-sessions?harvester_id=${h.id}`, type: 'application/json' },
    ],
  };
}

export function toResourceDto(r: HarvestableResource, origin: string): HarvestableResourceDto {
  return {
    id: r.id,
    remote_id: r.remoteId,
    title: r.title,
    type: r.type,
    remote_url: r.remoteUrl,
    selected: r.selected,
    status: r.status,
    last_seen_at: iso(r.lastSeenAt),
    missing_since: iso(r.missingSince),
    last_harvested_at: iso(r.lastHarvestedAt),
    last_result: r.lastResult,
    watermark: r.watermark,
    collection_id: r.collectionId,
    links: [
      { rel: 'self', href: `${origin}/api/harvesters/${r.harvesterId}/harvestable-resources/${r.id}`, type: 'application/json' },
      ...(r.remoteUrl ? [{ rel: 'via', href: r.remoteUrl }] : []),
      ...(r.collectionId ? [{ rel: 'collection', href: `${origin}/api/collections/${r.collectionId}`, type: 'application/json' }] : []),
    ],
  };
}

export function toRecordDto(r: HarvestSessionRecord): SessionRecordDto {
  return {
    cursor: String(r.id),
    resource_id: r.resourceId,
    remote_id: r.remoteId,
    action: r.action,
    item_id: r.itemId,
    content_hash: r.contentHash,
    remote_updated: r.remoteUpdated,
    error: r.error,
    stage: r.stage,
    at: iso(r.at)!,
  };
}

export function toLogLineDto(l: HarvestSessionLog): SessionLogLineDto {
  return { cursor: String(l.id), level: l.level, message: l.message, at: iso(l.at)! };
}
