/**
 * Decoded TIFF blocks (tiles or strips) shared by the requests of one process, least recently
 * used first out, bounded in bytes. Neighbouring XYZ tiles and batches of sample points often
 * need the same blocks; decoding them once saves most of the work.
 */
export class BlockCache {
  private readonly entries = new Map<string, { value: Promise<{ data: ArrayBufferLike }>; bytes: number }>();
  private bytes = 0;

  constructor(private readonly maxBytes: number) {}

  get<T extends { data: ArrayBufferLike }>(key: string, load: () => Promise<T>): Promise<T> {
    const hit = this.entries.get(key);
    if (hit) {
      this.entries.delete(key);
      this.entries.set(key, hit);
      return hit.value as Promise<T>;
    }
    const value = load();
    const entry = { value: value as Promise<{ data: ArrayBufferLike }>, bytes: 0 };
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
