import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { loadConfig } from '../config/app-config.js';
import { metricsAccess } from './metrics-access.js';

describe('metricsAccess', () => {
  const token = 'metrics-secret-of-enough-length';

  it('is open in development and tests without a token, closed (404) in production', () => {
    assert.deepEqual(metricsAccess(loadConfig({}), undefined), { allowed: true });
    assert.deepEqual(metricsAccess(loadConfig({ NODE_ENV: 'test' }), undefined), { allowed: true });
    const production = loadConfig({ NODE_ENV: 'production', SECRET_KEY: 'a-secret-key-for-this-test-only-0123456789' });
    const refused = metricsAccess(production, undefined);
    assert.equal(refused.allowed, false);
    assert.equal(!refused.allowed && refused.status, 404);
  });

  it('with METRICS_TOKEN, answers only that Bearer token, in every environment', () => {
    for (const NODE_ENV of ['development', 'production']) {
      const config = loadConfig({ NODE_ENV, METRICS_TOKEN: token, SECRET_KEY: 'a-secret-key-for-this-test-only-0123456789' });
      assert.deepEqual(metricsAccess(config, `Bearer ${token}`), { allowed: true }, NODE_ENV);
      for (const header of [undefined, 'Bearer wrong', `Basic ${token}`, token, `Bearer ${token}x`]) {
        const r = metricsAccess(config, header);
        assert.equal(!r.allowed && r.status, 401, `${NODE_ENV} ${header}`);
      }
    }
  });

  it('is off with METRICS_ENABLED=false, token or not', () => {
    const r = metricsAccess(loadConfig({ METRICS_ENABLED: 'false', METRICS_TOKEN: token }), `Bearer ${token}`);
    assert.equal(!r.allowed && r.status, 404);
  });
});
