import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { loadConfig } from '../config/app-config.js';
import { identityFromClaims } from './identity.js';
import type { UsersRepository } from './users.repository.js';
import { UsersService } from './users.service.js';

const ISSUER = 'http://keycloak:8080/realms/sightline';

describe('identityFromClaims', () => {
  it('reads a Keycloak access token', () => {
    const identity = identityFromClaims(ISSUER, {
      sub: 'f3b1c0de',
      preferred_username: 'alice',
      name: 'Alice Example',
      email: 'alice@example.org',
      email_verified: true,
      roles: ['admin', 'user'],
      realm_access: { roles: ['offline_access', 'default-roles-sightline'] },
    });
    assert.deepEqual(identity, {
      issuer: ISSUER,
      subject: 'f3b1c0de',
      name: 'alice',
      named: true,
      email: 'alice@example.org',
      emailVerified: true,
      roles: ['admin', 'user', 'offline_access', 'default-roles-sightline'],
    });
  });

  it('falls back to the e-mail or the subject for the name, and needs a subject', () => {
    assert.equal(identityFromClaims(ISSUER, { sub: 's1', email: 'x@example.org' }).name, 'x@example.org');
    const bare = identityFromClaims(ISSUER, { sub: 's2' });
    assert.equal(bare.name, 's2');
    assert.equal(bare.named, false);
    assert.throws(() => identityFromClaims(ISSUER, { preferred_username: 'nobody' }), /no subject/);
  });
});

describe('UsersService.isAdminIdentity', () => {
  const users = new UsersService(undefined as never, undefined as unknown as UsersRepository, loadConfig({ ADMIN_SUBJECTS: 'root-subject', ADMIN_EMAILS: 'Boss@Example.org' }));
  const base = { issuer: ISSUER, subject: 's', name: 'n', named: true, email: null, emailVerified: true, roles: [] as string[] };

  it('promotes by ADMIN_SUBJECTS, by verified ADMIN_EMAILS (any case) and by the provider role', () => {
    assert.equal(users.isAdminIdentity({ ...base, subject: 'root-subject' }), true);
    assert.equal(users.isAdminIdentity({ ...base, email: 'boss@example.org' }), true);
    assert.equal(users.isAdminIdentity({ ...base, roles: ['admin'] }), true);
  });

  it('does not promote on an unverified e-mail or anything else', () => {
    assert.equal(users.isAdminIdentity({ ...base, email: 'boss@example.org', emailVerified: false }), false);
    assert.equal(users.isAdminIdentity({ ...base, email: 'someone@example.org', roles: ['user'] }), false);
  });
});
