import { Transform } from 'node:stream';

/**
 * Gathers small chunks (a socket or a file read gives 16–64 KB) into chunks of about `size`
 * bytes, so that writing a 5 MB picture takes a handful of write calls instead of hundreds.
 * Memory stays bounded by `size`: the stream is never held whole.
 */
export function coalesce(size = 1024 * 1024): Transform {
  let parts: Buffer[] = [];
  let length = 0;
  return new Transform({
    transform(chunk: Buffer, _encoding, done) {
      parts.push(chunk);
      length += chunk.length;
      if (length >= size) {
        const out = parts.length === 1 ? parts[0]! : Buffer.concat(parts, length);
        parts = [];
        length = 0;
        return done(null, out);
      }
      done();
    },
    flush(done) {
      if (length) this.push(parts.length === 1 ? parts[0]! : Buffer.concat(parts, length));
      parts = [];
      done();
    },
  });
}
