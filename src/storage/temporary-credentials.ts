import { AssumeRoleCommand, STSClient } from '@aws-sdk/client-sts';

/** Short-lived credentials a client uses to upload straight into the bucket, under one key prefix. */
export interface TemporaryUploadCredentials {
  /** `aws` for AWS S3, `minio` for any other S3-compatible store (MinIO, Ceph RGW, Garage…). */
  provider: 'aws' | 'minio';
  /** The S3 endpoint the client uploads to. */
  endpoint: string;
  region: string;
  bucket: string;
  credentials: {
    access_key_id: string;
    secret_access_key: string;
    /** Empty for the development fallback (the storage's own, long-lived key). */
    session_token: string;
    /** Seconds the credentials stay valid. */
    expire: number;
  };
  /** The full key prefix in the bucket (the storage's S3_PREFIX included) every upload must start with. */
  object_key_prefix: string;
  /** `sts`: real AssumeRole credentials limited to the prefix; `development-fallback`: the storage's own key. */
  source: 'sts' | 'development-fallback';
}

/** Why temporary credentials cannot be had: `status` is the HTTP status a route answers with. */
export class TemporaryCredentialsUnavailableError extends Error {
  constructor(
    message: string,
    readonly status: 501 | 503,
  ) {
    super(message);
  }
}

/** AWS limits of AssumeRole's DurationSeconds (the upper one is the role's maximum session, 1 h by default, up to 12 h). */
export const STS_MIN_SECONDS = 900;
export const STS_MAX_SECONDS = 43_200;

export function stsDuration(ttlSeconds: number): number {
  return Math.min(STS_MAX_SECONDS, Math.max(STS_MIN_SECONDS, Math.round(ttlSeconds)));
}

/**
 * The inline session policy of an AssumeRole: objects may be written (single PUT or multipart)
 * only under `bucket/fullPrefix`, nothing else: no read, no list, no delete. The effective rights
 * are the intersection of this and the role's own policy.
 */
export function uploadSessionPolicy(bucket: string, fullPrefix: string): Record<string, unknown> {
  if (!fullPrefix || !fullPrefix.endsWith('/')) throw new Error(`the upload prefix must be a non-empty folder ending with "/" (got ${JSON.stringify(fullPrefix)})`);
  if (/[*?]/.test(fullPrefix)) throw new Error('the upload prefix may not contain wildcards');
  return {
    Version: '2012-10-17',
    Statement: [
      {
        Sid: 'UploadUnderPrefixOnly',
        Effect: 'Allow',
        // PutObject also covers CreateMultipartUpload, UploadPart and CompleteMultipartUpload.
        Action: ['s3:PutObject', 's3:AbortMultipartUpload', 's3:ListMultipartUploadParts'],
        Resource: [`arn:aws:s3:::${bucket}/${fullPrefix}*`],
      },
    ],
  };
}

export interface StsSettings {
  /** Unset: AWS STS for `region`. */
  endpoint?: string;
  region: string;
  roleArn?: string;
  credentials?: { accessKeyId: string; secretAccessKey: string };
}

/** Real temporary credentials by AssumeRole, limited by the session policy to `fullPrefix`. */
export async function assumeUploadRole(
  sts: StsSettings,
  target: { bucket: string; fullPrefix: string },
  ttlSeconds: number,
): Promise<{ accessKeyId: string; secretAccessKey: string; sessionToken: string; expire: number }> {
  const client = new STSClient({
    endpoint: sts.endpoint,
    region: sts.region,
    credentials: sts.credentials,
    maxAttempts: 2,
    requestHandler: { connectionTimeout: 5000, requestTimeout: 15_000 },
  });
  const duration = stsDuration(ttlSeconds);
  try {
    const answer = await client.send(
      new AssumeRoleCommand({
        // MinIO ignores the role; AWS requires one (S3_STS_ROLE_ARN).
        RoleArn: sts.roleArn ?? 'arn:aws:iam::000000000000:role/sightline-upload',
        RoleSessionName: `sightline-upload-${Date.now().toString(36)}`,
        DurationSeconds: duration,
        Policy: JSON.stringify(uploadSessionPolicy(target.bucket, target.fullPrefix)),
      }),
    );
    const c = answer.Credentials;
    if (!c?.AccessKeyId || !c.SecretAccessKey || !c.SessionToken) throw new TemporaryCredentialsUnavailableError('The STS endpoint answered without credentials', 503);
    const expire = c.Expiration ? Math.max(1, Math.round((c.Expiration.getTime() - Date.now()) / 1000)) : duration;
    return { accessKeyId: c.AccessKeyId, secretAccessKey: c.SecretAccessKey, sessionToken: c.SessionToken, expire };
  } catch (error) {
    if (error instanceof TemporaryCredentialsUnavailableError) throw error;
    const status = (error as { $metadata?: { httpStatusCode?: number } }).$metadata?.httpStatusCode;
    const why = status ? `HTTP ${status}: ${(error as Error).message}` : ((error as NodeJS.ErrnoException).code ?? (error as Error).message);
    throw new TemporaryCredentialsUnavailableError(`The STS endpoint ${sts.endpoint ?? `AWS STS (${sts.region})`} refused or did not answer AssumeRole (${why})`, 503);
  } finally {
    client.destroy();
  }
}
