/**
 * The authorization matrix as data: cells (route × caller × visibility setup) with what is
 * expected and what the API answered, run in batches, and a failure report that lists every
 * cell that does not hold rather than stopping at the first.
 */
import assert from 'node:assert/strict';

export type Caller = 'anonymous' | 'owner' | 'other' | 'admin';
export const CALLERS: readonly Caller[] = ['anonymous', 'owner', 'other', 'admin'];

export type Vis = 'anyone' | 'logged-only' | 'owner-only';

/** The rule under test, for content owned by `owner`: admins and the owner see all, others per the setting. */
export function sees(caller: Caller, visibility: Vis): boolean {
  if (caller === 'admin' || caller === 'owner') return true;
  if (visibility === 'anyone') return true;
  return visibility === 'logged-only' && caller !== 'anonymous';
}

/** May change or delete content owned by `owner`. */
export function mayEdit(caller: Caller): boolean {
  return caller === 'owner' || caller === 'admin';
}

/**
 * What a write by `caller` should answer: 401 anonymous, the success status for the owner and
 * admins, 404 for what the caller cannot see, 403 (or 404) for what they see but may not change.
 */
export function writeStatuses(caller: Caller, visible: boolean, success: number): number[] {
  if (caller === 'anonymous') return [401];
  if (mayEdit(caller)) return [success];
  return visible ? [403, 404] : [404];
}

export interface CellSpec {
  route: string;
  caller: Caller;
  /** The visibility setup the cell is about, e.g. `collection anyone / item owner-only (p3)`. */
  setup: string;
  expected: string;
}

export interface Outcome {
  ok: boolean;
  got: string;
}

export type CellResult = CellSpec & Outcome;

type Probe = () => Promise<Outcome>;

/** Collects cells, runs them (a few at a time), keeps every result for the report. */
export class AuthzMatrix {
  readonly results: CellResult[] = [];
  private queued: { spec: CellSpec; probe: Probe }[] = [];

  cell(spec: CellSpec, probe: Probe): void {
    this.queued.push({ spec, probe });
  }

  /** Runs the queued cells; a probe that throws is a failing cell, not an aborted run. */
  async run(concurrency = 8): Promise<CellResult[]> {
    const batch = this.queued;
    this.queued = [];
    const out: CellResult[] = new Array(batch.length);
    let next = 0;
    const worker = async () => {
      for (;;) {
        const i = next++;
        if (i >= batch.length) return;
        const { spec, probe } = batch[i]!;
        let outcome: Outcome;
        try {
          outcome = await probe();
        } catch (error) {
          outcome = { ok: false, got: `threw ${(error as Error).message}` };
        }
        out[i] = { ...spec, ...outcome };
      }
    };
    await Promise.all(Array.from({ length: Math.max(1, Math.min(concurrency, batch.length)) }, worker));
    this.results.push(...out);
    return out;
  }
}

/** Cells as an aligned table: route | caller | setup | expected | got. */
export function cellTable(cells: CellResult[]): string {
  const rows = cells.map((c) => [c.route, c.caller, c.setup, `expected ${c.expected}`, `got ${c.got}`]);
  const widths = [0, 1, 2].map((i) => Math.min(70, Math.max(...rows.map((r) => r[i]!.length))));
  return rows.map((r) => r.map((v, i) => (i < 3 ? v.padEnd(widths[i]!) : v)).join(' | ')).join('\n');
}

/** Fails with every cell that does not hold. */
export function assertCells(cells: CellResult[]): void {
  const failing = cells.filter((c) => !c.ok);
  if (failing.length) assert.fail(`${failing.length} of ${cells.length} cells do not hold:\n${cellTable(failing)}`);
}

/** An outcome from a status (and, when the status is right, an optional further problem). */
export function byStatus(status: number, expected: number[], problem: string | null = null, detail = ''): Outcome {
  const statusOk = expected.includes(status);
  const got = `${status}${detail ? ` ${detail}` : ''}${statusOk && problem ? ` (${problem})` : ''}`;
  return { ok: statusOk && !problem, got };
}

export function statusText(expected: number[]): string {
  return expected.join(' or ');
}

/** Names of a set, sorted, for messages. */
export function names(keys: Iterable<string>): string {
  return `[${[...keys].sort().join(', ')}]`;
}

export function sameSet(a: Iterable<string>, b: Iterable<string>): boolean {
  const x = [...new Set(a)].sort();
  const y = [...new Set(b)].sort();
  return x.length === y.length && x.every((v, i) => v === y[i]);
}

// ---- aggregates ------------------------------------------------------------------------------

export interface Aggregate {
  count: number;
  /** [west, south, east, north] */
  bbox: [number, number, number, number] | null;
  /** Milliseconds since the epoch. */
  interval: [number, number] | null;
}

/** Count, bbox and temporal interval of things with a bbox and a time. */
export function aggregateOf(things: { bbox: [number, number, number, number]; time: number }[]): Aggregate {
  if (!things.length) return { count: 0, bbox: null, interval: null };
  return {
    count: things.length,
    bbox: [
      Math.min(...things.map((t) => t.bbox[0])),
      Math.min(...things.map((t) => t.bbox[1])),
      Math.max(...things.map((t) => t.bbox[2])),
      Math.max(...things.map((t) => t.bbox[3])),
    ],
    interval: [Math.min(...things.map((t) => t.time)), Math.max(...things.map((t) => t.time))],
  };
}

export function sameAggregate(a: Aggregate, b: Aggregate): boolean {
  if (a.count !== b.count) return false;
  const boxes = a.bbox && b.bbox ? a.bbox.every((v, i) => Math.abs(v - b.bbox![i]!) < 1e-7) : a.bbox === b.bbox;
  const times = a.interval && b.interval ? a.interval.every((v, i) => Math.abs(v - b.interval![i]!) < 1000) : a.interval === b.interval;
  return boxes && times;
}

export function aggregateText(a: Aggregate): string {
  const bbox = a.bbox ? `[${a.bbox.map((v) => v.toFixed(5)).join(', ')}]` : 'none';
  const interval = a.interval ? `[${a.interval.map((t) => new Date(t).toISOString().replace('.000Z', 'Z')).join(' .. ')}]` : 'none';
  return `count ${a.count}, bbox ${bbox}, interval ${interval}`;
}

/** The aggregate a STAC collection document states. */
// eslint-disable-next-line @typescript-eslint/no-explicit-any
export function statedAggregate(collection: any): Aggregate {
  const bbox = collection?.extent?.spatial?.bbox?.[0];
  const interval = collection?.extent?.temporal?.interval?.[0];
  return {
    count: Number(collection?.['stats:items']?.count),
    bbox: Array.isArray(bbox) && bbox.length === 4 ? (bbox.map(Number) as [number, number, number, number]) : null,
    interval: Array.isArray(interval) && interval[0] && interval[1] ? [Date.parse(interval[0]), Date.parse(interval[1])] : null,
  };
}

// ---- vector tile geometry --------------------------------------------------------------------

/** A lon/lat in the units of tile (z, x, y) with `extent` units per side. */
export function tileUnits(lon: number, lat: number, tile: { z: number; x: number; y: number }, extent = 4096): [number, number] {
  const n = 2 ** tile.z;
  const rad = (lat * Math.PI) / 180;
  const x = (((lon + 180) / 360) * n - tile.x) * extent;
  const y = (((1 - Math.asinh(Math.tan(rad)) / Math.PI) / 2) * n - tile.y) * extent;
  return [x, y];
}

/** Shortest distance from a point to a line made of parts (tile units). */
export function distanceToLine(p: [number, number], parts: [number, number][][]): number {
  let best = Infinity;
  for (const part of parts) {
    if (part.length === 1) best = Math.min(best, Math.hypot(p[0] - part[0]![0], p[1] - part[0]![1]));
    for (let i = 1; i < part.length; i++) {
      const [ax, ay] = part[i - 1]!;
      const [bx, by] = part[i]!;
      const dx = bx - ax;
      const dy = by - ay;
      const len = dx * dx + dy * dy;
      const t = len === 0 ? 0 : Math.max(0, Math.min(1, ((p[0] - ax) * dx + (p[1] - ay) * dy) / len));
      best = Math.min(best, Math.hypot(p[0] - (ax + t * dx), p[1] - (ay + t * dy)));
    }
  }
  return best;
}
