import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { chooseTimeSource, dispatchPictures, DispatchParams, DispatchPicture, findDuplicates, sortPictures } from './sequence-dispatch.js';

const T0 = Date.UTC(2024, 0, 1, 10, 0, 0);
/** A picture `metresNorth` of a fixed point, `seconds` after T0. */
function pic(id: string, metresNorth: number, seconds: number, extra: Partial<DispatchPicture> = {}): DispatchPicture {
  const t = new Date(T0 + seconds * 1000);
  return { id, fileName: `${id}.jpg`, lon: 2.35, lat: 48.85 + metresNorth / 111_195, capturedAt: t, gpsTime: t, cameraTime: t, heading: null, projection: 'perspective', ...extra };
}
const params = (p: Partial<DispatchParams> = {}): DispatchParams => ({
  sortMethod: 'time-asc',
  splitDistance: 100,
  splitTime: 300,
  duplicateDistance: 1,
  duplicateRotation: 60,
  ...p,
});
const ids = (seqs: DispatchPicture[][]) => seqs.map((s) => s.map((p) => p.id));

describe('sortPictures', () => {
  it('sorts file names naturally, ascending and descending', () => {
    const pics = ['IMG_10', 'IMG_9', 'IMG_100', 'img_11'].map((n, i) => pic(n, i, i));
    assert.deepEqual(
      sortPictures(pics, 'filename-asc').map((p) => p.id),
      ['IMG_9', 'IMG_10', 'img_11', 'IMG_100'],
    );
    assert.deepEqual(
      sortPictures(pics, 'filename-desc').map((p) => p.id),
      ['IMG_100', 'img_11', 'IMG_10', 'IMG_9'],
    );
  });

  it('sorts on the GPS clock when every picture has it, else on the camera clock', () => {
    const a = pic('a', 0, 0, { gpsTime: new Date(T0 + 50_000), cameraTime: new Date(T0) });
    const b = pic('b', 0, 0, { gpsTime: new Date(T0 + 10_000), cameraTime: new Date(T0 + 5000) });
    assert.equal(chooseTimeSource([a, b]), 'gps');
    assert.deepEqual(
      sortPictures([a, b], 'time-asc').map((p) => p.id),
      ['b', 'a'],
    );
    const c = { ...b, gpsTime: null };
    assert.equal(chooseTimeSource([a, c]), 'camera');
    assert.deepEqual(
      sortPictures([a, c], 'time-asc').map((p) => p.id),
      ['a', 'b'],
    );
    assert.equal(chooseTimeSource([a, { ...c, cameraTime: null }]), 'capture');
  });
});

describe('dispatchPictures', () => {
  it('splits where the time or the distance between neighbours is too large', () => {
    const pics = [pic('a', 0, 0), pic('b', 50, 60), pic('c', 100, 400), pic('d', 150, 460), pic('e', 400, 500)];
    const r = dispatchPictures(pics, params());
    assert.deepEqual(ids(r.sequences), [['a', 'b'], ['c', 'd'], ['e']]);
    assert.deepEqual(
      r.splits.map((s) => [s.before.id, s.after.id, s.reason]),
      [
        ['b', 'c', 'time'],
        ['d', 'e', 'distance'],
      ],
    );
  });

  it('keeps one sequence when splitting is off', () => {
    const r = dispatchPictures([pic('a', 0, 0), pic('b', 5000, 99999)], params({ splitDistance: null, splitTime: null }));
    assert.deepEqual(ids(r.sequences), [['a', 'b']]);
  });

  it('compares time gaps in absolute value (a filename order may run backwards in time)', () => {
    const r = dispatchPictures([pic('b', 0, 0), pic('a', 10, 1000)], params({ sortMethod: 'filename-asc' }));
    assert.deepEqual(ids(r.sequences), [['a'], ['b']]);
  });
});

describe('findDuplicates', () => {
  it('drops a picture close to an earlier one when their headings agree', () => {
    const seq = [pic('a', 0, 0, { heading: 10 }), pic('b', 0.5, 1, { heading: 40 }), pic('c', 0.6, 2, { heading: 200 }), pic('d', 20, 3, { heading: 10 })];
    const r = findDuplicates(seq, params());
    assert.deepEqual(
      r.kept.map((p) => p.id),
      ['a', 'c', 'd'],
    );
    assert.equal(r.duplicates.length, 1);
    assert.deepEqual([r.duplicates[0]!.picture.id, r.duplicates[0]!.duplicateOf.id, r.duplicates[0]!.angle], ['b', 'a', 30]);
    assert.ok(Math.abs(r.duplicates[0]!.distance - 0.5) < 0.01);
  });

  it('decides by distance alone without a recorded heading, and for 360° pictures', () => {
    const r1 = findDuplicates([pic('a', 0, 0, { heading: 10 }), pic('b', 0.5, 1)], params());
    assert.deepEqual(
      r1.duplicates.map((d) => [d.picture.id, d.angle]),
      [['b', null]],
    );
    const r2 = findDuplicates([pic('a', 0, 0, { heading: 10, projection: 'equirectangular' }), pic('b', 0.5, 1, { heading: 190, projection: 'equirectangular' })], params());
    assert.equal(r2.duplicates.length, 1);
  });

  it('finds every pair within the distance, not only neighbours in the order', () => {
    const seq = [pic('a', 0, 0), pic('b', 30, 10), pic('c', 0.3, 20), ...Array.from({ length: 200 }, (_, i) => pic(`x${i}`, 100 + i * 2, 30 + i))];
    const r = findDuplicates(seq, params());
    assert.deepEqual(
      r.duplicates.map((d) => [d.picture.id, d.duplicateOf.id]),
      [['c', 'a']],
    );
    assert.equal(r.kept.length, 202);
  });

  it('keeps everything when de-duplication is off', () => {
    assert.equal(findDuplicates([pic('a', 0, 0), pic('b', 0, 1)], params({ duplicateDistance: null })).kept.length, 2);
  });
});
