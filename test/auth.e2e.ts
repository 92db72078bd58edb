import assert from 'node:assert/strict';
import { generateKeyPairSync } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { SignJWT } from 'jose';
import type pg from 'pg';
import { TokensService } from '../src/auth/tokens.service.js';
import { UsersService } from '../src/auth/users.service.js';
import { startApi, TestApi } from './support/app.js';
import { browse, CookieJar, createUser, loginSession, providerAccessToken, TestSession } from './support/auth.js';
import { testPool } from './support/db.js';
import { freePort, json, waitFor } from './support/net.js';
import { type ChildHandle, spawnEntry } from './support/processes.js';

const bearer = (jwt: string) => ({ authorization: `Bearer ${jwt}` });
const exitCode = (handle: ChildHandle) =>
  handle.proc.exitCode !== null ? Promise.resolve(handle.proc.exitCode) : new Promise<number | null>((resolve) => handle.proc.once('exit', (code) => resolve(code)));

describe('Authentication: sessions, Bearer tokens, users', () => {
  // Two replicas of the API sharing the database and Redis, behind "a proxy" (X-Forwarded-*).
  let a: TestApi;
  let b: TestApi;
  let db: pg.Pool;
  let alice: TestSession;
  let bob: TestSession;
  let bobId: string;

  before(async () => {
    const env = { TRUST_PROXY_HOPS: '1', DEV_USERS: 'alice:admin,bob:user,carol:user:carol-secret' };
    // One after the other: startApi passes configuration through process.env.
    a = await startApi({ env });
    b = await startApi({ env });
    db = testPool();
    [alice, bob] = await Promise.all([loginSession(a, 'alice'), loginSession(a, 'bob')]);
    bobId = (await json(await a.fetch('/api/users/me', { headers: { cookie: bob.cookie } }))).id;
  });
  after(async () => {
    await db.end();
    await Promise.all([a.close(), b.close()]);
  });

  it('logs a person in through the provider into a server-side session', async () => {
    assert.equal(new URL(bob.landedAt).pathname, '/api/docs');
    assert.match(bob.setCookie, /^sightline\.sid=/);
    assert.match(bob.setCookie, /; HttpOnly/i);
    assert.match(bob.setCookie, /; SameSite=Lax/i);
    assert.doesNotMatch(bob.setCookie, /; Secure/i);
    assert.doesNotMatch(decodeURIComponent(bob.cookie), /bob/, 'the cookie holds an id, not the user');

    const me = await a.fetch('/api/users/me', { headers: { cookie: bob.cookie } });
    assert.equal(me.status, 200);
    const body = await json(me);
    assert.equal(body.name, 'bob');
    assert.equal(body.email, 'bob@example.org');
    assert.equal(body.role, 'user');
    assert.equal(body.authenticated_via, 'session');

    const { rows } = await db.query(`SELECT u.issuer, u.subject, count(s.id)::int AS sessions FROM users u JOIN user_session s ON s.user_id = u.id WHERE u.id = $1 GROUP BY 1, 2`, [
      bobId,
    ]);
    assert.deepEqual(rows, [{ issuer: `${a.baseUrl}/oidc`, subject: 'bob', sessions: 1 }]);

    // The other replica knows the session too: it lives in PostgreSQL.
    assert.equal((await json(await b.fetch('/api/users/me', { headers: { cookie: bob.cookie } }))).name, 'bob');
    // DEV_USERS makes alice an admin (the provider's roles claim).
    assert.equal((await json(await a.fetch('/api/users/me', { headers: { cookie: alice.cookie } }))).role, 'admin');
  });

  it('marks the session cookie Secure behind an https proxy', async () => {
    const res = await a.fetch('/api/auth/login?next=/api/docs', { redirect: 'manual', headers: { 'x-forwarded-proto': 'https' } });
    assert.equal(res.status, 302);
    assert.match(res.headers.get('location') ?? '', new RegExp(`^${a.baseUrl}/oidc/auth\\?.*code_challenge_method=S256`));
    const cookie = res.headers.getSetCookie().find((c) => c.startsWith('sightline.sid=')) ?? '';
    assert.match(cookie, /; Secure/i);
    assert.match(cookie, /; HttpOnly/i);
  });

  it('sends the login with state, nonce and a PKCE challenge', async () => {
    const res = await a.fetch('/api/auth/login', { redirect: 'manual' });
    const location = new URL(res.headers.get('location')!);
    for (const param of ['state', 'nonce', 'code_challenge']) assert.ok((location.searchParams.get(param) ?? '').length >= 16, param);
    assert.equal(location.searchParams.get('redirect_uri'), `${a.baseUrl}/api/auth/redirect`);
  });

  it('refuses an open redirect in next with 400', async () => {
    for (const next of ['https://evil.example/', '//evil.example/x', '/\\evil.example']) {
      const res = await a.fetch(`/api/auth/login?next=${encodeURIComponent(next)}`, { redirect: 'manual' });
      assert.equal(res.status, 400, next);
      assert.equal(res.headers.get('location'), null);
      assert.match((await json(res)).message, /local path/);
    }
  });

  it('refuses a browser login that carries a Bearer token (it has no session) with 400', async () => {
    const script = await createUser(a, 'login-with-bearer');
    const res = await a.fetch('/api/auth/login', { redirect: 'manual', headers: script.headers });
    assert.equal(res.status, 400);
  });

  it('refuses a forged or replayed return from the provider with 401', async () => {
    const forged = await a.fetch('/api/auth/redirect?code=abc&state=def', { redirect: 'manual', headers: { accept: 'application/json' } });
    assert.equal(forged.status, 401);
    assert.match((await json(forged)).message, /Login failed: .*state/);
    const inBrowser = await a.fetch('/api/auth/redirect?code=abc&state=def', { redirect: 'manual', headers: { accept: 'text/html' } });
    assert.equal(inBrowser.status, 401);
    assert.match(await inBrowser.text(), /Login failed[\s\S]*Log in again/);
  });

  it('shows the login form again on a wrong password', async () => {
    const jar = new CookieJar();
    const form = await browse(jar, `${a.baseUrl}/api/auth/login`);
    const action = /<form method="post" action="([^"]+)"/.exec(await form.res.text())![1]!;
    const wrong = await browse(jar, new URL(action, form.url).toString(), { method: 'POST', form: { username: 'carol', password: 'carol' } });
    assert.equal(wrong.res.status, 401);
    assert.match(await wrong.res.text(), /Unknown user name or wrong password/);
  });

  it('creates a token through the session; the token works, and once revoked is refused within a second on every replica', async () => {
    const created = await a.fetch('/api/users/me/tokens', {
      method: 'POST',
      headers: { ...bob.headers, 'content-type': 'application/json' },
      body: JSON.stringify({ description: 'nightly upload' }),
    });
    assert.equal(created.status, 201);
    const token = await json(created);
    assert.equal(token.description, 'nightly upload');
    assert.equal(token.expires_at, null);

    for (const api of [a, b]) {
      const me = await api.fetch('/api/users/me', { headers: bearer(token.jwt) });
      assert.equal(me.status, 200);
      assert.equal((await json(me)).authenticated_via, 'api-token');
    }
    const list = await json(await a.fetch('/api/users/me/tokens', { headers: bearer(token.jwt) }));
    assert.ok(list.some((t: { id: string; jwt?: string }) => t.id === token.id && t.jwt === undefined));
    assert.equal((await json(await a.fetch(`/api/users/me/tokens/${token.id}`, { headers: { cookie: bob.cookie } }))).jwt, token.jwt);
    assert.equal((await a.fetch(`/api/users/me/tokens/${token.id}`, { headers: { cookie: alice.cookie } })).status, 404, "another user's token");

    assert.equal((await a.fetch(`/api/users/me/tokens/${token.id}`, { method: 'DELETE', headers: bob.headers })).status, 204);
    const revokedAt = Date.now();
    const refusedOnA = await a.fetch('/api/users/me', { headers: bearer(token.jwt) });
    assert.equal(refusedOnA.status, 401);
    assert.match((await json(refusedOnA)).message, /revoked/);
    // Replica b cached the token a moment ago: at most one second more.
    const status = await waitFor(
      'replica b to refuse the revoked token',
      async () => {
        const answer = (await b.fetch('/api/users/me', { headers: bearer(token.jwt) })).status;
        return answer === 200 ? null : answer;
      },
      3000,
      50,
    );
    assert.equal(status, 401);
    assert.ok(Date.now() - revokedAt <= 1500, `refused after ${Date.now() - revokedAt} ms`);
    assert.equal((await a.fetch(`/api/users/me/tokens/${token.id}`, { method: 'DELETE', headers: bob.headers })).status, 404);
  });

  it('refuses tampered, expired, wrongly-signed, unsigned and foreign tokens with 401', async () => {
    const tokens = a.app.get(TokensService);
    const { jwt } = await tokens.create(bobId, 'to tamper with');
    const [header, payload, signature] = jwt.split('.') as [string, string, string];
    const claims = JSON.parse(Buffer.from(payload, 'base64url').toString());
    const otherPayload = Buffer.from(JSON.stringify({ ...claims, sub: '00000000-0000-4000-8000-000000000000' })).toString('base64url');
    const expired = (await tokens.create(bobId, 'expired', new Date(Date.now() - 1000))).jwt;
    const wrongKey = await new SignJWT(claims).setProtectedHeader({ alg: 'HS256' }).sign(new TextEncoder().encode('another-secret-of-enough-length'));
    const rsa = generateKeyPairSync('rsa', { modulusLength: 2048 }).privateKey;
    const asymmetric = await new SignJWT(claims).setProtectedHeader({ alg: 'RS256' }).sign(rsa);
    const unsigned = `${Buffer.from(JSON.stringify({ alg: 'none', typ: 'JWT' })).toString('base64url')}.${payload}.`;
    const foreign = await new SignJWT({ sub: 'x' }).setIssuer('https://idp.evil.example').setProtectedHeader({ alg: 'RS256' }).sign(rsa);
    const cases: Record<string, string> = {
      tampered: `${header}.${otherPayload}.${signature}`,
      'tampered signature': `${header}.${payload}.${signature.slice(0, -4)}AAAA`,
      expired,
      'wrongly signed': wrongKey,
      'asymmetric algorithm': asymmetric,
      unsigned,
      'foreign issuer': foreign,
      'not a JWT': 'abc.def',
    };
    assert.equal((await a.fetch('/api/users/me', { headers: bearer(jwt) })).status, 200, 'the untouched token works');
    for (const [what, token] of Object.entries(cases)) {
      const res = await a.fetch('/api/users/me', { headers: bearer(token) });
      assert.equal(res.status, 401, what);
      assert.equal((await json(res)).statusCode, 401);
    }
    // Even on a public route: a script learns its token is bad.
    assert.equal((await a.fetch('/api/auth/session', { headers: bearer(expired) })).status, 401);
  });

  it("accepts the provider's access tokens (JWKS, audience) and creates the user from them", async () => {
    const { accessToken, idToken } = await providerAccessToken(a, 'carol', { password: 'carol-secret' });
    assert.equal(JSON.parse(Buffer.from(accessToken.split('.')[0]!, 'base64url').toString()).alg, 'ES256');
    const me = await a.fetch('/api/users/me', { headers: bearer(accessToken) });
    assert.equal(me.status, 200);
    const body = await json(me);
    assert.equal(body.name, 'carol');
    assert.equal(body.email, 'carol@example.org');
    assert.equal(body.authenticated_via, 'oidc-token');
    const { rows } = await db.query(`SELECT issuer, subject FROM users WHERE id = $1`, [body.id]);
    assert.deepEqual(rows, [{ issuer: `${a.baseUrl}/oidc`, subject: 'carol' }]);

    // Replica b trusts its own provider only: the issuer differs.
    assert.equal((await b.fetch('/api/users/me', { headers: bearer(accessToken) })).status, 401);
    // An ID token (RS256, same issuer and audience) is not an access token.
    assert.equal(JSON.parse(Buffer.from(idToken.split('.')[0]!, 'base64url').toString()).alg, 'RS256');
    assert.equal((await a.fetch('/api/users/me', { headers: bearer(idToken) })).status, 401);
    // Without the API resource the provider hands out an opaque token, meant for userinfo only.
    const opaque = await providerAccessToken(a, 'carol', { password: 'carol-secret', resource: false });
    assert.equal((await a.fetch('/api/users/me', { headers: bearer(opaque.accessToken) })).status, 401);
  });

  it('refuses cookie requests that change state from another origin (CSRF); Bearer requests are exempt', async () => {
    const post = (headers: Record<string, string>) =>
      a.fetch('/api/users/me/tokens', { method: 'POST', headers: { ...headers, 'content-type': 'application/json' }, body: JSON.stringify({ description: 'csrf probe' }) });
    const before = (await db.query(`SELECT count(*)::int AS n FROM api_token WHERE user_id = $1`, [bobId])).rows[0].n;
    const forged: Record<string, string>[] = [
      { cookie: bob.cookie, origin: 'https://evil.example', 'sec-fetch-site': 'cross-site' },
      { cookie: bob.cookie, origin: 'http://127.0.0.1:1', 'sec-fetch-site': 'same-site' },
      { cookie: bob.cookie, 'sec-fetch-site': 'cross-site' },
      { cookie: bob.cookie },
    ];
    for (const headers of forged) {
      const res = await post(headers);
      assert.equal(res.status, 403, JSON.stringify(headers));
      assert.match((await json(res)).message, /Cross-site request refused/);
    }
    assert.equal((await db.query(`SELECT count(*)::int AS n FROM api_token WHERE user_id = $1`, [bobId])).rows[0].n, before);
    assert.equal((await a.fetch('/api/users/me', { headers: { cookie: bob.cookie, origin: 'https://evil.example' } })).status, 200, 'reading is not refused');
    assert.equal((await post({ cookie: bob.cookie, 'sec-fetch-site': 'same-origin' })).status, 201);
    assert.equal((await post({ ...bob.headers })).status, 201);
    const script = await createUser(a, 'csrf-script');
    assert.equal((await post({ ...script.headers, origin: 'https://evil.example', 'sec-fetch-site': 'cross-site' })).status, 201);
  });

  it('refuses a missing login with 401 and a user on an admin route with 403', async () => {
    for (const path of ['/api/users/me', '/api/users/me/tokens', '/api/users']) {
      const res = await a.fetch(path);
      assert.equal(res.status, 401, path);
      assert.match((await json(res)).message, /Authentication required/);
    }
    assert.equal((await a.fetch('/api/users', { headers: { cookie: bob.cookie } })).status, 403);
    const patch = await a.fetch(`/api/users/${bobId}`, {
      method: 'PATCH',
      headers: { ...bob.headers, 'content-type': 'application/json' },
      body: JSON.stringify({ role: 'admin' }),
    });
    assert.equal(patch.status, 403);
  });

  it('lets an admin list and search users, and change roles', async () => {
    const extra = await createUser(a, 'percent_50%');
    const page = await json(await a.fetch('/api/users?q=BO&limit=50', { headers: { cookie: alice.cookie } }));
    assert.ok(page.items.some((u: { id: string; email: string }) => u.id === bobId && u.email === 'bob@example.org'));
    assert.ok(page.items.every((u: { name: string }) => /bo/i.test(u.name)));
    const literal = await json(await a.fetch(`/api/users?q=${encodeURIComponent('_50%')}`, { headers: { cookie: alice.cookie } }));
    assert.deepEqual(
      literal.items.map((u: { id: string }) => u.id),
      [extra.id],
      'wildcards in q are plain text',
    );
    const first = await json(await a.fetch('/api/users?limit=1', { headers: { cookie: alice.cookie } }));
    assert.equal(first.items.length, 1);
    assert.ok(first.total >= 3);
    assert.ok(first.links.some((l: { rel: string; href: string }) => l.rel === 'next' && l.href.startsWith(a.baseUrl) && l.href.includes('page=2')));

    const set = (id: string, role: unknown, who = alice) =>
      a.fetch(`/api/users/${id}`, { method: 'PATCH', headers: { ...who.headers, 'content-type': 'application/json' }, body: JSON.stringify({ role }) });
    assert.equal((await set(bobId, 'root')).status, 400);
    const promoted = await set(bobId, 'admin');
    assert.equal(promoted.status, 200);
    assert.equal((await json(promoted)).role, 'admin');
    assert.equal((await json(await a.fetch('/api/users/me', { headers: { cookie: bob.cookie } }))).role, 'admin', 'takes effect on the next request');
    assert.equal((await set(bobId, 'user', bob)).status, 400, 'an admin cannot demote themselves');
    assert.equal((await set(bobId, 'user')).status, 200);
    assert.equal((await a.fetch('/api/users', { headers: { cookie: bob.cookie } })).status, 403);
    assert.equal((await set('00000000-0000-4000-8000-000000000000', 'user')).status, 404);
  });

  it('lets a person set their default visibility; shows public profiles to anyone', async () => {
    const patch = (body: unknown) => a.fetch('/api/users/me', { method: 'PATCH', headers: { ...bob.headers, 'content-type': 'application/json' }, body: JSON.stringify(body) });
    const changed = await patch({ default_visibility: 'logged-only' });
    assert.equal(changed.status, 200);
    assert.equal((await json(changed)).default_visibility, 'logged-only');
    assert.equal((await patch({ default_visibility: 'everyone' })).status, 400);
    assert.equal((await patch({ role: 'admin' })).status, 400, 'no other field');
    const profile = await a.fetch(`/api/users/${bobId}`);
    assert.equal(profile.status, 200);
    assert.deepEqual(Object.keys(await json(profile)).sort(), ['created_at', 'id', 'name']);
    assert.equal((await a.fetch('/api/users/not-a-uuid')).status, 400);
    assert.equal((await a.fetch('/api/users/00000000-0000-4000-8000-000000000000')).status, 404);
  });

  it('runs the command-line flow over HTTP: generate, refused until claimed, claimed, then acting as the person', async () => {
    const generated = await a.fetch('/api/auth/tokens/generate?description=laptop%20cli', { method: 'POST', headers: { 'x-forwarded-for': '198.51.100.7' } });
    assert.equal(generated.status, 201);
    const token = await json(generated);
    assert.equal(token.claim_url, `${a.baseUrl}/api/auth/tokens/${token.id}/claim`);
    assert.deepEqual(
      token.links.map((l: { rel: string }) => l.rel),
      ['claim'],
    );
    const unclaimed = await a.fetch('/api/users/me', { headers: bearer(token.jwt) });
    assert.equal(unclaimed.status, 401);
    assert.match((await json(unclaimed)).message, /not been claimed/);

    const anonymous = await a.fetch(`/api/auth/tokens/${token.id}/claim`, { redirect: 'manual' });
    assert.equal(anonymous.status, 302);
    assert.equal(anonymous.headers.get('location'), `/api/auth/login?next=${encodeURIComponent(`/api/auth/tokens/${token.id}/claim`)}`);
    // Reached from another site, the link only asks for confirmation.
    const page = await a.fetch(`/api/auth/tokens/${token.id}/claim`, { headers: { cookie: bob.cookie, 'sec-fetch-site': 'cross-site', accept: 'text/html' } });
    assert.equal(page.status, 200);
    assert.match(await page.text(), /laptop cli[\s\S]*Claim the token/);
    assert.equal((await a.fetch('/api/users/me', { headers: bearer(token.jwt) })).status, 401, 'a cross-site visit claims nothing');

    const claimed = await a.fetch(`/api/auth/tokens/${token.id}/claim`, { method: 'POST', headers: { ...bob.headers, accept: 'application/json' } });
    assert.equal(claimed.status, 200);
    assert.equal((await json(claimed)).id, token.id);
    const me = await json(await a.fetch('/api/users/me', { headers: bearer(token.jwt) }));
    assert.equal(me.name, 'bob');
    assert.equal((await a.fetch(`/api/auth/tokens/${token.id}/claim`, { method: 'POST', headers: alice.headers })).status, 404, 'claimed once only');

    // Opened directly (typed, pasted, after a login, a client without Sec-Fetch-Site), the link still only asks.
    const direct = await json(await a.fetch('/api/auth/tokens/generate?description=direct', { method: 'POST', headers: { 'x-forwarded-for': '198.51.100.8' } }));
    const variants: Record<string, string>[] = [{ accept: 'application/json' }, { accept: 'text/html', 'sec-fetch-site': 'same-origin' }, { accept: 'text/html' }];
    for (const headers of variants) {
      const opened = await a.fetch(`/api/auth/tokens/${direct.id}/claim`, { headers: { cookie: bob.cookie, ...headers } });
      assert.equal(opened.status, 200);
      assert.equal(opened.headers.get('cache-control'), 'no-store');
      if (headers.accept === 'application/json') {
        const body = await json(opened);
        assert.equal(body.id, direct.id);
        assert.equal(body.claimed, false);
        assert.equal(body.description, 'direct');
        assert.equal(body.claim_href, `/api/auth/tokens/${direct.id}/claim`);
      } else {
        assert.match(await opened.text(), /direct[\s\S]*Requested at[\s\S]*Claim the token/);
      }
      assert.equal((await a.fetch('/api/users/me', { headers: bearer(direct.jwt) })).status, 401, `opening the link claims nothing (${JSON.stringify(headers)})`);
    }
    // The button's POST from a page of this site claims it; one from another site is refused.
    const forged = await a.fetch(`/api/auth/tokens/${direct.id}/claim`, {
      method: 'POST',
      headers: { cookie: bob.cookie, origin: 'https://evil.example', 'sec-fetch-site': 'cross-site' },
    });
    assert.equal(forged.status, 403);
    assert.equal((await a.fetch('/api/users/me', { headers: bearer(direct.jwt) })).status, 401);
    const confirmed = await a.fetch(`/api/auth/tokens/${direct.id}/claim`, {
      method: 'POST',
      headers: { cookie: bob.cookie, 'sec-fetch-site': 'same-origin', accept: 'text/html' },
    });
    assert.equal(confirmed.status, 200);
    assert.match(await confirmed.text(), /Token claimed/);
    assert.equal((await json(await a.fetch('/api/users/me', { headers: bearer(direct.jwt) }))).name, 'bob');

    // Unclaimed tokens expire.
    const late = await json(await a.fetch('/api/auth/tokens/generate', { method: 'POST', headers: { 'x-forwarded-for': '198.51.100.7' } }));
    await db.query(`UPDATE api_token SET created_at = now() - interval '11 minutes' WHERE id = $1`, [late.id]);
    assert.equal((await a.fetch(`/api/auth/tokens/${late.id}/claim`, { method: 'POST', headers: bob.headers })).status, 404);
    assert.equal((await a.fetch('/api/users/me', { headers: bearer(late.jwt) })).status, 401);
    await a.fetch('/api/auth/tokens/generate', { method: 'POST', headers: { 'x-forwarded-for': '198.51.100.7' } });
    assert.equal((await db.query(`SELECT count(*)::int AS n FROM api_token WHERE id = $1`, [late.id])).rows[0].n, 0, 'pruned');
  });

  it('rate-limits the auth routes per address, counted in Redis across replicas', async () => {
    const address = { 'x-forwarded-for': '203.0.113.10' };
    const generate = (api: TestApi, headers = address) => api.fetch('/api/auth/tokens/generate', { method: 'POST', headers });
    for (let i = 0; i < 5; i++) assert.equal((await generate(a)).status, 201);
    for (let i = 0; i < 5; i++) assert.equal((await generate(b)).status, 201);
    const limited = await generate(b);
    assert.equal(limited.status, 429);
    assert.ok(Number(limited.headers.get('retry-after')) > 0);
    assert.equal((await json(limited)).statusCode, 429);
    assert.equal((await generate(a)).status, 429, 'the other replica agrees');
    assert.equal((await generate(a, { 'x-forwarded-for': '192.0.2.99' })).status, 201, 'other addresses are not affected');
  });

  it('logs out, and out of the provider too (RP-initiated logout)', async () => {
    const session = await loginSession(a, 'bob');
    // Opening the link (or a link from another site) only asks; a POST from another site is refused.
    const asked = await a.fetch('/api/auth/logout', { redirect: 'manual', headers: { cookie: session.cookie, accept: 'text/html', 'sec-fetch-site': 'cross-site' } });
    assert.equal(asked.status, 200);
    assert.match(await asked.text(), /Log out of Sightline\?[\s\S]*method="post"/);
    const forged = await a.fetch('/api/auth/logout', {
      method: 'POST',
      redirect: 'manual',
      headers: { cookie: session.cookie, origin: 'https://evil.example', 'sec-fetch-site': 'cross-site' },
    });
    assert.equal(forged.status, 403);
    assert.equal((await a.fetch('/api/users/me', { headers: { cookie: session.cookie } })).status, 200, 'still logged in');
    const res = await a.fetch('/api/auth/logout', { method: 'POST', redirect: 'manual', headers: { cookie: session.cookie, 'sec-fetch-site': 'same-origin' } });
    assert.equal(res.status, 302);
    const location = new URL(res.headers.get('location')!);
    assert.equal(`${location.origin}${location.pathname}`, `${a.baseUrl}/oidc/session/end`);
    assert.ok(location.searchParams.get('id_token_hint'));
    assert.equal(location.searchParams.get('post_logout_redirect_uri'), `${a.baseUrl}/api/docs`);
    assert.match(res.headers.getSetCookie().join('\n'), /sightline\.sid=;/);
    assert.equal((await a.fetch('/api/users/me', { headers: { cookie: session.cookie } })).status, 401);
    const state = await json(await a.fetch('/api/auth/session', { headers: { cookie: session.cookie } }));
    assert.equal(state.authenticated, false);
    // Logging out without a session just returns to the docs.
    const again = await a.fetch('/api/auth/logout', { redirect: 'manual' });
    assert.equal(again.headers.get('location'), '/api/docs');
    const againPost = await a.fetch('/api/auth/logout', { method: 'POST', redirect: 'manual' });
    assert.equal(againPost.headers.get('location'), '/api/docs');
  });

  it('prints a token for scripts from the command line', async () => {
    const name = `cli-admin-${Math.random().toString(36).slice(2, 8)}`;
    const cli = spawnEntry('cli', { args: ['token', 'create', '--user', name, '--admin', '--description', 'first setup'] });
    assert.equal(await exitCode(cli), 0, cli.output());
    const jwt = cli
      .output()
      .split('\n')
      .find((l) => /^eyJ[\w-]+\.[\w-]+\.[\w-]+$/.test(l));
    assert.ok(jwt, cli.output());
    const me = await json(await a.fetch('/api/users/me', { headers: bearer(jwt) }));
    assert.equal(me.name, name);
    assert.equal(me.role, 'admin');
    assert.equal((await a.app.get(UsersService).findByName(name)).length, 1);
  });

  it('refuses to start in production without OIDC_ISSUER', async () => {
    const api = spawnEntry('main', { env: { NODE_ENV: 'production', SECRET_KEY: 'a-production-secret-key-0123456789', PORT: String(await freePort()), LOG_LEVEL: 'error' } });
    assert.notEqual(await exitCode(api), 0);
    assert.match(api.output(), /OIDC_ISSUER is not set: the embedded development identity provider refuses to run when NODE_ENV=production/);
  });
});
