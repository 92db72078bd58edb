import { createHash, timingSafeEqual } from 'node:crypto';
import type { AppConfig } from '../config/app-config.js';

export type MetricsAccess = { allowed: true } | { allowed: false; status: 401 | 404; message: string };

const digest = (value: string) => createHash('sha256').update(value).digest();

/**
 * Who may read /api/metrics: with METRICS_TOKEN, whoever sends it as a Bearer token; without,
 * anyone in development and tests, and nobody through the API in production (it would show
 * traffic and queue figures to the public).
 */
export function metricsAccess(config: AppConfig, authorization: string | undefined): MetricsAccess {
  if (!config.METRICS_ENABLED) return { allowed: false, status: 404, message: 'Metrics are disabled (METRICS_ENABLED=false)' };
  const token = config.METRICS_TOKEN;
  if (token) {
    const given = /^Bearer\s+(\S+)$/i.exec(authorization ?? '')?.[1] ?? '';
    if (timingSafeEqual(digest(given), digest(token))) return { allowed: true };
    return { allowed: false, status: 401, message: 'Metrics need Authorization: Bearer <METRICS_TOKEN>' };
  }
  if (config.NODE_ENV === 'production') return { allowed: false, status: 404, message: 'Metrics are not public in production: set METRICS_TOKEN to read them' };
  return { allowed: true };
}

/** The path the authentication middleware leaves to the metrics rule above (its Bearer token is not an API token). */
export const METRICS_PATH = '/api/metrics';
