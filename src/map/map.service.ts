import { BadRequestException, Injectable } from '@nestjs/common';
import { createHash } from 'node:crypto';
import type { AuthUser } from '../auth/auth.types.js';
import { AppConfig } from '../config/app-config.js';
import { FOOTPRINTS_MIN_ZOOM, GRID_MAX_ZOOM, mapStyle, PICTURES_MIN_ZOOM } from './map-style.js';
import { MapRepository } from './map.repository.js';

export interface Tile {
  /** Empty when nothing is visible there. */
  body: Buffer;
  /** Strong ETag of the body. */
  etag: string;
  cacheControl: string;
  vary?: string;
}

/** Vector tiles of what the caller may see, and the MapLibre style that draws them. */
@Injectable()
export class MapService {
  constructor(
    private readonly repository: MapRepository,
    private readonly config: AppConfig,
  ) {}

  private checkTile(z: number, x: number, y: number): void {
    const n = 2 ** z;
    if (x >= n || y >= n) {
      throw new BadRequestException({
        message: `Tile ${z}/${x}/${y} does not exist: at zoom ${z}, x and y go from 0 to ${n - 1}`,
        details: [{ field: x >= n ? 'x' : 'y', problems: [`must be less than ${n} at zoom ${z}`] }],
      });
    }
  }

  private answer(body: Buffer, user: AuthUser | undefined): Tile {
    // Authenticated callers may see more than the public: their tiles are theirs only.
    return user
      ? { body, etag: etagOf(body), cacheControl: 'private, no-cache', vary: 'Authorization, Cookie' }
      : { body, etag: etagOf(body), cacheControl: `public, max-age=${this.config.MAP_TILE_CACHE_MAX_AGE_SECONDS}`, vary: 'Authorization, Cookie' };
  }

  /** The `footprints` tile: datasets and harvested records the caller may see, from zoom FOOTPRINTS_MIN_ZOOM. */
  async footprintsTile(z: number, x: number, y: number, user: AuthUser | undefined): Promise<Tile> {
    this.checkTile(z, x, y);
    if (z < FOOTPRINTS_MIN_ZOOM) return this.answer(Buffer.alloc(0), user);
    return this.answer(await this.repository.withoutJit((m) => this.repository.footprintsTile(z, x, y, user, m)), user);
  }

  async tile(z: number, x: number, y: number, user: AuthUser | undefined): Promise<Tile> {
    this.checkTile(z, x, y);
    const publicCache = `public, max-age=${this.config.MAP_TILE_CACHE_MAX_AGE_SECONDS}`;
    if (z < GRID_MAX_ZOOM) {
      // The grid counts what anonymous users see, for everybody: one cacheable answer.
      // A range scan of the small grid table: cheap enough that the planner never compiles it.
      const body = await this.repository.gridTile(z, x, y);
      return { body, etag: etagOf(body), cacheControl: publicCache };
    }
    // A tile is the concatenation of its layers' messages.
    const body = await this.repository.withoutJit(async (m) => {
      const parts = [await this.repository.sequencesTile(z, x, y, user, m)];
      if (z >= PICTURES_MIN_ZOOM) parts.push(await this.repository.picturesTile(z, x, y, user, m));
      return Buffer.concat(parts);
    });
    // Authenticated callers may see more than the public: their tiles are theirs only.
    return user
      ? { body, etag: etagOf(body), cacheControl: 'private, no-cache', vary: 'Authorization, Cookie' }
      : { body, etag: etagOf(body), cacheControl: publicCache, vary: 'Authorization, Cookie' };
  }

  style(): Record<string, unknown> {
    return mapStyle(this.config.PUBLIC_URL);
  }
}

function etagOf(body: Buffer): string {
  return `"${body.length.toString(16)}-${createHash('sha1').update(body).digest('base64url').slice(0, 27)}"`;
}
