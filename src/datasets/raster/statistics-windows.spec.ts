import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { statisticsWindows } from './geotiff-raster.js';

const pixels = (ws: { x0: number; y0: number; x1: number; y1: number }[]) => ws.reduce((t, w) => t + (w.x1 - w.x0) * (w.y1 - w.y0), 0);

describe('statisticsWindows', () => {
  it('covers a small image whole, in stripes', () => {
    const ws = statisticsWindows(1000, 1000, 256, 256, true);
    assert.equal(pixels(ws), 1_000_000);
    assert.deepEqual(ws[0], { x0: 0, y0: 0, x1: 1000, y1: Math.min(1000, ws[0]!.y1) });
  });

  it('reads whole tiles spread over a huge tiled image, within the budget', () => {
    const ws = statisticsWindows(200_000, 200_000, 256, 256, true);
    assert.ok(pixels(ws) <= 16_000_000, `${pixels(ws)} pixels`);
    assert.ok(ws.length >= 100, `${ws.length} tiles`);
    for (const w of ws) {
      assert.equal(w.x0 % 256, 0);
      assert.equal(w.y0 % 256, 0);
      assert.ok(w.x1 <= 200_000 && w.y1 <= 200_000);
    }
    const xs = new Set(ws.map((w) => w.x0));
    const ys = new Set(ws.map((w) => w.y0));
    assert.ok(Math.min(...xs) < 20_000 && Math.max(...xs) > 180_000, 'spread across');
    assert.ok(Math.min(...ys) < 20_000 && Math.max(...ys) > 180_000, 'spread down');
  });

  it('reads whole strips spread down a huge striped image', () => {
    const ws = statisticsWindows(200_000, 200_000, 200_000, 1, false);
    assert.ok(pixels(ws) <= 16_000_000);
    assert.ok(ws.every((w) => w.x0 === 0 && w.x1 === 200_000 && w.y1 - w.y0 === 1));
    assert.ok(ws.length >= 50);
  });
});
