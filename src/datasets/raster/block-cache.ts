/** What the cache holds: anything whose `data` has a size in bytes (a decoded block's buffer or typed array). */
export interface Sized {
  data: { byteLength: number };
}

/**
 * Decoded TIFF blocks (tiles or strips) shared by the requests of one process, least recently
 * used first out, bounded in bytes. Neighbouring XYZ tiles and batches of sample points often
 * need the same blocks; decoding them once saves most of the work.
 */
export class BlockCache {
  private readonly entries = new Map<string, { value: Promise<Sized>; bytes: number }>();
  private bytes = 0;

  constructor(private readonly maxBytes: number) {}

  get<T extends Sized>(key: string, load: () => Promise<T>): Promise<T> {
    return this.peek<T>(key) ?? this.put(key, load());
  }

  /** The entry under `key` (marked as just used), or undefined. */
  peek<T extends Sized>(key: string): Promise<T> | undefined {
    const hit = this.entries.get(key);
    if (!hit) return undefined;
    this.entries.delete(key);
    this.entries.set(key, hit);
    return hit.value as Promise<T>;
  }

  /** Stores `value` under `key`, in place of what was there (a block decoded further, say). */
  put<T extends Sized>(key: string, value: Promise<T>): Promise<T> {
    const previous = this.entries.get(key);
    if (previous) {
      this.entries.delete(key);
      this.bytes -= previous.bytes;
    }
    const entry = { value: value as Promise<Sized>, bytes: 0 };
    this.entries.set(key, entry);
    value.then(
      (block) => {
        if (this.entries.get(key) !== entry) return;
        entry.bytes = block.data.byteLength;
        this.bytes += entry.bytes;
        this.evict();
      },
      () => {
        if (this.entries.get(key) === entry) this.entries.delete(key);
      },
    );
    return value;
  }

  /** Drops every block whose key starts with `prefix` (a closed file). */
  forget(prefix: string): void {
    for (const [key, entry] of this.entries) {
      if (!key.startsWith(prefix)) continue;
      this.entries.delete(key);
      this.bytes -= entry.bytes;
    }
  }

  private evict(): void {
    for (const [key, entry] of this.entries) {
      if (this.bytes <= this.maxBytes) return;
      if (entry.bytes === 0) continue; // still loading
      this.entries.delete(key);
      this.bytes -= entry.bytes;
    }
  }
}
