import { Injectable, OnApplicationShutdown } from '@nestjs/common';
import { BlockCache } from './raster/block-cache.js';
import { RasterFile, type RasterSource } from './raster/geotiff-raster.js';

interface Entry {
  file: Promise<RasterFile>;
  users: number;
  lastUsed: number;
  evicted: boolean;
}

const MAX_OPEN = 16;
const IDLE_MS = 120_000;
/** Decoded blocks kept for reuse across requests (all files together). */
const BLOCK_CACHE_BYTES = 128 * 1024 * 1024;

/**
 * Keeps recently used GeoTIFFs open (header parsed, file descriptor held or object ranges read) so that a burst of
 * tile or sample requests does not re-read the header each time. Entries are keyed by dataset
 * and revision; a file is closed when evicted and no request uses it any more.
 */
@Injectable()
export class OpenRasters implements OnApplicationShutdown {
  private readonly entries = new Map<string, Entry>();
  private readonly blocks = new BlockCache(BLOCK_CACHE_BYTES);
  private readonly sweeper = setInterval(() => this.sweep(), 30_000).unref();
  /** Renders running at once in this process: decoding is CPU-bound, more only costs memory. */
  private running = 0;
  private readonly waiting: (() => void)[] = [];

  async use<T>(key: string, locate: () => Promise<RasterSource | null>, work: (file: RasterFile) => Promise<T>): Promise<T | null> {
    let entry = this.entries.get(key);
    if (!entry) {
      const source = await locate();
      if (!source) return null;
      entry = { file: RasterFile.open(source, undefined, this.blocks), users: 0, lastUsed: Date.now(), evicted: false };
      this.entries.set(key, entry);
      entry.file.catch(() => this.entries.delete(key));
      this.evictOverflow();
    }
    entry.users++;
    entry.lastUsed = Date.now();
    try {
      const file = await entry.file;
      return await this.limited(() => work(file));
    } finally {
      entry.users--;
      if (entry.evicted && entry.users === 0) void this.close(entry);
    }
  }

  /** Closes the files of a dataset (deleted or re-ingested). */
  forget(prefix: string): void {
    for (const [key, entry] of this.entries) {
      if (key.startsWith(prefix)) this.evict(key, entry);
    }
  }

  private async limited<T>(work: () => Promise<T>): Promise<T> {
    while (this.running >= 2) await new Promise<void>((resolve) => this.waiting.push(resolve));
    this.running++;
    try {
      return await work();
    } finally {
      this.running--;
      this.waiting.shift()?.();
    }
  }

  private evict(key: string, entry: Entry): void {
    this.entries.delete(key);
    entry.evicted = true;
    if (entry.users === 0) void this.close(entry);
  }

  private evictOverflow(): void {
    if (this.entries.size <= MAX_OPEN) return;
    const oldest = [...this.entries.entries()].filter(([, e]) => e.users === 0).sort((a, b) => a[1].lastUsed - b[1].lastUsed);
    for (const [key, entry] of oldest.slice(0, this.entries.size - MAX_OPEN)) this.evict(key, entry);
  }

  private sweep(): void {
    const cutoff = Date.now() - IDLE_MS;
    for (const [key, entry] of this.entries) if (entry.users === 0 && entry.lastUsed < cutoff) this.evict(key, entry);
  }

  private async close(entry: Entry): Promise<void> {
    await entry.file.then((f) => f.close()).catch(() => undefined);
  }

  async onApplicationShutdown(): Promise<void> {
    clearInterval(this.sweeper);
    for (const [key, entry] of this.entries) this.evict(key, entry);
  }
}
