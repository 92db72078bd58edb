/**
 * What a published picture file tells about its author, beyond the picture: rewriting a JPEG's
 * metadata without touching its compressed pixels (no re-encoding, no quality loss).
 */

/** Tags of the main image directory (IFD0) kept: how to show the picture, what made it, its rights. */
const IFD0_KEPT = new Set([
  0x010f, // Make
  0x0110, // Model
  0x0112, // Orientation
  0x011a, // XResolution
  0x011b, // YResolution
  0x0128, // ResolutionUnit
  0x0131, // Software
  0x0132, // DateTime
  0x0213, // YCbCrPositioning
  0x8298, // Copyright
  0x8769, // Exif IFD pointer
]);

/** Tags of the Exif directory kept: the capture (time, exposure, optics), nothing that identifies a person or a device. */
const EXIF_KEPT = new Set([
  0x829a, 0x829d, 0x8822, 0x8827, 0x8830, 0x9000, 0x9003, 0x9004, 0x9010, 0x9011, 0x9012, 0x9101, 0x9102, 0x9201, 0x9202, 0x9203, 0x9204, 0x9205, 0x9206, 0x9207, 0x9208, 0x9209,
  0x920a, 0x9214, 0x9290, 0x9291, 0x9292, 0xa000, 0xa001, 0xa002, 0xa003, 0xa20e, 0xa20f, 0xa210, 0xa217, 0xa300, 0xa301, 0xa401, 0xa402, 0xa403, 0xa404, 0xa405, 0xa406, 0xa407,
  0xa408, 0xa409, 0xa40a, 0xa40c, 0xa432, 0xa433, 0xa434, 0xa500,
]);

const EXIF_POINTER = 0x8769;
const ORIENTATION = 0x0112;
const TYPE_SIZES: Record<number, number> = { 1: 1, 2: 1, 3: 2, 4: 4, 5: 8, 6: 1, 7: 1, 8: 2, 9: 4, 10: 8, 11: 4, 12: 8 };
const EXIF_HEADER = Buffer.from('Exif\0\0', 'latin1');
const XMP_HEADER = Buffer.from('http://ns.adobe.com/xap/1.0/\0', 'latin1');
const ICC_HEADER = Buffer.from('ICC_PROFILE\0', 'latin1');

interface Entry {
  tag: number;
  type: number;
  count: number;
  /** The value's bytes, in the file's byte order. */
  value: Buffer;
}

class Tiff {
  constructor(
    readonly data: Buffer,
    readonly little: boolean,
  ) {}
  u16(at: number): number {
    return this.little ? this.data.readUInt16LE(at) : this.data.readUInt16BE(at);
  }
  u32(at: number): number {
    return this.little ? this.data.readUInt32LE(at) : this.data.readUInt32BE(at);
  }
}

/** The entries of the directory at `offset` whose tag is in `kept`; throws RangeError on a damaged directory. */
function readIfd(tiff: Tiff, offset: number, kept: Set<number>): Entry[] {
  const count = tiff.u16(offset);
  const entries: Entry[] = [];
  for (let i = 0; i < count; i++) {
    const at = offset + 2 + i * 12;
    const tag = tiff.u16(at);
    const type = tiff.u16(at + 2);
    const n = tiff.u32(at + 4);
    const size = TYPE_SIZES[type];
    if (!kept.has(tag) || !size) continue;
    const length = size * n;
    if (length > 65535) continue;
    const start = length <= 4 ? at + 8 : tiff.u32(at + 8);
    if (start + length > tiff.data.length) continue;
    entries.push({ tag, type, count: n, value: Buffer.from(tiff.data.subarray(start, start + length)) });
  }
  return entries.sort((a, b) => a.tag - b.tag);
}

const ifdSize = (entries: Entry[]) => 2 + entries.length * 12 + 4 + entries.reduce((s, e) => s + (e.value.length > 4 ? e.value.length + (e.value.length & 1) : 0), 0);

/** Writes a directory at `offset` of `out` (its long values right after it); `pointers` gives the values of sub-directory pointers. */
function writeIfd(out: Buffer, offset: number, entries: Entry[], little: boolean, pointers: Map<number, number>): void {
  const u16 = (v: number, at: number) => (little ? out.writeUInt16LE(v, at) : out.writeUInt16BE(v, at));
  const u32 = (v: number, at: number) => (little ? out.writeUInt32LE(v, at) : out.writeUInt32BE(v, at));
  u16(entries.length, offset);
  let data = offset + 2 + entries.length * 12 + 4;
  entries.forEach((e, i) => {
    const at = offset + 2 + i * 12;
    u16(e.tag, at);
    u16(e.type, at + 2);
    u32(e.count, at + 4);
    const pointer = pointers.get(e.tag);
    if (pointer !== undefined) u32(pointer, at + 8);
    else if (e.value.length <= 4) e.value.copy(out, at + 8);
    else {
      u32(data, at + 8);
      e.value.copy(out, data);
      data += e.value.length + (e.value.length & 1);
    }
  });
  u32(0, offset + 2 + entries.length * 12);
}

/** A new Exif segment body (TIFF structure) holding only the kept tags: no GPS, no maker notes, no thumbnail. */
function privateFreeExif(body: Buffer): Buffer | null {
  const little = body[0] === 0x49 && body[1] === 0x49;
  if (!little && !(body[0] === 0x4d && body[1] === 0x4d)) return null;
  const tiff = new Tiff(body, little);
  const ifd0 = readIfd(tiff, tiff.u32(4), IFD0_KEPT);
  const pointer = ifd0.find((e) => e.tag === EXIF_POINTER);
  let exif: Entry[] = [];
  if (pointer) {
    try {
      exif = readIfd(tiff, pointerValue(pointer, little), EXIF_KEPT);
    } catch {
      exif = [];
    }
  }
  const main = exif.length ? ifd0 : ifd0.filter((e) => e.tag !== EXIF_POINTER);
  const exifAt = 8 + ifdSize(main);
  const out = Buffer.alloc(exifAt + (exif.length ? ifdSize(exif) : 0));
  out.write(little ? 'II' : 'MM', 0, 'latin1');
  if (little) {
    out.writeUInt16LE(42, 2);
    out.writeUInt32LE(8, 4);
  } else {
    out.writeUInt16BE(42, 2);
    out.writeUInt32BE(8, 4);
  }
  writeIfd(out, 8, main, little, new Map([[EXIF_POINTER, exifAt]]));
  if (exif.length) writeIfd(out, exifAt, exif, little, new Map());
  return out;
}

function pointerValue(entry: Entry, little: boolean): number {
  return little ? entry.value.readUInt32LE(0) : entry.value.readUInt32BE(0);
}

/** A minimal Exif body holding only an orientation (when the original Exif cannot be read). */
function orientationOnlyExif(orientation: number): Buffer {
  const value = Buffer.alloc(4);
  value.writeUInt16BE(orientation, 0);
  const out = Buffer.alloc(8 + ifdSize([{ tag: ORIENTATION, type: 3, count: 1, value }]));
  out.write('MM', 0, 'latin1');
  out.writeUInt16BE(42, 2);
  out.writeUInt32BE(8, 4);
  writeIfd(out, 8, [{ tag: ORIENTATION, type: 3, count: 1, value }], false, new Map());
  return out;
}

/** The GPano properties of an XMP packet (how a 360° viewer shows the picture), in a packet of their own. */
function panoramaOnlyXmp(xmp: string): Buffer | null {
  const props = new Map<string, string>();
  for (const m of xmp.matchAll(/GPano:(\w+)\s*=\s*"([^"]*)"/g)) props.set(m[1]!, m[2]!);
  for (const m of xmp.matchAll(/<GPano:(\w+)>([^<]*)<\/GPano:\1>/g)) props.set(m[1]!, m[2]!.replace(/"/g, '&quot;'));
  if (!props.size) return null;
  const attributes = [...props].map(([k, v]) => ` GPano:${k}="${v}"`).join('');
  const packet =
    '<?xpacket begin="\uFEFF" id="W5M0MpCehiHzreSzNTczkc9d"?><x:xmpmeta xmlns:x="adobe:ns:meta/"><rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#">' +
    `<rdf:Description rdf:about="" xmlns:GPano="http://ns.google.com/photos/1.0/panorama/"${attributes}/></rdf:RDF></x:xmpmeta><?xpacket end="r"?>`;
  return Buffer.concat([XMP_HEADER, Buffer.from(packet, 'utf8')]);
}

function segment(marker: number, body: Buffer): Buffer {
  const head = Buffer.alloc(4);
  head[0] = 0xff;
  head[1] = marker;
  head.writeUInt16BE(body.length + 2, 2);
  return Buffer.concat([head, body]);
}

/** The JPEG is not one this code can rewrite (no SOI, a segment running past the end…). */
export class UnreadableJpegError extends Error {}

/**
 * The JPEG with its private metadata removed and the compressed image untouched. Kept: JFIF,
 * ICC colour profile, Adobe colour transform, the Exif tags of `IFD0_KEPT` / `EXIF_KEPT`
 * (orientation, make and model, capture time and exposure) and the XMP GPano properties. Gone:
 * GPS, serial numbers of body and lens, owner and artist names, unique ids, maker notes, the
 * embedded thumbnail, every other XMP property (drone position and attitude included),
 * IPTC/Photoshop blocks, comments, other application segments and bytes after the image's end
 * (secondary images, vendor trailers). `orientation` is written when the Exif cannot be read.
 */
export function stripPrivateMetadata(jpeg: Buffer, orientation = 1): Buffer {
  if (jpeg[0] !== 0xff || jpeg[1] !== 0xd8) throw new UnreadableJpegError('not a JPEG');
  const parts: Buffer[] = [jpeg.subarray(0, 2)];
  let exifWritten = false;
  let xmpWritten = false;
  let at = 2;
  const exifSegment = (body: Buffer) => {
    exifWritten = true;
    return segment(0xe1, Buffer.concat([EXIF_HEADER, body]));
  };
  while (at < jpeg.length) {
    if (jpeg[at] !== 0xff) throw new UnreadableJpegError(`no marker at byte ${at}`);
    const marker = jpeg[at + 1]!;
    if (marker === 0xff) {
      at++;
      continue;
    }
    if (marker === 0xd8 || (marker >= 0xd0 && marker <= 0xd7) || marker === 0x01) {
      at += 2;
      continue;
    }
    if (at + 4 > jpeg.length) throw new UnreadableJpegError('truncated');
    const length = jpeg.readUInt16BE(at + 2);
    const end = at + 2 + length;
    if (length < 2 || end > jpeg.length) throw new UnreadableJpegError(`segment at byte ${at} runs past the end`);
    const body = jpeg.subarray(at + 4, end);
    if (marker === 0xda) {
      if (!exifWritten && orientation !== 1) parts.push(exifSegment(orientationOnlyExif(orientation)));
      // The scans: everything up to the end-of-image marker (stuffed data never holds 0xFFD9).
      const eoi = jpeg.indexOf(Buffer.from([0xff, 0xd9]), end);
      parts.push(jpeg.subarray(at, eoi < 0 ? jpeg.length : eoi + 2));
      return Buffer.concat(parts);
    }
    const app = marker >= 0xe0 && marker <= 0xef;
    if (marker === 0xe1 && body.subarray(0, 6).equals(EXIF_HEADER) && !exifWritten) {
      let rewritten: Buffer | null;
      try {
        rewritten = privateFreeExif(body.subarray(6));
      } catch {
        rewritten = null;
      }
      parts.push(exifSegment(rewritten ?? orientationOnlyExif(orientation)));
    } else if (marker === 0xe1 && body.subarray(0, XMP_HEADER.length).equals(XMP_HEADER)) {
      const pano = xmpWritten ? null : panoramaOnlyXmp(body.subarray(XMP_HEADER.length).toString('utf8'));
      if (pano) {
        parts.push(segment(0xe1, pano));
        xmpWritten = true;
      }
    } else if (marker === 0xe0 || marker === 0xee || (marker === 0xe2 && body.subarray(0, ICC_HEADER.length).equals(ICC_HEADER)) || !app) {
      // JFIF, Adobe, ICC profile, and every segment that is part of the image (tables, frame).
      if (marker !== 0xfe) parts.push(jpeg.subarray(at, end));
    }
    at = end;
  }
  throw new UnreadableJpegError('no image data');
}
