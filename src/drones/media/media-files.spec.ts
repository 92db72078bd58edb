import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { mediaKey, mediaKind, parseDjiTime, safeFileName, senderFacts } from './media-files.js';

describe('senderFacts (DJI bodies, read leniently)', () => {
  it("reads DJI's upload-callback body, with its own spelling tinny_fingerprint and numbers sent as strings", () => {
    const f = senderFacts({
      result: '0',
      fingerprint: 'abc',
      name: 'DJI_0001.JPG',
      path: 'DJI_202401011200_001',
      object_key: 'p/DJI_0001.JPG',
      sub_file_type: 0,
      ext: { tinny_fingerprint: 'abc_2024_1_1', sn: '1581F5FHD', drone_model_key: '0-77-0', payload_model_key: '1-66-0', is_original: 'true', file_group_id: 'g1' },
      metadata: { absolute_altitude: '120.5', relative_altitude: 80, gimbal_yaw_degree: '-45.2', created_time: '2024-01-01 12:00:03', shoot_position: { lat: '47.1', lng: 8.2 } },
    });
    assert.equal(f.tinyFingerprint, 'abc_2024_1_1');
    assert.equal(f.result, 0);
    assert.equal(f.absoluteAltitude, 120.5);
    assert.equal(f.gimbalYaw, -45.2);
    assert.deepEqual(f.shootPosition, { lon: 8.2, lat: 47.1 });
    assert.equal(f.createdTime?.toISOString(), '2024-01-01T12:00:03.000Z');
    assert.equal(f.isOriginal, true);
    assert.equal(f.sn, '1581F5FHD');
  });

  it('accepts tiny_fingerprint and create_time, drops a 0,0 position and garbage', () => {
    const f = senderFacts({ fingerprint: 42, ext: { tiny_fingerprint: 't' }, metadata: { create_time: 1704110403, shoot_position: { lat: 0, lng: 0 } } });
    assert.equal(f.fingerprint, '42');
    assert.equal(f.tinyFingerprint, 't');
    assert.equal(f.createdTime?.toISOString(), '2024-01-01T12:00:03.000Z');
    assert.equal(f.shootPosition, null);
    const g = senderFacts('not an object');
    assert.equal(g.fingerprint, null);
    assert.equal(senderFacts({ metadata: { created_time: 'yesterday' } }).createdTime, null);
  });
});

describe('parseDjiTime', () => {
  it('reads ISO 8601, DJI/EXIF-style dates (UTC unless an offset is given) and epoch seconds or milliseconds', () => {
    assert.equal(parseDjiTime('2021-12-08T22:13:10+08:00')?.toISOString(), '2021-12-08T14:13:10.000Z');
    assert.equal(parseDjiTime('2021:12:08 22:13:10')?.toISOString(), '2021-12-08T22:13:10.000Z');
    assert.equal(parseDjiTime('1638972790000')?.toISOString(), '2021-12-08T14:13:10.000Z');
    assert.equal(parseDjiTime(1638972790)?.toISOString(), '2021-12-08T14:13:10.000Z');
    assert.equal(parseDjiTime(''), null);
    assert.equal(parseDjiTime(12), null);
  });
});

describe('keys and kinds', () => {
  it('keeps a file name safe as a key segment', () => {
    assert.equal(safeFileName('../../etc/passwd'), 'passwd');
    assert.equal(safeFileName('DJI 0001 (1).JPG'), 'DJI_0001_1_.JPG');
    assert.equal(safeFileName('..'), 'file');
    assert.equal(mediaKey('w', 'm', 'a/b\\c.jpg'), 'drones/media/w/m/c.jpg');
  });

  it('tells photos (by their bytes), videos and other files apart', () => {
    assert.equal(mediaKind('x.bin', Buffer.from([0xff, 0xd8, 0xff, 0xe1])), 'photo');
    assert.equal(mediaKind('DJI_0001.JPG', Buffer.from('not a jpeg')), 'other');
    assert.equal(mediaKind('clip.bin', Buffer.concat([Buffer.from([0, 0, 0, 0x18]), Buffer.from('ftypmp42')])), 'video');
    assert.equal(mediaKind('DJI_0002.MP4', Buffer.alloc(0)), 'video');
    assert.equal(mediaKind('DJI_0002.SRT', Buffer.from('1\n00:00')), 'other');
  });
});
