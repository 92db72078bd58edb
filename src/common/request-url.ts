import type { Request } from 'express';

/** The absolute URL of the request as the client sees it, on PUBLIC_URL. */
export function publicRequestUrl(publicUrl: string, req: Request): URL {
  const base = new URL(publicUrl);
  return new URL(req.originalUrl, `${base.protocol}//${base.host}`);
}
