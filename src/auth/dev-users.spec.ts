import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { parseDevUsers, passwordMatches } from './dev-users.js';

describe('parseDevUsers', () => {
  it('reads name:role[:password], the password defaulting to the name', () => {
    assert.deepEqual(parseDevUsers('alice:admin, bob:user ,carol:user:s3cret:with:colons,dave'), [
      { name: 'alice', role: 'admin', password: 'alice' },
      { name: 'bob', role: 'user', password: 'bob' },
      { name: 'carol', role: 'user', password: 's3cret:with:colons' },
      { name: 'dave', role: 'user', password: 'dave' },
    ]);
    assert.deepEqual(parseDevUsers(''), []);
  });

  it('names the bad entry', () => {
    assert.throws(() => parseDevUsers('alice:root'), /alice:root.*role "root"/);
    assert.throws(() => parseDevUsers('a b:user'), /no valid name/);
    assert.throws(() => parseDevUsers('alice:user,alice:admin'), /listed twice/);
  });

  it('compares passwords exactly', () => {
    assert.equal(passwordMatches('alice', 'alice'), true);
    assert.equal(passwordMatches('Alice', 'alice'), false);
    assert.equal(passwordMatches('', 'alice'), false);
  });
});
