import assert from 'node:assert/strict';
import type { TestApi } from './app.js';
import { stacValidator } from './stac-validate.js';

/**
 * Requests to the STAC API from the e2e tests: every JSON STAC document received is
 * validated (items, collections, catalogs, item collections, collection lists) unless the
 * caller says it is deliberately partial (the `fields` extension).
 */
export interface StacResponse {
  status: number;
  headers: Headers;
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  body: any;
}

export async function stacFetch(api: TestApi, path: string, init: RequestInit & { partial?: boolean } = {}): Promise<StacResponse> {
  const { partial, ...rest } = init;
  const res = await api.fetch(path, rest);
  const text = await res.text();
  let body: unknown = text;
  if (/json/.test(res.headers.get('content-type') ?? '')) body = text ? JSON.parse(text) : undefined;
  if (res.status === 200 && !partial && body && typeof body === 'object') {
    const b = body as Record<string, unknown>;
    const isStac = typeof b.stac_version === 'string' || Array.isArray(b.features) || Array.isArray(b.collections);
    if (isStac) {
      const { validator } = await stacValidator();
      if (validator) {
        const problems = await validator.validate(b, `${rest.method ?? 'GET'} ${path}`);
        assert.deepEqual(problems, [], `invalid STAC document from ${path}`);
      }
    }
  }
  return { status: res.status, headers: res.headers, body };
}

export function get(api: TestApi, path: string, headers: Record<string, string> = {}, partial = false): Promise<StacResponse> {
  return stacFetch(api, path, { headers, partial });
}

export function post(api: TestApi, path: string, body: unknown, headers: Record<string, string> = {}, partial = false): Promise<StacResponse> {
  return stacFetch(api, path, { method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body: JSON.stringify(body), partial });
}

/** A path+query from an absolute link on the test server. */
export function pathOf(href: string): string {
  const u = new URL(href);
  return `${u.pathname}${u.search}`;
}

// eslint-disable-next-line @typescript-eslint/no-explicit-any
export function linkOf(doc: any, rel: string, method?: string): any {
  return (doc?.links ?? []).find((l: { rel: string; method?: string }) => l.rel === rel && (!method || (l.method ?? 'GET') === method));
}
