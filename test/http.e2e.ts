import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { Body, Controller, Module, Post } from '@nestjs/common';
import { IsInt, IsOptional, IsString, Max, MaxLength } from 'class-validator';
import { Public } from '../src/auth/auth.decorators.js';
import { json } from './support/net.js';
import { startApi, TestApi } from './support/app.js';

// A route with a validated body, to show what the global pipeline does with user input.
class ProbeDto {
  @IsString()
  @MaxLength(100)
  title: string;

  @IsOptional()
  @IsInt()
  @Max(10)
  count?: number;
}

@Controller('test-probe')
class ProbeController {
  @Public()
  @Post()
  echo(@Body() body: ProbeDto) {
    return body;
  }
}

@Module({ controllers: [ProbeController] })
class ProbeModule {}

function assertErrorShape(body: Record<string, unknown>, status: number) {
  assert.equal(body.statusCode, status);
  assert.equal(typeof body.error, 'string');
  assert.equal(typeof body.message, 'string');
  assert.ok((body.message as string).length > 0);
}

describe('HTTP conventions', () => {
  let api: TestApi;
  before(async () => {
    api = await startApi({ extraModules: [ProbeModule] });
  });
  after(() => api.close());

  it('accepts a valid body', async () => {
    const res = await api.fetch('/api/test-probe', { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ title: 'x', count: 3 }) });
    assert.equal(res.status, 201);
    assert.deepEqual(await json(res), { title: 'x', count: 3 });
  });

  it('answers malformed JSON with 400 in the error shape', async () => {
    const res = await api.fetch('/api/test-probe', { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"title": "x",' });
    assert.equal(res.status, 400);
    const body = await json(res);
    assertErrorShape(body, 400);
    assert.match(body.message, /Malformed JSON/);
  });

  it('answers an unknown route with 404 in the error shape', async () => {
    const res = await api.fetch('/api/no/such/route');
    assert.equal(res.status, 404);
    assertErrorShape(await json(res), 404);
  });

  it('refuses an unknown field with 400 naming it', async () => {
    const res = await api.fetch('/api/test-probe', { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ title: 'x', owner: 'admin' }) });
    assert.equal(res.status, 400);
    const body = await json(res);
    assertErrorShape(body, 400);
    assert.match(body.message, /owner/);
    assert.deepEqual(body.details, [{ field: 'owner', problems: ['property owner should not exist'] }]);
  });

  it('refuses a wrongly typed field with 400 naming it', async () => {
    const res = await api.fetch('/api/test-probe', { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ title: 42, count: 'many' }) });
    assert.equal(res.status, 400);
    const body = await json(res);
    const fields = (body.details as { field: string }[]).map((d) => d.field).sort();
    assert.deepEqual(fields, ['count', 'title']);
  });

  it('answers a 20 MB JSON body with 413 in the error shape', async () => {
    const big = JSON.stringify({ title: 'x'.repeat(20 * 1024 * 1024) });
    const res = await api.fetch('/api/test-probe', { method: 'POST', headers: { 'content-type': 'application/json' }, body: big });
    assert.equal(res.status, 413);
    const body = await json(res);
    assertErrorShape(body, 413);
    assert.match(body.message, /limit/);
  });

  it('keeps serving after bad input', async () => {
    const res = await api.fetch('/api/health');
    assert.equal(res.status, 200);
  });

  it('tags every response with a request id, keeping a sane one from the caller', async () => {
    const mine = await api.fetch('/api/health', { headers: { 'x-request-id': 'abc-123' } });
    assert.equal(mine.headers.get('x-request-id'), 'abc-123');
    const generated = await api.fetch('/api/health', { headers: { 'x-request-id': 'bad id with spaces' } });
    assert.match(generated.headers.get('x-request-id') ?? '', /^[0-9a-f-]{36}$/);
  });

  it('sends security headers and opens anonymous CORS', async () => {
    const res = await api.fetch('/api/health', { headers: { origin: 'https://stac-browser.example' } });
    assert.equal(res.headers.get('x-content-type-options'), 'nosniff');
    assert.equal(res.headers.get('access-control-allow-origin'), '*');
    assert.equal(res.headers.get('access-control-allow-credentials'), null);
    const preflight = await api.fetch('/api/health', {
      method: 'OPTIONS',
      headers: { origin: 'https://stac-browser.example', 'access-control-request-method': 'POST', 'access-control-request-headers': 'content-type' },
    });
    assert.equal(preflight.status, 204);
    assert.match(preflight.headers.get('access-control-allow-methods') ?? '', /POST/);
  });

  it('compresses large responses', async () => {
    const res = await api.fetch('/api/docs/openapi.json', { headers: { 'accept-encoding': 'gzip' } });
    assert.equal(res.status, 200);
    assert.equal(res.headers.get('content-encoding'), 'gzip');
    const doc = await json(res);
    assert.equal(doc.openapi.startsWith('3.'), true);
  });
});
