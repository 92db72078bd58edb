import { existsSync } from 'node:fs';
import type { Browser, Locator, Page } from 'playwright-core';

export const CHROMIUM_PATH = '/usr/bin/chromium';

/** Why browser tests cannot run here, or undefined when they can. */
export function browserSkipReason(): string | undefined {
  return existsSync(CHROMIUM_PATH) ? undefined : `${CHROMIUM_PATH} is not installed (npm test installs it with apt-get when run as root)`;
}

export async function launchBrowser(): Promise<Browser> {
  const { chromium } = await import('playwright-core');
  return chromium.launch({
    executablePath: CHROMIUM_PATH,
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run'],
  });
}

/**
 * Swagger UI draws the operations of a large document only as they scroll into view: scrolls the
 * page down until `locator` is drawn (or the end of the page is reached), then brings it into view.
 */
export async function scrollUntilDrawn(page: Page, locator: Locator, timeoutMs = 60_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    // Each step waits for what the scroll drew, not for a fixed time.
    if (
      await locator
        .first()
        .waitFor({ state: 'attached', timeout: 250 })
        .then(
          () => true,
          () => false,
        )
    )
      break;
    const atEnd = await page.evaluate(() => {
      const w = globalThis as unknown as { scrollY: number; innerHeight: number; document: { body: { scrollHeight: number } }; scrollBy(x: number, y: number): void };
      const end = w.scrollY + w.innerHeight >= w.document.body.scrollHeight - 2;
      w.scrollBy(0, Math.round(w.innerHeight * 0.8));
      return end;
    });
    if (atEnd || Date.now() > deadline) {
      await locator.first().waitFor({ state: 'attached', timeout: 1000 });
      break;
    }
  }
  await locator.first().scrollIntoViewIfNeeded();
}
