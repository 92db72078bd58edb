import 'reflect-metadata';
import os from 'node:os';
import { plainToInstance, Transform } from 'class-transformer';
import { IsBoolean, IsIn, IsInt, IsOptional, IsString, IsUrl, Matches, Max, MaxLength, Min, MinLength, validateSync, ValidationError } from 'class-validator';
import { QueueName } from '../queue/queue.constants.js';

/** An SPDX license identifier (or `other`, `proprietary`): letters, digits, `.`, `-`, `+`. */
export const LICENSE_PATTERN = /^[A-Za-z0-9][A-Za-z0-9.+-]{0,63}$/;

const toInt = ({ value }: { value: unknown }) => (value === undefined || value === '' ? undefined : /^-?\d+$/.test(String(value).trim()) ? Number(value) : value);
const toBool = ({ value }: { value: unknown }) => {
  if (value === undefined || value === '') return undefined;
  const v = String(value).trim().toLowerCase();
  if (['1', 'true', 'yes', 'on'].includes(v)) return true;
  if (['0', 'false', 'no', 'off'].includes(v)) return false;
  return value;
};
const toList = ({ value }: { value: unknown }) =>
  typeof value === 'string'
    ? value
        .split(',')
        .map((s) => s.trim())
        .filter(Boolean)
    : value;

/**
 * Every setting of the process. Built once from the environment by `loadConfig`;
 * nothing else in the code base reads `process.env`.
 * Each property's default is also listed in `.env.example`.
 */
export class AppConfig {
  @IsIn(['development', 'test', 'production'])
  NODE_ENV: 'development' | 'test' | 'production' = 'development';

  @Transform(toInt)
  @IsInt()
  @Min(0)
  @Max(65535)
  PORT = 3000;

  /** Port of the worker's health endpoint (the worker serves nothing else). 0 disables it. */
  @Transform(toInt)
  @IsInt()
  @Min(0)
  @Max(65535)
  WORKER_HEALTH_PORT = 3001;

  /** External base URL of the API, used to build absolute links (STAC, OAuth redirects). */
  @IsUrl({ require_tld: false, require_protocol: true, protocols: ['http', 'https'] })
  PUBLIC_URL = 'http://localhost:3000';

  @IsIn(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'])
  LOG_LEVEL = 'info';

  /** Origins allowed to call the API with credentials (comma separated). Anonymous reads are open to any origin. */
  @Transform(toList)
  @IsString({ each: true })
  CORS_ORIGINS: string[] = [];

  @IsUrl({ require_tld: false, protocols: ['postgres', 'postgresql'], require_protocol: true })
  DATABASE_URL = 'postgres://postgres@127.0.0.1:5432/sightline';

  @Transform(toInt)
  @IsInt()
  @Min(1)
  @Max(500)
  DATABASE_POOL_SIZE = 10;

  @IsUrl({ require_tld: false, protocols: ['redis', 'rediss'], require_protocol: true })
  REDIS_URL = 'redis://127.0.0.1:6379';

  /** Key prefix of every queue in Redis, so that several instances can share one Redis. */
  @IsString()
  @MinLength(1)
  @MaxLength(64)
  QUEUE_PREFIX = 'sightline';

  @IsString()
  @MinLength(1)
  DATA_DIR = './data';

  /** `local`: files under DATA_DIR; `s3`: objects in an S3-compatible bucket (the S3_* settings). */
  @IsIn(['local', 's3'])
  STORAGE_DRIVER: 'local' | 's3' = 'local';

  /** S3 endpoint (MinIO, Ceph RGW, Garage…); unset = AWS for S3_REGION. */
  @IsOptional()
  @IsUrl({ require_tld: false, require_protocol: true, protocols: ['http', 'https'] })
  S3_ENDPOINT?: string;

  @IsString()
  @MinLength(1)
  S3_REGION = 'us-east-1';

  /** Required with STORAGE_DRIVER=s3; the bucket must exist. */
  @IsOptional()
  @Matches(/^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/, { message: 'S3_BUCKET must be a bucket name (3-63 lowercase letters, digits, "." and "-")' })
  S3_BUCKET?: string;

  /** Key prefix of every object (`sightline/`), so that several instances can share a bucket. */
  @IsOptional()
  @Matches(/^(?!(.*\/)?\.{1,2}(\/|$))[A-Za-z0-9._-]+(\/[A-Za-z0-9._-]+)*\/?$/, {
    message: 'S3_PREFIX must be "/"-separated segments of letters, digits, ".", "_" and "-" (no "." or ".." segment)',
  })
  S3_PREFIX?: string;

  @IsOptional()
  @IsString()
  S3_ACCESS_KEY_ID?: string;

  @IsOptional()
  @IsString()
  S3_SECRET_ACCESS_KEY?: string;

  /** Path-style URLs (`endpoint/bucket/key`), as MinIO, Ceph RGW and Garage expect; false = virtual-hosted style. */
  @Transform(toBool)
  @IsBoolean()
  S3_FORCE_PATH_STYLE = true;

  /**
   * With S3 storage, picture files everyone may see are answered with a redirect (302) to a
   * short-lived presigned URL of the bucket, which serves the bytes (ETag, ranges, 304) itself.
   */
  @Transform(toBool)
  @IsBoolean()
  S3_PRESIGNED_REDIRECTS = false;

  /** How long those presigned URLs are valid, in seconds. */
  @Transform(toInt)
  @IsInt()
  @Min(10)
  @Max(7 * 24 * 3600)
  S3_PRESIGNED_TTL_SECONDS = 300;

  /**
   * STS endpoint that hands out temporary upload credentials (AssumeRole) for clients that upload
   * straight to the bucket (DJI Pilot 2); MinIO: its own URL. Unset: AWS STS when S3_STS_ROLE_ARN is set.
   */
  @IsOptional()
  @IsUrl({ require_tld: false, require_protocol: true, protocols: ['http', 'https'] })
  S3_STS_ENDPOINT?: string;

  /** Role those credentials are issued for (required by AWS; MinIO takes any value). */
  @IsOptional()
  @IsString()
  S3_STS_ROLE_ARN?: string;

  /**
   * Development only: without an STS endpoint, hand the storage's own credentials out as
   * "temporary" upload credentials (not limited to a prefix, not expiring).
   */
  @Transform(toBool)
  @IsBoolean()
  S3_STS_DEV_FALLBACK = false;

  /** Largest JSON body accepted, in bytes. */
  @Transform(toInt)
  @IsInt()
  @Min(1024)
  BODY_LIMIT_BYTES = 1024 * 1024;

  /** Largest uploaded picture, in bytes. */
  @Transform(toInt)
  @IsInt()
  @Min(1024)
  UPLOAD_MAX_BYTES = 100 * 1024 * 1024;

  /** Largest uploaded raster dataset, in bytes. */
  @Transform(toInt)
  @IsInt()
  @Min(1024)
  DATASET_MAX_BYTES = 2 * 1024 * 1024 * 1024;

  /** Largest file a drone pilot app may send (a photo, a video), in bytes. */
  @Transform(toInt)
  @IsInt()
  @Min(1024)
  DRONE_MEDIA_MAX_BYTES = 4 * 1024 * 1024 * 1024;

  /** Longest a dataset's file may take to read at ingest (in a thread of its own); past it the dataset is broken. */
  @Transform(toInt)
  @IsInt()
  @Min(5)
  DATASET_INGEST_TIMEOUT_SECONDS = 600;

  /** JavaScript heap the read of one dataset's file may use, in MB; past it the dataset is broken. */
  @Transform(toInt)
  @IsInt()
  @Min(64)
  DATASET_INGEST_MAX_HEAP_MB = 1024;

  /** Threads that draw dataset tiles and thumbnails and sample their pixels, beside the API's own; 0 does it in the API's thread. Unset: one per core. */
  @IsOptional()
  @Transform(toInt)
  @IsInt()
  @Min(0)
  @Max(64)
  RENDER_THREADS?: number;

  /** Folders from which `POST /api/datasets/from-path` may register files (comma separated, absolute). */
  @Transform(toList)
  @IsString({ each: true })
  DATASET_ROOTS: string[] = [];

  /** Temporary upload files older than this are removed by `storage.cleanup-temp`. */
  @Transform(toInt)
  @IsInt()
  @Min(1)
  TEMP_MAX_AGE_SECONDS = 24 * 3600;

  /** Cron pattern of the scheduled temp cleanup. */
  @IsString()
  TEMP_CLEANUP_CRON = '17 * * * *';

  /** How often the worker's reconciler looks for work the queues lost, in seconds. */
  @Transform(toInt)
  @IsInt()
  @Min(1)
  RECONCILE_INTERVAL_SECONDS = 30;

  @Transform(toInt)
  @IsInt()
  @Min(1)
  @Max(64)
  JOB_ATTEMPTS = 5;

  /** First retry delay in ms; each further retry doubles it. */
  @Transform(toInt)
  @IsInt()
  @Min(0)
  JOB_BACKOFF_MS = 2000;

  /**
   * Pictures a worker processes at once. One picture keeps about 1.2 cores busy (the JPEG decode is
   * sequential) and waits on the database, the queue and the disk in between: one more job than
   * cores keeps them busy. Unset: cores + 1, at most 16 (each job holds its picture's pixels);
   * read it through pictureConcurrency().
   */
  @IsOptional()
  @Transform(toInt)
  @IsInt()
  @Min(1)
  @Max(64)
  WORKER_CONCURRENCY_PICTURES?: number;

  @Transform(toInt)
  @IsInt()
  @Min(1)
  @Max(64)
  WORKER_CONCURRENCY_DEFAULT = 2;

  /** Comma-separated queue names this worker consumes; empty = all. A name no queue has stops the process. */
  @Transform(toList)
  @IsString({ each: true })
  @IsIn(Object.values(QueueName), { each: true })
  WORKER_QUEUES: string[] = [];

  /**
   * A running management job whose heartbeat is older than this is stalled (its worker died):
   * it is failed, or re-queued when its command is retryable.
   */
  @Transform(toInt)
  @IsInt()
  @Min(2)
  @Max(86400)
  MANAGEMENT_STALL_SECONDS = 30;

  /** Runs of a retryable management job (the first included) before a stall fails it for good. */
  @Transform(toInt)
  @IsInt()
  @Min(1)
  @Max(20)
  MANAGEMENT_MAX_ATTEMPTS = 3;

  /**
   * A running harvest session whose heartbeat is older than this ended with its worker: it is
   * marked `timed_out` and its harvester is free again.
   */
  @Transform(toInt)
  @IsInt()
  @Min(2)
  @Max(86400)
  HARVEST_STALL_SECONDS = 30;

  /** A harvest request (headers and body) that takes longer than this fails (and may be retried). */
  @Transform(toInt)
  @IsInt()
  @Min(1)
  @Max(3600)
  HARVEST_HTTP_TIMEOUT_SECONDS = 30;

  /** Largest remote response read, decompressed, in bytes. */
  @Transform(toInt)
  @IsInt()
  @Min(1024)
  HARVEST_MAX_RESPONSE_BYTES = 64 * 1024 * 1024;

  /** Requests in flight to one remote host at a time, over all harvesters of this process. */
  @Transform(toInt)
  @IsInt()
  @Min(1)
  @Max(64)
  HARVEST_HOST_CONCURRENCY = 4;

  /** Requests per second to one remote host (a token bucket; bursts up to the same number). */
  @Transform(toInt)
  @IsInt()
  @Min(1)
  @Max(10000)
  HARVEST_HOST_REQUESTS_PER_SECOND = 20;

  /** Retries of a request that failed on the network, timed out or got 429 / 5xx. */
  @Transform(toInt)
  @IsInt()
  @Min(0)
  @Max(10)
  HARVEST_HTTP_RETRIES = 3;

  /** Longest `Retry-After` honoured, in seconds; a remote asking more fails the request. */
  @Transform(toInt)
  @IsInt()
  @Min(0)
  @Max(86400)
  HARVEST_RETRY_AFTER_MAX_SECONDS = 120;

  /**
   * Networks and host names harvesters may not reach (comma-separated CIDRs or names); checked on
   * every redirect and on the addresses a name resolves to. Link-local and cloud metadata
   * addresses by default; add private ranges where harvesters must only reach the internet.
   */
  @Transform(toList)
  @IsString({ each: true })
  HARVEST_DENY_NETWORKS: string[] = ['169.254.0.0/16', 'fe80::/10', 'fd00:ec2::254/128', '100.100.100.200/32', 'metadata.google.internal', 'metadata.goog'];

  /** Platform name the pilot app shows after logging in with a drone connection (default: INSTANCE_NAME). */
  @IsOptional()
  @IsString()
  @MaxLength(200)
  DRONES_PLATFORM_NAME?: string;

  /** DJI Pilot 2 SDK credentials handed to the pilot app at login (from DJI's developer site; empty: not configured). */
  @IsString()
  @MaxLength(200)
  DJI_APP_ID = '';

  @IsString()
  @MaxLength(500)
  DJI_APP_KEY = '';

  @IsString()
  @MaxLength(4000)
  DJI_APP_LICENSE = '';

  /** How long a token from a drone connection's login lasts, in seconds. */
  @Transform(toInt)
  @IsInt()
  @Min(60)
  @Max(30 * 86400)
  DRONE_TOKEN_TTL_SECONDS = 86400;

  /** MQTT address the pilot app and docks connect to (e.g. `ssl://mqtt.example.org:8883`); default: MQTT_URL. */
  @IsOptional()
  @IsString()
  @MaxLength(500)
  MQTT_PUBLIC_URL?: string;

  /** Signs API tokens (HS256) and session ids. Required in production. */
  @IsOptional()
  @IsString()
  @MinLength(16)
  SECRET_KEY?: string;

  @IsOptional()
  @IsUrl({ require_tld: false, require_protocol: true, protocols: ['http', 'https'] })
  OIDC_ISSUER?: string;

  @IsString()
  OIDC_CLIENT_ID = 'sightline';

  @IsOptional()
  @IsString()
  OIDC_CLIENT_SECRET?: string;

  /** Users of the embedded development identity provider: `name:role[:password]`, comma separated. */
  @IsString()
  DEV_USERS = 'alice:admin,bob:user';

  @Transform(toList)
  @IsString({ each: true })
  ADMIN_SUBJECTS: string[] = [];

  @Transform(toList)
  @IsString({ each: true })
  ADMIN_EMAILS: string[] = [];

  @Transform(toInt)
  @IsInt()
  @Min(60)
  SESSION_TTL_SECONDS = 7 * 24 * 3600;

  @IsIn(['none', 'http'])
  BLUR_PROVIDER: 'none' | 'http' = 'none';

  @IsOptional()
  @IsUrl({ require_tld: false, require_protocol: true, protocols: ['http', 'https'] })
  BLUR_URL?: string;

  @Transform(toInt)
  @IsInt()
  @Min(100)
  BLUR_TIMEOUT_MS = 60000;

  /** Quick retries of a failed blur request inside one job attempt (the job itself retries with backoff). */
  @Transform(toInt)
  @IsInt()
  @Min(0)
  @Max(10)
  BLUR_RETRIES = 2;

  /** Instance defaults of upload sets: split a sequence past this distance between neighbours (m)… */
  @Transform(toInt)
  @IsInt()
  @Min(1)
  UPLOAD_SPLIT_DISTANCE_METERS = 100;

  /** …or past this time between neighbours (s). */
  @Transform(toInt)
  @IsInt()
  @Min(1)
  UPLOAD_SPLIT_TIME_SECONDS = 300;

  /** Two pictures of a sequence closer than this (m)… */
  @Transform(toInt)
  @IsInt()
  @Min(0)
  UPLOAD_DUPLICATE_DISTANCE_METERS = 1;

  /** …and looking in directions closer than this (°) are duplicates. */
  @Transform(toInt)
  @IsInt()
  @Min(0)
  @Max(180)
  UPLOAD_DUPLICATE_ROTATION_DEGREES = 60;

  /** Pictures with more pixels than this are refused (decompression-bomb guard). */
  @Transform(toInt)
  @IsInt()
  @Min(1)
  PICTURE_MAX_PIXELS = 268402689;

  /**
   * What the public `hd` file keeps of the uploaded file's metadata: `keep` (all of it, GPS and
   * serial numbers included) or `strip-private` (orientation, make, model, capture time and
   * exposure only; see src/media/jpeg-metadata.ts). `sd`, `thumb` and tiles never carry any.
   */
  @IsIn(['keep', 'strip-private'])
  PICTURE_HD_METADATA: 'keep' | 'strip-private' = 'keep';

  /** libvips threads per image operation; 0 keeps sharp's default. */
  @Transform(toInt)
  @IsInt()
  @Min(0)
  @Max(64)
  SHARP_CONCURRENCY = 0;

  /** Trust X-Forwarded-* headers from this many proxies (for the client IP and https detection). */
  @Transform(toInt)
  @IsInt()
  @Min(0)
  TRUST_PROXY_HOPS = 0;

  @Transform(toBool)
  @IsBoolean()
  METRICS_ENABLED = true;

  /**
   * When set, `/api/metrics` (API and worker health port) answers only `Authorization: Bearer <METRICS_TOKEN>`.
   * Unset: open in development and tests, not served by the API in production.
   */
  @IsOptional()
  @IsString()
  @MinLength(16)
  METRICS_TOKEN?: string;

  /** This instance's name, published as the `host` provider of its collections. */
  @IsString()
  @MinLength(1)
  @MaxLength(200)
  INSTANCE_NAME = 'Sightline';

  /**
   * The license new content is published under unless its owner chooses another: an SPDX
   * identifier (`CC-BY-SA-4.0`, `etalab-2.0`, `CC0-1.0`…), or `other` / `proprietary`.
   */
  @Matches(LICENSE_PATTERN)
  CONTENT_LICENSE = 'CC-BY-SA-4.0';

  /** A page describing CONTENT_LICENSE (default: its SPDX page; required to link `other`). */
  @IsOptional()
  @IsUrl({ require_tld: false, require_protocol: true, protocols: ['http', 'https'] })
  CONTENT_LICENSE_URL?: string;

  /** `Cache-Control: public, max-age` of picture files everyone may see, in seconds. */
  @Transform(toInt)
  @IsInt()
  @Min(0)
  PICTURE_CACHE_MAX_AGE_SECONDS = 86400;

  /** `Cache-Control: public, max-age` of anonymous vector tiles and the map style, in seconds. */
  @Transform(toInt)
  @IsInt()
  @Min(0)
  MAP_TILE_CACHE_MAX_AGE_SECONDS = 60;

  /** How often the worker recounts the grid cells whose pictures changed, in seconds. */
  @Transform(toInt)
  @IsInt()
  @Min(1)
  MAP_GRID_REFRESH_SECONDS = 30;

  /** The MQTT broker DJI Pilot 2 and docks publish telemetry to (Mosquitto, EMQX…). */
  @IsUrl({ require_tld: false, require_protocol: true, protocols: ['mqtt', 'mqtts', 'ws', 'wss'] })
  MQTT_URL = 'mqtt://127.0.0.1:1883';

  /** Sightline's own account on the broker (with the dynamic-security plugin: an account allowed to manage it). */
  @IsOptional()
  @IsString()
  MQTT_USERNAME?: string;

  @IsOptional()
  @IsString()
  MQTT_PASSWORD?: string;

  /**
   * Sightline manages the broker's accounts and topic ACLs through Mosquitto's dynamic-security
   * plugin (`$CONTROL/dynamic-security/v1`, as MQTT_USERNAME): one account per pilot connection,
   * allowed to publish only for the serial numbers bound through it.
   */
  @Transform(toBool)
  @IsBoolean()
  MQTT_DYNSEC = false;

  /**
   * Which processes consume telemetry from the broker: `worker` (every worker), `api`, `both` or `off`.
   * Several consumers share the subscriptions (MQTT shared subscriptions of MQTT_SHARE_GROUP).
   */
  @IsIn(['worker', 'api', 'both', 'off'])
  MQTT_CONSUMER: 'worker' | 'api' | 'both' | 'off' = 'worker';

  /** The shared-subscription group (`$share/<group>/…`): consumers of one group split the messages between them. */
  @Matches(/^[A-Za-z0-9_-]{1,64}$/, { message: 'MQTT_SHARE_GROUP must be 1-64 letters, digits, "_" or "-"' })
  MQTT_SHARE_GROUP = 'sightline';

  /** Larger MQTT messages are counted as malformed and dropped unread, in bytes. */
  @Transform(toInt)
  @IsInt()
  @Min(1024)
  MQTT_MAX_MESSAGE_BYTES = 64 * 1024;

  /** How long telemetry waits to be written with the messages that arrive meanwhile, in ms (one transaction per batch). */
  @Transform(toInt)
  @IsInt()
  @Min(1)
  @Max(5000)
  DRONE_TELEMETRY_FLUSH_MS = 50;

  /** An aircraft's track keeps a point at most this often (besides take-off, landing and mode changes), in seconds; 0 keeps every message. */
  @Transform(toInt)
  @IsInt()
  @Min(0)
  @Max(3600)
  DRONE_TRACK_INTERVAL_SECONDS = 5;

  /** A flight whose aircraft sent nothing for this long ends (reason `silence`), in seconds. */
  @Transform(toInt)
  @IsInt()
  @Min(2)
  @Max(86400)
  DRONE_SILENCE_SECONDS = 30;
}

export class ConfigError extends Error {}

function describe(errors: ValidationError[], raw: Record<string, string>): string[] {
  return errors.flatMap((e) => {
    const given = raw[e.property] ?? e.value;
    const value = given === undefined ? 'unset' : JSON.stringify(given);
    const why = Object.values(e.constraints ?? {}).join('; ');
    return [`${e.property}=${value}: ${why}`];
  });
}

/** Pictures a worker processes at once: WORKER_CONCURRENCY_PICTURES, else one more than the cores, at most 16. */
export function pictureConcurrency(config: Pick<AppConfig, 'WORKER_CONCURRENCY_PICTURES'>, cores = os.availableParallelism()): number {
  return config.WORKER_CONCURRENCY_PICTURES ?? Math.min(cores + 1, 16);
}

/** Settings without a default (unset unless given); the others are the fields AppConfig initialises. */
export const OPTIONAL_SETTINGS = [
  'SECRET_KEY',
  'RENDER_THREADS',
  'WORKER_CONCURRENCY_PICTURES',
  'OIDC_ISSUER',
  'OIDC_CLIENT_SECRET',
  'BLUR_URL',
  'METRICS_TOKEN',
  'CONTENT_LICENSE_URL',
  'S3_ENDPOINT',
  'S3_BUCKET',
  'S3_PREFIX',
  'S3_ACCESS_KEY_ID',
  'S3_SECRET_ACCESS_KEY',
  'S3_STS_ENDPOINT',
  'S3_STS_ROLE_ARN',
  'DRONES_PLATFORM_NAME',
  'MQTT_PUBLIC_URL',
  'MQTT_USERNAME',
  'MQTT_PASSWORD',
] as const;

/** Builds and validates the configuration; throws a ConfigError naming every bad variable. */
export function loadConfig(env: Record<string, string | undefined> = process.env): AppConfig {
  const known = [...Object.keys(new AppConfig()), ...OPTIONAL_SETTINGS];
  const raw: Record<string, string> = {};
  for (const key of known) {
    const value = env[key];
    if (value !== undefined && value !== '') raw[key] = value;
  }
  const config = plainToInstance(AppConfig, raw, { exposeDefaultValues: true });
  const problems = describe(validateSync(config, { skipMissingProperties: false }), raw);
  if (config.NODE_ENV === 'production' && !config.SECRET_KEY) {
    problems.push('SECRET_KEY=unset: required when NODE_ENV=production');
  }
  if (config.BLUR_PROVIDER === 'http' && !config.BLUR_URL) {
    problems.push('BLUR_URL=unset: required when BLUR_PROVIDER=http');
  }
  if (config.STORAGE_DRIVER === 's3') {
    if (!config.S3_BUCKET) problems.push('S3_BUCKET=unset: required when STORAGE_DRIVER=s3');
    if (!config.S3_ACCESS_KEY_ID !== !config.S3_SECRET_ACCESS_KEY) {
      problems.push(`${config.S3_ACCESS_KEY_ID ? 'S3_SECRET_ACCESS_KEY' : 'S3_ACCESS_KEY_ID'}=unset: S3_ACCESS_KEY_ID and S3_SECRET_ACCESS_KEY go together`);
    }
  }
  if (problems.length > 0) {
    throw new ConfigError(`Invalid configuration:\n  ${problems.join('\n  ')}`);
  }
  return config;
}

/** The secret used to sign tokens; a fixed development value outside production. */
export function secretKey(config: AppConfig): string {
  return config.SECRET_KEY ?? 'sightline-development-secret-do-not-use-in-production';
}
