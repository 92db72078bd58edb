import { ChildProcess, spawn } from 'node:child_process';
import path from 'node:path';
import { PROJECT_ROOT, requireTestEnv } from './env.js';

export interface ChildHandle {
  proc: ChildProcess;
  output(): string;
  /** Resolves when a line matching `pattern` has been printed. */
  waitForOutput(pattern: RegExp, timeoutMs?: number): Promise<void>;
  /** SIGTERM and wait for the exit (SIGKILL after `graceMs`). */
  stop(graceMs?: number): Promise<number | null>;
  kill(signal: NodeJS.Signals): Promise<number | null>;
}

/** Runs a compiled entry point (`worker`, `main`, `cli`) as a real child process. */
export function spawnEntry(entry: 'worker' | 'main' | 'cli', options: { env?: Record<string, string>; args?: string[] } = {}): ChildHandle {
  requireTestEnv();
  const proc = spawn(process.execPath, [path.join(PROJECT_ROOT, 'dist/src', `${entry}.js`), ...(options.args ?? [])], {
    cwd: PROJECT_ROOT,
    env: { ...process.env, WORKER_HEALTH_PORT: '0', ...options.env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  const listeners = new Set<() => void>();
  const onData = (chunk: Buffer) => {
    out += chunk.toString();
    for (const l of listeners) l();
  };
  proc.stdout!.on('data', onData);
  proc.stderr!.on('data', onData);
  const exited = new Promise<number | null>((resolve) => proc.on('exit', (code) => resolve(code)));

  return {
    proc,
    output: () => out,
    waitForOutput(pattern, timeoutMs = 30_000) {
      return new Promise((resolve, reject) => {
        const check = () => {
          if (pattern.test(out)) {
            listeners.delete(check);
            clearTimeout(timer);
            resolve();
          }
        };
        const timer = setTimeout(() => {
          listeners.delete(check);
          reject(new Error(`${entry} did not print ${pattern} within ${timeoutMs} ms. Output:\n${out.slice(-4000)}`));
        }, timeoutMs);
        listeners.add(check);
        void exited.then((code) => {
          if (listeners.has(check)) {
            listeners.delete(check);
            clearTimeout(timer);
            reject(new Error(`${entry} exited (${code}) before printing ${pattern}. Output:\n${out.slice(-4000)}`));
          }
        });
        check();
      });
    },
    async stop(graceMs = 25_000) {
      if (proc.exitCode !== null || proc.signalCode !== null) return proc.exitCode;
      proc.kill('SIGTERM');
      const timer = setTimeout(() => proc.kill('SIGKILL'), graceMs);
      const code = await exited;
      clearTimeout(timer);
      return code;
    },
    async kill(signal) {
      if (proc.exitCode !== null || proc.signalCode !== null) return proc.exitCode;
      proc.kill(signal);
      return exited;
    },
  };
}

/** Starts a worker process and waits until it consumes its queues. */
export async function startWorker(env: Record<string, string> = {}): Promise<ChildHandle> {
  const worker = spawnEntry('worker', { env });
  await worker.waitForOutput(/Sightline worker started/);
  return worker;
}
