import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { isSafeMethod, isTrustedOrigin } from './csrf.js';

const trusted = new Set(['https://sightline.example', 'https://app.example']);

describe('isTrustedOrigin (CSRF defence of cookie sessions)', () => {
  it('accepts a same-origin fetch and the trusted origins', () => {
    assert.equal(isTrustedOrigin({ 'sec-fetch-site': 'same-origin', origin: 'https://sightline.example' }, trusted), true);
    assert.equal(isTrustedOrigin({ origin: 'https://app.example', 'sec-fetch-site': 'cross-site' }, trusted), true);
    assert.equal(isTrustedOrigin({ origin: 'https://sightline.example' }, trusted), true);
    assert.equal(isTrustedOrigin({ referer: 'https://sightline.example/api/docs' }, trusted), true);
  });

  it('refuses other sites, opaque origins and requests that say nothing', () => {
    assert.equal(isTrustedOrigin({ origin: 'https://evil.example', 'sec-fetch-site': 'cross-site' }, trusted), false);
    assert.equal(isTrustedOrigin({ origin: 'https://sightline.example.evil.example' }, trusted), false);
    assert.equal(isTrustedOrigin({ origin: 'null' }, trusted), false);
    assert.equal(isTrustedOrigin({ 'sec-fetch-site': 'same-site' }, trusted), false);
    assert.equal(isTrustedOrigin({ referer: 'https://evil.example/page' }, trusted), false);
    assert.equal(isTrustedOrigin({ referer: 'not a url' }, trusted), false);
    assert.equal(isTrustedOrigin({}, trusted), false);
  });

  it('knows which methods are safe', () => {
    assert.equal(isSafeMethod('GET'), true);
    assert.equal(isSafeMethod('head'), true);
    assert.equal(isSafeMethod('POST'), false);
    assert.equal(isSafeMethod('DELETE'), false);
  });
});
