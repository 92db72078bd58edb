import { BadRequestException, ForbiddenException, Injectable } from '@nestjs/common';
import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import fs from 'node:fs/promises';
import path from 'node:path';
import type { Readable } from 'node:stream';
import { buffer } from 'node:stream/consumers';
import { pipeline } from 'node:stream/promises';
import { AppConfig } from '../config/app-config.js';
import { StorageService } from '../storage/storage.service.js';
import type { ByteRange } from '../storage/storage.types.js';
import type { Dataset } from './dataset.entity.js';
import type { RangedFile, RasterSource, RasterUrl } from './raster/geotiff-raster.js';

export interface FileFacts {
  size: number;
  modifiedAt: Date;
}

/** File names resync registers. */
export const RASTER_EXTENSIONS = ['.tif', '.tiff', '.gtif', '.gtiff'];

function isInside(root: string, candidate: string): boolean {
  return candidate === root || candidate.startsWith(root.endsWith(path.sep) ? root : root + path.sep);
}

/**
 * The files behind datasets: uploads in storage, registered paths under DATASET_ROOTS.
 * Every access to a registered path re-checks that it still resolves inside a root, so a
 * file replaced by a symlink after registration is never followed out.
 */
@Injectable()
export class DatasetFiles {
  constructor(
    private readonly config: AppConfig,
    private readonly storage: StorageService,
  ) {}

  /** Canonical (symlink-free) forms of the configured roots that exist. */
  async roots(): Promise<string[]> {
    const out: string[] = [];
    for (const root of this.config.DATASET_ROOTS) {
      if (!path.isAbsolute(root)) continue;
      const real = await fs.realpath(root).catch(() => null);
      if (real && !out.includes(real)) out.push(real);
    }
    return out;
  }

  /**
   * The canonical path of a file a user asks to register: absolute under a root, or relative to
   * the first root that has it. `..` segments, paths outside the roots and symlinks that lead
   * outside are refused (400), as are missing files and anything but a regular file.
   */
  async resolveForRegistration(input: string): Promise<string> {
    const configured = this.config.DATASET_ROOTS.filter((r) => path.isAbsolute(r)).map((r) => path.resolve(r));
    if (configured.length === 0) throw new ForbiddenException('Registering files from server paths is disabled on this server (DATASET_ROOTS is empty)');
    if (typeof input !== 'string' || input.trim() === '' || input.includes('\0') || input.length > 4096) {
      throw new BadRequestException({ message: 'path must be a non-empty file path', details: [{ field: 'path', problems: ['invalid path'] }] });
    }
    if (input.split(/[\\/]/).includes('..')) {
      throw new BadRequestException({ message: 'path must not contain ".." segments', details: [{ field: 'path', problems: ['".." is not allowed'] }] });
    }
    const roots = await this.roots();
    let candidates: string[];
    if (path.isAbsolute(input)) {
      const normal = path.resolve(input);
      if (!configured.some((r) => isInside(r, normal)) && !roots.some((r) => isInside(r, normal))) {
        throw new BadRequestException({
          message: 'path is outside the folders datasets may be registered from',
          details: [{ field: 'path', problems: ['outside DATASET_ROOTS'] }],
        });
      }
      candidates = [normal];
    } else {
      candidates = configured.map((r) => path.resolve(r, input));
    }
    for (const candidate of candidates) {
      const real = await fs.realpath(candidate).catch(() => null);
      if (!real) continue;
      if (!roots.some((r) => isInside(r, real))) {
        throw new BadRequestException({
          message: 'path leads outside the folders datasets may be registered from (through a symbolic link)',
          details: [{ field: 'path', problems: ['symbolic link escapes DATASET_ROOTS'] }],
        });
      }
      const st = await fs.stat(real);
      if (!st.isFile()) throw new BadRequestException({ message: 'path is not a regular file', details: [{ field: 'path', problems: ['not a file'] }] });
      return real;
    }
    throw new BadRequestException({ message: 'No such file under the dataset roots', details: [{ field: 'path', problems: ['not found'] }] });
  }

  /** The registered path when it is still a regular file inside a root (symlinks resolved to itself), else null. */
  async checkedPath(filePath: string): Promise<string | null> {
    const real = await fs.realpath(filePath).catch(() => null);
    if (!real || real !== filePath) return null;
    const roots = await this.roots();
    if (!roots.some((r) => isInside(r, real))) return null;
    const st = await fs.stat(real).catch(() => null);
    return st?.isFile() ? real : null;
  }

  /**
   * Whether the dataset's file is there: `missing` when it no longer exists, `inaccessible` when
   * it exists but may not be read (outside the roots now, or replaced by a symlink).
   */
  async presence(dataset: Pick<Dataset, 'source' | 'storageKey' | 'filePath'>): Promise<'present' | 'missing' | 'inaccessible'> {
    if (dataset.source === 'upload') return dataset.storageKey && (await this.storage.stat(dataset.storageKey)) ? 'present' : 'missing';
    if (!dataset.filePath) return 'missing';
    if (await this.checkedPath(dataset.filePath)) return 'present';
    return (await fs.lstat(dataset.filePath).catch(() => null)) ? 'inaccessible' : 'missing';
  }

  /**
   * Where to read the dataset's raster from: a local path, or (an object store) byte ranges of the
   * stored object, so that a tile reads the blocks it needs and never the whole file. null when the
   * file is gone (or no longer allowed).
   */
  async rasterSource(dataset: Pick<Dataset, 'source' | 'storageKey' | 'filePath'>): Promise<RasterSource | null> {
    if (dataset.source === 'path') return dataset.filePath ? this.checkedPath(dataset.filePath) : null;
    return dataset.storageKey ? this.storedRaster(dataset.storageKey) : null;
  }

  /** The same, for a reader in another thread: a local path, or a URL of the object valid for `seconds`. */
  async threadRasterSource(dataset: Pick<Dataset, 'source' | 'storageKey' | 'filePath'>, seconds: number): Promise<string | RasterUrl | null> {
    if (dataset.source === 'path') return dataset.filePath ? this.checkedPath(dataset.filePath) : null;
    const object = dataset.storageKey ? await this.storage.stat(dataset.storageKey) : null;
    if (!object) return null;
    const local = this.storage.localPath(object.key);
    if (local) return local;
    const url = await this.storage.presignedUrl(object.key, seconds);
    if (!url) throw new Error('The storage driver has neither local files nor presigned URLs');
    return { url, size: object.size };
  }

  /** A stored object as a raster source: its local path, or ranged reads. null when it is gone. */
  async storedRaster(key: string): Promise<string | RangedFile | null> {
    const object = await this.storage.stat(key);
    if (!object) return null;
    const local = this.storage.localPath(key);
    if (local) return local;
    return { size: object.size, read: async (start, end) => buffer(await this.storage.get(key, { start, end })) };
  }

  async stat(dataset: Pick<Dataset, 'source' | 'storageKey' | 'filePath'>): Promise<FileFacts | null> {
    if (dataset.source === 'path') {
      const p = dataset.filePath ? await this.checkedPath(dataset.filePath) : null;
      if (!p) return null;
      const st = await fs.stat(p);
      return { size: st.size, modifiedAt: st.mtime };
    }
    const object = dataset.storageKey ? await this.storage.stat(dataset.storageKey) : null;
    return object ? { size: object.size, modifiedAt: object.modifiedAt } : null;
  }

  /** Reads the file (or a byte range of it, inclusive end). */
  async open(dataset: Pick<Dataset, 'source' | 'storageKey' | 'filePath'>, range?: ByteRange): Promise<Readable | null> {
    if (dataset.source === 'path') {
      const p = dataset.filePath ? await this.checkedPath(dataset.filePath) : null;
      return p ? createReadStream(p, range ? { start: range.start, end: range.end } : {}) : null;
    }
    if (!dataset.storageKey || !(await this.storage.stat(dataset.storageKey))) return null;
    return this.storage.get(dataset.storageKey, range);
  }

  /** SHA-256 and size of the file, streamed; null when the file is gone. */
  async hash(dataset: Pick<Dataset, 'source' | 'storageKey' | 'filePath'>, signal?: AbortSignal): Promise<{ sha256: string; size: number } | null> {
    const stream = await this.open(dataset);
    if (!stream) return null;
    const hash = createHash('sha256');
    let size = 0;
    await pipeline(
      stream,
      async (source: AsyncIterable<Buffer>) => {
        for await (const chunk of source) {
          size += chunk.length;
          hash.update(chunk);
        }
      },
      { signal },
    );
    return { sha256: hash.digest('hex'), size };
  }

  /** Deletes a registered file from disk (after re-checking it is inside a root). */
  async deleteRegisteredFile(filePath: string): Promise<boolean> {
    const p = await this.checkedPath(filePath);
    if (!p) return false;
    await fs.rm(p, { force: true });
    return true;
  }

  /** Every raster file under the roots (by extension), canonical paths, each once; symlinks leading outside are skipped. */
  async *walk(signal?: AbortSignal): AsyncIterable<{ path: string } & FileFacts> {
    const roots = await this.roots();
    const seen = new Set<string>();
    const visitedDirs = new Set<string>();
    const stack = [...roots];
    while (stack.length) {
      signal?.throwIfAborted();
      const dir = stack.pop()!;
      const realDir = await fs.realpath(dir).catch(() => null);
      if (!realDir || visitedDirs.has(realDir) || !roots.some((r) => isInside(r, realDir))) continue;
      visitedDirs.add(realDir);
      const entries = await fs.readdir(realDir, { withFileTypes: true }).catch(() => []);
      entries.sort((a, b) => a.name.localeCompare(b.name));
      for (const entry of entries) {
        const full = path.join(realDir, entry.name);
        if (entry.isDirectory() || entry.isSymbolicLink()) {
          const real = await fs.realpath(full).catch(() => null);
          if (!real || !roots.some((r) => isInside(r, real))) continue;
          const st = await fs.stat(real).catch(() => null);
          if (st?.isDirectory()) {
            stack.push(real);
            continue;
          }
          if (!st?.isFile()) continue;
          if (!RASTER_EXTENSIONS.includes(path.extname(real).toLowerCase()) || seen.has(real)) continue;
          seen.add(real);
          yield { path: real, size: st.size, modifiedAt: st.mtime };
        } else if (entry.isFile() && RASTER_EXTENSIONS.includes(path.extname(entry.name).toLowerCase()) && !seen.has(full)) {
          const st = await fs.stat(full).catch(() => null);
          if (!st) continue;
          seen.add(full);
          yield { path: full, size: st.size, modifiedAt: st.mtime };
        }
      }
    }
  }
}
