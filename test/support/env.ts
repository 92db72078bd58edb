import { mkdirSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

/** The project root (two levels above dist/test/support). */
export const PROJECT_ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../..');

/** ../shared beside the project: real fixtures and schemas; absent on a user's fresh clone. */
export const SHARED_DIR = path.resolve(PROJECT_ROOT, '../shared');

export function sharedPath(...parts: string[]): string {
  return path.join(SHARED_DIR, ...parts);
}

/** Where tests leave screenshots and other artefacts for a person to look at. */
export function artifactsDir(): string {
  const dir = process.env.TEST_ARTIFACTS_DIR ?? path.join(PROJECT_ROOT, 'test-artifacts');
  mkdirSync(dir, { recursive: true });
  return dir;
}

/** The environment the test run was given by scripts/test.sh. */
export function requireTestEnv(): void {
  for (const name of ['DATABASE_URL', 'REDIS_URL', 'QUEUE_PREFIX', 'DATA_DIR']) {
    if (!process.env[name]) throw new Error(`${name} is not set: run the tests through \`npm test\``);
  }
}
