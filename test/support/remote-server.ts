import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import http, { type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

/** A request the remote server received. */
export interface ReceivedRequest {
  method: string;
  /** Path and query. */
  url: string;
  headers: IncomingMessage['headers'];
  body: string;
}

/** What a route answers: a body (string, buffer or JSON value) with a status and headers, or a handler. */
export type RouteAnswer =
  | { status?: number; headers?: Record<string, string>; body?: string | Buffer | object; file?: string; etag?: boolean }
  | ((request: ReceivedRequest, res: ServerResponse) => void | Promise<void>);

/**
 * A real HTTP server standing in for a remote catalog in tests: answers recorded responses by
 * path (and query, when the route names one), with ETag / Last-Modified and 304s when asked, and
 * keeps every request it received. `{hang: true}` routes never answer (until the server closes).
 */
export class RemoteServer {
  readonly requests: ReceivedRequest[] = [];
  private readonly routes = new Map<string, RouteAnswer>();
  private readonly hanging = new Set<ServerResponse>();
  private server?: http.Server;
  url = '';

  /** Answers `key` (`GET /path?query`, `POST /path`, or a bare `/path` for any method and query). */
  route(key: string, answer: RouteAnswer): this {
    this.routes.set(key, answer);
    return this;
  }

  /** A route that accepts the request and never answers. */
  hang(key: string): this {
    return this.route(key, (_request, res) => {
      this.hanging.add(res);
    });
  }

  async start(): Promise<string> {
    this.server = http.createServer((req, res) => void this.handle(req, res));
    await new Promise<void>((resolve) => this.server!.listen(0, '127.0.0.1', resolve));
    this.url = `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
    return this.url;
  }

  async stop(): Promise<void> {
    for (const res of this.hanging) res.destroy();
    this.server?.closeAllConnections();
    await new Promise<void>((resolve) => (this.server ? this.server.close(() => resolve()) : resolve()));
  }

  private find(method: string, url: string): RouteAnswer | undefined {
    const path = url.split('?')[0];
    return this.routes.get(`${method} ${url}`) ?? this.routes.get(`${method} ${path}`) ?? this.routes.get(url) ?? this.routes.get(path);
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const chunks: Buffer[] = [];
    for await (const chunk of req) chunks.push(chunk as Buffer);
    const request: ReceivedRequest = { method: req.method ?? 'GET', url: req.url ?? '/', headers: req.headers, body: Buffer.concat(chunks).toString('utf8') };
    this.requests.push(request);
    const answer = this.find(request.method, request.url);
    if (!answer) {
      res.writeHead(404, { 'content-type': 'text/plain' }).end(`no route for ${request.method} ${request.url}`);
      return;
    }
    if (typeof answer === 'function') {
      await answer(request, res);
      return;
    }
    const raw = answer.file ? readFileSync(answer.file) : answer.body;
    const body = raw === undefined ? Buffer.alloc(0) : Buffer.isBuffer(raw) ? raw : typeof raw === 'string' ? Buffer.from(raw) : Buffer.from(JSON.stringify(raw));
    const headers: Record<string, string> = { 'content-type': answer.file?.endsWith('.xml') ? 'application/xml' : 'application/json', ...answer.headers };
    if (answer.etag) {
      const etag = `"${createHash('sha256').update(body).digest('hex').slice(0, 16)}"`;
      headers.etag = etag;
      if (req.headers['if-none-match'] === etag) {
        res.writeHead(304, { etag }).end();
        return;
      }
    }
    res.writeHead(answer.status ?? 200, headers).end(body);
  }
}
