import { readFileSync } from 'node:fs';

function readVersion(): string {
  // dist/src/health/version.js → ../../../package.json; src/health/version.ts → ../../package.json
  for (const rel of ['../../../package.json', '../../package.json']) {
    try {
      return (JSON.parse(readFileSync(new URL(rel, import.meta.url), 'utf8')) as { version: string }).version;
    } catch {
      /* try the next layout */
    }
  }
  return '0.0.0';
}

export const VERSION = readVersion();
