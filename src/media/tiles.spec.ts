import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { tileGrid, tileSpan } from './tiles.js';

describe('tileGrid', () => {
  it('follows Panoramax: about one column per 1024 px, a power of two between 4 and 64, rows half of it', () => {
    const cols = (w: number) => tileGrid(w, w / 2).cols;
    assert.equal(cols(2048), 4);
    assert.equal(cols(4096), 8);
    assert.equal(cols(5760), 8);
    assert.equal(cols(8192), 16);
    assert.equal(cols(11904), 16);
    assert.equal(cols(16384), 32);
    assert.equal(cols(1000), 4);
    assert.equal(cols(80000), 64);
    assert.deepEqual(tileGrid(5760, 2880), { cols: 8, rows: 4, width: 5760, height: 2880 });
  });
});

describe('tileSpan', () => {
  it('covers every pixel exactly once, spreading the remainder', () => {
    const spans = Array.from({ length: 8 }, (_, i) => tileSpan(5763, 8, i));
    assert.equal(spans[0]!.start, 0);
    for (let i = 1; i < 8; i++) assert.equal(spans[i]!.start, spans[i - 1]!.start + spans[i - 1]!.length);
    assert.equal(spans[7]!.start + spans[7]!.length, 5763);
    assert.ok(spans.every((s) => s.length === 720 || s.length === 721));
  });
});
