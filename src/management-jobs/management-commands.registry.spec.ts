import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ManagementCommandsRegistry } from './management-commands.registry.js';
import { JobOutputWriter, JobProgressReporter, MAX_LINE_CHARS, storedResult } from './management-job-output.js';
import type { ManagementJobsRepository } from './management-jobs.repository.js';

const handler = async () => null;

function registry(): ManagementCommandsRegistry {
  const r = new ManagementCommandsRegistry();
  r.register({
    name: 'demo.run',
    description: 'demo',
    argsSchema: {
      type: 'object',
      required: ['target'],
      properties: {
        target: { type: 'string', format: 'uuid' },
        steps: { type: 'integer', minimum: 1, default: 5 },
        mode: { enum: ['fast', 'slow'] },
        items: { type: 'array', items: { type: 'object', properties: { id: { type: 'integer' } }, additionalProperties: false } },
      },
    },
    handler,
  });
  return r;
}

describe('ManagementCommandsRegistry', () => {
  it('fills defaults and refuses unknown arguments unless the schema allows them', () => {
    const r = registry();
    const ok = r.validate('demo.run', { target: '6a1f0a52-8a3c-4d0e-9c39-52a3a1f5e3a1' });
    assert.deepEqual(ok, { ok: true, args: { target: '6a1f0a52-8a3c-4d0e-9c39-52a3a1f5e3a1', steps: 5 } });
    const extra = r.validate('demo.run', { target: '6a1f0a52-8a3c-4d0e-9c39-52a3a1f5e3a1', bogus: 1 });
    assert.equal(extra.ok, false);
    assert.deepEqual(!extra.ok && extra.details, [{ field: 'args.bogus', problems: ['args.bogus is not a known argument'] }]);
    r.register({ name: 'demo.open', description: '', argsSchema: { type: 'object', additionalProperties: true }, handler });
    assert.equal(r.validate('demo.open', { anything: 1 }).ok, true);
  });

  it('names every bad field, nested ones included', () => {
    const result = registry().validate('demo.run', { target: 'nope', steps: 0, mode: 'warp', items: [{ id: 1 }, { id: 'x' }] });
    assert.equal(result.ok, false);
    if (result.ok) return;
    const fields = Object.fromEntries(result.details.map((d) => [d.field, d.problems.join('; ')]));
    assert.match(fields['args.target']!, /must match format "uuid"/);
    assert.match(fields['args.steps']!, /must be >= 1/);
    assert.match(fields['args.mode']!, /must be one of "fast", "slow"/);
    assert.match(fields['args.items[1].id']!, /must be integer/);
    const missing = registry().validate('demo.run', {});
    assert.deepEqual(!missing.ok && missing.details, [{ field: 'args.target', problems: ['args.target is required'] }]);
    const notObject = registry().validate('demo.run', [1]);
    assert.equal(!notObject.ok && notObject.details[0]!.field, 'args');
  });

  it('does not change the arguments it is given', () => {
    const given = { target: '6a1f0a52-8a3c-4d0e-9c39-52a3a1f5e3a1' };
    registry().validate('demo.run', given);
    assert.deepEqual(given, { target: '6a1f0a52-8a3c-4d0e-9c39-52a3a1f5e3a1' });
  });

  it('refuses duplicate names, bad names and schemas that are not object schemas', () => {
    const r = registry();
    assert.throws(() => r.register({ name: 'demo.run', description: '', argsSchema: { type: 'object' }, handler }), /registered twice/);
    assert.throws(() => r.register({ name: 'Demo', description: '', argsSchema: { type: 'object' }, handler }), /domain\.verb/);
    assert.throws(() => r.register({ name: 'demo.list', description: '', argsSchema: { type: 'array' }, handler }), /object schema/);
    assert.throws(() => r.register({ name: 'demo.bad', description: '', argsSchema: { type: 'object', properties: { n: { type: 'integr' } } }, handler }), /invalid argsSchema/);
    assert.deepEqual(
      r.list().map((c) => [c.name, c.exclusive, c.retryable]),
      [['demo.run', false, false]],
    );
  });
});

describe('job output and progress', () => {
  it('batches lines logged while a write is in flight, keeps their order, splits and cuts lines', async () => {
    const writes: string[][] = [];
    let release!: () => void;
    const first = new Promise<void>((r) => (release = r));
    const repo = {
      appendOutput: async (_id: string, lines: { line: string }[]) => {
        writes.push(lines.map((l) => l.line));
        if (writes.length === 1) await first;
      },
    } as unknown as ManagementJobsRepository;
    const out = new JobOutputWriter(repo, 'job', 0);
    const a = out.log('one');
    await new Promise((r) => setImmediate(r)); // the first write is now in flight
    const b = out.log('two\nthree');
    const c = out.log('x'.repeat(MAX_LINE_CHARS + 10));
    release();
    await Promise.all([a, b, c]);
    assert.deepEqual(writes[0], ['one']);
    assert.equal(writes.length, 2, 'lines logged during the first write go out together');
    assert.deepEqual(writes[1]!.slice(0, 2), ['two', 'three']);
    assert.equal(writes[1]![2]!.length, MAX_LINE_CHARS + '… (10 more characters)'.length);
    assert.ok(writes[1]![2]!.endsWith('… (10 more characters)'));
  });

  it('writes progress at most once per interval and reports the last value', async () => {
    const written: number[] = [];
    const progress = new JobProgressReporter(async (v) => void written.push(v), 10_000);
    await progress.report(10);
    await progress.report(20);
    await progress.report(130);
    assert.deepEqual(written, [10]);
    assert.equal(await progress.close(), 100);
  });

  it('stores results as bounded JSON', () => {
    assert.equal(storedResult(undefined), null);
    assert.deepEqual(storedResult({ n: 1, d: new Date(0) }), { n: 1, d: '1970-01-01T00:00:00.000Z' });
    assert.match((storedResult({ big: 'x'.repeat(300_000) }) as { note: string }).note, /more than the/);
    const cyclic: Record<string, unknown> = {};
    cyclic.self = cyclic;
    assert.match((storedResult(cyclic) as { note: string }).note, /could not be stored/);
  });
});
