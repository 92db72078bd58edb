import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { BadRequestException } from '@nestjs/common';
import { localNextPath } from './next-path.js';

describe('localNextPath (no open redirect after login)', () => {
  it('keeps local paths with their query', () => {
    assert.equal(localNextPath(undefined), '/api/docs');
    assert.equal(localNextPath(''), '/api/docs');
    assert.equal(localNextPath('/api/docs'), '/api/docs');
    assert.equal(localNextPath('/api/auth/tokens/abc/claim?x=1#y'), '/api/auth/tokens/abc/claim?x=1#y');
  });

  it('refuses anything that could leave the site', () => {
    for (const next of [
      'https://evil.example/',
      '//evil.example',
      '/\\evil.example',
      '\\\\evil.example',
      'evil.example',
      'javascript:alert(1)',
      '/\t/evil.example',
      '/.//evil.example',
      '/a/..//evil.example',
      '/./\\evil.example',
      '/%0a',
    ]) {
      if (next === '/%0a') {
        // Encoded characters stay encoded: harmless.
        assert.equal(localNextPath(next), '/%0a');
        continue;
      }
      assert.throws(() => localNextPath(next), BadRequestException, next);
    }
  });
});
