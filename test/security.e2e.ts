import assert from 'node:assert/strict';
import net from 'node:net';
import { after, before, describe, it } from 'node:test';
import { startApi, type TestApi } from './support/app.js';
import { createUser, type TestUser } from './support/auth.js';
import { freePort, json, waitFor } from './support/net.js';
import { type ChildHandle, spawnEntry } from './support/processes.js';
import { pointsNorth, randomSpot, seedSequence, type SeededSequence } from './support/collections-seed.js';
import { decodeMvt, tileCentre, tileOf, vertices } from './support/mvt.js';
import { createUploadSet } from './upload-support.js';
import { Visibility } from '../src/auth/visibility.js';

/** A multipart body whose file part is `size` bytes and whose closing boundary never comes. */
function unterminatedMultipart(size: number, field = 'file'): { body: Buffer; type: string } {
  const boundary = '----sightline-test-boundary';
  const head = Buffer.from(`--${boundary}\r\nContent-Disposition: form-data; name="${field}"; filename="x.tif"\r\nContent-Type: image/tiff\r\n\r\n`);
  const data = Buffer.alloc(size, 0x49);
  return { body: Buffer.concat([head, data]), type: `multipart/form-data; boundary=${boundary}` };
}

/** The status of a request, or `closed` when the server closed the connection without answering. */
async function statusOf(res: Promise<Response>): Promise<number | 'closed'> {
  try {
    const r = await res;
    await r.arrayBuffer();
    return r.status;
  } catch {
    return 'closed';
  }
}

describe('security: no request ends the API process', () => {
  let helper: TestApi;
  let child: ChildHandle;
  let base: string;
  let user: TestUser;

  before(async () => {
    helper = await startApi();
    user = await createUser(helper, 'uploader');
    const port = await freePort();
    base = `http://127.0.0.1:${port}`;
    child = spawnEntry('main', { env: { PORT: String(port), PUBLIC_URL: base } });
    await child.waitForOutput(/listening on port/);
  });
  after(async () => {
    await child?.stop();
    await helper?.close();
  });

  const alive = async () => {
    assert.equal(child.proc.exitCode, null, `the API exited:\n${child.output().slice(-3000)}`);
    const ready = await waitFor('the API to answer readiness', async () => (await fetch(`${base}/api/health/ready`)).status === 200, 10_000);
    assert.ok(ready);
  };

  it('answers a multipart body without its closing boundary with 400, for small and large parts, datasets and pictures', async () => {
    const set = await createUploadSet(helper, user, { title: 'boundary test' });
    for (const route of ['/api/datasets', `/api/upload_sets/${set.id}/files`]) {
      for (const size of [1, 1000, 20_000, 55_000, 70_000, 300_000]) {
        const { body, type } = unterminatedMultipart(size);
        const status = await statusOf(fetch(`${base}${route}`, { method: 'POST', headers: { ...user.headers, 'content-type': type }, body }));
        assert.equal(status, 400, `${route} with a ${size}-byte part`);
        await alive();
      }
    }
  });
});

describe('security: hostile input is a 4xx naming the problem', () => {
  let api: TestApi;
  let user: TestUser;
  let admin: TestUser;
  let sequence: SeededSequence;

  before(async () => {
    api = await startApi({ env: { METRICS_TOKEN: 'metrics-secret-of-enough-length' } });
    [user, admin] = await Promise.all([createUser(api, 'mallory'), createUser(api, 'root', 'admin')]);
    sequence = await seedSequence(api, { ownerId: user.id, pictures: pointsNorth(randomSpot(), 2) });
  });
  after(async () => api?.close());

  const send = (method: string, path: string, body?: unknown, who: TestUser | undefined = user, type = 'application/json') =>
    api.fetch(path, {
      method,
      headers: { ...who?.headers, ...(body !== undefined ? { 'content-type': type } : {}) },
      body: body === undefined ? undefined : typeof body === 'string' ? body : JSON.stringify(body),
    });
  const expect400 = async (res: Response, field: RegExp, what: string) => {
    const body = await json(res);
    assert.equal(res.status, 400, `${what}: ${JSON.stringify(body).slice(0, 300)}`);
    assert.equal(body.statusCode, 400);
    assert.equal(body.error, 'Bad Request');
    assert.match(body.message, field, what);
  };
  /** JSON text nested `depth` deep (arrays and objects in turn), written out: JSON.stringify would overflow. */
  const nested = (depth: number, leaf = '1') => {
    const open: string[] = [];
    const close: string[] = [];
    for (let i = 0; i < depth; i++) {
      open.push(i % 2 ? '{"a":' : '[');
      close.push(i % 2 ? '}' : ']');
    }
    return `${open.reverse().join('')}${leaf}${close.join('')}`;
  };

  it('refuses bodies nested thousands deep on every kind of JSON route', async () => {
    const set = await createUploadSet(api, user, { title: 'deep' });
    for (const depth of [2_000, 20_000]) {
      await expect400(await send('POST', '/api/upload_sets', `{"title":"x","extra":${nested(depth)}}`), /nests deeper than 64/, `upload set ${depth}`);
      await expect400(await send('PATCH', `/api/upload_sets/${set.id}`, nested(depth)), /nests deeper/, `patch ${depth}`);
      await expect400(await send('POST', '/api/search', `{"filter":${nested(depth, '{"op":"isNull","args":[{"property":"x"}]}')}}`, undefined), /nests deeper/, `search ${depth}`);
      await expect400(await send('POST', '/api/management/commands/collections.recompute/jobs', `{"args":${nested(depth)}}`, admin), /nests deeper/, `job args ${depth}`);
    }
  });

  it('refuses CQL2 filters nested past the limit, in text and in JSON from a query string', async () => {
    for (const n of [100, 1_000, 3_000, 5_000]) {
      const parens = `${'('.repeat(n)}id = 'a'${')'.repeat(n)}`;
      const nots = `${'NOT '.repeat(n)}id = 'a'`;
      // Past about 2,500 nested characters the query string outgrows Node's 16 KB header limit: long filters go in POST /search.
      if (n <= 1_000) {
        await expect400(await api.fetch(`/api/search?filter=${encodeURIComponent(parens)}`), /nests more than 64/, `parentheses ${n}`);
        await expect400(await api.fetch(`/api/search?filter=${encodeURIComponent(nots)}`), /nests more than 64/, `NOTs ${n}`);
      }
      await expect400(await send('POST', '/api/search', { filter: parens, 'filter-lang': 'cql2-text' }, undefined), /nests more than 64/, `POST parentheses ${n}`);
      await expect400(await send('POST', '/api/search', { filter: nots, 'filter-lang': 'cql2-text' }, undefined), /nests more than 64/, `POST NOTs ${n}`);
    }
    const deep = `${'{"op":"not","args":['.repeat(200)}{"op":"=","args":[{"property":"id"},"a"]}${']}'.repeat(200)}`;
    await expect400(await api.fetch(`/api/search?filter-lang=cql2-json&filter=${encodeURIComponent(deep)}`), /filter.*nests deeper/, 'JSON filter in the query');
    // Shallow filters still work.
    assert.equal((await api.fetch(`/api/search?filter=${encodeURIComponent("((NOT (id = 'a')))")}`)).status, 200);
  });

  it('refuses large search areas that are not valid geometries, and huge ones, instead of repairing them for minutes', async () => {
    const zigzag = (n: number) => ({ type: 'Polygon', coordinates: [[...Array.from({ length: n }, (_, i) => [(i % 360) - 180, (i % 180) - 90]), [-180, -90]]] });
    const invalid = await send('POST', '/api/search', { intersects: zigzag(5_000), limit: 1 }, undefined);
    await expect400(invalid, /intersects is not a valid geometry \(.*Self-intersection/, 'a large self-intersecting area');
    await expect400(await send('POST', '/api/search', { intersects: zigzag(11_000), limit: 1 }, undefined), /more than 10000 positions/, 'a huge area');
    // A large valid area (a circle of 5,000 positions) and a small invalid one (a bow tie, repaired) are searched.
    const circle = Array.from({ length: 5_000 }, (_, i) => [Math.cos((2 * Math.PI * i) / 5_000) * 10, Math.sin((2 * Math.PI * i) / 5_000) * 10]);
    assert.equal((await send('POST', '/api/search', { intersects: { type: 'Polygon', coordinates: [[...circle, circle[0]]] }, limit: 1 }, undefined)).status, 200);
    const bowTie = {
      type: 'Polygon',
      coordinates: [
        [
          [0, 0],
          [1, 1],
          [1, 0],
          [0, 1],
          [0, 0],
        ],
      ],
    };
    assert.equal((await send('POST', '/api/search', { intersects: bowTie, limit: 1 }, undefined)).status, 200);
  });

  it('refuses NUL characters and lone surrogates in queries, paths and bodies, naming the field', async () => {
    await expect400(await api.fetch('/api/datasets?q=%00'), /q contains a NUL/, 'datasets q');
    await expect400(await api.fetch('/api/users?q=a%00b', { headers: admin.headers }), /q contains a NUL/, 'users q');
    await expect400(await api.fetch('/api/collections/%00'), /path contains a NUL/, 'path');
    await expect400(await send('POST', '/api/upload_sets', { title: 'a\u0000b' }), /title contains a NUL/, 'upload set title');
    await expect400(await send('PATCH', `/api/collections/${sequence.collection.id}`, { title: 'a\u0000b' }), /title contains a NUL/, 'collection title');
    await expect400(await send('POST', '/api/users/me/tokens', { description: 'a\u0000b' }), /description contains a NUL/, 'token description');
    await expect400(await api.fetch('/api/management/jobs?command=system.ping%00', { headers: admin.headers }), /command contains a NUL/, 'command');
    // A lone surrogate cannot be written with JSON.stringify: the escape goes in the text itself.
    await expect400(await send('PATCH', `/api/collections/${sequence.collection.id}`, '{"title":"\\ud800"}'), /title contains a lone UTF-16 surrogate/, 'lone surrogate');
    await expect400(await send('POST', '/api/upload_sets', '{"title":"x","\\u0000":1}'), /field name/, 'NUL in a key');
    assert.equal((await send('PATCH', `/api/collections/${sequence.collection.id}`, { title: 'Fine 😀 title' })).status, 200, 'surrogate pairs are fine');
  });

  it('refuses a position that is not a Point object', async () => {
    const item = sequence.items[0]!;
    for (const position of [[], [1, 2], 'POINT(1 2)', {}]) {
      const res = await send('PATCH', `/api/collections/${sequence.collection.id}/items/${item.id}`, { position });
      await expect400(res, /position/, JSON.stringify(position));
    }
  });

  it('answers 415 for a body of a type the route does not take, and runs nothing', async () => {
    const jobs = async () => (await json(await api.fetch('/api/management/jobs?limit=100', { headers: admin.headers }))).total;
    const before = await jobs();
    for (const type of ['text/plain', 'application/x-www-form-urlencoded', 'application/xml']) {
      const res = await send('POST', '/api/admin/datasets/prune-missing', type.includes('urlencoded') ? 'dry_run=true' : '{"dry_run":true}', admin, type);
      const body = await json(res);
      assert.equal(res.status, 415, `${type}: ${JSON.stringify(body)}`);
      assert.match(body.message, /application\/json/);
    }
    assert.equal(await jobs(), before, 'no job was started');
    // A JSON route given multipart is refused too; an empty body of any type is no body.
    const form = new FormData();
    form.append('title', 'x');
    assert.equal((await api.fetch('/api/upload_sets', { method: 'POST', headers: user.headers, body: form })).status, 415);
  });

  it('refuses null for fields that are not nullable, and keeps null as "clear" where documented', async () => {
    const set = await createUploadSet(api, user, { title: 'nulls' });
    await expect400(await send('PATCH', `/api/upload_sets/${set.id}`, { title: null }), /title must not be null/, 'upload set title');
    await expect400(await send('PATCH', `/api/collections/${sequence.collection.id}`, { title: null }), /title must not be null/, 'collection title');
    await expect400(await send('POST', '/api/upload_sets', { title: 'x', visibility: null }), /visibility must not be null/, 'visibility');
    const cleared = await send('PATCH', `/api/collections/${sequence.collection.id}`, { description: null });
    assert.equal(cleared.status, 200, 'description: null clears it');
    assert.equal((await json(cleared)).description, null);
  });

  it('answers paths outside /api with the JSON error shape', async () => {
    for (const path of ['/foo', '//api//health', '/api.json', '/favicon.ico']) {
      const res = await fetch(`${api.baseUrl}${path}`, { redirect: 'manual' });
      assert.equal(res.status, 404, path);
      assert.match(res.headers.get('content-type') ?? '', /application\/json/, path);
      const body = await json(res);
      assert.equal(body.statusCode, 404);
      assert.equal(body.error, 'Not Found');
    }
    const root = await api.fetch('/', { redirect: 'manual' });
    assert.equal(root.status, 302);
    assert.equal(root.headers.get('location'), '/api/');
  });

  it('serves metrics only with METRICS_TOKEN when it is set', async () => {
    assert.equal((await api.fetch('/api/metrics')).status, 401);
    assert.equal((await api.fetch('/api/metrics', { headers: user.headers })).status, 401, 'an API token is not the metrics token');
    const ok = await api.fetch('/api/metrics', { headers: { authorization: 'Bearer metrics-secret-of-enough-length' } });
    assert.equal(ok.status, 200);
    assert.match(await ok.text(), /sightline_http_request_duration_seconds/);
  });
});

describe('security: aggregates show only what their audience may see', () => {
  let api: TestApi;
  let owner: TestUser;

  before(async () => {
    api = await startApi();
    owner = await createUser(api, 'aggregates-owner');
  });
  after(async () => api?.close());

  it('leaves an owner-only picture of a public sequence out of its count, extent, interval and map line', async () => {
    const spot = tileCentre(randomSpot(), 15);
    const hiddenSpot = { lon: spot.lon + 0.002, lat: spot.lat + 0.0003 };
    const seeded = await seedSequence(api, {
      ownerId: owner.id,
      pictures: [
        { ...spot, datetime: new Date('2024-05-01T10:00:00Z') },
        { ...hiddenSpot, visibility: Visibility.OwnerOnly, datetime: new Date('2024-05-01T09:00:00Z') },
        { lon: spot.lon, lat: spot.lat + 0.0006, datetime: new Date('2024-05-01T10:01:00Z') },
      ],
    });
    const id = seeded.collection.id;
    const collection = await json(await api.fetch(`/api/collections/${id}`));
    assert.equal(collection['stats:items'].count, 2);
    const [west, , east] = collection.extent.spatial.bbox[0];
    assert.ok(east < hiddenSpot.lon - 0.001, `extent ${west}…${east} reaches the hidden picture at ${hiddenSpot.lon}`);
    assert.equal(collection.extent.temporal.interval[0][0], '2024-05-01T10:00:00Z', 'the hidden picture’s earlier time is not shown');
    const search = await json(await api.fetch(`/api/search?collections=${id}&limit=10`));
    assert.equal(search.numberMatched, 2);

    // The anonymous tile's sequence line stays on the public pictures (x within a few units of the spot's column).
    const t = tileOf(spot.lon, spot.lat, 15);
    const tile = await api.fetch(`/api/map/15/${t.x}/${t.y}.mvt`);
    const layers = decodeMvt(new Uint8Array(await tile.arrayBuffer()));
    const line = layers.sequences?.features.find((f) => f.properties.id === id);
    assert.ok(line, 'the public sequence is in the tile');
    const xs = vertices(line).map((p) => p[0]);
    assert.ok(Math.max(...xs) - Math.min(...xs) < 5, `the line bends towards the hidden picture: x ${xs}`);

    // Made public, the picture counts again.
    const res = await api.fetch(`/api/collections/${id}/items/${seeded.items[1]!.id}`, {
      method: 'PATCH',
      headers: { ...owner.headers, 'content-type': 'application/json' },
      body: JSON.stringify({ visibility: 'anyone' }),
    });
    assert.equal(res.status, 200);
    assert.equal((await json(await api.fetch(`/api/collections/${id}`)))['stats:items'].count, 3);
  });
});

/** A TCP relay to PostgreSQL that a test can cut (refusing and dropping connections) and restore. */
async function databaseRelay(): Promise<{ url: string; cut(): Promise<void>; restore(): Promise<void>; close(): Promise<void> }> {
  const target = new URL(process.env.DATABASE_URL!);
  const port = await freePort();
  const sockets = new Set<net.Socket>();
  let server: net.Server | undefined;
  const listen = () =>
    new Promise<void>((resolve, reject) => {
      server = net.createServer((client) => {
        const upstream = net.connect(Number(target.port || 5432), target.hostname);
        for (const s of [client, upstream]) {
          sockets.add(s);
          s.on('close', () => sockets.delete(s));
          s.on('error', () => s.destroy());
        }
        client.pipe(upstream).pipe(client);
      });
      server.once('error', reject);
      server.listen(port, '127.0.0.1', () => resolve());
    });
  const cut = async () => {
    await new Promise<void>((resolve) => {
      server?.close(() => resolve());
      for (const s of sockets) s.destroy();
    });
    server = undefined;
  };
  await listen();
  const url = new URL(target);
  url.port = String(port);
  return { url: url.toString(), cut, restore: listen, close: cut };
}

describe('security: a dependency that is down answers 503, never 500', () => {
  let api: TestApi;
  let relay: Awaited<ReturnType<typeof databaseRelay>>;
  let user: TestUser;

  before(async () => {
    relay = await databaseRelay();
    api = await startApi({ env: { DATABASE_URL: relay.url } });
    user = await createUser(api, 'outage');
  });
  after(async () => {
    await api?.close().catch(() => undefined);
    await relay?.close();
  });

  it('answers 503 with Retry-After on reads and writes while PostgreSQL is unreachable, and recovers', async () => {
    const requests: [string, string, RequestInit][] = [
      ['anonymous STAC search', '/api/search?limit=1', {}],
      ['collections', '/api/collections', {}],
      ['datasets', '/api/datasets', {}],
      ['a token-authenticated read', '/api/users/me', { headers: user.headers }],
      [
        'an upload set',
        '/api/upload_sets',
        { method: 'POST', headers: { ...user.headers, 'content-type': 'application/json' }, body: JSON.stringify({ title: 'during the outage' }) },
      ],
    ];
    for (const [what, path, init] of requests) assert.ok((await api.fetch(path, init)).status < 500, `${what} before the outage`);
    await relay.cut();
    try {
      for (const [what, path, init] of requests) {
        const res = await api.fetch(path, init);
        const body = await json(res);
        assert.equal(res.status, 503, `${what}: ${JSON.stringify(body)}`);
        assert.equal(body.statusCode, 503);
        assert.equal(body.details?.dependency, 'database', what);
        assert.equal(res.headers.get('retry-after'), '5', what);
      }
      assert.equal((await api.fetch('/api/health/ready')).status, 503);
    } finally {
      await relay.restore();
    }
    await waitFor('the API to reach the database again', async () => (await api.fetch('/api/users/me', { headers: user.headers })).status === 200, 20_000);
  });
});
