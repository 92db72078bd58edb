import assert from 'node:assert/strict';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, it } from 'node:test';
import zlib from 'node:zlib';
import { loadConfig } from '../config/app-config.js';
import { DenyList, RemoteError, RemoteHttp, retryAfterMs } from './remote-http.js';

type Handler = (req: http.IncomingMessage, res: http.ServerResponse) => void;

describe('RemoteHttp', () => {
  const routes = new Map<string, Handler>();
  const hits = new Map<string, number>();
  let server: http.Server;
  let base: string;
  const client = (env: Record<string, string> = {}) =>
    new RemoteHttp(loadConfig({ DATABASE_URL: 'postgres://x@127.0.0.1/x', PUBLIC_URL: 'http://sightline.test', HARVEST_HTTP_TIMEOUT_SECONDS: '2', ...env }));

  before(async () => {
    server = http.createServer((req, res) => {
      const path = req.url ?? '/';
      hits.set(path, (hits.get(path) ?? 0) + 1);
      const handler = routes.get(path.split('?')[0]);
      if (handler) handler(req, res);
      else res.writeHead(404).end('missing');
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  after(async () => {
    server.closeAllConnections();
    await new Promise((resolve) => server.close(resolve));
  });

  it('identifies itself and reads JSON', async () => {
    let agent = '';
    routes.set('/json', (req, res) => {
      agent = String(req.headers['user-agent']);
      res.writeHead(200, { 'content-type': 'application/json', etag: '"v1"' }).end('{"a":1}');
    });
    const answer = await client().json<{ a: number }>(`${base}/json`);
    assert.deepEqual(answer.data, { a: 1 });
    assert.equal(answer.etag, '"v1"');
    assert.match(agent, /^Sightline\/\S+ \(harvester; \+http:\/\/sightline\.test\)$/);
  });

  it('names what came when JSON was expected', async () => {
    routes.set('/html', (_req, res) => res.writeHead(200, { 'content-type': 'text/html' }).end('<!DOCTYPE html><html><body>Login</body></html>'));
    await assert.rejects(client().json(`${base}/html`), /expected JSON from .*\/html, got text\/html starting "<!DOCTYPE html>/);
  });

  it('refuses denied addresses, names and schemes before connecting', () => {
    const http = client();
    assert.throws(() => http.checkUrl('http://169.254.169.254/latest/meta-data/'), /deny list/);
    assert.throws(() => http.checkUrl('http://[fe80::1]/'), /deny list/);
    assert.throws(() => http.checkUrl('http://metadata.google.internal/computeMetadata/v1/'), /deny list/);
    assert.throws(() => http.checkUrl('file:///etc/passwd'), /only http and https/);
    assert.throws(() => http.checkUrl('http://user:pw@example.org/'), /credentials/);
    assert.ok(http.checkUrl('https://example.org/stac'));
  });

  it('refuses a name that resolves to a denied address', async () => {
    await assert.rejects(client({ HARVEST_DENY_NETWORKS: '127.0.0.0/8' }).json(`http://localhost:${new URL(base).port}/json`), /resolves to 127\.0\.0\.1, on the deny list/);
  });

  it('checks every redirect and stops after five', async () => {
    routes.set('/to-metadata', (_req, res) => res.writeHead(302, { location: 'http://169.254.169.254/' }).end());
    await assert.rejects(client().request(`${base}/to-metadata`), /deny list/);
    routes.set('/loop', (_req, res) => res.writeHead(301, { location: '/loop' }).end());
    await assert.rejects(client().request(`${base}/loop`), /more than 5 redirects/);
  });

  it('honours Retry-After on 429 and 503, then succeeds', async () => {
    let calls = 0;
    routes.set('/busy', (_req, res) => {
      calls++;
      if (calls < 3) res.writeHead(calls === 1 ? 429 : 503, { 'retry-after': '0' }).end('slow down');
      else res.writeHead(200).end('{}');
    });
    const answer = await client().json(`${base}/busy`);
    assert.equal(answer.status, 200);
    assert.equal(calls, 3);
  });

  it('gives up on a Retry-After longer than allowed, and on a 404 at once', async () => {
    routes.set('/later', (_req, res) => res.writeHead(503, { 'retry-after': '3600' }).end());
    await assert.rejects(client().request(`${base}/later`), /asks to wait 3600 s, more than HARVEST_RETRY_AFTER_MAX_SECONDS/);
    hits.delete('/gone');
    await assert.rejects(client().request(`${base}/gone`), (error: RemoteError) => error.status === 404 && !error.transient);
    assert.equal(hits.get('/gone'), 1, 'a 404 is not retried');
  });

  it('limits the decompressed size of an answer (a gzip bomb stops early)', async () => {
    const bomb = zlib.gzipSync(Buffer.alloc(50 * 1024 * 1024));
    routes.set('/bomb', (_req, res) => res.writeHead(200, { 'content-encoding': 'gzip' }).end(bomb));
    await assert.rejects(client({ HARVEST_MAX_RESPONSE_BYTES: String(1024 * 1024) }).request(`${base}/bomb`), /larger than 1048576 bytes/);
  });

  it('times out a remote that never answers, and aborts at once when cancelled', async () => {
    routes.set('/never', () => undefined);
    const started = Date.now();
    await assert.rejects(client({ HARVEST_HTTP_RETRIES: '0', HARVEST_HTTP_TIMEOUT_SECONDS: '1' }).request(`${base}/never`), /no complete answer .* within 1 s/);
    assert.ok(Date.now() - started < 1900);
    const controller = new AbortController();
    setTimeout(() => controller.abort(new Error('cancelled')), 100);
    const t0 = Date.now();
    await assert.rejects(client().request(`${base}/never`, { signal: controller.signal }), /cancelled/);
    assert.ok(Date.now() - t0 < 1000);
  });

  it('keeps to the per-host concurrency', async () => {
    let active = 0;
    let peak = 0;
    routes.set('/slow', (_req, res) => {
      active++;
      peak = Math.max(peak, active);
      setTimeout(() => {
        active--;
        res.writeHead(200).end('{}');
      }, 30);
    });
    const http = client({ HARVEST_HOST_CONCURRENCY: '2', HARVEST_HOST_REQUESTS_PER_SECOND: '1000' });
    await Promise.all(Array.from({ length: 8 }, () => http.request(`${base}/slow`)));
    assert.equal(peak, 2);
  });
});

describe('DenyList', () => {
  it('matches networks, IPv4-mapped IPv6 addresses and names', () => {
    const deny = new DenyList(['169.254.0.0/16', 'fd00:ec2::254/128', 'Metadata.Google.Internal']);
    assert.ok(deny.deniedAddress('169.254.169.254'));
    assert.ok(deny.deniedAddress('::ffff:169.254.1.2'));
    assert.ok(deny.deniedAddress('fd00:ec2::254'));
    assert.ok(!deny.deniedAddress('10.0.0.1'));
    assert.ok(deny.deniedName('metadata.google.internal.'));
    assert.ok(!deny.deniedName('example.org'));
  });
});

describe('retryAfterMs', () => {
  it('reads seconds and HTTP dates', () => {
    assert.equal(retryAfterMs('7'), 7000);
    assert.equal(retryAfterMs(new Date(10_000 + 5000).toUTCString(), 10_000), 5000);
    assert.equal(retryAfterMs('soon'), null);
    assert.equal(retryAfterMs(undefined), null);
  });
});
