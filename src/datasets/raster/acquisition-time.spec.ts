import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { acquisitionTime, gdalMetadataItems, parseFileTime } from './acquisition-time.js';

const gdalXml = (items: string) => `<GDALMetadata>\n${items}\n</GDALMetadata>\n`;

describe('acquisition time of a raster', () => {
  it('reads TIFF and ISO 8601 times, as UTC unless a zone is named', () => {
    assert.equal(parseFileTime('2021:05:04 10:20:30'), '2021-05-04T10:20:30.000Z');
    assert.equal(parseFileTime('2021-05-04T10:20:30'), '2021-05-04T10:20:30.000Z');
    assert.equal(parseFileTime('2021-05-04 10:20:30.25Z'), '2021-05-04T10:20:30.250Z');
    assert.equal(parseFileTime('2021-05-04T10:20:30+02:00'), '2021-05-04T08:20:30.000Z');
    assert.equal(parseFileTime('2021-05-04T10:20:30-0130'), '2021-05-04T11:50:30.000Z');
    assert.equal(parseFileTime('2021-05-04'), '2021-05-04T00:00:00.000Z');
    for (const bad of [undefined, '', '0000:00:00 00:00:00', '2021:13:01 00:00:00', '2021-04-31T00:00:00', 'yesterday', '2021:05:04 25:00:00']) {
      assert.equal(parseFileTime(bad), null, String(bad));
    }
  });

  it('keeps dataset-level items of the default and IMAGERY domains', () => {
    const items = gdalMetadataItems(
      gdalXml(
        [
          '<Item name="ACQUISITIONDATETIME" domain="IMAGERY">2020-01-01 00:00:00</Item>',
          '<Item name="acquisitionDateTime">2021-02-03T04:05:06Z</Item>',
          '<Item name="STATISTICS_MEAN" sample="0" role="statistics">12</Item>',
          '<Item name="OTHER" domain="xml:XMP">x</Item>',
          '<Item name="NOTE">a &amp; b &lt;c&gt;</Item>',
        ].join('\n'),
      ),
    );
    assert.deepEqual(Object.fromEntries(items), { ACQUISITIONDATETIME: '2021-02-03T04:05:06Z', NOTE: 'a & b <c>' });
  });

  it('prefers GDAL acquisition metadata, then the TIFF DateTime tag', () => {
    const tiff = '2019:06:07 08:09:10';
    assert.deepEqual(acquisitionTime(tiff, gdalXml('<Item name="ACQUISITIONDATETIME">2021-02-03T04:05:06Z</Item>')), {
      datetime: '2021-02-03T04:05:06.000Z',
      startDatetime: null,
      endDatetime: null,
      source: 'ACQUISITIONDATETIME',
    });
    assert.deepEqual(
      acquisitionTime(tiff, gdalXml('<Item name="ACQUISITION_START_TIME">2021-02-03T04:05:06Z</Item><Item name="ACQUISITION_END_TIME">2021-02-03T04:06:00Z</Item>')),
      { datetime: '2021-02-03T04:05:06.000Z', startDatetime: '2021-02-03T04:05:06.000Z', endDatetime: '2021-02-03T04:06:00.000Z', source: 'ACQUISITION_START_TIME' },
    );
    // An interval that ends before it starts is not one.
    assert.equal(acquisitionTime(undefined, gdalXml('<Item name="ACQUISITION_START_TIME">2021-02-03</Item><Item name="ACQUISITION_END_TIME">2021-02-01</Item>')).endDatetime, null);
    assert.deepEqual(acquisitionTime(tiff, undefined), { datetime: '2019-06-07T08:09:10.000Z', startDatetime: null, endDatetime: null, source: 'DateTime' });
    assert.deepEqual(acquisitionTime('garbage', gdalXml('<Item name="ACQUISITIONDATETIME">unknown</Item>')), {
      datetime: null,
      startDatetime: null,
      endDatetime: null,
      source: null,
    });
  });
});
