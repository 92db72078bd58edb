import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { endFlight, step, type FlightEvent, type FlightState, type Sample } from './flight-detector.js';

const T0 = Date.UTC(2026, 10, 30, 10, 0, 0);

function run(samples: Partial<Sample>[], options: { trackIntervalMs?: number; state?: FlightState } = {}) {
  let n = 0;
  let state: FlightState = options.state ?? {};
  const events: FlightEvent[] = [];
  const kept: { at: number; flightId: string | null }[] = [];
  samples.forEach((partial, i) => {
    const sample: Sample = { at: T0 + i * 1000, modeCode: 0, elevation: 0, verticalSpeed: 0, lon: 8 + i * 1e-4, lat: 47, ...partial };
    const r = step(state, sample, sample.at + 50, { newId: () => `flight-${++n}`, trackIntervalMs: options.trackIntervalMs ?? 0, landingMessages: 3 });
    state = r.state;
    events.push(...r.events);
    if (r.keep) kept.push({ at: sample.at, flightId: r.flightId });
  });
  return { state, events, kept };
}

const ground = { modeCode: 0, elevation: 0, verticalSpeed: 0 };
const air = (elevation: number, verticalSpeed = 0) => ({ modeCode: 3, elevation, verticalSpeed });

describe('flight detection', () => {
  it('standing on the ground is no flight', () => {
    const { state, events } = run([ground, ground, ground, { modeCode: 1, elevation: 0.2 }]);
    assert.deepEqual(events, []);
    assert.equal(state.flightId, undefined);
  });

  it('take-off on an airborne mode, landing after three still messages on the ground (at the first of them)', () => {
    const { state, events } = run([ground, air(0.3, 2), air(20, 3), air(50), air(5, -2), { modeCode: 10, elevation: 0.1, verticalSpeed: 0 }, ground, ground]);
    assert.deepEqual(
      events.map((e) => [e.type, (e.at - T0) / 1000]),
      [
        ['started', 1],
        ['landed', 5],
      ],
    );
    assert.equal(state.status, 'landed');
    const landed = events[1] as Extract<FlightEvent, { type: 'landed' }>;
    assert.equal(landed.stats.maxElevation, 50);
    // Every message from take-off to the one confirming the landing (interval 0 keeps all).
    assert.equal(landed.stats.points, 7);
  });

  it('take-off in a ground mode when the elevation passes 1 m', () => {
    const { events } = run([ground, { modeCode: 0, elevation: 0.9 }, { modeCode: 0, elevation: 1.5 }]);
    assert.deepEqual(
      events.map((e) => [e.type, (e.at - T0) / 1000]),
      [['started', 2]],
    );
  });

  it('a still message between moving ones does not land the aircraft; vertical speed keeps it flying', () => {
    const { events, state } = run([air(10), ground, air(3), { ...ground, verticalSpeed: -0.5 }, { ...ground, verticalSpeed: -0.5 }, ground, ground]);
    assert.deepEqual(
      events.map((e) => e.type),
      ['started'],
    );
    assert.equal(state.status, 'in_flight');
    assert.equal(state.settled, 2);
  });

  it('taking off again ends the landed flight and starts another', () => {
    const { events } = run([air(10), ground, ground, ground, ground, air(4)]);
    assert.deepEqual(
      events.map((e) => [e.type, e.flightId, e.type === 'ended' ? e.reason : null]),
      [
        ['started', 'flight-1', null],
        ['landed', 'flight-1', null],
        ['ended', 'flight-1', 'take_off_again'],
        ['started', 'flight-2', null],
      ],
    );
  });

  it('mode 14 (not connected) ends the flight, in the air or landed', () => {
    const { events, state } = run([air(10), air(12), { modeCode: 14, elevation: 12 }]);
    assert.deepEqual(
      events.map((e) => [e.type, e.type === 'ended' ? e.reason : null]),
      [
        ['started', null],
        ['ended', 'mode'],
      ],
    );
    assert.equal(state.flightId, undefined);
    // And mode 14 never starts one, whatever the elevation.
    assert.deepEqual(run([{ modeCode: 14, elevation: 30 }]).events, []);
  });

  it('endFlight (offline, silence) ends the current flight with its figures, and nothing without one', () => {
    const { state } = run([air(10), air(40)]);
    const ended = endFlight(state, T0 + 60_000, 'offline');
    assert.equal(ended.events.length, 1);
    const e = ended.events[0] as Extract<FlightEvent, { type: 'ended' }>;
    assert.equal(e.reason, 'offline');
    assert.equal(e.stats.maxElevation, 40);
    assert.equal(ended.state.flightId, undefined);
    assert.equal(ended.state.lastAt, state.lastAt);
    assert.deepEqual(endFlight(ended.state, T0, 'silence').events, []);
  });

  it('downsamples the track: a point every interval, plus take-off, landing and mode changes; points belong to the flight only in the air', () => {
    const samples = [ground, air(1), air(5), air(10), air(15), air(20), { modeCode: 5, elevation: 20 }, air(5), ground, ground, ground, ground];
    const { kept } = run(samples, { trackIntervalMs: 3000 });
    assert.deepEqual(
      kept.map((k) => [(k.at - T0) / 1000, k.flightId]),
      [
        [0, null],
        [1, 'flight-1'],
        [4, 'flight-1'],
        [6, 'flight-1'],
        [7, 'flight-1'],
        [8, 'flight-1'],
        [10, 'flight-1'],
      ],
    );
  });

  it('adds up the distance between kept points', () => {
    const { state } = run([air(5, 0), air(5), air(5)]);
    // 2 × 1e-4° of longitude at 47° N ≈ 15.17 m.
    assert.ok(Math.abs((state.distanceM ?? 0) - 15.17) < 0.1, String(state.distanceM));
  });
});
