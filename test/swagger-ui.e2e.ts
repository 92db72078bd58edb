import assert from 'node:assert/strict';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { startApi, TestApi } from './support/app.js';
import { browserSkipReason, launchBrowser, scrollUntilDrawn } from './support/browser.js';
import { artifactsDir } from './support/env.js';

describe('Swagger UI in a real browser', { skip: browserSkipReason() }, () => {
  let api: TestApi;
  before(async () => {
    api = await startApi();
  });
  after(() => api.close());

  it('renders /api/docs with the API title and its operations', async () => {
    const browser = await launchBrowser();
    try {
      const page = await browser.newPage();
      await page.goto(`${api.baseUrl}/api/docs`);
      const title = page.locator('.information-container .title');
      await title.waitFor({ timeout: 20_000 });
      assert.match(await title.innerText(), /Sightline API/);
      assert.equal(await page.title(), 'Sightline API');
      await scrollUntilDrawn(page, page.locator('.opblock-summary-path', { hasText: '/api/health/ready' }));
      await page.screenshot({ path: path.join(artifactsDir(), 'swagger-ui.png'), fullPage: false });
    } finally {
      await browser.close();
    }
  });
});
