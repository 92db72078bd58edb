import { BadRequestException, HttpException, Injectable, Logger, NotFoundException, type OnApplicationShutdown } from '@nestjs/common';
import os from 'node:os';
import { buffer } from 'node:stream/consumers';
import type { AuthUser } from '../auth/auth.types.js';
import { AppConfig } from '../config/app-config.js';
import { StorageService } from '../storage/storage.service.js';
import { StorageNotFoundError } from '../storage/storage.types.js';
import type { SampleDto, SamplesDto } from './dataset.dto.js';
import { DatasetFiles } from './dataset-files.js';
import { type DatasetWithItem, DatasetsService, isPublicDataset } from './datasets.service.js';
import { OpenRasters } from './open-rasters.js';
import { applyAffine, invertAffine } from './raster/affine.js';
import { crsTransformer, periodicWidth, wrapX } from './raster/crs.js';
import type { RasterFile } from './raster/geotiff-raster.js';
import { encodePng } from '../media/png.js';
import { RasterProblem, type RasterInfo } from './raster/raster-info.js';
import { type PixelSample, renderGrid, type Resampling, samplePixels, thumbnailSourceGrid, tileSourceGrid, tileTouchesFootprint } from './raster/render.js';
import { RasterFileGone, type RenderJob, RenderPool, type ThreadSource } from './raster/render-pool.js';

export interface RenderedPng {
  png: Buffer;
  /** Whether anonymous clients could see it (lets caches share it). */
  public: boolean;
}

const TILE_SIZE = 256;
/** Decoded blocks the render threads keep for reuse, all together (each thread holds its share). */
const THREAD_BLOCK_CACHE_BYTES = 128 * 1024 * 1024;
/** How long a presigned object URL handed to the render threads is valid, and how long it is reused. */
const THREAD_URL_SECONDS = 3600;
const THREAD_URL_REUSE_MS = 30 * 60_000;
/** How long a checked local path is reused before it is checked again (as long as a file stays open anyway). */
const THREAD_PATH_REUSE_MS = 60_000;
let transparentTile: Promise<Buffer> | undefined;

/** The tile outside a dataset's footprint: fully transparent, encoded once. */
function emptyTile(): Promise<Buffer> {
  transparentTile ??= encodePng({ width: TILE_SIZE, height: TILE_SIZE, rgba: new Uint8Array(TILE_SIZE * TILE_SIZE * 4), opaque: false });
  return transparentTile;
}

/** Thumbnails, XYZ tiles and point sampling of ready datasets; rendered images are cached in storage. */
@Injectable()
export class DatasetRenderService implements OnApplicationShutdown {
  private readonly logger = new Logger(DatasetRenderService.name);
  /** Renders running or being stored, by cache key. */
  private readonly rendering = new Map<string, Promise<Buffer>>();
  /** Render threads (RENDER_THREADS); null: rendering in this thread. */
  private readonly pool: RenderPool | null;
  /** Where the render threads read each dataset revision's file, for a while. */
  private readonly threadSources = new Map<string, { source: Promise<ThreadSource | null>; until: number }>();

  constructor(
    private readonly datasets: DatasetsService,
    private readonly files: DatasetFiles,
    private readonly storage: StorageService,
    private readonly rasters: OpenRasters,
    config: AppConfig,
  ) {
    const threads = config.RENDER_THREADS ?? os.availableParallelism();
    this.pool = threads > 0 ? new RenderPool(threads, Math.floor(THREAD_BLOCK_CACHE_BYTES / threads)) : null;
  }

  async onApplicationShutdown(): Promise<void> {
    await this.pool?.close();
  }

  private threadSource(dataset: DatasetWithItem): Promise<ThreadSource | null> {
    const key = `${dataset.id}:${dataset.revision}`;
    const now = Date.now();
    const hit = this.threadSources.get(key);
    if (hit && hit.until > now) return hit.source;
    for (const [k, v] of this.threadSources) if (v.until <= now) this.threadSources.delete(k);
    const source = this.files.threadRasterSource(dataset, THREAD_URL_SECONDS);
    const entry = { source, until: now + THREAD_PATH_REUSE_MS };
    this.threadSources.set(key, entry);
    source.then(
      (s) => {
        if (s === null) this.threadSources.delete(key);
        else if (typeof s !== 'string') entry.until = now + THREAD_URL_REUSE_MS;
      },
      () => this.threadSources.delete(key),
    );
    return source;
  }

  /** A job done by a render thread, with the answers of withFile for what goes wrong. */
  private inThread(dataset: DatasetWithItem, job: RenderJob): Promise<{ png?: Uint8Array; samples?: PixelSample[] }> {
    return this.withThreads(dataset, (pool, key, source) => pool.run(key, source, dataset.raster!, job));
  }

  /** Work for the render threads on a dataset's file, with the answers of withFile for what goes wrong. */
  private async withThreads<T>(dataset: DatasetWithItem, work: (pool: RenderPool, key: string, source: ThreadSource) => Promise<T>): Promise<T> {
    const missing = () => new NotFoundException({ message: 'The file of this dataset is missing', details: { reason: 'file_missing' } });
    const source = await this.threadSource(dataset);
    if (!source) throw missing();
    try {
      return await work(this.pool!, `${dataset.id}:${dataset.revision}`, source);
    } catch (error) {
      if (error instanceof RasterProblem) throw new HttpException({ message: error.message, details: { reason: error.code } }, error.status);
      // Located afresh next time (a file moved away, an object URL no longer valid).
      this.threadSources.delete(`${dataset.id}:${dataset.revision}`);
      if (error instanceof RasterFileGone) throw missing();
      throw error;
    }
  }

  private async pngInThread(dataset: DatasetWithItem, job: RenderJob): Promise<Buffer> {
    const { png } = await this.inThread(dataset, job);
    return Buffer.from(png!.buffer, png!.byteOffset, png!.byteLength);
  }

  private cacheKey(dataset: DatasetWithItem, name: string): string {
    return `datasets/${dataset.id}/cache/r${dataset.revision}/${name}`;
  }

  private withFile<T>(dataset: DatasetWithItem, work: (file: RasterFile, info: RasterInfo) => Promise<T>): Promise<T> {
    return this.rasters
      .use(
        `${dataset.id}:${dataset.revision}`,
        () => this.files.rasterSource(dataset),
        (file) => work(file, dataset.raster!),
      )
      .catch((error: unknown) => {
        // What the file itself makes impossible (no overview to draw it whole…) is the caller's answer.
        if (error instanceof RasterProblem) throw new HttpException({ message: error.message, details: { reason: error.code } }, error.status);
        throw error;
      })
      .then((result) => {
        if (result === null) throw new NotFoundException({ message: 'The file of this dataset is missing', details: { reason: 'file_missing' } });
        return result;
      });
  }

  /**
   * A cached render, or renders it, answers, and stores it for next time. The cached file is read
   * straight away (one request to an object store, not a HEAD then a GET); missing, it is rendered.
   */
  private async cached(dataset: DatasetWithItem, name: string, render: () => Promise<Buffer>): Promise<RenderedPng> {
    const key = this.cacheKey(dataset, name);
    const isPublic = isPublicDataset(dataset);
    // Being rendered or stored by another request of this process: its image, not a second render.
    const inFlight = this.rendering.get(key);
    if (inFlight) return { png: await inFlight, public: isPublic };
    try {
      return { png: await buffer(await this.storage.get(key)), public: isPublic };
    } catch (error) {
      // Not rendered yet (or removed meanwhile): render it. Other failures are worth a line.
      if (!(error instanceof StorageNotFoundError)) this.logger.warn({ key, err: (error as Error).message }, 'could not read a cached render');
    }
    const rendered = render();
    this.rendering.set(key, rendered);
    let png: Buffer;
    try {
      png = await rendered;
    } catch (error) {
      this.rendering.delete(key);
      throw error;
    }
    // Stored after answering: the caller need not wait for the write (a PUT, on an object store).
    void this.storage
      .put(key, png)
      .catch((error: Error) => this.logger.warn({ key, err: error.message }, 'could not cache a render'))
      .finally(() => this.rendering.delete(key));
    return { png, public: isPublic };
  }

  async thumbnail(user: AuthUser | undefined, id: string, size = 256): Promise<RenderedPng> {
    const dataset = await this.datasets.accessReady(user, id);
    const info = dataset.raster!;
    const effective = Math.min(size, Math.max(info.width, info.height));
    return this.cached(dataset, `thumbnail-${effective}.png`, () =>
      this.pool
        ? this.pngInThread(dataset, { kind: 'thumbnail', size: effective })
        : this.withFile(dataset, async (file) =>
            encodePng(await renderGrid(file, info, thumbnailSourceGrid(info, effective), info.render.mode === 'palette' ? 'nearest' : 'bilinear')),
          ),
    );
  }

  async tile(user: AuthUser | undefined, id: string, z: number, x: number, y: number, resampling: Resampling = 'bilinear'): Promise<RenderedPng> {
    const dataset = await this.datasets.accessReady(user, id);
    const info = dataset.raster!;
    const n = 2 ** z;
    if (x >= n || y >= n)
      throw new BadRequestException({
        message: `Tile ${z}/${x}/${y} does not exist: x and y must be below ${n} at zoom ${z}`,
        details: [{ field: 'x', problems: ['out of range'] }],
      });
    if (!info.footprint) throw new NotFoundException('The dataset is not georeferenced: it has no tiles');
    // A map asks for every tile in view: outside the footprint it gets an image (a JSON 404 would be blocked by browsers).
    if (!tileTouchesFootprint(info, z, x, y)) return { png: await emptyTile(), public: isPublicDataset(dataset) };
    if (!info.crs || !info.transform) throw new NotFoundException('The dataset is not georeferenced: it has no tiles');
    return this.cached(dataset, `tiles/${resampling}/${z}/${x}/${y}.png`, () =>
      this.pool
        ? this.pngInThread(dataset, { kind: 'tile', z, x, y, resampling })
        : this.withFile(dataset, async (file) => {
            const grid = tileSourceGrid(info, z, x, y);
            if (!grid) throw new NotFoundException('The dataset is not georeferenced: it has no tiles');
            return encodePng(await renderGrid(file, info, grid, resampling));
          }),
    );
  }

  /**
   * Every band's value at each point (WGS 84). `strict`: a point off the raster is a 400
   * (the single-point route); otherwise it is reported with `inside: false`.
   */
  async sample(user: AuthUser | undefined, id: string, points: { lon: number; lat: number }[], strict: boolean): Promise<SamplesDto> {
    const dataset = await this.datasets.accessReady(user, id);
    const info = dataset.raster!;
    if (!info.crs || !info.transform) {
      throw new BadRequestException({ message: 'The dataset is not georeferenced: it cannot be sampled by longitude and latitude', details: { warnings: info.warnings } });
    }
    const transformer = crsTransformer(info.crs);
    const inverse = invertAffine(info.transform);
    const west = info.nativeBounds?.[0] ?? -180;
    const period = periodicWidth(info.crs);
    const located = points.map(({ lon, lat }) => {
      const [x0, y] = transformer.fromLonLat(lon, lat);
      // A raster may extend past ±180° (0…360 grids, antimeridian crossers, Web Mercator beyond 180°).
      const x = wrapX(x0, west, period);
      const [c, r] = Number.isFinite(x) && Number.isFinite(y) ? applyAffine(inverse, x, y) : [NaN, NaN];
      const col = Math.floor(c);
      const row = Math.floor(r);
      const inside = col >= 0 && row >= 0 && col < info.width && row < info.height;
      return { lon, lat, x, y, col, row, inside };
    });
    const outside = located.find((p) => !p.inside);
    if (strict && outside) {
      throw new BadRequestException({
        message: `The point (${outside.lon}, ${outside.lat}) is outside the raster`,
        details: {
          lon: outside.lon,
          lat: outside.lat,
          col: Number.isFinite(outside.col) ? outside.col : null,
          row: Number.isFinite(outside.row) ? outside.row : null,
          width: info.width,
          height: info.height,
        },
      });
    }
    const insideIdx = located.map((p, i) => (p.inside ? i : -1)).filter((i) => i >= 0);
    const pixels = insideIdx.map((i) => ({ col: located[i]!.col, row: located[i]!.row }));
    const values = !insideIdx.length
      ? []
      : this.pool
        ? await this.withThreads(dataset, (pool, key, source) => pool.sample(key, source, info, pixels))
        : await this.withFile(dataset, (file) => samplePixels(file, info, pixels));
    const byIndex = new Map(insideIdx.map((i, k) => [i, values[k]!.values]));
    const samples: SampleDto[] = located.map((p, i) => ({
      lon: p.lon,
      lat: p.lat,
      inside: p.inside,
      col: p.inside ? p.col : null,
      row: p.inside ? p.row : null,
      coordinates: Number.isFinite(p.x) && Number.isFinite(p.y) ? [p.x, p.y] : null,
      values: byIndex.get(i) ?? null,
    }));
    return {
      dataset_id: dataset.id,
      bands: info.bands.map((b) => ({ index: b.index, data_type: b.dataType, nodata: b.nodata })),
      samples,
    };
  }
}
