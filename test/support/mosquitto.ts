import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { connectAsync } from 'mqtt';
import { freePort, waitFor } from './net.js';

export const MOSQUITTO_BIN = ['/usr/sbin/mosquitto', '/usr/local/sbin/mosquitto'].find((p) => existsSync(p));
export const DYNSEC_PLUGIN = [
  '/usr/lib/x86_64-linux-gnu/mosquitto_dynamic_security.so',
  '/usr/lib/aarch64-linux-gnu/mosquitto_dynamic_security.so',
  '/usr/lib/mosquitto_dynamic_security.so',
].find((p) => existsSync(p));

/** Why a Mosquitto with the dynamic-security plugin cannot run here, or undefined when it can. */
export function dynsecUnavailable(): string | undefined {
  if (!MOSQUITTO_BIN) return 'mosquitto is not installed (Debian package mosquitto)';
  if (!DYNSEC_PLUGIN) return 'mosquitto_dynamic_security.so is not installed';
  if (spawnSync('mosquitto_ctrl', ['--help']).error) return 'mosquitto_ctrl is not installed';
  return undefined;
}

export interface TestBroker {
  url: string;
  admin: { username: string; password: string };
  /** An account that may read every topic (and nothing else), to see what the broker let through. */
  watcher: { username: string; password: string };
  proc: ChildProcess;
  stop(): Promise<void>;
}

/**
 * A Mosquitto of this test alone (spare port, temporary directory) with the dynamic-security
 * plugin, no anonymous access, and an admin account made by `mosquitto_ctrl dynsec init`.
 */
export async function startDynsecMosquitto(): Promise<TestBroker> {
  const dir = await fs.mkdtemp(path.join(os.tmpdir(), 'sightline-mosquitto-'));
  const admin = { username: 'sightline-admin', password: `pw-${Math.random().toString(36).slice(2)}` };
  const init = spawnSync('mosquitto_ctrl', ['dynsec', 'init', path.join(dir, 'dynamic-security.json'), admin.username, admin.password], { encoding: 'utf8' });
  if (init.status !== 0) throw new Error(`mosquitto_ctrl dynsec init failed: ${init.stderr || init.stdout}`);
  const port = await freePort();
  const conf = path.join(dir, 'mosquitto.conf');
  await fs.writeFile(
    conf,
    [
      `listener ${port} 127.0.0.1`,
      'allow_anonymous false',
      'persistence false',
      `plugin ${DYNSEC_PLUGIN}`,
      `plugin_opt_config_file ${path.join(dir, 'dynamic-security.json')}`,
      'log_dest stderr',
      `user ${os.userInfo().username}`,
      '',
    ].join('\n'),
  );
  const proc = spawn(MOSQUITTO_BIN!, ['-c', conf], { stdio: ['ignore', 'ignore', 'pipe'] });
  let log = '';
  proc.stderr!.on('data', (chunk: Buffer) => (log = (log + chunk.toString()).slice(-4000)));
  const url = `mqtt://127.0.0.1:${port}`;
  await waitFor(`mosquitto on ${url} (log: ${log})`, async () => {
    if (proc.exitCode !== null) throw new Error(`mosquitto exited with ${proc.exitCode}: ${log}`);
    try {
      const c = await connectAsync(url, { ...admin, reconnectPeriod: 0, connectTimeout: 1000 });
      await c.endAsync();
      return true;
    } catch {
      return false;
    }
  });
  const watcher = { username: 'test-watcher', password: `pw-${Math.random().toString(36).slice(2)}` };
  const ctrl = (...args: string[]) => {
    const r = spawnSync('mosquitto_ctrl', ['-h', '127.0.0.1', '-p', String(port), '-u', admin.username, '-P', admin.password, 'dynsec', ...args], { encoding: 'utf8' });
    if (r.status !== 0) throw new Error(`mosquitto_ctrl dynsec ${args[0]} failed: ${r.stderr || r.stdout}`);
  };
  ctrl('createRole', 'test-watcher');
  ctrl('addRoleACL', 'test-watcher', 'subscribePattern', '#', 'allow');
  ctrl('createClient', watcher.username, '-p', watcher.password);
  ctrl('addClientRole', watcher.username, 'test-watcher');
  return {
    url,
    admin,
    watcher,
    proc,
    async stop() {
      if (proc.exitCode === null) {
        const exited = new Promise((resolve) => proc.once('exit', resolve));
        proc.kill('SIGTERM');
        await exited;
      }
      await fs.rm(dir, { recursive: true, force: true });
    },
  };
}
