import { Injectable } from '@nestjs/common';
import dns from 'node:dns';
import http, { type IncomingMessage } from 'node:http';
import https from 'node:https';
import net, { BlockList } from 'node:net';
import zlib from 'node:zlib';
import { AppConfig } from '../config/app-config.js';
import { VERSION } from '../health/version.js';

/** A remote request that did not give a usable answer; `message` says why in plain words. */
export class RemoteError extends Error {
  constructor(
    message: string,
    readonly url: string,
    readonly status?: number,
    /** Worth trying again later (network trouble, 429, 5xx). */
    readonly transient = false,
    /** The start of the body of a non-2xx answer (up to 64 KiB), for types that read error documents. */
    readonly body?: Buffer,
  ) {
    super(message);
    this.name = 'RemoteError';
  }
}

export interface RemoteRequest {
  method?: 'GET' | 'POST' | 'HEAD';
  headers?: Record<string, string>;
  /** A JSON value (sent as application/json) or a string / buffer sent as is (set content-type). */
  body?: unknown;
  signal?: AbortSignal;
  /** Conditional GET: answered 304 with an empty body when unchanged. */
  etag?: string | null;
  lastModified?: string | null;
  /** Overrides HARVEST_MAX_RESPONSE_BYTES for this request. */
  maxBytes?: number;
}

export interface RemoteResponse {
  status: number;
  /** The address that answered (after redirects). */
  url: string;
  headers: Record<string, string | string[] | undefined>;
  body: Buffer;
}

export interface RemoteJson<T = unknown> {
  url: string;
  status: number;
  data: T;
  etag: string | null;
  lastModified: string | null;
}

const MAX_REDIRECTS = 5;
const RETRY_BASE_MS = 500;

interface HostGate {
  active: number;
  waiting: (() => void)[];
  tokens: number;
  refilledAt: number;
}

function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) return reject(signal.reason ?? new Error('aborted'));
    const timer = setTimeout(() => {
      signal?.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    const onAbort = () => {
      clearTimeout(timer);
      reject(signal?.reason ?? new Error('aborted'));
    };
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}

/** `Retry-After` in milliseconds (seconds or an HTTP date), or null. */
export function retryAfterMs(value: string | string[] | undefined, now = Date.now()): number | null {
  const text = Array.isArray(value) ? value[0] : value;
  if (!text) return null;
  if (/^\s*\d+\s*$/.test(text)) return Number(text) * 1000;
  const at = Date.parse(text);
  return Number.isNaN(at) ? null : Math.max(0, at - now);
}

/** A short, printable start of a body, for error messages. */
export function bodyExcerpt(body: Buffer, length = 80): string {
  return JSON.stringify(body.subarray(0, length).toString('utf8').replace(/\s+/g, ' ').trim());
}

/**
 * Checks addresses and names against HARVEST_DENY_NETWORKS (link-local and cloud metadata
 * addresses by default).
 */
export class DenyList {
  private readonly blocks = new BlockList();
  private readonly names = new Set<string>();

  constructor(entries: readonly string[]) {
    for (const raw of entries) {
      const entry = raw.trim().toLowerCase();
      if (!entry) continue;
      const [address, prefix] = entry.split('/');
      const family = net.isIP(address);
      if (family) {
        const type = family === 6 ? 'ipv6' : 'ipv4';
        if (prefix === undefined) this.blocks.addAddress(address, type);
        else this.blocks.addSubnet(address, Number(prefix), type);
      } else {
        this.names.add(entry.replace(/\.$/, ''));
      }
    }
  }

  deniedName(hostname: string): boolean {
    const name = hostname
      .toLowerCase()
      .replace(/\.$/, '')
      .replace(/^\[|\]$/g, '');
    return this.names.has(name);
  }

  deniedAddress(address: string): boolean {
    const family = net.isIP(address);
    if (!family) return false;
    if (family === 6) {
      // An IPv4-mapped IPv6 address is the IPv4 address.
      const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(address);
      if (mapped) return this.blocks.check(mapped[1], 'ipv4');
      return this.blocks.check(address, 'ipv6');
    }
    return this.blocks.check(address, 'ipv4');
  }
}

type LookupCallback = (error: NodeJS.ErrnoException | null, address: string | dns.LookupAddress[], family?: number) => void;

/**
 * The harvesters' HTTP client: an identifying User-Agent, per-host concurrency and a token bucket
 * shared by every harvester of the process, `Retry-After` on 429 / 503, exponential back-off with
 * jitter, a time limit per request, a size limit on the (decompressed) body, a bounded number of
 * redirects, and no connection to a denied address (checked on the resolved addresses, so a name
 * that resolves to a metadata address is refused too).
 */
@Injectable()
export class RemoteHttp {
  readonly userAgent: string;
  private readonly deny: DenyList;
  private readonly gates = new Map<string, HostGate>();

  constructor(private readonly config: AppConfig) {
    this.userAgent = `Sightline/${VERSION} (harvester; +${config.PUBLIC_URL})`;
    this.deny = new DenyList(config.HARVEST_DENY_NETWORKS);
  }

  /** Refuses a URL harvesters may not reach (scheme, credentials, denied names and literal addresses). */
  checkUrl(raw: string): URL {
    let url: URL;
    try {
      url = new URL(raw);
    } catch {
      throw new RemoteError(`not a URL: ${JSON.stringify(raw.slice(0, 200))}`, raw);
    }
    if (url.protocol !== 'http:' && url.protocol !== 'https:') throw new RemoteError(`only http and https URLs can be harvested (got ${url.protocol})`, raw);
    if (url.username || url.password) throw new RemoteError('URLs with credentials are not accepted; configure authentication in the harvester instead', raw);
    const host = url.hostname.replace(/^\[|\]$/g, '');
    if (this.deny.deniedName(host) || this.deny.deniedAddress(host)) throw new RemoteError(`${host} is on the deny list of harvesters (HARVEST_DENY_NETWORKS)`, raw);
    return url;
  }

  /** GET (or POST) a JSON document; a non-JSON answer (an HTML page, garbage) is a RemoteError saying what came. */
  async json<T = unknown>(url: string, request: RemoteRequest = {}): Promise<RemoteJson<T>> {
    const response = await this.request(url, { ...request, headers: { accept: 'application/geo+json, application/json;q=0.9, */*;q=0.1', ...request.headers } });
    const etag = header(response, 'etag');
    const lastModified = header(response, 'last-modified');
    if (response.status === 304) return { url: response.url, status: 304, data: undefined as T, etag, lastModified };
    let data: T;
    try {
      data = JSON.parse(response.body.toString('utf8')) as T;
    } catch {
      const type = header(response, 'content-type') ?? 'no content type';
      throw new RemoteError(`expected JSON from ${response.url}, got ${type} starting ${bodyExcerpt(response.body)}`, response.url, response.status);
    }
    return { url: response.url, status: response.status, data, etag, lastModified };
  }

  /** A request with retries; answers 2xx and 304 (non-2xx statuses are RemoteErrors). */
  async request(url: string, request: RemoteRequest = {}): Promise<RemoteResponse> {
    const retries = this.config.HARVEST_HTTP_RETRIES;
    for (let attempt = 0; ; attempt++) {
      try {
        return await this.follow(url, request);
      } catch (error) {
        if (request.signal?.aborted) throw request.signal.reason ?? error;
        if (!(error instanceof RemoteError) || !error.transient || attempt >= retries) throw error;
        const asked = (error as RemoteError & { retryAfter?: number | null }).retryAfter;
        if (asked !== undefined && asked !== null && asked > this.config.HARVEST_RETRY_AFTER_MAX_SECONDS * 1000) {
          throw new RemoteError(`${error.message}; it asks to wait ${Math.round(asked / 1000)} s, more than HARVEST_RETRY_AFTER_MAX_SECONDS`, error.url, error.status);
        }
        const backoff = RETRY_BASE_MS * 2 ** attempt;
        const wait = asked ?? backoff / 2 + Math.random() * backoff;
        await sleep(wait, request.signal);
      }
    }
  }

  /**
   * Opens a remote file as a stream (redirects followed and checked, per-host limits, no retries
   * once the body flows): for files too large to hold in memory. The caller limits the size (a
   * storage write with maxBytes) and must consume or destroy the stream.
   */
  async download(start: string, signal?: AbortSignal): Promise<{ url: string; stream: IncomingMessage; contentType: string | null; length: number | null }> {
    let url = start;
    for (let hop = 0; ; hop++) {
      const target = this.checkUrl(url);
      const release = await this.acquire(target.host, signal);
      const res = await new Promise<IncomingMessage>((resolve, reject) => {
        const client = target.protocol === 'https:' ? https : http;
        const req = client.request(target, { method: 'GET', headers: { 'user-agent': this.userAgent }, lookup: this.lookup as never, agent: false, signal }, resolve);
        const timer = setTimeout(
          () => req.destroy(new RemoteError(`no answer from ${url} within ${this.config.HARVEST_HTTP_TIMEOUT_SECONDS} s`, url, undefined, true)),
          this.config.HARVEST_HTTP_TIMEOUT_SECONDS * 1000,
        );
        req.on('response', () => clearTimeout(timer));
        req.on('error', (error: NodeJS.ErrnoException) => {
          clearTimeout(timer);
          reject(
            error instanceof RemoteError
              ? error
              : error.code === 'EDENIED'
                ? new RemoteError(error.message, url)
                : signal?.aborted
                  ? error
                  : new RemoteError(`could not reach ${url}: ${error.code ?? error.message}`, url, undefined, true),
          );
        });
        req.end();
      }).finally(release);
      const status = res.statusCode ?? 0;
      if (status >= 300 && status < 400 && res.headers.location) {
        res.resume();
        if (hop >= MAX_REDIRECTS) throw new RemoteError(`more than ${MAX_REDIRECTS} redirects from ${start}`, start, status);
        url = new URL(res.headers.location, url).toString();
        continue;
      }
      if (status < 200 || status >= 300) {
        res.resume();
        throw new RemoteError(`HTTP ${status} from ${url}`, url, status, status === 429 || status >= 500);
      }
      const length = Number(res.headers['content-length']);
      return { url, stream: res, contentType: res.headers['content-type'] ?? null, length: Number.isFinite(length) ? length : null };
    }
  }

  private async follow(start: string, request: RemoteRequest): Promise<RemoteResponse> {
    let url = start;
    let method = request.method ?? 'GET';
    let body = request.body;
    for (let hop = 0; ; hop++) {
      const response = await this.once(url, method, body, request);
      if (response.status >= 300 && response.status < 400 && response.status !== 304) {
        const location = header(response, 'location');
        if (!location) throw new RemoteError(`HTTP ${response.status} without a Location from ${url}`, url, response.status);
        if (hop >= MAX_REDIRECTS) throw new RemoteError(`more than ${MAX_REDIRECTS} redirects from ${start}`, start, response.status);
        url = new URL(location, url).toString();
        if (response.status === 303 || ((response.status === 301 || response.status === 302) && method === 'POST')) {
          method = 'GET';
          body = undefined;
        }
        continue;
      }
      if (response.status === 304 || (response.status >= 200 && response.status < 300)) return response;
      const transient = response.status === 429 || response.status === 408 || response.status >= 500;
      const error = new RemoteError(
        `HTTP ${response.status} from ${url}${response.body.length ? `: ${bodyExcerpt(response.body, 160)}` : ''}`,
        url,
        response.status,
        transient,
        response.body.subarray(0, 64 * 1024),
      );
      if (response.status === 429 || response.status === 503) Object.assign(error, { retryAfter: retryAfterMs(response.headers['retry-after']) });
      throw error;
    }
  }

  private gate(host: string): HostGate {
    let gate = this.gates.get(host);
    if (!gate) {
      gate = { active: 0, waiting: [], tokens: this.config.HARVEST_HOST_REQUESTS_PER_SECOND, refilledAt: Date.now() };
      this.gates.set(host, gate);
    }
    return gate;
  }

  /** Waits for a slot and a token of the host; returns the release function. */
  private async acquire(host: string, signal?: AbortSignal): Promise<() => void> {
    const gate = this.gate(host);
    if (gate.active >= this.config.HARVEST_HOST_CONCURRENCY) {
      await new Promise<void>((resolve, reject) => {
        const onAbort = () => {
          gate.waiting = gate.waiting.filter((w) => w !== go);
          reject(signal?.reason ?? new Error('aborted'));
        };
        const go = () => {
          signal?.removeEventListener('abort', onAbort);
          resolve();
        };
        gate.waiting.push(go);
        signal?.addEventListener('abort', onAbort, { once: true });
      });
    }
    gate.active++;
    const release = () => {
      gate.active--;
      gate.waiting.shift()?.();
    };
    try {
      const rate = this.config.HARVEST_HOST_REQUESTS_PER_SECOND;
      for (;;) {
        const now = Date.now();
        gate.tokens = Math.min(rate, gate.tokens + ((now - gate.refilledAt) / 1000) * rate);
        gate.refilledAt = now;
        if (gate.tokens >= 1) break;
        await sleep(Math.ceil(((1 - gate.tokens) / rate) * 1000), signal);
      }
      gate.tokens -= 1;
    } catch (error) {
      release();
      throw error;
    }
    return release;
  }

  private lookup = (hostname: string, options: dns.LookupOptions, callback: LookupCallback): void => {
    dns.lookup(hostname, { ...options, all: true }, (error, addresses) => {
      if (error) return callback(error, []);
      const denied = addresses.find((a) => this.deny.deniedAddress(a.address));
      if (denied) {
        const refused = Object.assign(new Error(`${hostname} resolves to ${denied.address}, on the deny list of harvesters (HARVEST_DENY_NETWORKS)`), { code: 'EDENIED' });
        return callback(refused, []);
      }
      if (options.all) return callback(null, addresses);
      callback(null, addresses[0].address, addresses[0].family);
    });
  };

  private async once(raw: string, method: string, body: unknown, request: RemoteRequest): Promise<RemoteResponse> {
    const url = this.checkUrl(raw);
    const release = await this.acquire(url.host, request.signal);
    try {
      return await this.send(url, method, body, request);
    } finally {
      release();
    }
  }

  private send(url: URL, method: string, body: unknown, request: RemoteRequest): Promise<RemoteResponse> {
    const maxBytes = request.maxBytes ?? this.config.HARVEST_MAX_RESPONSE_BYTES;
    const timeoutMs = this.config.HARVEST_HTTP_TIMEOUT_SECONDS * 1000;
    const payload = body === undefined ? undefined : Buffer.isBuffer(body) ? body : typeof body === 'string' ? Buffer.from(body) : Buffer.from(JSON.stringify(body));
    const headers: Record<string, string> = {
      'user-agent': this.userAgent,
      'accept-encoding': 'gzip, deflate, br',
      ...(payload && !Buffer.isBuffer(body) && typeof body !== 'string' ? { 'content-type': 'application/json' } : {}),
      ...(payload ? { 'content-length': String(payload.length) } : {}),
      ...(request.etag ? { 'if-none-match': request.etag } : {}),
      ...(request.lastModified ? { 'if-modified-since': request.lastModified } : {}),
      ...request.headers,
    };
    const where = url.toString();
    return new Promise<RemoteResponse>((resolve, reject) => {
      const client = url.protocol === 'https:' ? https : http;
      let settled = false;
      const fail = (error: Error) => {
        if (settled) return;
        settled = true;
        clearTimeout(timer);
        request.signal?.removeEventListener('abort', onAbort);
        req.destroy();
        reject(error);
      };
      const onAbort = () => fail(request.signal?.reason instanceof Error ? request.signal.reason : new Error('aborted'));
      const timer = setTimeout(() => fail(new RemoteError(`no complete answer from ${where} within ${timeoutMs / 1000} s`, where, undefined, true)), timeoutMs);
      const req = client.request(url, { method, headers, lookup: this.lookup as never, agent: false }, (res: IncomingMessage) => {
        const status = res.statusCode ?? 0;
        let stream: NodeJS.ReadableStream = res;
        const encoding = String(res.headers['content-encoding'] ?? '').toLowerCase();
        if (method !== 'HEAD' && status !== 304 && status !== 204) {
          if (encoding === 'gzip' || encoding === 'x-gzip') stream = res.pipe(zlib.createGunzip());
          else if (encoding === 'deflate') stream = res.pipe(zlib.createInflate());
          else if (encoding === 'br') stream = res.pipe(zlib.createBrotliDecompress());
        }
        const chunks: Buffer[] = [];
        let size = 0;
        stream.on('data', (chunk: Buffer) => {
          size += chunk.length;
          if (size > maxBytes) fail(new RemoteError(`the answer of ${where} is larger than ${maxBytes} bytes (HARVEST_MAX_RESPONSE_BYTES)`, where, status));
          else chunks.push(chunk);
        });
        stream.on('error', (error: Error) => fail(new RemoteError(`the answer of ${where} could not be read: ${error.message}`, where, status, true)));
        stream.on('end', () => {
          if (settled) return;
          settled = true;
          clearTimeout(timer);
          request.signal?.removeEventListener('abort', onAbort);
          resolve({ status, url: where, headers: res.headers, body: Buffer.concat(chunks) });
        });
      });
      req.on('error', (error: NodeJS.ErrnoException) => {
        if (error.code === 'EDENIED') return fail(new RemoteError(error.message, where));
        fail(new RemoteError(`could not reach ${where}: ${error.code ?? error.message}`, where, undefined, true));
      });
      if (request.signal?.aborted) return onAbort();
      request.signal?.addEventListener('abort', onAbort, { once: true });
      req.end(payload);
    });
  }
}

export function header(response: Pick<RemoteResponse, 'headers'>, name: string): string | null {
  const value = response.headers[name];
  return (Array.isArray(value) ? value[0] : value) ?? null;
}
