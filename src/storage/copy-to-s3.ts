import { createHash } from 'node:crypto';
import type { Readable } from 'node:stream';
import type { LocalStorageDriver } from './local-storage.driver.js';
import type { S3StorageDriver } from './s3-storage.driver.js';
import { TEMP_PREFIX } from './storage.types.js';

export interface CopyReport {
  copied: number;
  skipped: number;
  bytes: number;
  total: number;
}

export interface CopyProgress {
  log(line: string): Promise<void>;
  progress(percent: number): Promise<void>;
  signal: AbortSignal;
}

async function sha256(stream: Readable): Promise<string> {
  const hash = createHash('sha256');
  for await (const chunk of stream) hash.update(chunk as Buffer);
  return hash.digest('hex');
}

/**
 * Copies every object of a local store to a bucket, keys unchanged. Resumable: an object already
 * in the bucket with the same size and SHA-256 is skipped. Each copy is verified (the hash of the
 * bytes sent must be the one read first). Scratch space (tmp/) is left out. Stops between objects
 * when `signal` aborts.
 */
export async function copyLocalToS3(source: LocalStorageDriver, target: S3StorageDriver, ctx: CopyProgress, prefix = ''): Promise<CopyReport> {
  const keys: { key: string; size: number }[] = [];
  for await (const object of source.list(prefix)) {
    if (!object.key.startsWith(TEMP_PREFIX)) keys.push({ key: object.key, size: object.size });
  }
  keys.sort((a, b) => a.key.localeCompare(b.key));
  await ctx.log(`${keys.length} objects to copy to s3://${target.bucket}/${target.prefix}`);
  const report: CopyReport = { copied: 0, skipped: 0, bytes: 0, total: keys.length };
  let lastPercent = -1;
  for (const [i, { key, size }] of keys.entries()) {
    ctx.signal.throwIfAborted();
    const expected = await sha256(await source.get(key));
    const there = await target.head(key);
    const thereHash = there && there.size === size ? (there.sha256 ?? (await sha256(await target.get(key)))) : null;
    if (thereHash === expected) {
      report.skipped++;
    } else {
      const written = await target.put(key, await source.get(key), { sha256: expected });
      if (written.sha256 !== expected || written.size !== size) {
        await target.delete(key);
        throw new Error(`${key} changed while it was copied (SHA-256 ${written.sha256}, expected ${expected}): run the command again`);
      }
      report.copied++;
      report.bytes += size;
    }
    const percent = Math.floor(((i + 1) * 100) / keys.length);
    if (percent !== lastPercent) {
      lastPercent = percent;
      await ctx.progress(percent);
      await ctx.log(`${i + 1}/${keys.length}: ${report.copied} copied, ${report.skipped} already there`);
    }
  }
  if (keys.length === 0) await ctx.progress(100);
  return report;
}
