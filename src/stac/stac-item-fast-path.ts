import type { ArgumentsHost } from '@nestjs/common';
import type { NextFunction, Request, RequestHandler, Response } from 'express';
import { AllExceptionsFilter } from '../common/all-exceptions.filter.js';
import { GEOJSON_TYPE } from './stac-links.js';
import type { StacService } from './stac.service.js';

/** The item route as the router knows it (`GET /api/collections/{collectionId}/items/{itemId}`): the label of its metrics. */
export const ITEM_ROUTE_PATH = '/api/collections/:collectionId/items/:itemId';
const ITEM_PATH = /^\/api\/collections\/([^/]+)\/items\/([^/]+)$/;

export interface ItemFastPathOptions {
  stac: StacService;
  /** True when the request carries nothing that could name a caller (no Bearer token, no session cookie). */
  anonymous: (req: Request) => boolean;
  /** What the application's own request middleware does first: the request id (X-Request-Id) and the request log. */
  requestLog: (req: Request, res: Response) => void;
}

function decoded(segment: string): string | undefined {
  try {
    return decodeURIComponent(segment);
  } catch {
    return undefined;
  }
}

/**
 * The most frequent read of all, a single item asked anonymously, served straight from the HTTP
 * server's middleware chain (after security headers, CORS, compression and the input guard)
 * rather than through the framework's per-request pipeline (authentication middlewares, guards,
 * pipes, interceptors), which cost more CPU than the item itself. What the caller sees is the same
 * as on the route of StacController: the same body (StacService.getItem), `application/geo+json`,
 * the same strong ETag and 304 on `If-None-Match`, the same error bodies (the application's
 * exception filter), the same request log and metrics label.
 *
 * Only requests with neither an `Authorization` header nor a session cookie are answered here:
 * they see public items only, whatever else they send. Any other request (a Bearer token, a
 * session, another method, a path that is not exactly the item route) goes on to the route.
 */
export function itemFastPath(options: ItemFastPathOptions): RequestHandler {
  const filter = new AllExceptionsFilter();
  return (req: Request, res: Response, next: NextFunction) => {
    if ((req.method !== 'GET' && req.method !== 'HEAD') || !options.anonymous(req)) return next();
    const match = ITEM_PATH.exec(req.path);
    if (!match) return next();
    const collectionId = decoded(match[1]);
    const itemId = decoded(match[2]);
    if (collectionId === undefined || itemId === undefined) return next();
    options.requestLog(req, res);
    // What the router sets for a matched route: the metrics middleware labels the request with it.
    req.route = { path: ITEM_ROUTE_PATH };
    options.stac.getItem(collectionId, itemId, undefined).then(
      (item) => {
        res.type(GEOJSON_TYPE).send(JSON.stringify(item));
      },
      (error: unknown) => filter.catch(error, httpHost(req, res, next)),
    );
  };
}

/** The exception filter's view of an Express request. */
function httpHost(req: Request, res: Response, next: NextFunction): ArgumentsHost {
  const http = { getRequest: () => req, getResponse: () => res, getNext: () => next };
  return { switchToHttp: () => http, getType: () => 'http', getArgs: () => [req, res, next], getArgByIndex: (i: number) => [req, res, next][i] } as unknown as ArgumentsHost;
}
