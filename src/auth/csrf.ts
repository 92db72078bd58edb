import type { IncomingHttpHeaders } from 'node:http';

const SAFE_METHODS = new Set(['GET', 'HEAD', 'OPTIONS']);

export function isSafeMethod(method: string): boolean {
  return SAFE_METHODS.has(method.toUpperCase());
}

function originOf(url: string): string | undefined {
  try {
    return new URL(url).origin;
  } catch {
    return undefined;
  }
}

/**
 * Whether a cookie-authenticated request that changes state comes from a page of a trusted
 * origin (PUBLIC_URL's and CORS_ORIGINS). Browsers send `Sec-Fetch-Site` and `Origin` on such
 * requests and pages cannot forge them; the Referer is the fallback of older browsers. With none
 * of the three the request is refused: it cannot be told apart from a forged one, and scripts
 * use Bearer tokens, not cookies.
 */
export function isTrustedOrigin(headers: IncomingHttpHeaders, trustedOrigins: ReadonlySet<string>): boolean {
  const site = headers['sec-fetch-site'];
  if (site === 'same-origin') return true;
  const origin = headers.origin;
  if (typeof origin === 'string' && origin !== 'null') return trustedOrigins.has(origin);
  if (origin === 'null') return false;
  if (site) return false;
  const referer = typeof headers.referer === 'string' ? originOf(headers.referer) : undefined;
  return referer !== undefined && trustedOrigins.has(referer);
}
