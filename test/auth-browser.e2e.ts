import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { startApi, TestApi } from './support/app.js';
import { fillProviderLogin } from './support/auth.js';
import { browserSkipReason, launchBrowser, scrollUntilDrawn } from './support/browser.js';
import { artifactsDir } from './support/env.js';
import { freePort, json } from './support/net.js';

/** A page on another origin of the same host (same site: the Lax cookie goes along) that posts a form to the API. */
async function startAttackerSite(target: string): Promise<{ url: string; server: Server }> {
  const port = await freePort();
  const server = createServer((_req, res) => {
    res.setHeader('content-type', 'text/html');
    res.end(`<!DOCTYPE html><html><body>
      <form id="f" method="post" action="${target}"><input name="description" value="made by another site"></form>
      <script>document.getElementById('f').submit();</script></body></html>`);
  });
  await new Promise<void>((resolve) => server.listen(port, '127.0.0.1', resolve));
  return { url: `http://127.0.0.1:${port}/`, server };
}

describe('Login in a real browser: Swagger UI, CSRF, token claim, logout', { skip: browserSkipReason() }, () => {
  let api: TestApi;
  let browser: Browser;
  let context: BrowserContext;
  let page: Page;

  before(async () => {
    api = await startApi({ env: { DEV_USERS: 'alice:admin,bob:user' } });
    browser = await launchBrowser();
    context = await browser.newContext();
    page = await context.newPage();
  });
  after(async () => {
    await browser?.close();
    await api.close();
  });

  it('logs in from /api/auth/login, lands on Swagger UI and runs GET /api/users/me with "Try it out"', async () => {
    await page.goto(`${api.baseUrl}/api/auth/login?next=/api/docs`);
    assert.equal(new URL(page.url()).pathname.startsWith('/oidc/interaction/'), true, page.url());
    await fillProviderLogin(page, 'alice');
    await page.waitForURL(`${api.baseUrl}/api/docs`);

    const banner = page.locator('#sightline-auth');
    await banner.waitFor({ timeout: 20_000 });
    assert.match(await banner.innerText(), /Logged in as alice \(admin\)/);
    await page.screenshot({ path: path.join(artifactsDir(), 'auth-swagger-logged-in.png') });

    const operation = page.locator('.opblock.opblock-get', { has: page.locator('.opblock-summary-path[data-path="/api/users/me"]') });
    await scrollUntilDrawn(page, operation);
    await operation.locator('.opblock-summary').click();
    await operation.getByRole('button', { name: 'Try it out' }).click();
    await operation.getByRole('button', { name: 'Execute' }).click();
    const status = operation.locator('.live-responses-table .response .response-col_status').first();
    await status.waitFor({ timeout: 20_000 });
    assert.equal((await status.innerText()).trim(), '200');
    const body = operation.locator('.live-responses-table .response-col_description pre').first();
    const text = await body.innerText();
    assert.match(text, /"name": "alice"/);
    assert.match(text, /"authenticated_via": "session"/);
    await body.scrollIntoViewIfNeeded();
    await page.screenshot({ path: path.join(artifactsDir(), 'auth-swagger-try-it-out.png') });
  });

  it('refuses a form that another site posts with the session cookie (CSRF)', async () => {
    const before = await (await page.request.get(`${api.baseUrl}/api/users/me/tokens`)).json();
    const attacker = await startAttackerSite(`${api.baseUrl}/api/users/me/tokens`);
    try {
      const attack = await context.newPage();
      const answer = attack.waitForResponse((res) => res.url() === `${api.baseUrl}/api/users/me/tokens` && res.request().method() === 'POST');
      await attack.goto(attacker.url);
      const res = await answer;
      assert.equal(res.status(), 403);
      assert.match((await res.json()).message, /Cross-site request refused/);
      await attack.close();
    } finally {
      attacker.server.close();
    }
    const afterwards = await (await page.request.get(`${api.baseUrl}/api/users/me/tokens`)).json();
    assert.deepEqual(afterwards, before, 'no token was made');
  });

  it('claims a generated token in the browser, logging in on the way, only with the button', async () => {
    const generated = await json(await fetch(`${api.baseUrl}/api/auth/tokens/generate?description=drone%20uploader`, { method: 'POST' }));
    assert.equal((await fetch(`${api.baseUrl}/api/users/me`, { headers: { authorization: `Bearer ${generated.jwt}` } })).status, 401);

    const fresh = await browser.newContext();
    try {
      const claimPage = await fresh.newPage();
      await claimPage.goto(generated.claim_url);
      await fillProviderLogin(claimPage, 'bob');
      await claimPage.waitForURL(generated.claim_url);
      // Back from the login the navigation is same-origin: still only a confirmation page.
      assert.match(await claimPage.locator('h1').innerText(), /Claim this API token/);
      assert.match(await claimPage.locator('main').innerText(), /drone uploader[\s\S]*Requested at/);
      assert.equal((await fetch(`${api.baseUrl}/api/users/me`, { headers: { authorization: `Bearer ${generated.jwt}` } })).status, 401, 'nothing claimed yet');
      await Promise.all([claimPage.waitForNavigation(), claimPage.getByRole('button', { name: 'Claim the token' }).click()]);
      assert.match(await claimPage.locator('h1').innerText(), /Token claimed/);
      assert.match(await claimPage.locator('main').innerText(), /drone uploader/);
    } finally {
      await fresh.close();
    }
    const me = await fetch(`${api.baseUrl}/api/users/me`, { headers: { authorization: `Bearer ${generated.jwt}` } });
    assert.equal(me.status, 200);
    assert.equal((await json(me)).name, 'bob');
  });

  it('asks for confirmation when another site links to a claim page', async () => {
    const generated = await json(await fetch(`${api.baseUrl}/api/auth/tokens/generate?description=from%20elsewhere`, { method: 'POST' }));
    const port = await freePort();
    const site = createServer((_req, res) => {
      res.setHeader('content-type', 'text/html');
      res.end(`<!DOCTYPE html><html><body><a id="go" href="${generated.claim_url}">claim</a></body></html>`);
    });
    await new Promise<void>((resolve) => site.listen(port, '127.0.0.1', resolve));
    const tab = await context.newPage();
    try {
      await tab.goto(`http://127.0.0.1:${port}/`);
      await Promise.all([tab.waitForURL(generated.claim_url), tab.click('#go')]);
      assert.match(await tab.locator('main').innerText(), /from elsewhere[\s\S]*acts as alice|acts as alice[\s\S]*from elsewhere/);
      assert.equal((await fetch(`${api.baseUrl}/api/users/me`, { headers: { authorization: `Bearer ${generated.jwt}` } })).status, 401, 'nothing claimed yet');
      await Promise.all([tab.waitForNavigation(), tab.getByRole('button', { name: 'Claim the token' }).click()]);
      assert.match(await tab.locator('h1').innerText(), /Token claimed/);
      assert.equal((await json(await fetch(`${api.baseUrl}/api/users/me`, { headers: { authorization: `Bearer ${generated.jwt}` } }))).name, 'alice');
    } finally {
      await tab.close();
      site.close();
    }
  });

  it('logs out of Sightline and of the identity provider', async () => {
    await page.goto(`${api.baseUrl}/api/auth/logout`);
    assert.match(await page.locator('h1').innerText(), /Log out of Sightline/);
    await Promise.all([page.waitForURL(/\/oidc\//), page.getByRole('button', { name: 'Log out' }).click()]);
    await Promise.all([page.waitForURL(`${api.baseUrl}/api/docs`), page.getByRole('button', { name: 'Yes, sign me out' }).click()]);
    const banner = page.locator('#sightline-auth');
    await banner.waitFor();
    assert.match(await banner.innerText(), /Not logged in/);
    assert.equal((await page.request.get(`${api.baseUrl}/api/users/me`)).status(), 401);
    // The provider forgot the person too: logging in asks for the password again.
    await page.goto(`${api.baseUrl}/api/auth/login?next=/api/docs`);
    assert.equal(await page.locator('input[name="password"]').count(), 1);
  });
});
