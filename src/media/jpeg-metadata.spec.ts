import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import exifr from 'exifr';
import sharp from 'sharp';
import { stripPrivateMetadata, UnreadableJpegError } from './jpeg-metadata.js';

/** A small JPEG with orientation, camera, capture, GPS, an artist and a serial number in its EXIF, and XMP. */
async function taggedJpeg(): Promise<Buffer> {
  const xmp =
    '<x:xmpmeta xmlns:x="adobe:ns:meta/"><rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#"><rdf:Description rdf:about="" ' +
    'xmlns:GPano="http://ns.google.com/photos/1.0/panorama/" xmlns:dc="http://purl.org/dc/elements/1.1/" GPano:ProjectionType="equirectangular" ' +
    'GPano:PoseHeadingDegrees="12.5"><dc:creator>Jane Doe</dc:creator></rdf:Description></rdf:RDF></x:xmpmeta>';
  return sharp({ create: { width: 64, height: 32, channels: 3, background: { r: 200, g: 80, b: 20 } } })
    .withExif({
      IFD0: { Make: 'Nikon', Model: 'P6000', Artist: 'Jane Doe', Copyright: 'CC-BY 4.0' },
      IFD2: { DateTimeOriginal: '2024:05:01 10:00:00', BodySerialNumber: 'SN-12345', CameraOwnerName: 'Jane Doe', ExposureTime: '1/250' },
      IFD3: { GPSLatitudeRef: 'N', GPSLatitude: '48/1 51/1 0/1', GPSLongitudeRef: 'E', GPSLongitude: '2/1 21/1 0/1' },
    })
    .withXmp(xmp)
    .jpeg()
    .toBuffer();
}

describe('stripPrivateMetadata', () => {
  it('keeps orientation, camera, capture time, copyright and GPano; drops GPS, names, serial numbers and other XMP; pixels unchanged', async () => {
    const input = await taggedJpeg();
    const before = await exifr.parse(input, { xmp: true, gps: true, mergeOutput: false, translateValues: false });
    assert.equal(before.ifd0.Artist, 'Jane Doe', 'the fixture has the private tags');
    assert.ok(before.gps.GPSLatitude);

    const out = stripPrivateMetadata(input);
    const after = await exifr.parse(out, { xmp: true, gps: true, mergeOutput: false, translateValues: false });
    assert.equal(after.ifd0.Make, 'Nikon');
    assert.equal(after.ifd0.Model, 'P6000');
    assert.equal(after.ifd0.Orientation, before.ifd0.Orientation);
    assert.equal(after.ifd0.Copyright, 'CC-BY 4.0');
    assert.equal(after.ifd0.Artist, undefined);
    assert.equal(after.exif.ExposureTime, 1 / 250);
    assert.ok(after.exif.DateTimeOriginal);
    assert.equal(after.exif.BodySerialNumber, undefined);
    assert.equal(after.exif.CameraOwnerName, undefined);
    assert.equal(after.gps, undefined);
    assert.equal(after.GPano.ProjectionType, 'equirectangular');
    assert.equal(after.GPano.PoseHeadingDegrees, 12.5);
    assert.equal(after.dc, undefined);
    const [a, b] = await Promise.all([sharp(input).raw().toBuffer(), sharp(out).raw().toBuffer()]);
    assert.ok(a.equals(b));
    // Stripping twice changes nothing more.
    assert.ok(stripPrivateMetadata(out).equals(out));
  });

  it('drops bytes after the end of the image and comments', async () => {
    const input = await sharp({ create: { width: 16, height: 16, channels: 3, background: '#336699' } })
      .jpeg()
      .toBuffer();
    const comment = Buffer.concat([Buffer.from([0xff, 0xfe, 0x00, 0x0a]), Buffer.from('Jane Doe')]);
    const withExtras = Buffer.concat([input.subarray(0, 2), comment, input.subarray(2), Buffer.from('secondary image or vendor trailer')]);
    const out = stripPrivateMetadata(withExtras);
    assert.equal(out.indexOf('Jane Doe'), -1);
    assert.equal(out.indexOf('vendor trailer'), -1);
    assert.deepEqual([...out.subarray(-2)], [0xff, 0xd9]);
  });

  it('writes only the orientation when the EXIF cannot be read, and refuses what is not a JPEG', async () => {
    const input = await sharp({ create: { width: 16, height: 8, channels: 3, background: '#000' } })
      .jpeg()
      .toBuffer();
    const broken = Buffer.concat([Buffer.from([0xff, 0xe1, 0x00, 0x0e]), Buffer.from('Exif\0\0XXXXXX')]);
    const out = stripPrivateMetadata(Buffer.concat([input.subarray(0, 2), broken, input.subarray(2)]), 8);
    assert.equal((await sharp(out).metadata()).orientation, 8);
    assert.throws(() => stripPrivateMetadata(Buffer.from('not a jpeg')), UnreadableJpegError);
    assert.throws(() => stripPrivateMetadata(input.subarray(0, 40)), UnreadableJpegError);
  });
});
