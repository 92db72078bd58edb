/**
 * The API process under fuzz: a real child process (a crash is an exit, not the test runner's
 * death), raw HTTP requests to it, and what its log says about a request.
 */
import http from 'node:http';
import { freePort, waitFor } from './net.js';
import { type ChildHandle, spawnEntry } from './processes.js';

export interface RawRequest {
  method: string;
  /** Path and query, sent exactly as given (already percent-encoded). */
  target: string;
  headers: Record<string, string>;
  body?: Buffer;
}

export interface Answer {
  status: number;
  headers: http.IncomingHttpHeaders;
  /** The first 4 MB of the body. */
  body: Buffer;
  ms: number;
}

/** A request that got no answer: the connection failed or closed, or the time ran out. */
export class NoAnswer extends Error {
  constructor(
    message: string,
    readonly code: string,
  ) {
    super(message);
  }
}

/** Characters Node refuses in a request path are percent-encoded (the fuzzer means bytes, not a TypeError). */
function safeTarget(target: string): string {
  return target.replace(/[^\x21-\x7e]/gu, (ch) => [...Buffer.from(ch, 'utf8')].map((b) => `%${b.toString(16).toUpperCase().padStart(2, '0')}`).join(''));
}

const MAX_BODY = 4 * 1024 * 1024;
/** Request line and headers must stay under Node's 16 kB header limit. */
const MAX_TARGET = 15_000;

/** One request on a connection of its own (no keep-alive race with the server closing sockets). */
export function send(baseUrl: string, req: RawRequest, timeoutMs: number): Promise<Answer> {
  const url = new URL(baseUrl);
  const started = performance.now();
  return new Promise<Answer>((resolve, reject) => {
    let settled = false;
    const done = (fn: () => void) => {
      if (!settled) {
        settled = true;
        fn();
      }
    };
    const headers: Record<string, string> = { ...req.headers };
    if (req.body) headers['content-length'] = String(req.body.length);
    let r: http.ClientRequest;
    if (req.target.length > MAX_TARGET) {
      // Node's HTTP parser would answer 431 itself, before the API sees the request.
      reject(new NoAnswer(`not sent: a URL of ${req.target.length} characters`, 'CLIENT_REFUSED'));
      return;
    }
    try {
      r = http.request({ host: url.hostname, port: url.port, method: req.method, path: safeTarget(req.target), headers, agent: false });
    } catch (error) {
      reject(new NoAnswer(`not sent: ${(error as Error).message}`, 'CLIENT_REFUSED'));
      return;
    }
    r.setTimeout(timeoutMs, () => {
      done(() => reject(new NoAnswer(`no answer within ${timeoutMs} ms`, 'TIMEOUT')));
      r.destroy();
    });
    r.on('error', (error: NodeJS.ErrnoException) => done(() => reject(new NoAnswer(error.message, error.code ?? 'ERROR'))));
    r.on('response', (res) => {
      const chunks: Buffer[] = [];
      let size = 0;
      res.on('data', (chunk: Buffer) => {
        if (size < MAX_BODY) chunks.push(chunk);
        size += chunk.length;
      });
      res.on('end', () =>
        done(() => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks).subarray(0, MAX_BODY), ms: performance.now() - started })),
      );
      res.on('error', (error: NodeJS.ErrnoException) => done(() => reject(new NoAnswer(`answer cut: ${error.message}`, error.code ?? 'ERROR'))));
      res.on('aborted', () => done(() => reject(new NoAnswer('answer cut', 'ABORTED'))));
    });
    r.end(req.body);
  });
}

/** The API as a child process, restarted on a new port when it dies. */
export class FuzzTarget {
  child!: ChildHandle;
  baseUrl = '';
  restarts = 0;
  /** Time spent restarting. */
  restartMs = 0;
  /** Output of the processes that died, for the reports. */
  private readonly pastOutput: string[] = [];

  private constructor(private readonly env: Record<string, string>) {}

  static async start(env: Record<string, string>): Promise<FuzzTarget> {
    const target = new FuzzTarget(env);
    await target.spawn();
    return target;
  }

  private async spawn(): Promise<void> {
    const port = await freePort();
    this.baseUrl = `http://127.0.0.1:${port}`;
    this.child = spawnEntry('main', { env: { ...this.env, PORT: String(port), PUBLIC_URL: this.baseUrl } });
    await this.child.waitForOutput(/listening on port/, 60_000);
    await waitFor('the API under fuzz to be ready', async () => (await this.ready()).status === 200, 30_000);
  }

  alive(): boolean {
    return this.child.proc.exitCode === null && this.child.proc.signalCode === null;
  }

  exitDescription(): string {
    const { exitCode, signalCode } = this.child.proc;
    return signalCode ? `killed by ${signalCode}` : `exited with code ${exitCode}`;
  }

  async restart(): Promise<void> {
    const started = Date.now();
    this.pastOutput.push(this.child.output());
    await this.child.kill('SIGKILL');
    this.restarts++;
    await this.spawn();
    this.restartMs += Date.now() - started;
  }

  /** GET /api/health/ready; a failed connection counts as status 0. */
  async ready(): Promise<{ status: number; body: string }> {
    try {
      const res = await send(this.baseUrl, { method: 'GET', target: '/api/health/ready', headers: {} }, 10_000);
      return { status: res.status, body: res.body.toString('utf8') };
    } catch (error) {
      return { status: 0, body: (error as Error).message };
    }
  }

  /**
   * After a request got no answer: waits until the process has either exited or answers its
   * health route again, and says which.
   */
  async settle(): Promise<'exited' | 'alive' | 'hung'> {
    try {
      return await waitFor(
        'the API under fuzz to exit or answer',
        async () => {
          if (!this.alive()) return 'exited' as const;
          return (await this.ready()).status > 0 ? ('alive' as const) : undefined;
        },
        15_000,
        50,
      );
    } catch {
      return 'hung';
    }
  }

  /** What the log says about a request: the messages of its error lines. */
  logFor(requestId: string): string[] {
    const messages: string[] = [];
    const needle = `"${requestId}"`;
    for (const output of [this.child.output(), ...this.pastOutput]) {
      if (!output.includes(needle)) continue;
      for (const line of output.split('\n')) {
        if (!line.includes(needle)) continue;
        try {
          const entry = JSON.parse(line) as { level?: number; msg?: string; err?: { message?: string } | string };
          if ((entry.level ?? 0) < 50) continue;
          const err = typeof entry.err === 'string' ? entry.err : entry.err?.message;
          const text = err ? `${entry.msg ?? ''}: ${err}` : entry.msg;
          // pino-http's own line says only the status.
          if (text && !/^request errored: failed with status code/.test(text) && !messages.includes(text)) messages.push(text);
        } catch {
          // Not a JSON line.
        }
      }
    }
    return messages;
  }

  /** The last lines the current (or just-dead) process printed that are not request logs. */
  tail(lines = 25): string {
    return this.child
      .output()
      .split('\n')
      .filter((l) => !/"req":\{"id"/.test(l))
      .slice(-lines)
      .join('\n');
  }

  async stop(): Promise<void> {
    await this.child?.stop(10_000);
  }
}
