import type { NestExpressApplication } from '@nestjs/platform-express';
import compression from 'compression';
import type { NextFunction, Request, Response } from 'express';
import helmet from 'helmet';
import { Logger, PinoLogger } from 'nestjs-pino';
import { pinoHttp } from 'pino-http';
import { configureAuthHttp } from './auth/auth-http.js';
import { EMBEDDED_PROVIDER_PATH } from './auth/oidc-settings.js';
import { SESSION_COOKIE } from './auth/session.middleware.js';
import { AllExceptionsFilter } from './common/all-exceptions.filter.js';
import { errorBody } from './common/error-response.js';
import { bodyParsers } from './common/body-parsers.js';
import { inputGuardMiddleware, InputGuardPipe, NullFieldsPipe } from './common/input-guard.js';
import { requestContextMiddleware } from './common/last-resort.js';
import { createValidationPipe } from './common/validation.js';
import { AppConfig } from './config/app-config.js';
import { MetricsService } from './health/metrics.service.js';
import { loggerOptions } from './logger.js';
import { setupSwagger } from './openapi-document.js';
import { itemFastPath } from './stac/stac-item-fast-path.js';
import { StacService } from './stac/stac.service.js';

export const API_PREFIX = 'api';
/** The DJI Cloud API routes pilot apps call, served at the root of the public address (outside `/api`). */
export const DJI_ROUTE_PREFIXES = ['media/api/v1', 'storage/api/v1', 'manage/api/v1'];

/**
 * CORS: anonymous reads are open to every origin (STAC Browser on another site works);
 * credentials (the session cookie) only for the origins in CORS_ORIGINS.
 */
export function corsMiddleware(allowed: string[]) {
  const trusted = new Set(allowed);
  return (req: Request, res: Response, next: NextFunction) => {
    const origin = req.headers.origin;
    if (origin) {
      if (trusted.has(origin)) {
        res.setHeader('Access-Control-Allow-Origin', origin);
        res.setHeader('Access-Control-Allow-Credentials', 'true');
      } else {
        res.setHeader('Access-Control-Allow-Origin', '*');
      }
      res.setHeader('Vary', 'Origin');
      res.setHeader('Access-Control-Expose-Headers', 'Location, ETag, Content-Range, X-Request-Id, Link');
      if (req.method === 'OPTIONS' && req.headers['access-control-request-method']) {
        res.setHeader('Access-Control-Allow-Methods', 'GET, HEAD, POST, PUT, PATCH, DELETE, OPTIONS');
        res.setHeader('Access-Control-Allow-Headers', req.headers['access-control-request-headers'] ?? 'Content-Type, Authorization');
        res.setHeader('Access-Control-Max-Age', '600');
        res.status(204).end();
        return;
      }
    }
    next();
  };
}

/**
 * Bodies below this size go as they are: they fit in TCP's initial congestion window either way
 * (10 segments, ~14 KB), so compressing them saves no round trip and costs CPU on every request
 * (a single STAC item, ~2 KiB, spent a fifth of its time in gzip).
 */
export const COMPRESSION_THRESHOLD_BYTES = 8 * 1024;

/**
 * Response compression, with Brotli only for clients that name `br`: `Accept-Encoding: *` (or a
 * list without `br`) gets gzip, since common HTTP stacks send `*` without a Brotli decoder.
 */
export function compressionMiddleware() {
  const compress = compression({ threshold: COMPRESSION_THRESHOLD_BYTES });
  return (req: Request, res: Response, next: NextFunction) => {
    const accepted = req.headers['accept-encoding'];
    if (!accepted || /(^|,)\s*br\s*(;|,|$)/i.test(accepted)) return compress(req, res, next);
    // Negotiated on a view of the request whose header also says `br;q=0`; the request itself is unchanged.
    const view = Object.create(req, { headers: { value: { ...req.headers, 'accept-encoding': `${accepted}, br;q=0` } } }) as Request;
    return compress(view, res, next);
  };
}

function metricsMiddleware(metrics: MetricsService) {
  return (req: Request, res: Response, next: NextFunction) => {
    const start = process.hrtime.bigint();
    res.on('finish', () => {
      const route = (req.route as { path?: string } | undefined)?.path;
      const seconds = Number(process.hrtime.bigint() - start) / 1e9;
      metrics.httpDuration.observe({ method: req.method, route: route ? `${req.baseUrl}${route}` : 'unmatched', status: String(res.statusCode) }, seconds);
    });
    next();
  };
}

/**
 * Everything Sightline serves is under /api (the embedded identity provider under /oidc, DJI's routes
 * under their own roots):
 * any other path — `/foo`, `//api//health` — gets the JSON 404 every API error has, not the
 * web framework's HTML page. `/` leads to the STAC landing page.
 */
function outsideApiNotFound() {
  return (req: Request, res: Response, next: NextFunction) => {
    const path = req.path;
    if (path === `/${API_PREFIX}` || path.startsWith(`/${API_PREFIX}/`) || path === EMBEDDED_PROVIDER_PATH || path.startsWith(`${EMBEDDED_PROVIDER_PATH}/`)) return next();
    // DJI's routes are served where pilot apps call them (outside /api).
    if (DJI_ROUTE_PREFIXES.some((prefix) => path.startsWith(`/${prefix}/`))) return next();
    if (path === '/' && (req.method === 'GET' || req.method === 'HEAD')) return res.redirect(302, `/${API_PREFIX}/`);
    res.status(404).json(errorBody(404, `Nothing at ${req.method} ${path.slice(0, 200)}: the API is under /${API_PREFIX}/`));
  };
}

/** Everything the HTTP process adds around the Nest application; shared by main.ts and the tests. */
export function configureHttpApp(app: NestExpressApplication): void {
  const config = app.get(AppConfig);
  app.useLogger(app.get(Logger));
  app.set('trust proxy', config.TRUST_PROXY_HOPS);
  app.set('etag', 'strong');
  app.disable('x-powered-by');
  app.use(requestContextMiddleware());
  app.use(outsideApiNotFound());
  app.use(metricsMiddleware(app.get(MetricsService)));
  app.use(
    helmet({
      contentSecurityPolicy: {
        directives: {
          'default-src': ["'self'"],
          'img-src': ["'self'", 'data:', 'https:'],
          'style-src': ["'self'", "'unsafe-inline'"],
          'script-src': ["'self'"],
          'connect-src': ["'self'"],
          'form-action': ["'self'", 'http:', 'https:'],
          'upgrade-insecure-requests': null,
        },
      },
      crossOriginResourcePolicy: { policy: 'cross-origin' },
      crossOriginEmbedderPolicy: false,
    }),
  );
  app.use(corsMiddleware(config.CORS_ORIGINS));
  app.use(compressionMiddleware());
  // The embedded identity provider (/oidc) parses its own bodies: mounted before the parsers.
  configureAuthHttp(app);
  for (const parser of bodyParsers(config.BODY_LIMIT_BYTES)) app.use(parser);
  app.use(inputGuardMiddleware());
  // Anonymous single-item reads skip the framework's pipeline; the request log is the same as the LoggerModule's.
  const requestLog = pinoHttp({ ...loggerOptions(config, 'api').pinoHttp, logger: PinoLogger.root });
  app.use(
    itemFastPath({
      stac: app.get(StacService),
      anonymous: (req) => req.headers.authorization === undefined && !req.headers.cookie?.includes(`${SESSION_COOKIE}=`),
      requestLog: (req, res) => requestLog(req, res),
    }),
  );
  app.setGlobalPrefix(API_PREFIX, { exclude: DJI_ROUTE_PREFIXES.map((prefix) => `${prefix}/{*path}`) });
  app.useGlobalFilters(new AllExceptionsFilter());
  app.useGlobalPipes(new InputGuardPipe(), new NullFieldsPipe(), createValidationPipe());
  setupSwagger(app);
}
