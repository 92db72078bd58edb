import type { AppConfig } from '../config/app-config.js';
import { S3StorageDriver } from './s3-storage.driver.js';

/** The S3 driver the S3_* settings describe. */
export function s3DriverFromConfig(config: AppConfig): S3StorageDriver {
  return new S3StorageDriver({
    endpoint: config.S3_ENDPOINT,
    region: config.S3_REGION,
    bucket: config.S3_BUCKET!,
    prefix: config.S3_PREFIX,
    credentials: config.S3_ACCESS_KEY_ID && config.S3_SECRET_ACCESS_KEY ? { accessKeyId: config.S3_ACCESS_KEY_ID, secretAccessKey: config.S3_SECRET_ACCESS_KEY } : undefined,
    forcePathStyle: config.S3_FORCE_PATH_STYLE,
  });
}
