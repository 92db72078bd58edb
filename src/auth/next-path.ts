import { BadRequestException } from '@nestjs/common';

export const DEFAULT_NEXT = '/api/docs';
const PROBE_ORIGIN = 'http://sightline.invalid';

/**
 * The local path to land on after a login: a path on this site, never another site (no open
 * redirect: `//evil.example`, `/\evil.example`, `https://…` and control characters are refused).
 */
export function localNextPath(next: string | undefined): string {
  if (next === undefined || next === '') return DEFAULT_NEXT;
  const refuse = () => {
    throw new BadRequestException({ message: 'next must be a local path such as /api/docs', details: { next } });
  };
  // eslint-disable-next-line no-control-regex
  if (!next.startsWith('/') || next.startsWith('//') || next.includes('\\') || /[\u0000-\u001f\u007f]/.test(next)) refuse();
  let url: URL;
  try {
    url = new URL(next, PROBE_ORIGIN);
  } catch {
    return refuse();
  }
  if (url.origin !== PROBE_ORIGIN) refuse();
  const local = `${url.pathname}${url.search}${url.hash}`;
  // Dot segments are resolved above: `/.//evil.example` becomes `//evil.example`, which a
  // browser would read as another site. Checked here once, at the login, like the rest.
  if (local.startsWith('//') || local.includes('\\')) refuse();
  return local;
}
