/** `href` resolved against `base` (the address of the document that holds it), or null when it is not a URL. */
export function absoluteHref(href: unknown, base: string): string | null {
  if (typeof href !== 'string' || !href.trim()) return null;
  try {
    return new URL(href.trim(), base).toString();
  } catch {
    return null;
  }
}

/** A URL without its fragment: two links to one file are one file. */
export function withoutFragment(url: string): string {
  const i = url.indexOf('#');
  return i < 0 ? url : url.slice(0, i);
}
