import sharp, { type Exif, type Sharp } from 'sharp';

/** EXIF rational triple `d/1 m/1 s/1000` of an absolute angle. */
function dmsRational(value: number): string {
  const a = Math.abs(value);
  const d = Math.floor(a);
  const m = Math.floor((a - d) * 60);
  const s = Math.round(((a - d) * 60 - m) * 60 * 1000);
  return `${d}/1 ${m}/1 ${s}/1000`;
}

const pad = (n: number, w = 2) => String(n).padStart(w, '0');

export interface SyntheticPicture {
  width: number;
  height: number;
  lon: number;
  lat: number;
  /** Capture time; written as GPS time (UTC) and as camera time with a +00:00 offset. */
  time: Date;
  heading?: number;
  /** Varies the pixels, so that every picture has its own content (and SHA-256). */
  seed?: number;
  /** `noise`: photo-like detail; `checker`: 16 px squares (sharp edges a blur visibly removes). */
  pattern?: 'noise' | 'checker';
  quality?: number;
  /** Extra XMP packet (GPano for 360°…). */
  xmp?: string;
  make?: string;
  model?: string;
}

/** A deterministic pseudo-random generator (mulberry32). */
function random(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** A JPEG with EXIF position, time (and heading), as a camera would write it. */
export async function syntheticJpeg(p: SyntheticPicture): Promise<Buffer> {
  const rnd = random(p.seed ?? 1);
  let image: Sharp;
  if (p.pattern === 'checker') {
    const raw = Buffer.alloc(p.width * p.height * 3);
    const tint = Math.floor(rnd() * 60);
    for (let y = 0; y < p.height; y++) {
      for (let x = 0; x < p.width; x++) {
        const on = (Math.floor(x / 16) + Math.floor(y / 16)) % 2 === 0;
        const i = (y * p.width + x) * 3;
        raw[i] = on ? 230 : 20 + tint;
        raw[i + 1] = on ? 230 : 20;
        raw[i + 2] = on ? 230 : 40;
      }
    }
    image = sharp(raw, { raw: { width: p.width, height: p.height, channels: 3 } });
  } else {
    // Coarse noise scaled up: detail at several scales, compressing like a photograph.
    const w = Math.max(8, Math.round(p.width / 4));
    const h = Math.max(8, Math.round(p.height / 4));
    const raw = Buffer.alloc(w * h * 3);
    for (let i = 0; i < raw.length; i++) raw[i] = Math.floor(rnd() * 256);
    const scaled = await sharp(raw, { raw: { width: w, height: h, channels: 3 } })
      .resize(p.width, p.height, { kernel: 'cubic' })
      .raw()
      .toBuffer();
    image = sharp(scaled, { raw: { width: p.width, height: p.height, channels: 3 } });
  }
  let out = image.jpeg({ quality: p.quality ?? 85 }).withExif(cameraExif(p));
  if (p.xmp) out = out.withXmp(p.xmp);
  return out.toBuffer();
}

/** The EXIF a geotagging camera writes: make, model, capture time, GPS position and time, heading. */
export function cameraExif(p: Pick<SyntheticPicture, 'lon' | 'lat' | 'time' | 'heading' | 'make' | 'model'>): Exif {
  const t = p.time;
  const date = `${t.getUTCFullYear()}:${pad(t.getUTCMonth() + 1)}:${pad(t.getUTCDate())}`;
  const clock = `${pad(t.getUTCHours())}:${pad(t.getUTCMinutes())}:${pad(t.getUTCSeconds())}`;
  const gps: Record<string, string> = {
    GPSLatitudeRef: p.lat < 0 ? 'S' : 'N',
    GPSLatitude: dmsRational(p.lat),
    GPSLongitudeRef: p.lon < 0 ? 'W' : 'E',
    GPSLongitude: dmsRational(p.lon),
    GPSDateStamp: date,
    GPSTimeStamp: `${t.getUTCHours()}/1 ${t.getUTCMinutes()}/1 ${t.getUTCSeconds() * 1000 + t.getUTCMilliseconds()}/1000`,
  };
  if (p.heading !== undefined) {
    gps.GPSImgDirectionRef = 'T';
    gps.GPSImgDirection = `${Math.round(p.heading * 100)}/100`;
  }
  return {
    IFD0: { Make: p.make ?? 'Sightline', Model: p.model ?? 'Synthetic' },
    IFD2: {
      DateTimeOriginal: `${date} ${clock}`,
      SubSecTimeOriginal: pad(t.getUTCMilliseconds(), 3),
      OffsetTimeOriginal: '+00:00',
      FocalLength: '40/10',
      FocalLengthIn35mmFilm: '26',
    },
    IFD3: gps,
  };
}

/** GPano XMP marking a full equirectangular panorama. */
export function gpanoXmp(width: number, height: number): string {
  return (
    `<?xpacket begin="" id="W5M0MpCehiHzreSzNTczkc9d"?><x:xmpmeta xmlns:x="adobe:ns:meta/"><rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#">` +
    `<rdf:Description rdf:about="" xmlns:GPano="http://ns.google.com/photos/1.0/panorama/" GPano:ProjectionType="equirectangular" ` +
    `GPano:FullPanoWidthPixels="${width}" GPano:FullPanoHeightPixels="${height}" GPano:CroppedAreaImageWidthPixels="${width}" ` +
    `GPano:CroppedAreaImageHeightPixels="${height}" GPano:CroppedAreaLeftPixels="0" GPano:CroppedAreaTopPixels="0"/>` +
    `</rdf:RDF></x:xmpmeta><?xpacket end="w"?>`
  );
}
