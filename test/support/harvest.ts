import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import pg from 'pg';
import type { TestApi } from './app.js';
import { startApi } from './app.js';
import type { TestUser } from './auth.js';
import { PROJECT_ROOT, requireTestEnv } from './env.js';
import { waitFor } from './net.js';

const ENDED = ['cancelled', 'succeeded', 'partially_failed', 'failed', 'timed_out'];

/** A second Sightline instance: its own database (migrated), queue prefix and data folder. */
export interface RemoteSightline {
  api: TestApi;
  databaseUrl: string;
  close(): Promise<void>;
}

function withDatabase(url: string, name: string): string {
  const u = new URL(url);
  u.pathname = `/${name}`;
  return u.toString();
}

/** Starts another Sightline API on its own database, as a remote catalog to harvest. */
export async function startRemoteSightline(suffix: string): Promise<RemoteSightline> {
  requireTestEnv();
  const base = process.env.DATABASE_URL!;
  const name = `${new URL(base).pathname.slice(1)}_${suffix}`.slice(0, 63);
  const admin = new pg.Pool({ connectionString: withDatabase(base, 'postgres'), max: 1 });
  await admin.query(`DROP DATABASE IF EXISTS "${name}" WITH (FORCE)`);
  await admin.query(`CREATE DATABASE "${name}"`);
  const databaseUrl = withDatabase(base, name);
  const migrated = spawnSync(
    process.execPath,
    [path.join(PROJECT_ROOT, 'node_modules/typeorm/cli.js'), 'migration:run', '-d', path.join(PROJECT_ROOT, 'dist/src/database/data-source.js')],
    {
      cwd: PROJECT_ROOT,
      env: { ...process.env, DATABASE_URL: databaseUrl },
      encoding: 'utf8',
    },
  );
  assert.equal(migrated.status, 0, `migrations of the remote database failed: ${migrated.stderr}`);
  const api = await startApi({
    env: {
      DATABASE_URL: databaseUrl,
      QUEUE_PREFIX: `${process.env.QUEUE_PREFIX}_${suffix}`,
      DATA_DIR: mkdtempSync(path.join(os.tmpdir(), 'sightline-remote-')),
      INSTANCE_NAME: `Remote ${suffix}`,
    },
  });
  return {
    api,
    databaseUrl,
    async close() {
      await api.close();
      await admin.query(`DROP DATABASE IF EXISTS "${name}" WITH (FORCE)`).catch(() => undefined);
      await admin.end();
    },
  };
}

/** Admin calls to the harvesting API of `api`. */
export function harvestClient(api: TestApi, admin: TestUser) {
  const call = async (method: string, url: string, body?: unknown) => {
    const res = await api.fetch(url, {
      method,
      headers: { ...admin.headers, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    const text = await res.text();
    // eslint-disable-next-line @typescript-eslint/no-explicit-any
    return { status: res.status, headers: res.headers, body: (text ? JSON.parse(text) : null) as any };
  };
  const client = {
    call,
    /** Starts an action and answers the session (asserting the 202 and its Location). */
    async start(harvesterId: string, action: 'check' | 'discover' | 'harvest' | 'clear', body: Record<string, unknown> = {}) {
      const res = await call('POST', `/api/harvesters/${harvesterId}/${action}`, body);
      assert.equal(res.status, 202, JSON.stringify(res.body));
      assert.match(res.headers.get('location') ?? '', new RegExp(`/api/harvesting-sessions/${res.body.id}$`));
      return res.body;
    },
    /** Waits until the session has ended; answers it (with grouped errors). */
    async ended(sessionId: string, timeoutMs = 60_000) {
      return waitFor(
        `session ${sessionId} to end`,
        async () => {
          const res = await call('GET', `/api/harvesting-sessions/${sessionId}`);
          return ENDED.includes(res.body?.status) ? res.body : null;
        },
        timeoutMs,
      );
    },
    /** Runs an action to its end and answers the session. */
    async run(harvesterId: string, action: 'check' | 'discover' | 'harvest' | 'clear', body: Record<string, unknown> = {}, timeoutMs = 60_000) {
      const session = await client.start(harvesterId, action, body);
      return client.ended(session.id, timeoutMs);
    },
  };
  return client;
}
