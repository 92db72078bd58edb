import assert from 'node:assert/strict';
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import sharp from 'sharp';
import { loadConfig } from '../config/app-config.js';
import { MediaService } from './media.service.js';
import { InvalidPictureError } from './media.types.js';

describe('MediaService.derivePerspectiveFiles', () => {
  let dir: string;
  let media: MediaService;
  let picture: string;
  before(async () => {
    dir = await fs.mkdtemp(path.join(os.tmpdir(), 'media-spec-'));
    media = new MediaService(loadConfig({ NODE_ENV: 'test' }));
    // A 3000×2000 picture with some structure, stored upright by EXIF orientation 6 (rotated).
    const pixels = Buffer.alloc(3000 * 2000 * 3);
    for (let i = 0; i < pixels.length; i++) pixels[i] = (i * 7 + ((i / 9000) | 0)) & 0xff;
    picture = path.join(dir, 'in.jpg');
    await sharp(pixels, { raw: { width: 3000, height: 2000, channels: 3 } })
      .jpeg({ quality: 85 })
      .withMetadata({ orientation: 6 })
      .toFile(picture);
  });
  after(() => fs.rm(dir, { recursive: true, force: true }));

  it('writes the same sd and thumb bytes as derive() returns, upright', async () => {
    const files = { sd: path.join(dir, 'sd.jpg'), thumb: path.join(dir, 'thumb.jpg') };
    const size = await media.derivePerspectiveFiles(picture, files);
    const derived = await media.derive(picture, 'perspective');
    assert.deepEqual(size, { sdWidth: derived.sdWidth, sdHeight: derived.sdHeight });
    assert.deepEqual([size.sdWidth, size.sdHeight], [2000, 3000], 'upright and not enlarged');
    assert.ok((await fs.readFile(files.sd)).equals(derived.sd));
    assert.ok((await fs.readFile(files.thumb)).equals(derived.thumb));
    const thumb = await sharp(files.thumb).metadata();
    assert.deepEqual([thumb.width, thumb.format], [500, 'jpeg']);
  });

  it('refuses a file that is not a picture as an invalid picture', async () => {
    const junk = path.join(dir, 'junk.jpg');
    await fs.writeFile(junk, Buffer.from([0xff, 0xd8, 0xff, 0xe0, 1, 2, 3]));
    await assert.rejects(media.derivePerspectiveFiles(junk, { sd: path.join(dir, 'x.jpg'), thumb: path.join(dir, 'y.jpg') }), InvalidPictureError);
  });
});
