import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { decide, matchesIfNoneMatch, parseRange, storedFileEtag } from './stored-file-response.js';

const modifiedAt = new Date('2024-05-01T10:00:00.250Z');
const file = { size: 1000, modifiedAt, etag: storedFileEtag(1000, modifiedAt) };

describe('parseRange', () => {
  it('reads the three forms of one byte range and clamps the end', () => {
    assert.deepEqual(parseRange('bytes=0-99', 1000), { start: 0, end: 99 });
    assert.deepEqual(parseRange('bytes=900-', 1000), { start: 900, end: 999 });
    assert.deepEqual(parseRange('bytes=-100', 1000), { start: 900, end: 999 });
    assert.deepEqual(parseRange('bytes=-5000', 1000), { start: 0, end: 999 });
    assert.deepEqual(parseRange('bytes=990-5000', 1000), { start: 990, end: 999 });
  });

  it('ignores what it cannot or need not honour, and flags what cannot be satisfied', () => {
    for (const ignored of [undefined, 'bytes=5-1', 'bytes=0-1,4-5', 'lines=0-1', 'bytes=-', 'bytes=a-b']) assert.equal(parseRange(ignored, 1000), undefined, ignored);
    assert.equal(parseRange('bytes=1000-', 1000), null);
    assert.equal(parseRange('bytes=-0', 1000), null);
    assert.equal(parseRange('bytes=0-0', 0), null);
  });
});

describe('decide', () => {
  it('answers 304 to a matching If-None-Match (weak comparison) or a not newer If-Modified-Since', () => {
    assert.deepEqual(decide({ ifNoneMatch: file.etag }, file), { status: 304 });
    assert.deepEqual(decide({ ifNoneMatch: `"x", W/${file.etag}` }, file), { status: 304 });
    assert.deepEqual(decide({ ifModifiedSince: modifiedAt.toUTCString() }, file), { status: 304 });
    assert.deepEqual(decide({ ifModifiedSince: 'Sat, 01 Jan 2000 00:00:00 GMT' }, file), { status: 200 });
    assert.deepEqual(decide({ ifNoneMatch: '"x"', ifModifiedSince: modifiedAt.toUTCString() }, file), { status: 200 });
  });

  it('honours If-Range with the current validator only', () => {
    assert.deepEqual(decide({ range: 'bytes=0-9', ifRange: file.etag }, file), { status: 206, range: { start: 0, end: 9 } });
    assert.deepEqual(decide({ range: 'bytes=0-9', ifRange: modifiedAt.toUTCString() }, file), { status: 206, range: { start: 0, end: 9 } });
    assert.deepEqual(decide({ range: 'bytes=0-9', ifRange: '"old"' }, file), { status: 200 });
    assert.deepEqual(decide({ range: 'bytes=2000-' }, file), { status: 416 });
  });

  it('matches If-None-Match lists and *', () => {
    assert.equal(matchesIfNoneMatch('*', '"a"'), true);
    assert.equal(matchesIfNoneMatch('"b" , "a"', '"a"'), true);
    assert.equal(matchesIfNoneMatch('"b"', '"a"'), false);
    assert.equal(matchesIfNoneMatch(undefined, '"a"'), false);
  });
});
