import { loadConfig } from '../../src/config/app-config.js';
import type { FileValidators, HarvestContext, Listed, ListingEnd } from '../../src/harvesters/harvester-type.js';
import { RemoteHttp } from '../../src/harvesters/remote-http.js';

/** A polite HTTP client with the environment's settings (overridable), as the worker has it. */
export function remoteHttp(overrides: Record<string, string> = {}): RemoteHttp {
  return new RemoteHttp(loadConfig({ ...process.env, ...overrides }));
}

/**
 * A context for running a harvester type's code outside the engine: validators kept in memory,
 * log lines collected.
 */
export function harvestContext(url: string, config: Record<string, unknown> = {}, options: { http?: RemoteHttp; signal?: AbortSignal } = {}) {
  const validators = new Map<string, FileValidators>();
  const logs: string[] = [];
  const context: HarvestContext = {
    http: options.http ?? remoteHttp(),
    signal: options.signal ?? new AbortController().signal,
    harvester: { id: '00000000-0000-4000-8000-000000000000', name: 'test', url, config },
    log: async (message) => {
      logs.push(message);
    },
    validators: {
      get: async (key) => validators.get(key) ?? null,
      set: async (key, value) => {
        validators.set(key, value);
      },
    },
  };
  return { context, validators, logs };
}

/** Runs a listing to its end: what it yielded and how it ended. */
export async function drain(listing: AsyncGenerator<Listed, ListingEnd>): Promise<{ listed: Listed[]; end: ListingEnd }> {
  const listed: Listed[] = [];
  for (;;) {
    const next = await listing.next();
    if (next.done) return { listed, end: next.value };
    listed.push(next.value);
  }
}
