import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { CursorCodec, CursorError, fingerprint } from './cursor.js';
import { parseDatetimeParameter, parseRfc3339 } from './datetime.js';
import { keysetSql, tsQuery, type ResolvedSort } from '../catalog/catalog-search.service.js';
import { SqlParams } from '../common/sql-params.js';

describe('STAC cursors', () => {
  const codec = new CursorCodec('a-secret-of-sixteen+');
  const print = fingerprint({ bbox: [0, 0, 1, 1] });

  it('round-trips a payload and refuses any change to it', () => {
    const token = codec.encode({ d: 'n', k: ['2021-01-01 00:00:00+00', 'abc'], h: print, m: 42 });
    assert.deepEqual(codec.decode(token, print), { d: 'n', k: ['2021-01-01 00:00:00+00', 'abc'], h: print, m: 42 });
    const [v, body, sig] = token.split('.');
    const other = Buffer.from(JSON.stringify({ d: 'n', k: ['1999-01-01 00:00:00+00', 'abc'], h: print })).toString('base64url');
    assert.throws(
      () => codec.decode(`${v}.${other}.${sig}`, print),
      (e: unknown) => e instanceof CursorError && /altered/.test(e.message),
    );
    assert.throws(() => codec.decode(`${v}.${body}.${sig.slice(0, -2)}xx`, print), CursorError);
    assert.throws(() => codec.decode('nonsense', print), /not a cursor/);
  });

  it('binds a cursor to its search and its server secret', () => {
    const token = codec.encode({ d: 'p', k: [null], h: print });
    assert.throws(() => codec.decode(token, fingerprint({ bbox: [0, 0, 2, 2] })), /another search/);
    assert.throws(() => new CursorCodec('another-secret-value').decode(token, print), /altered/);
  });
});

describe('RFC 3339 and the datetime parameter', () => {
  it('keeps the full fractional precision for PostgreSQL and normalises the case', () => {
    assert.equal(parseRfc3339('2020-07-23t00:00:00.012345678z').text, '2020-07-23T00:00:00.012345678Z');
    assert.equal(parseRfc3339('1996-12-19T16:39:57-08:00').epochMs, Date.parse('1996-12-20T00:39:57Z'));
  });

  it('reads instants and open or closed intervals', () => {
    const closed = parseDatetimeParameter('2020-01-01T00:00:00Z/2020-02-01T00:00:00Z');
    assert.equal(closed.instant, false);
    assert.equal(closed.start?.text, '2020-01-01T00:00:00Z');
    assert.equal(parseDatetimeParameter('../2020-01-01T00:00:00Z').start, null);
    assert.equal(parseDatetimeParameter('2020-01-01T00:00:00Z/').end, null);
    assert.equal(parseDatetimeParameter('2020-01-01T00:00:00Z').instant, true);
    assert.throws(() => parseDatetimeParameter('2020-02-01T00:00:00Z/2020-01-01T00:00:00Z'), /starts after it ends/);
    assert.throws(() => parseDatetimeParameter('2019-02-29T00:00:00Z'), /day 29 does not exist/);
  });
});

describe('keyset conditions', () => {
  const key = (sql: string, nullable: boolean, cast = 'text') => ({ sql, cast, nullable });
  const sort = (...s: Array<[string, 'asc' | 'desc', boolean]>): ResolvedSort[] => s.map(([sql, direction, nullable]) => ({ key: key(sql, nullable), direction }));

  it('uses a row comparison when all keys go the same way', () => {
    const p = new SqlParams();
    assert.equal(keysetSql(sort(['a', 'desc', true], ['id', 'desc', false]), ['x', 'y'], false, p), '(a, id) < ($1::text, $2::text)');
    assert.deepEqual(p.values, ['x', 'y']);
  });

  it('lets NULLs follow a non-null boundary when ascending', () => {
    const p = new SqlParams();
    assert.equal(keysetSql(sort(['a', 'asc', true], ['id', 'asc', false]), ['x', 'y'], false, p), '((a, id) > ($1::text, $2::text) OR (a IS NULL))');
  });

  it('expands mixed directions and NULL boundaries term by term, and reverses for prev pages', () => {
    const p = new SqlParams();
    assert.equal(keysetSql(sort(['a', 'desc', true], ['id', 'asc', false]), [null, 'y'], false, p), '((a IS NOT NULL) OR (a IS NULL AND (id > $1::text OR id IS NULL)))');
    const back = new SqlParams();
    assert.equal(keysetSql(sort(['a', 'asc', true], ['id', 'asc', false]), ['x', 'y'], true, back), '(a, id) < ($1::text, $2::text)');
  });
});

describe('free-text queries', () => {
  it('ORs terms, chains the words of a term and matches prefixes, dropping query syntax', () => {
    assert.equal(tsQuery(['rue de la paix', 'GoPro']), "('rue':* <-> 'de':* <-> 'la':* <-> 'paix':*) | ('gopro':*)");
    assert.equal(tsQuery(["'&|!:*"]), undefined);
    assert.equal(tsQuery(['l’église']), "('l':* <-> 'église':*)");
  });
});
