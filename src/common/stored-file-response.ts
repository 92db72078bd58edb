import { HttpException } from '@nestjs/common';
import type { Request, Response } from 'express';
import type { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type { ByteRange } from '../storage/storage.types.js';

/** A stored file about to be served, with what conditional and range requests need. */
export interface ServedFile {
  size: number;
  modifiedAt: Date;
  /** Strong validator, quoted (`"…"`). */
  etag: string;
  contentType: string;
  cacheControl: string;
  /** Extra headers (Vary…). */
  headers?: Record<string, string>;
  open(range?: ByteRange): Promise<Readable>;
  /**
   * Where the bytes can be fetched directly (a presigned bucket URL), when that is how this file
   * is to be served: the answer is then a 302 there, never cached (the URL expires).
   */
  redirect?: () => Promise<string | null>;
}

export type ServeDecision = { status: 304 } | { status: 200 } | { status: 206; range: ByteRange } | { status: 416 };

export interface ConditionalHeaders {
  ifNoneMatch?: string;
  ifModifiedSince?: string;
  range?: string;
  ifRange?: string;
}

/** Strong ETag from size and modification time (the bytes of a stored object change only with both). */
export function storedFileEtag(size: number, modifiedAt: Date): string {
  return `"${size.toString(16)}-${modifiedAt.getTime().toString(16)}"`;
}

const opaque = (tag: string) => tag.trim().replace(/^W\//, '');

/** HTTP dates have a one-second resolution. */
const seconds = (d: Date) => Math.floor(d.getTime() / 1000);

function parseHttpDate(value: string | undefined): Date | null {
  if (!value) return null;
  const d = new Date(value);
  return Number.isNaN(d.getTime()) ? null : d;
}

/**
 * Parses one `bytes=` range against `size`. `undefined` when the header is to be ignored
 * (absent, another unit, malformed, several ranges: RFC 9110 lets a server answer 200 then);
 * `null` when it is unsatisfiable.
 */
export function parseRange(header: string | undefined, size: number): ByteRange | null | undefined {
  if (!header) return undefined;
  const m = /^\s*bytes\s*=\s*(\d*)\s*-\s*(\d*)\s*$/i.exec(header);
  if (!m) return undefined;
  const [, a, b] = m as unknown as [string, string, string];
  if (a === '' && b === '') return undefined;
  if (a === '') {
    const suffix = Number(b);
    if (suffix === 0 || size === 0) return null;
    return { start: Math.max(0, size - suffix), end: size - 1 };
  }
  const start = Number(a);
  const end = b === '' ? size - 1 : Number(b);
  if (b !== '' && end < start) return undefined;
  if (start >= size) return null;
  return { start, end: Math.min(end, size - 1) };
}

/**
 * Whether an `If-None-Match` header matches `etag` (weak comparison, lists and `*`). Evaluated
 * even when the request also says `Cache-Control: no-cache`, which is meant for caches on the way.
 */
export function matchesIfNoneMatch(ifNoneMatch: string | undefined, etag: string): boolean {
  if (ifNoneMatch === undefined) return false;
  const tags = ifNoneMatch.split(',').map((t) => t.trim());
  return tags.includes('*') || tags.some((t) => opaque(t) === opaque(etag));
}

/** What to answer, per RFC 9110 §13 (preconditions) and §14 (ranges). */
export function decide(h: ConditionalHeaders, file: Pick<ServedFile, 'etag' | 'modifiedAt' | 'size'>): ServeDecision {
  if (h.ifNoneMatch !== undefined) {
    if (matchesIfNoneMatch(h.ifNoneMatch, file.etag)) return { status: 304 };
  } else {
    const since = parseHttpDate(h.ifModifiedSince);
    if (since && seconds(file.modifiedAt) <= seconds(since)) return { status: 304 };
  }
  if (h.ifRange !== undefined) {
    const v = h.ifRange.trim();
    const current = v.startsWith('"') || v.startsWith('W/') ? v === file.etag : seconds(parseHttpDate(v) ?? new Date(0)) === seconds(file.modifiedAt);
    if (!current) return { status: 200 };
  }
  const range = parseRange(h.range, file.size);
  if (range === undefined) return { status: 200 };
  if (range === null) return { status: 416 };
  return { status: 206, range };
}

/** Answers a GET or HEAD for a stored file: 200, 206, 304 or 416, streaming the bytes (or 302 to where they are). */
export async function sendStoredFile(req: Request, res: Response, file: ServedFile): Promise<void> {
  const location = file.redirect ? await file.redirect() : null;
  if (location) {
    res.setHeader('Cache-Control', 'no-store');
    res.redirect(302, location);
    return;
  }
  const decision = decide(
    {
      ifNoneMatch: req.get('if-none-match'),
      ifModifiedSince: req.get('if-modified-since'),
      range: req.get('range'),
      ifRange: req.get('if-range'),
    },
    file,
  );
  if (decision.status === 416) {
    res.setHeader('Content-Range', `bytes */${file.size}`);
    throw new HttpException({ message: `Range not satisfiable: the file has ${file.size} bytes`, details: { size: file.size } }, 416);
  }
  const range = decision.status === 206 ? decision.range : undefined;
  // Opened before any header is set, so that a file gone since its stat still answers a clean error.
  const body = decision.status !== 304 && req.method !== 'HEAD' && file.size > 0 ? await file.open(range) : undefined;
  res.setHeader('ETag', file.etag);
  res.setHeader('Last-Modified', file.modifiedAt.toUTCString());
  res.setHeader('Cache-Control', file.cacheControl);
  res.setHeader('Accept-Ranges', 'bytes');
  for (const [k, v] of Object.entries(file.headers ?? {})) res.setHeader(k, v);
  if (decision.status === 304) {
    res.status(304).end();
    return;
  }
  res.setHeader('Content-Type', file.contentType);
  if (range) {
    res.status(206);
    res.setHeader('Content-Range', `bytes ${range.start}-${range.end}/${file.size}`);
    res.setHeader('Content-Length', String(range.end - range.start + 1));
  } else {
    res.status(200);
    res.setHeader('Content-Length', String(file.size));
  }
  if (!body) {
    res.end();
    return;
  }
  try {
    await pipeline(body, res);
  } catch {
    // The client went away or storage failed mid-way: the headers are sent, so only closing is left.
    res.destroy();
  }
}
