import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { parseIsoDuration } from './upload-set.dto.js';

describe('parseIsoDuration', () => {
  it('reads ISO 8601 durations without years or months', () => {
    assert.equal(parseIsoDuration('PT5M'), 300);
    assert.equal(parseIsoDuration('PT1H2M3.5S'), 3723.5);
    assert.equal(parseIsoDuration('P1DT1S'), 86401);
    assert.equal(parseIsoDuration('P2W'), 1209600);
    assert.equal(parseIsoDuration('pt30s'), 30);
  });

  it('refuses anything else', () => {
    for (const bad of ['P', 'PT', 'P1M', '5 minutes', 'PT5', '300', 'P1Y']) assert.equal(parseIsoDuration(bad), null, bad);
  });
});
