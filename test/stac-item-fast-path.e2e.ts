import assert from 'node:assert/strict';
import http from 'node:http';
import { after, before, describe, it } from 'node:test';
import { Visibility } from '../src/auth/visibility.js';
import { CatalogService } from '../src/catalog/catalog.service.js';
import { startApi, type TestApi } from './support/app.js';
import { loginSession, type TestSession } from './support/auth.js';
import { get } from './support/stac-client.js';
import { seedStacWorld, type StacWorld } from './support/stac-seed.js';

/** A raw GET over node:http: fetch turns a conditional request into a `no-cache` one, which a server may not answer with 304. */
function rawGet(api: TestApi, path: string, headers: Record<string, string> = {}, method = 'GET'): Promise<{ status: number; headers: http.IncomingHttpHeaders; body: string }> {
  return new Promise((resolve, reject) => {
    const req = http.request(new URL(path, api.baseUrl), { method, headers }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => (body += chunk));
      res.on('end', () => resolve({ status: res.statusCode!, headers: res.headers, body }));
    });
    req.on('error', reject);
    req.end();
  });
}

/** Headers that differ between any two answers (time, request id, connection handling). */
const PER_REQUEST = new Set(['date', 'x-request-id', 'keep-alive', 'connection']);
const stable = (headers: Headers) => Object.fromEntries([...headers].filter(([k]) => !PER_REQUEST.has(k)));

async function requestCount(api: TestApi, status: number): Promise<number> {
  const text = await (await api.fetch('/api/metrics')).text();
  const line = text
    .split('\n')
    .find(
      (l) =>
        l.startsWith('sightline_http_request_duration_seconds_count{') &&
        l.includes('route="/api/collections/:collectionId/items/:itemId"') &&
        l.includes(`status="${status}"`) &&
        l.includes('method="GET"'),
    );
  return line ? Number(line.split(' ').pop()) : 0;
}

/*
 * Anonymous single-item reads are served before the framework's pipeline (src/stac/stac-item-fast-path.ts).
 * An anonymous caller must see exactly what the route answers, and no more; a caller with a token
 * or a session still goes through the route.
 */
describe('STAC API: anonymous single-item reads answer as the item route does', () => {
  let api: TestApi;
  let w: StacWorld;
  let session: TestSession;
  let sessionUserId: string;

  before(async () => {
    api = await startApi({ env: { DEV_USERS: 'fastpath-dora:user' } });
    w = await seedStacWorld(api);
    session = await loginSession(api, 'fastpath-dora');
    sessionUserId = ((await (await api.fetch('/api/users/me', { headers: { cookie: session.cookie } })).json()) as { id: string }).id;
  });
  after(() => api.close());

  it('gives an anonymous caller the document, headers and ETag a signed-in caller gets for a public item', async () => {
    const path = `/api/collections/${w.walk.id}/items/${w.walkItems[2]!.id}`;
    const anonymous = await api.fetch(path, { headers: { origin: 'https://elsewhere.example', 'x-request-id': 'fast-path-1' } });
    const signedIn = await api.fetch(path, { headers: { ...w.other.headers, origin: 'https://elsewhere.example' } });
    assert.equal(anonymous.status, 200);
    assert.equal(signedIn.status, 200);
    const body = await anonymous.text();
    assert.equal(body, await signedIn.text(), 'the same document, byte for byte');
    assert.deepEqual(stable(anonymous.headers), stable(signedIn.headers), 'the same headers: type, ETag, security, CORS, Vary');
    assert.equal(anonymous.headers.get('content-type'), 'application/geo+json; charset=utf-8');
    assert.match(anonymous.headers.get('etag') ?? '', /^"[0-9a-f]+-[A-Za-z0-9+/]+"$/);
    assert.equal(anonymous.headers.get('access-control-allow-origin'), '*');
    assert.equal(anonymous.headers.get('x-content-type-options'), 'nosniff');
    assert.equal(anonymous.headers.get('x-request-id'), 'fast-path-1', 'a sane X-Request-Id is kept');
    assert.match(signedIn.headers.get('x-request-id') ?? '', /^[0-9a-f-]{36}$/);
    assert.equal(JSON.parse(body).id, w.walkItems[2]!.id);
  });

  it('answers If-None-Match with 304 and HEAD with the headers only', async () => {
    const path = `/api/collections/${w.walk.id}/items/${w.walkItems[3]!.id}`;
    const first = await rawGet(api, path);
    assert.equal(first.status, 200);
    const etag = String(first.headers.etag);
    const again = await rawGet(api, path, { 'if-none-match': etag });
    assert.equal(again.status, 304);
    assert.equal(again.body, '');
    assert.equal(again.headers.etag, etag);
    assert.equal((await rawGet(api, path, { 'if-none-match': '"0-nothing"' })).status, 200, 'another ETag gets the document');
    const head = await rawGet(api, path, {}, 'HEAD');
    assert.equal(head.status, 200);
    assert.equal(head.body, '');
    assert.equal(head.headers.etag, etag);
    assert.equal(head.headers['content-length'], first.headers['content-length']);
  });

  it('hides private, unpublished and misplaced items from anonymous callers with the error the route gives', async () => {
    const cases = [
      [w.walk.id, w.privatePicture.id, 'an owner-only picture of a public sequence'],
      [w.walk.id, w.pendingPicture.id, 'a picture still being processed'],
      [w.hidden.id, w.hiddenItems[0]!.id, 'a picture of an owner-only sequence'],
      [w.members.id, w.membersItems[0]!.id, 'a picture for logged-in users'],
      [w.datasets.id, w.walkItems[0]!.id, 'an item asked under another collection'],
      [w.walk.id, '00000000-0000-4000-8000-000000000000', 'an unknown item'],
      [w.walk.id, 'not-a-uuid', 'an id that is no UUID'],
    ] as const;
    for (const [collectionId, itemId, what] of cases) {
      const path = `/api/collections/${collectionId}/items/${itemId}`;
      const anonymous = await api.fetch(path);
      const other = await api.fetch(path, { headers: w.other.headers });
      assert.equal(anonymous.status, 404, what);
      assert.equal(anonymous.headers.get('content-type'), 'application/json; charset=utf-8', what);
      const body = await anonymous.json();
      assert.deepEqual(body, { statusCode: 404, error: 'Not Found', message: `Item ${itemId} not found in collection ${collectionId}` }, what);
      if (what !== 'a picture for logged-in users') {
        assert.equal(other.status, 404, what);
        assert.deepEqual(await other.json(), body, `${what}: the same error as through the route`);
      } else {
        assert.equal(other.status, 200, 'a signed-in user sees it');
      }
    }
    // Whoever may see them still does.
    assert.equal((await get(api, `/api/collections/${w.walk.id}/items/${w.privatePicture.id}`, w.owner.headers)).status, 200);
    assert.equal((await get(api, `/api/collections/${w.hidden.id}/items/${w.hiddenItems[0]!.id}`, w.admin.headers)).status, 200);
  });

  it('leaves callers with a session to the route: a session user sees their own private item, a broken cookie sees public items only', async () => {
    const catalog = api.app.get(CatalogService);
    const collection = await catalog.createCollection({
      kind: 'sequence',
      extent: 'items-line',
      ordered: true,
      title: `Dora's private walk ${w.tag}`,
      ownerId: sessionUserId,
      visibility: Visibility.OwnerOnly,
    });
    const item = await catalog.createItem({
      collectionId: collection.id,
      kind: 'picture',
      ownerId: sessionUserId,
      visibility: Visibility.OwnerOnly,
      datetime: new Date('2022-03-01T09:00:00Z'),
      geometry: { type: 'Point', coordinates: [4.85, 45.75] },
      rank: 1,
    });
    const path = `/api/collections/${collection.id}/items/${item.id}`;
    assert.equal((await api.fetch(path, { headers: { cookie: session.cookie } })).status, 200, 'the session user sees their own item');
    assert.equal((await api.fetch(path)).status, 404, 'nobody else does');
    assert.equal((await api.fetch(path, { headers: { cookie: 'sightline.sid=s%3Anot-a-session.signature' } })).status, 404, 'nor a cookie of no session');
    const publicPath = `/api/collections/${w.walk.id}/items/${w.walkItems[4]!.id}`;
    assert.equal((await api.fetch(publicPath, { headers: { cookie: 'sightline.sid=s%3Anot-a-session.signature' } })).status, 200);
    const badToken = await api.fetch(publicPath, { headers: { authorization: 'Bearer not-a-token' } });
    assert.equal(badToken.status, 401, 'a bad token is refused even for a public item, as on every route');
  });

  it('counts anonymous reads under the item route in the request metrics', async () => {
    const path = `/api/collections/${w.walk.id}/items/${w.walkItems[5]!.id}`;
    const [ok0, missing0] = [await requestCount(api, 200), await requestCount(api, 404)];
    assert.equal((await api.fetch(path)).status, 200);
    assert.equal((await api.fetch(`/api/collections/${w.walk.id}/items/${w.privatePicture.id}`)).status, 404);
    assert.equal((await api.fetch(path, { headers: w.other.headers })).status, 200);
    assert.equal(await requestCount(api, 200), ok0 + 2, 'the anonymous and the signed-in read, under one label');
    assert.equal(await requestCount(api, 404), missing0 + 1);
  });
});
