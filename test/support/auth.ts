import { createHash, randomBytes } from 'node:crypto';
import type { Page } from 'playwright-core';
import type { Role } from '../../src/auth/auth.types.js';
import { apiResourceIndicator, loginRedirectUri, oidcClientSecret, oidcIssuer } from '../../src/auth/oidc-settings.js';
import { TokensService } from '../../src/auth/tokens.service.js';
import { UsersService } from '../../src/auth/users.service.js';
import { AppConfig } from '../../src/config/app-config.js';
import type { TestApi } from './app.js';

export interface TestUser {
  id: string;
  name: string;
  role: Role;
  /** A Sightline API token (JWT) acting as this user. */
  token: string;
  /** `{ authorization: 'Bearer …' }` to spread into fetch headers. */
  headers: Record<string, string>;
}

/** A user of this instance with a fresh API token, made through the app's own services. */
export async function createUser(api: TestApi, name: string, role: Role = 'user'): Promise<TestUser> {
  const unique = `${name}-${Math.random().toString(36).slice(2, 8)}`;
  const user = await api.app.get(UsersService).upsertLocal(unique, role);
  const { jwt } = await api.app.get(TokensService).create(user.id, `test token of ${unique}`);
  return { id: user.id, name: unique, role, token: jwt, headers: { authorization: `Bearer ${jwt}` } };
}

/** Cookies by name, as a browser on one host keeps them (paths ignored: harmless here). */
export class CookieJar {
  readonly cookies = new Map<string, string>();
  /** The last Set-Cookie line of each cookie, attributes included. */
  readonly lines = new Map<string, string>();

  store(res: Response): void {
    for (const line of res.headers.getSetCookie()) {
      const [pair, ...attributes] = line.split(';');
      const name = pair!.slice(0, pair!.indexOf('=')).trim();
      const value = pair!.slice(pair!.indexOf('=') + 1).trim();
      const expires = attributes.map((a) => a.trim()).find((a) => /^expires=/i.test(a));
      const gone = value === '' || (expires !== undefined && new Date(expires.slice(8)).getTime() < Date.now());
      this.lines.set(name, line);
      if (gone) this.cookies.delete(name);
      else this.cookies.set(name, value);
    }
  }

  header(): string {
    return [...this.cookies].map(([k, v]) => `${k}=${v}`).join('; ');
  }

  get(name: string): string | undefined {
    return this.cookies.get(name);
  }
}

/**
 * Requests `url` as a browser would, following redirects by hand and keeping cookies, until a
 * page answers or `stopAt` matches the next location (returned without following it).
 */
export async function browse(
  jar: CookieJar,
  url: string,
  init: { method?: string; form?: Record<string, string>; stopAt?: (location: string) => boolean } = {},
): Promise<{ res: Response; url: string; location?: string; trail: string[] }> {
  let current = url;
  let method = init.method ?? 'GET';
  let body: string | undefined = init.form ? new URLSearchParams(init.form).toString() : undefined;
  const trail: string[] = [];
  for (let hop = 0; hop < 20; hop++) {
    trail.push(current);
    const headers: Record<string, string> = { cookie: jar.header(), accept: 'text/html,application/json' };
    if (body !== undefined) {
      headers['content-type'] = 'application/x-www-form-urlencoded';
      headers.origin = new URL(current).origin;
    }
    const res = await fetch(current, { method, headers, body, redirect: 'manual' });
    jar.store(res);
    const location = res.headers.get('location');
    if (res.status < 300 || res.status >= 400 || !location) return { res, url: current, trail };
    const next = new URL(location, current).toString();
    if (init.stopAt?.(next)) return { res, url: current, location: next, trail };
    await res.arrayBuffer();
    current = next;
    method = 'GET';
    body = undefined;
  }
  throw new Error(`too many redirects from ${url}: ${trail.join(' -> ')}`);
}

/** Fills the embedded provider's login form (after `browse` reached it). */
async function submitLogin(jar: CookieJar, formPage: { res: Response; url: string }, username: string, password: string, stopAt?: (l: string) => boolean) {
  const html = await formPage.res.text();
  const action = /<form method="post" action="([^"]+)"/.exec(html)?.[1];
  if (!action) throw new Error(`no login form at ${formPage.url} (status ${formPage.res.status}): ${html.slice(0, 300)}`);
  return browse(jar, new URL(action.replace(/&amp;/g, '&'), formPage.url).toString(), { method: 'POST', form: { username, password }, stopAt });
}

export interface TestSession {
  jar: CookieJar;
  /** The `sightline.sid` cookie as a request header. */
  cookie: string;
  /** Cookie plus the Origin a same-origin page sends: use for requests that change state. */
  headers: Record<string, string>;
  /** Where the login landed. */
  landedAt: string;
  /** Set-Cookie of the session, for its attributes. */
  setCookie: string;
}

/** Logs in through /api/auth/login and the embedded provider's form, over plain HTTP. */
export async function loginSession(api: TestApi, username: string, password = username, next = '/api/docs'): Promise<TestSession> {
  const jar = new CookieJar();
  const form = await browse(jar, `${api.baseUrl}/api/auth/login?next=${encodeURIComponent(next)}`);
  const done = await submitLogin(jar, form, username, password);
  await done.res.arrayBuffer();
  const sid = jar.get('sightline.sid');
  if (!sid || done.res.status >= 400) throw new Error(`login of ${username} failed: ${done.res.status} at ${done.url} (${done.trail.join(' -> ')})`);
  const cookie = `sightline.sid=${sid}`;
  return { jar, cookie, headers: { cookie, origin: api.baseUrl }, landedAt: done.url, setCookie: jar.lines.get('sightline.sid') ?? '' };
}

/**
 * An access token of the embedded provider, as a script gets one: authorization code flow with
 * PKCE as the `sightline` client, asking for the Sightline API resource (a JWT, audience
 * OIDC_CLIENT_ID). `resource: false` asks for none (an opaque token, for userinfo only).
 */
export async function providerAccessToken(
  api: TestApi,
  username: string,
  options: { password?: string; resource?: boolean } = {},
): Promise<{ accessToken: string; idToken: string }> {
  const config = api.app.get(AppConfig);
  const issuer = oidcIssuer(config);
  const redirectUri = loginRedirectUri(config);
  const verifier = randomBytes(32).toString('base64url');
  const params = new URLSearchParams({
    client_id: config.OIDC_CLIENT_ID,
    response_type: 'code',
    scope: 'openid profile email api',
    redirect_uri: redirectUri,
    code_challenge: createHash('sha256').update(verifier).digest('base64url'),
    code_challenge_method: 'S256',
    state: randomBytes(8).toString('hex'),
  });
  if (options.resource !== false) params.set('resource', apiResourceIndicator(config));
  const jar = new CookieJar();
  const isRedirect = (location: string) => location.startsWith(redirectUri);
  const form = await browse(jar, `${issuer}/auth?${params}`, { stopAt: isRedirect });
  const back = await submitLogin(jar, form, username, options.password ?? username, isRedirect);
  const code = back.location ? new URL(back.location).searchParams.get('code') : null;
  if (!code) throw new Error(`no authorization code for ${username}: ${back.res.status} ${back.trail.join(' -> ')}`);
  const res = await fetch(`${issuer}/token`, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({
      grant_type: 'authorization_code',
      code,
      redirect_uri: redirectUri,
      code_verifier: verifier,
      client_id: config.OIDC_CLIENT_ID,
      client_secret: oidcClientSecret(config)!,
    }),
  });
  const body = (await res.json()) as { access_token?: string; id_token?: string; error?: string; error_description?: string };
  if (!res.ok || !body.access_token) throw new Error(`token request failed: ${res.status} ${body.error} ${body.error_description}`);
  return { accessToken: body.access_token, idToken: body.id_token! };
}

/** Signs in on the embedded provider's form in a real browser page that is showing it. */
export async function fillProviderLogin(page: Page, username: string, password = username): Promise<void> {
  await page.locator('input[name="username"]').fill(username);
  await page.locator('input[name="password"]').fill(password);
  await Promise.all([page.waitForNavigation({ waitUntil: 'load' }), page.locator('button[type="submit"]').click()]);
}
