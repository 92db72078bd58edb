// What the benchmark scripts share: a free port, CPU time of a process, percentiles, and a lean
// HTTP client for the measured requests.
import { readFileSync } from 'node:fs';
import http from 'node:http';
import net from 'node:net';

/** A TCP port nothing listens on right now (127.0.0.1). */
export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.on('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as net.AddressInfo;
      server.close(() => resolve(port));
    });
  });
}

/** CPU seconds (user + system) a process has used so far (Linux). */
export function cpuSeconds(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return (Number(fields[11]) + Number(fields[12])) / 100;
}

/** The p-th percentile of values already sorted in ascending order. */
export function percentile(sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]!;
}

export interface TimedResponse {
  status: number;
  ms: number;
  body: Buffer;
}

/**
 * A keep-alive HTTP client for measured requests. It costs the measuring process far less than
 * `fetch` (about 0.3 ms less per request at p50 here, more at p95), so that the figures are the
 * server's, not the client's: with the client, the API and PostgreSQL on the same cores, the
 * client's own work shows up in every latency.
 */
export class BenchClient {
  private readonly agent: http.Agent;

  constructor(
    private readonly base: string,
    sockets = 16,
  ) {
    this.agent = new http.Agent({ keepAlive: true, maxSockets: sockets });
  }

  request(method: string, path: string, options: { body?: unknown; headers?: Record<string, string> } = {}): Promise<TimedResponse> {
    const payload = options.body === undefined ? undefined : Buffer.from(JSON.stringify(options.body));
    const headers: Record<string, string | number> = { ...options.headers };
    if (payload) {
      headers['content-type'] = 'application/json';
      headers['content-length'] = payload.length;
    }
    return new Promise((resolve, reject) => {
      const t0 = performance.now();
      const req = http.request(`${this.base}${path}`, { method, headers, agent: this.agent }, (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, ms: performance.now() - t0, body: Buffer.concat(chunks) }));
        res.on('error', reject);
      });
      req.on('error', reject);
      req.end(payload);
    });
  }

  close(): void {
    this.agent.destroy();
  }
}

/**
 * The allocator settings the production image gives every Sightline process (docker/Dockerfile),
 * which the benchmarks give the API and worker they start: two malloc arenas (libvips' threads
 * fragment more) and freed memory kept for reuse rather than handed back to the system at once,
 * so that decoded raster blocks and picture buffers do not fault in fresh pages each time.
 * Values already in the environment win.
 */
export function serverMallocEnv(env: NodeJS.ProcessEnv = process.env): Record<string, string> {
  return {
    MALLOC_ARENA_MAX: env.MALLOC_ARENA_MAX ?? '2',
    MALLOC_TRIM_THRESHOLD_: env.MALLOC_TRIM_THRESHOLD_ ?? '268435456',
    MALLOC_MMAP_THRESHOLD_: env.MALLOC_MMAP_THRESHOLD_ ?? '33554432',
  };
}
