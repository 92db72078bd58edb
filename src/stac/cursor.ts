import { createHash, createHmac, timingSafeEqual } from 'node:crypto';

/**
 * Opaque, tamper-proof keyset cursors. A cursor carries the sort values of the row a page
 * starts after (or ends before), a fingerprint of the search it belongs to and the figure of
 * `numberMatched` computed on the first page; it is signed with HMAC-SHA256 so that a client
 * can neither forge a position nor reuse a cursor with another search.
 */
export interface CursorPayload {
  /** `n`: rows after `k` in sort order; `p`: rows before `k`. */
  d: 'n' | 'p';
  /** Sort values (as text) of the boundary row; null for NULL. */
  k: Array<string | null>;
  /** Fingerprint of the search (filters and sort). */
  h: string;
  /** numberMatched as computed on the first page, and whether it was an estimate. */
  m?: number;
  e?: boolean;
}

export class CursorError extends Error {}

const VERSION = 'c1';

function b64url(buf: Buffer): string {
  return buf.toString('base64url');
}

export class CursorCodec {
  private readonly key: Buffer;

  constructor(secret: string) {
    // A key of its own, so a cursor signature can never double as any other signature.
    this.key = createHash('sha256').update(`sightline:stac-cursor:${secret}`).digest();
  }

  private sign(body: string): string {
    return b64url(createHmac('sha256', this.key).update(`${VERSION}.${body}`).digest());
  }

  encode(payload: CursorPayload): string {
    const body = b64url(Buffer.from(JSON.stringify(payload)));
    return `${VERSION}.${body}.${this.sign(body)}`;
  }

  decode(token: string, expectedFingerprint: string): CursorPayload {
    const parts = token.split('.');
    if (parts.length !== 3 || parts[0] !== VERSION) throw new CursorError('token is not a cursor issued by this server');
    const [, body, signature] = parts;
    const expected = Buffer.from(this.sign(body));
    const given = Buffer.from(signature);
    if (expected.length !== given.length || !timingSafeEqual(expected, given)) throw new CursorError('token has been altered or was issued by another server');
    let payload: CursorPayload;
    try {
      payload = JSON.parse(Buffer.from(body, 'base64url').toString('utf8')) as CursorPayload;
    } catch {
      throw new CursorError('token is not a cursor issued by this server');
    }
    if (payload.h !== expectedFingerprint) throw new CursorError('token belongs to another search: keep the other parameters of the request that returned it');
    if ((payload.d !== 'n' && payload.d !== 'p') || !Array.isArray(payload.k)) throw new CursorError('token is not a cursor issued by this server');
    return payload;
  }
}

/** A stable fingerprint of a search: the same filters and sort give the same value. */
export function fingerprint(value: unknown): string {
  return createHash('sha256').update(JSON.stringify(value)).digest('base64url').slice(0, 16);
}
