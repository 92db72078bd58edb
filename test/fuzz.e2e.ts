/**
 * OpenAPI-driven fuzzing of the API process. Every operation of the committed openapi.json is
 * called as anonymous, a user and an admin: first a fixed sweep of hostile inputs (deep JSON,
 * NULs, lone surrogates, deep CQL2, nulls, wrong types, broken multipart bodies…), always sent
 * whole, then random requests drawn from the schemas by fast-check until the time budget is spent
 * (for 10 s at least).
 *
 * The API runs as a real child process, so a crash shows as an exit: the request that killed it
 * is recorded and the process restarted to go on. Expected: no 5xx, every 4xx in the error
 * shape (DJI's envelope on DJI's routes), the process alive and ready throughout.
 *
 * FUZZ_SEED=<n> replays a campaign, FUZZ_SEED=random draws a seed (not under CI); the seed is
 * always printed. FUZZ_BUDGET_MS (default 60000) and FUZZ_MAX_REQUESTS bound the campaign;
 * FUZZ_SWEEP=0 leaves out the fixed sweep (long random campaigns).
 */
import assert from 'node:assert/strict';
import { existsSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import fc from 'fast-check';
import { TokensService } from '../src/auth/tokens.service.js';
import { artifactsDir, sharedPath } from './support/env.js';
import { CALLERS, randomCaseArbitrary, realPathValues, sweepCases } from './support/fuzz-campaign.js';
import { encodeSegment, type FuzzCase, shorten } from './support/fuzz-hostile.js';
import { type FuzzOperation, loadOpenApi, operations } from './support/fuzz-openapi.js';
import { type CallerName, type FuzzEnvironment, fuzzEnvironment, type FuzzWorld, seedWorld } from './support/fuzz-seed.js';
import { type Answer, FuzzTarget, NoAnswer, type RawRequest, send } from './support/fuzz-target.js';

const DEFAULT_SEED = 20_240_611;
const BUDGET_MS = Number(process.env.FUZZ_BUDGET_MS ?? 60_000);
const MAX_REQUESTS = Number(process.env.FUZZ_MAX_REQUESTS ?? 30_000);
const REQUEST_TIMEOUT_MS = 10_000;
const CHECKPOINT_MS = 5_000;
const MAX_RESTARTS = 10;
/** The random phase runs at least this long, even when the sweep used up the budget. */
const MIN_RANDOM_MS = Math.min(10_000, BUDGET_MS);
const SWEEP = process.env.FUZZ_SWEEP !== '0';
/** Families sent as every caller; the others go to one caller each, in turn. */
const EVERY_CALLER = /^(baseline|body:(deep|nul|lone-surrogate)|multipart:|cql2-|geojson:)/;

function fuzzSeed(): number {
  const given = process.env.FUZZ_SEED;
  if (given === 'random' && process.env.CI !== 'true') return Math.floor(Math.random() * 2 ** 31);
  if (given && given !== 'random') {
    const n = Number(given);
    if (!Number.isSafeInteger(n)) throw new Error(`FUZZ_SEED=${given}: an integer or "random"`);
    return n;
  }
  return DEFAULT_SEED;
}

type Kind = 'server-error' | 'crash' | 'error-shape' | 'no-answer' | 'not-ready';

interface Finding {
  kind: Kind;
  /** Number of the request (its X-Request-Id is fuzz-<n>). */
  n: number;
  op: string;
  caller: CallerName | '-';
  family: string;
  input: string;
  status?: number;
  body?: string;
  /** Error lines of the API's log about the request, or the dead process's last output. */
  log?: string[];
  detail?: string;
}

interface Sent {
  n: number;
  op: FuzzOperation;
  caller: CallerName;
  c: FuzzCase;
}

/** Why a 4xx answer is not `{ statusCode, error, message }` with statusCode = the HTTP status. */
function shapeProblem(a: Answer): string | undefined {
  const type = String(a.headers['content-type'] ?? '');
  if (!/^application\/json/.test(type)) return `Content-Type ${type || 'absent'}`;
  let body: Record<string, unknown>;
  try {
    body = JSON.parse(a.body.toString('utf8')) as Record<string, unknown>;
  } catch {
    return 'body is not JSON';
  }
  if (!body || typeof body !== 'object') return 'body is not an object';
  const problems: string[] = [];
  if (body.statusCode !== a.status) problems.push(`statusCode ${JSON.stringify(body.statusCode)}`);
  if (typeof body.error !== 'string') problems.push(`error ${JSON.stringify(body.error)}`);
  if (typeof body.message !== 'string') problems.push(`message ${shorten(JSON.stringify(body.message) ?? 'absent', 80)}`);
  return problems.length ? problems.join(', ') : undefined;
}

/**
 * DJI's routes (served at their own roots for pilot apps) answer their errors in DJI's envelope;
 * what is refused before a request reaches one (a malformed body, NULs) keeps Sightline's shape.
 */
const DJI_ROUTE = /^\/(media|storage|manage)\/api\/v1\//;

/** Why a 4xx answer of a DJI route is not `{ code, message, data: null }` with a non-zero code. */
function djiShapeProblem(a: Answer): string | undefined {
  let body: Record<string, unknown>;
  try {
    body = JSON.parse(a.body.toString('utf8')) as Record<string, unknown>;
  } catch {
    return 'body is not JSON';
  }
  if (!body || typeof body !== 'object') return 'body is not an object';
  const problems: string[] = [];
  if (typeof body.code !== 'number' || body.code === 0) problems.push(`code ${JSON.stringify(body.code)}`);
  if (typeof body.message !== 'string') problems.push(`message ${shorten(JSON.stringify(body.message) ?? 'absent', 80)}`);
  if (body.data !== null) problems.push('data is not null');
  return problems.length ? problems.join(', ') : undefined;
}

/** Sends the requests, classifies the answers, restarts the process when it dies. */
class Campaign {
  sent = 0;
  readonly byClass: Record<string, number> = {};
  readonly findings: Finding[] = [];
  readonly answered = new Set<string>();
  /** Cases not sent again: they killed the process or got no answer. */
  readonly givenUp = new Set<string>();
  readonly notes: string[] = [];
  /** Time spent answering, by operation. */
  readonly msByOp = new Map<string, { ms: number; count: number }>();
  /** One line per request, with FUZZ_TRACE=1 (written beside the findings). */
  readonly trace = process.env.FUZZ_TRACE === '1' ? ([] as string[]) : undefined;
  skipped = 0;
  checkpoints = 0;
  stopped?: string;
  private last?: Sent;
  private nextCheckpoint = Date.now() + CHECKPOINT_MS;
  private readonly sweepDeadline: number;
  private readonly credentials: Record<CallerName, Record<string, string>>;

  constructor(
    readonly target: FuzzTarget,
    readonly world: FuzzWorld,
    public deadline: number,
  ) {
    this.credentials = { anonymous: {}, user: { ...world.user.headers }, admin: { ...world.admin.headers } };
    this.sweepDeadline = deadline + BUDGET_MS;
  }

  get over(): boolean {
    return this.stopped !== undefined || Date.now() >= this.deadline || this.sent >= MAX_REQUESTS;
  }

  /** The fixed sweep always runs to its end, unless the machine is so slow that it takes twice the budget. */
  get sweepOver(): boolean {
    return this.stopped !== undefined || Date.now() >= this.sweepDeadline;
  }

  private request(s: Sent): RawRequest {
    const pathPart = s.op.path.replace(/\{(\w+)\}/g, (_, name: string) => s.c.path?.[name] ?? encodeSegment(realPathValues(s.op, name, s.caller, this.world)[0]!));
    const headers: Record<string, string> = { 'x-request-id': `fuzz-${s.n}`, accept: 'application/json', ...this.credentials[s.caller], ...(s.c.headers ?? {}) };
    if (s.c.body?.contentType) headers['content-type'] = s.c.body.contentType;
    return { method: s.op.method, target: `${pathPart}${s.c.query ? `?${s.c.query}` : ''}`, headers, body: s.c.body?.data };
  }

  private record(kind: Kind, s: Sent | undefined, extra: Partial<Finding>): void {
    this.findings.push({
      kind,
      n: s?.n ?? 0,
      op: s?.op.key ?? '-',
      caller: s?.caller ?? '-',
      family: s?.c.family ?? '-',
      input: s?.c.summary ?? '-',
      ...extra,
    });
  }

  /** Sends one case and classifies its answer (or its absence); the status when there is one. */
  async run(op: FuzzOperation, caller: CallerName, c: FuzzCase): Promise<number | undefined> {
    if (this.givenUp.has(`${op.key} ${c.family}`)) {
      this.skipped++;
      return undefined;
    }
    if (Date.now() >= this.nextCheckpoint) await this.checkpoint();
    if (!this.target.alive()) await this.died(this.last, 'between requests');
    if (this.stopped) return undefined;
    const s: Sent = { n: ++this.sent, op, caller, c };
    let answer: Answer;
    try {
      answer = await send(this.target.baseUrl, this.request(s), REQUEST_TIMEOUT_MS);
    } catch (error) {
      if (!(error instanceof NoAnswer)) throw error;
      if (error.code === 'CLIENT_REFUSED') {
        this.sent--;
        this.skipped++;
        return undefined;
      }
      this.byClass.none = (this.byClass.none ?? 0) + 1;
      const state = await this.target.settle();
      if (state === 'exited') await this.died(s, 'while answering');
      else {
        this.record('no-answer', s, { detail: `${error.code}: ${error.message}${state === 'hung' ? '; then the health route did not answer for 15 s either' : ''}` });
        // Not again for the other callers: the server may still be working on it.
        if (c.family !== 'random') this.givenUp.add(`${op.key} ${c.family}`);
        if (state === 'hung') await this.restartAfter(s, 'hung');
      }
      this.last = s;
      return undefined;
    }
    this.last = s;
    this.answered.add(`${op.key}|${caller}`);
    const spent = this.msByOp.get(op.key) ?? { ms: 0, count: 0 };
    spent.ms += answer.ms;
    spent.count++;
    this.msByOp.set(op.key, spent);
    this.trace?.push(JSON.stringify({ n: s.n, op: op.key, caller, family: c.family, status: answer.status, ms: Math.round(answer.ms) }));
    const cls = `${Math.floor(answer.status / 100)}xx`;
    this.byClass[cls] = (this.byClass[cls] ?? 0) + 1;
    if (answer.status >= 500) {
      this.record('server-error', s, { status: answer.status, body: shorten(answer.body.toString('utf8'), 300) });
    } else if (answer.status >= 400) {
      const problem = DJI_ROUTE.test(op.path) ? (shapeProblem(answer) === undefined ? undefined : djiShapeProblem(answer)) : shapeProblem(answer);
      if (problem) this.record('error-shape', s, { status: answer.status, body: shorten(answer.body.toString('utf8'), 300), detail: problem });
    }
    return answer.status;
  }

  private async died(s: Sent | undefined, when: string): Promise<void> {
    const previous = this.last && this.last !== s ? `; the request before was #${this.last.n} ${this.last.op.key} (${this.last.caller}) ${this.last.c.family}` : '';
    this.record('crash', s, { detail: `the process ${this.target.exitDescription()} ${when}${previous}`, log: this.target.tail().split('\n') });
    if (s && s.c.family !== 'random') this.givenUp.add(`${s.op.key} ${s.c.family}`);
    await this.restartAfter(s, 'crash');
  }

  private async restartAfter(s: Sent | undefined, why: string): Promise<void> {
    if (this.target.restarts >= MAX_RESTARTS) {
      this.stopped = `stopped after ${MAX_RESTARTS} restarts (last: ${why} at #${s?.n})`;
      return;
    }
    await this.target.restart();
  }

  /** The process answers ready, and the fuzzer's own credentials still work (re-made if not). */
  async checkpoint(): Promise<void> {
    this.nextCheckpoint = Date.now() + CHECKPOINT_MS;
    if (!this.target.alive()) await this.died(this.last, 'between requests');
    if (this.stopped) return;
    this.checkpoints++;
    const ready = await this.target.ready();
    if (ready.status !== 200) this.record('not-ready', this.last, { status: ready.status, body: shorten(ready.body, 300), detail: `GET /api/health/ready after #${this.last?.n}` });
    for (const who of [this.world.user, this.world.admin]) {
      const caller = who === this.world.user ? 'user' : 'admin';
      const me = await send(this.target.baseUrl, { method: 'GET', target: '/api/users/me', headers: this.credentials[caller] }, REQUEST_TIMEOUT_MS).catch(() => undefined);
      if (!me) continue;
      const role = me.status === 200 ? (JSON.parse(me.body.toString('utf8')) as { role?: string }).role : undefined;
      if (me.status === 200 && role === who.role) continue;
      this.notes.push(`after #${this.last?.n}, the ${caller}'s token answered ${me.status} (role ${role}): a new token was made`);
      const { jwt } = await this.world.api.app.get(TokensService).create(who.id, 'fuzzer token, re-made');
      this.credentials[caller] = { authorization: `Bearer ${jwt}` };
    }
  }
}

/** What a finding says went wrong, without the parts that vary from request to request. */
function cause(f: Finding): string {
  const text =
    f.kind === 'crash'
      ? (f.log?.find((l) => /^\w*Error\b/.test(l)) ?? f.detail ?? '')
      : f.kind === 'error-shape'
        ? (f.detail ?? '')
        : f.log?.join(' | ') || f.detail || f.body || '';
  return text
    .replace(/#\d+/g, '#n')
    .replace(/[0-9a-f]{8}-[0-9a-f-]{27}/g, '<uuid>')
    .trim();
}

interface Group {
  count: number;
  callers: Set<string>;
  families: Set<string>;
  statuses: Set<number>;
  first: Finding;
  cause: string;
}

/** Findings grouped by cause: kind, operation and what the API said (its log, or the shape problem). */
function group(findings: Finding[]): Group[] {
  const groups = new Map<string, Group>();
  for (const f of findings) {
    const why = cause(f);
    const key = `${f.kind} ${f.op} ${why}`;
    const g = groups.get(key) ?? { count: 0, callers: new Set<string>(), families: new Set<string>(), statuses: new Set<number>(), first: f, cause: why };
    g.count++;
    g.callers.add(f.caller);
    g.families.add(f.family.startsWith('random') ? 'random' : f.family);
    if (f.status) g.statuses.add(f.status);
    groups.set(key, g);
  }
  return [...groups.values()];
}

function describeGroups(findings: Finding[]): string {
  return group(findings)
    .map(({ count, callers, families, statuses, first: f, cause: why }) => {
      const lines = [
        `- [${f.kind}] ${f.op}${statuses.size ? ` → ${[...statuses].join('/')}` : ''}: ${shorten(why, 200)}`,
        `    ×${count} as ${[...callers].join('/')}; families ${shorten([...families].join(', '), 300)}`,
        `    e.g. #${f.n} (${f.caller}, ${f.family}): ${f.input}`,
      ];
      if (f.kind !== 'server-error' && f.body) lines.push(`    body: ${shorten(f.body, 200)}`);
      if (f.kind === 'crash' || f.kind === 'no-answer') lines.push(`    ${f.detail}`);
      if (f.kind === 'crash' && f.log?.length) {
        const from = Math.max(
          0,
          f.log.findIndex((l) => /^\w*Error\b/.test(l)),
        );
        lines.push(
          `    log: ${f.log
            .slice(from)
            .filter((l) => l.trim())
            .slice(0, 12)
            .join('\n         ')}`,
        );
      }
      return lines.join('\n');
    })
    .join('\n');
}

// The seeded dataset and pictures come from ../shared.
const skip = existsSync(sharedPath('fixtures')) ? false : `${sharedPath('fixtures')} is absent (../shared is not checked out beside the project)`;

describe('fuzzing every OpenAPI operation against the API process', { skip, timeout: 600_000 }, () => {
  const seed = fuzzSeed();
  const doc = loadOpenApi();
  const ops = operations(doc);
  let fuzzEnv: FuzzEnvironment;
  let world: FuzzWorld;
  let target: FuzzTarget;
  let campaign: Campaign;
  let finalReady: { status: number; body: string };

  before(
    async () => {
      console.log(`fuzz: seed ${seed} (replay with FUZZ_SEED=${seed}), ${ops.length} operations, budget ${BUDGET_MS} ms or ${MAX_REQUESTS} requests`);
      fuzzEnv = await fuzzEnvironment();
      world = await seedWorld(fuzzEnv.env);
      target = await FuzzTarget.start(fuzzEnv.env);
      const started = Date.now();
      campaign = new Campaign(target, world, started + BUDGET_MS);

      // The fixed sweep: reads first, then changes, then what ends or deletes objects.
      const rank = (op: FuzzOperation) => (op.method === 'DELETE' ? 3 : /\/(complete|ingest|start|stop|claim|logout)$/.test(op.path) ? 2 : op.method === 'GET' ? 0 : 1);
      const sweepOrder = [...ops].sort((a, b) => rank(a) - rank(b));
      const sweepCount = SWEEP ? sweepOrder.length : 0;
      sweep: for (const [i, op] of sweepOrder.slice(0, sweepCount).entries()) {
        // Callers the guard turns away (401/403 on the baseline) only get what is read before the
        // guard: the body. Other single-caller families go to a caller that gets past it.
        const turnedAway = new Set<CallerName>();
        for (const [j, c] of sweepCases(op, world, doc, seed + i).entries()) {
          const everyone = j === 0 || EVERY_CALLER.test(c.family);
          const rotation = CALLERS.map((_, k) => CALLERS[(i + j + k) % CALLERS.length]!);
          const callers = everyone ? CALLERS.filter((who) => j === 0 || !turnedAway.has(who) || c.family.startsWith('body:')) : [rotation.find((who) => !turnedAway.has(who))!];
          for (const caller of callers) {
            if (campaign.sweepOver) break sweep;
            const status = await campaign.run(op, caller, c);
            if (j === 0 && (status === 401 || status === 403)) turnedAway.add(caller);
          }
        }
      }
      const sweepDone = campaign.sent;
      const sweepMs = Date.now() - started;

      // Random requests from the schemas until the budget is spent.
      const arbitraries = new Map<string, fc.Arbitrary<FuzzCase>>();
      const arbitraryOf = (op: FuzzOperation, caller: CallerName) => {
        const key = `${op.key}|${caller}`;
        if (!arbitraries.has(key)) arbitraries.set(key, randomCaseArbitrary(op, world, doc, caller));
        return arbitraries.get(key)!;
      };
      const pick = fc
        .tuple(fc.nat({ max: ops.length - 1 }), fc.constantFrom(...CALLERS))
        .chain(([i, caller]) => arbitraryOf(ops[i]!, caller).map((c) => ({ op: ops[i]!, caller, c })));
      campaign.deadline = Math.max(campaign.deadline, Date.now() + MIN_RANDOM_MS);
      for (let batch = 0; !campaign.over; batch++) {
        for (const { op, caller, c } of fc.sample(pick, { seed: seed + 1000 + batch, numRuns: 100 })) {
          if (campaign.over) break;
          await campaign.run(op, caller, c);
        }
      }
      await campaign.checkpoint();
      finalReady = await target.ready();

      // The log is complete now: attach the API's error lines to the answers.
      for (const f of campaign.findings) if (f.kind !== 'crash' && f.n) f.log = target.logFor(`fuzz-${f.n}`);

      const elapsed = Date.now() - started;
      const classes = ['2xx', '3xx', '4xx', '5xx', 'none'].map((k) => `${k} ${campaign.byClass[k] ?? 0}`).join(', ');
      const count = (kind: Kind) => campaign.findings.filter((f) => f.kind === kind).length;
      console.log(
        `fuzz: seed ${seed}: ${campaign.sent} requests in ${(elapsed / 1000).toFixed(1)} s (sweep ${sweepDone} in ${(sweepMs / 1000).toFixed(1)} s) — ${classes}; ` +
          `5xx ${count('server-error')}, error-shape ${count('error-shape')}, no answer ${count('no-answer')}, crashes ${count('crash')}, ` +
          `restarts ${target.restarts}${target.restarts ? ` (${(target.restartMs / 1000).toFixed(1)} s)` : ''}, not ready ${count('not-ready')} of ${campaign.checkpoints} checkpoints, skipped ${campaign.skipped}` +
          `${campaign.stopped ? `; ${campaign.stopped}` : ''}`,
      );
      const slowest = [...campaign.msByOp].sort((a, b) => b[1].ms - a[1].ms).slice(0, 8);
      console.log(`fuzz: most time spent in ${slowest.map(([k, v]) => `${k} ${(v.ms / 1000).toFixed(1)} s/${v.count}`).join(', ')}`);
      for (const note of campaign.notes) console.log(`fuzz: note: ${note}`);
      if (campaign.findings.length) console.log(`fuzz: findings by cause:\n${describeGroups(campaign.findings)}`);
      const report = path.join(artifactsDir(), 'fuzz-findings.json');
      writeFileSync(report, JSON.stringify({ seed, sent: campaign.sent, byClass: campaign.byClass, restarts: target.restarts, findings: campaign.findings }, null, 1));
      console.log(`fuzz: every finding in ${report}`);
      if (campaign.trace) writeFileSync(path.join(artifactsDir(), 'fuzz-requests.jsonl'), campaign.trace.join('\n') + '\n');
    },
    { timeout: 600_000 },
  );

  after(async () => {
    await target?.stop();
    await world?.api.close();
    await fuzzEnv?.dispose();
  });

  it('calls every operation as anonymous, a user and an admin', { skip: SWEEP ? false : 'FUZZ_SWEEP=0' }, () => {
    const missing = ops.flatMap((op) => CALLERS.filter((c) => !campaign.answered.has(`${op.key}|${c}`)).map((c) => `${op.key} as ${c}`));
    assert.equal(missing.length, 0, `operations that never got an answer:\n${missing.join('\n')}`);
  });

  it('never answers with a 5xx', () => {
    const found = campaign.findings.filter((f) => f.kind === 'server-error');
    assert.equal(found.length, 0, `${found.length} answers were 5xx (seed ${seed}):\n${describeGroups(found)}`);
  });

  it('answers every 4xx in the error shape', () => {
    const found = campaign.findings.filter((f) => f.kind === 'error-shape');
    assert.equal(found.length, 0, `${found.length} 4xx answers were not { statusCode, error, message } (seed ${seed}):\n${describeGroups(found)}`);
  });

  it('answers every request, never dies and stays ready', () => {
    const found = campaign.findings.filter((f) => f.kind === 'crash' || f.kind === 'no-answer' || f.kind === 'not-ready');
    assert.equal(found.length, 0, `${found.length} requests or checkpoints failed; ${target.restarts} restarts (seed ${seed}):\n${describeGroups(found)}`);
    assert.equal(target.restarts, 0, 'the process never had to be restarted');
    assert.equal(campaign.stopped, undefined);
    assert.equal(finalReady.status, 200, `GET /api/health/ready at the end: ${finalReady.status} ${finalReady.body}`);
  });
});
