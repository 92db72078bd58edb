import 'reflect-metadata';
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { ArgumentMetadata } from '@nestjs/common';
import { createValidationPipe } from '../common/validation.js';
import { SamplePointsDto } from './dataset.dto.js';
import { SamplePointsPipe } from './sample-points.pipe.js';

const metadata: ArgumentMetadata = { type: 'body', metatype: Object, data: undefined };

/** What a pipe answers: the value, or the body of the error it throws. */
async function outcome(run: () => Promise<unknown>): Promise<{ ok: unknown } | { error: unknown }> {
  try {
    return { ok: await run() };
  } catch (error) {
    return { error: (error as { getResponse?: () => unknown }).getResponse?.() ?? String(error) };
  }
}

describe('SamplePointsPipe', () => {
  it('accepts well-formed points as they are', async () => {
    const body = {
      points: [
        { lon: 13.4, lat: 52.5 },
        { lat: -90, lon: 180 },
      ],
    };
    assert.equal(await new SamplePointsPipe().transform(body, metadata), body);
  });

  const bad: Array<[string, unknown]> = [
    [
      'a longitude out of range',
      {
        points: [
          { lon: 13, lat: 52 },
          { lon: 200, lat: 52 },
        ],
      },
    ],
    ['a latitude given as text', { points: [{ lon: 13, lat: '52' }] }],
    ['a missing latitude', { points: [{ lon: 13 }] }],
    ['an unknown field in a point', { points: [{ lon: 13, lat: 52, z: 1 }] }],
    ['an unknown field beside the points', { points: [{ lon: 13, lat: 52 }], crs: 'EPSG:4326' }],
    ['no points', { points: [] }],
    ['1001 points', { points: Array.from({ length: 1001 }, () => ({ lon: 1, lat: 1 })) }],
    ['points that are not a list', { points: { lon: 1, lat: 1 } }],
    ['a point that is a list', { points: [[13, 52]] }],
    ['an infinite longitude', { points: [{ lon: Infinity, lat: 52 }] }],
    ['an empty body', {}],
  ];
  for (const [name, body] of bad) {
    it(`refuses ${name} with the application's own validation error`, async () => {
      const got = await outcome(() => new SamplePointsPipe().transform(body, metadata));
      const expected = await outcome(() => createValidationPipe().transform(body, { ...metadata, metatype: SamplePointsDto }));
      assert.ok('error' in got, 'refused');
      assert.deepEqual(got, expected);
    });
  }
});
