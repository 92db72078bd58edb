import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { spawnEntry } from './support/processes.js';

describe('configuration', () => {
  for (const entry of ['main', 'worker'] as const) {
    it(`${entry} refuses to start with a message naming the bad variable`, async () => {
      const child = spawnEntry(entry, { env: { PORT: 'eighty', REDIS_URL: 'http://not-redis' } });
      const code = await new Promise<number | null>((resolve) => child.proc.on('exit', resolve));
      assert.equal(code, 78);
      assert.match(child.output(), /PORT="eighty"/);
      assert.match(child.output(), /REDIS_URL="http:\/\/not-redis"/);
    });
  }

  it('refuses production without SECRET_KEY', async () => {
    const child = spawnEntry('main', { env: { NODE_ENV: 'production', SECRET_KEY: '' } });
    const code = await new Promise<number | null>((resolve) => child.proc.on('exit', resolve));
    assert.equal(code, 78);
    assert.match(child.output(), /SECRET_KEY=unset/);
  });
});
