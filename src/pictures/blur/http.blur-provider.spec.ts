import assert from 'node:assert/strict';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { BlurRefusedError } from './blur-provider.js';
import { HttpBlurProvider } from './http.blur-provider.js';

describe('HttpBlurProvider', () => {
  let server: http.Server;
  let url: string;
  let answer: (res: http.ServerResponse) => void = () => undefined;
  let requests = 0;

  before(async () => {
    server = http.createServer((req, res) => {
      requests++;
      req.resume();
      req.on('end', () => answer(res));
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  after(() => new Promise<void>((resolve) => server.close(() => resolve())));

  const input = { buffer: Buffer.from([0xff, 0xd8, 0xff, 0xd9]) };
  const signal = new AbortController().signal;

  it('gives up at once when the service refuses the picture (4xx)', async () => {
    requests = 0;
    answer = (res) => res.writeHead(422, { 'content-type': 'application/json' }).end('{"detail":"not a picture"}');
    await assert.rejects(new HttpBlurProvider({ url, timeoutMs: 2000, retries: 3 }).blur(input, signal), (e: Error) => e instanceof BlurRefusedError && /422/.test(e.message));
    assert.equal(requests, 1);
  });

  it('retries a failing service, then reports its answer', async () => {
    requests = 0;
    answer = (res) => res.writeHead(502).end('bad gateway');
    await assert.rejects(new HttpBlurProvider({ url, timeoutMs: 2000, retries: 2 }).blur(input, signal), /answered 502/);
    assert.equal(requests, 3);
  });

  it('times out a service that does not answer', async () => {
    answer = () => undefined;
    await assert.rejects(new HttpBlurProvider({ url, timeoutMs: 200, retries: 0 }).blur(input, signal), /did not answer within 200 ms/);
  });

  it('refuses an answer of an unexpected type', async () => {
    answer = (res) => res.writeHead(200, { 'content-type': 'text/html' }).end('<p>hello</p>');
    await assert.rejects(new HttpBlurProvider({ url, timeoutMs: 2000, retries: 0 }).blur(input, signal), /unexpected content type: text\/html/);
  });
});
