import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ConfigError, loadConfig, OPTIONAL_SETTINGS, pictureConcurrency } from './app-config.js';

describe('loadConfig', () => {
  it('gives every default on an empty environment', () => {
    const c = loadConfig({});
    assert.equal(c.PORT, 3000);
    assert.equal(c.DATABASE_URL, 'postgres://postgres@127.0.0.1:5432/sightline');
    assert.deepEqual(c.CORS_ORIGINS, []);
    assert.equal(c.METRICS_ENABLED, true);
  });

  it('converts numbers, booleans and lists', () => {
    const c = loadConfig({ PORT: '8080', METRICS_ENABLED: 'false', CORS_ORIGINS: 'https://a.example, https://b.example' });
    assert.equal(c.PORT, 8080);
    assert.equal(c.METRICS_ENABLED, false);
    assert.deepEqual(c.CORS_ORIGINS, ['https://a.example', 'https://b.example']);
  });

  it('runs one more picture job than cores unless told, at most 16', () => {
    assert.equal(pictureConcurrency(loadConfig({}), 2), 3);
    assert.equal(pictureConcurrency(loadConfig({}), 1), 2);
    assert.equal(pictureConcurrency(loadConfig({}), 64), 16);
    assert.equal(pictureConcurrency(loadConfig({ WORKER_CONCURRENCY_PICTURES: '5' }), 64), 5);
    assert.throws(() => loadConfig({ WORKER_CONCURRENCY_PICTURES: '0' }), /WORKER_CONCURRENCY_PICTURES="0"/);
  });

  it('names every bad variable', () => {
    assert.throws(
      () => loadConfig({ PORT: '99999', LOG_LEVEL: 'loud', DATABASE_URL: 'mysql://x' }),
      (e: Error) => e instanceof ConfigError && /PORT="99999"/.test(e.message) && /LOG_LEVEL="loud"/.test(e.message) && /DATABASE_URL="mysql:\/\/x"/.test(e.message),
    );
  });

  it('requires SECRET_KEY in production and BLUR_URL with the http blur provider', () => {
    assert.throws(() => loadConfig({ NODE_ENV: 'production' }), /SECRET_KEY=unset/);
    assert.throws(() => loadConfig({ BLUR_PROVIDER: 'http' }), /BLUR_URL=unset/);
  });

  it('names the S3 settings STORAGE_DRIVER=s3 lacks, never showing a secret', () => {
    assert.throws(() => loadConfig({ STORAGE_DRIVER: 's3' }), /S3_BUCKET=unset: required when STORAGE_DRIVER=s3/);
    assert.throws(
      () => loadConfig({ STORAGE_DRIVER: 's3', S3_BUCKET: 'b', S3_SECRET_ACCESS_KEY: 'very-secret' }),
      (e: Error) => /S3_ACCESS_KEY_ID=unset/.test(e.message) && !e.message.includes('very-secret'),
    );
    assert.throws(() => loadConfig({ STORAGE_DRIVER: 's3', S3_BUCKET: 'Not_A_Bucket' }), /S3_BUCKET="Not_A_Bucket"/);
    assert.throws(() => loadConfig({ STORAGE_DRIVER: 's3', S3_BUCKET: 'b', S3_PREFIX: '../x' }), /S3_PREFIX="..\/x"/);
    assert.equal(loadConfig({ STORAGE_DRIVER: 's3', S3_BUCKET: 'bucket', S3_PREFIX: 'a/b' }).S3_FORCE_PATH_STYLE, true);
  });
});

describe('.env.example', () => {
  it('lists every variable of AppConfig with its default', async () => {
    const { readFile } = await import('node:fs/promises');
    const text = await readFile(new URL('../../../.env.example', import.meta.url), 'utf8');
    const listed = new Map(
      text
        .split('\n')
        .filter((l) => /^[A-Z][A-Z0-9_]*=/.test(l))
        .map((l) => [l.slice(0, l.indexOf('=')), l.slice(l.indexOf('=') + 1)] as const),
    );
    const defaults = loadConfig({});
    const optional: readonly string[] = OPTIONAL_SETTINGS;
    for (const [key, value] of Object.entries(defaults)) {
      assert.ok(listed.has(key), `${key} is missing from .env.example`);
      const shown = Array.isArray(value) ? value.join(',') : String(value);
      assert.equal(listed.get(key), shown, `${key}: .env.example says ${listed.get(key)}, the default is ${shown}`);
    }
    for (const key of optional) assert.ok(listed.has(key), `${key} is missing from .env.example`);
    for (const key of listed.keys()) assert.ok(key in defaults || optional.includes(key), `${key} in .env.example is not a setting`);
  });
});
