// A render thread (see render-pool.ts): draws tiles and thumbnails and samples pixels of the
// rasters it is sent, keeping recently used files open and their decoded blocks cached.
import { parentPort, workerData } from 'node:worker_threads';
import { encodePng } from '../../media/png.js';
import { BlockCache } from './block-cache.js';
import { RasterFile } from './geotiff-raster.js';
import { RasterProblem } from './raster-info.js';
import { renderGrid, samplePixels, thumbnailSourceGrid, tileSourceGrid } from './render.js';
import type { RenderReply, RenderRequest, ThreadSource } from './render-pool.js';

const MAX_OPEN = 16;
const IDLE_MS = 120_000;

interface Open {
  file: Promise<RasterFile>;
  source: string;
  users: number;
  lastUsed: number;
}

const { cacheBytes } = workerData as { cacheBytes: number };
const blocks = new BlockCache(cacheBytes);
const files = new Map<string, Open>();

const sourceId = (source: ThreadSource) => (typeof source === 'string' ? source : source.url);

function close(entry: Open): void {
  void entry.file.then((f) => f.close()).catch(() => undefined);
}

/** Closes files no request uses: idle ones, and the oldest beyond MAX_OPEN. */
function sweep(): void {
  const cutoff = Date.now() - IDLE_MS;
  const idle = [...files.entries()].filter(([, e]) => e.users === 0).sort((a, b) => a[1].lastUsed - b[1].lastUsed);
  let excess = files.size - MAX_OPEN;
  for (const [key, entry] of idle) {
    if (entry.lastUsed >= cutoff && excess <= 0) break;
    files.delete(key);
    close(entry);
    excess--;
  }
}
setInterval(sweep, 30_000).unref();

async function withFile<T>(key: string, source: ThreadSource, work: (file: RasterFile) => Promise<T>): Promise<T> {
  let entry = files.get(key);
  if (entry && entry.source !== sourceId(source)) {
    // Another location of the same revision (a fresh object URL): reopen.
    files.delete(key);
    if (entry.users === 0) close(entry);
    entry = undefined;
  }
  if (!entry) {
    entry = { file: RasterFile.open(source, undefined, blocks), source: sourceId(source), users: 0, lastUsed: Date.now() };
    files.set(key, entry);
    const opened = entry;
    entry.file.catch(() => files.get(key) === opened && files.delete(key));
    sweep();
  }
  entry.users++;
  entry.lastUsed = Date.now();
  try {
    return await work(await entry.file);
  } finally {
    entry.users--;
    if (entry.users === 0 && files.get(key) !== entry) close(entry);
  }
}

async function handle(request: RenderRequest): Promise<RenderReply> {
  const { id, key, source, info, job } = request;
  return withFile(key, source, async (file) => {
    // A thread of its own: it reads local files and inflates blocks itself, without trips to libuv's pool.
    if (job.kind === 'sample') return { id, ok: true, samples: await samplePixels(file, info, job.pixels, undefined, 'sync') };
    const grid = job.kind === 'tile' ? tileSourceGrid(info, job.z, job.x, job.y) : thumbnailSourceGrid(info, job.size);
    if (!grid) throw new Error('The dataset is not georeferenced: it has no tiles');
    const resampling = job.kind === 'tile' ? job.resampling : info.render.mode === 'palette' ? 'nearest' : 'bilinear';
    const png = await encodePng(await renderGrid(file, info, grid, resampling));
    return { id, ok: true, png: new Uint8Array(png.buffer, png.byteOffset, png.byteLength) };
  });
}

parentPort!.on('message', (request: RenderRequest) => {
  handle(request).then(
    (reply) => parentPort!.postMessage(reply),
    (error: unknown) =>
      parentPort!.postMessage({
        id: request.id,
        ok: false,
        problem: error instanceof RasterProblem ? { status: error.status, code: error.code, message: error.message } : null,
        message: (error as Error)?.message ?? String(error),
        notFound: (error as { code?: string })?.code === 'ENOENT',
      } satisfies RenderReply),
  );
});
