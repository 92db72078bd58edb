/** A minimal Mapbox Vector Tile (protobuf) reader: enough to check layers, features and attributes. */

export interface MvtFeature {
  id?: number;
  /** 1 point, 2 line, 3 polygon. */
  type: number;
  properties: Record<string, string | number | boolean>;
  geometry: number[];
}

export interface MvtLayer {
  name: string;
  extent: number;
  features: MvtFeature[];
}

class Reader {
  pos = 0;
  constructor(
    readonly buf: Uint8Array,
    readonly end = buf.length,
  ) {}
  more(): boolean {
    return this.pos < this.end;
  }
  varint(): number {
    let result = 0;
    let shift = 0;
    for (;;) {
      const b = this.buf[this.pos++]!;
      result += (b & 0x7f) * 2 ** shift;
      if (b < 0x80) return result;
      shift += 7;
    }
  }
  bytes(): Uint8Array {
    const len = this.varint();
    const out = this.buf.subarray(this.pos, this.pos + len);
    this.pos += len;
    return out;
  }
  skip(wire: number): void {
    if (wire === 0) this.varint();
    else if (wire === 1) this.pos += 8;
    else if (wire === 2) this.pos += this.varint();
    else if (wire === 5) this.pos += 4;
    else throw new Error(`unsupported wire type ${wire}`);
  }
  *fields(): Generator<[number, number]> {
    while (this.more()) {
      const key = this.varint();
      yield [key >> 3, key & 7];
    }
  }
}

function packed(bytes: Uint8Array): number[] {
  const r = new Reader(bytes);
  const out: number[] = [];
  while (r.more()) out.push(r.varint());
  return out;
}

function value(bytes: Uint8Array): string | number | boolean {
  const r = new Reader(bytes);
  for (const [field, wire] of r.fields()) {
    const view = new DataView(r.buf.buffer, r.buf.byteOffset + r.pos);
    switch (field) {
      case 1:
        return new TextDecoder().decode(r.bytes());
      case 2:
        return view.getFloat32(0, true);
      case 3:
        return view.getFloat64(0, true);
      case 4:
      case 5:
        return r.varint();
      case 6: {
        const n = r.varint();
        return n % 2 ? -(n + 1) / 2 : n / 2;
      }
      case 7:
        return r.varint() !== 0;
      default:
        r.skip(wire);
    }
  }
  throw new Error('empty value');
}

function layer(bytes: Uint8Array): MvtLayer {
  const r = new Reader(bytes);
  const keys: string[] = [];
  const values: (string | number | boolean)[] = [];
  const raw: { id?: number; type: number; tags: number[]; geometry: number[] }[] = [];
  let name = '';
  let extent = 4096;
  for (const [field, wire] of r.fields()) {
    if (field === 1) name = new TextDecoder().decode(r.bytes());
    else if (field === 3) keys.push(new TextDecoder().decode(r.bytes()));
    else if (field === 4) values.push(value(r.bytes()));
    else if (field === 5) extent = r.varint();
    else if (field === 2) {
      const f = new Reader(r.bytes());
      const feature = { type: 0, tags: [] as number[], geometry: [] as number[], id: undefined as number | undefined };
      for (const [ff, fw] of f.fields()) {
        if (ff === 1) feature.id = f.varint();
        else if (ff === 2) feature.tags = packed(f.bytes());
        else if (ff === 3) feature.type = f.varint();
        else if (ff === 4) feature.geometry = packed(f.bytes());
        else f.skip(fw);
      }
      raw.push(feature);
    } else r.skip(wire);
  }
  const features = raw.map((f) => {
    const properties: MvtFeature['properties'] = {};
    for (let i = 0; i < f.tags.length; i += 2) properties[keys[f.tags[i]!]!] = values[f.tags[i + 1]!]!;
    return { id: f.id, type: f.type, properties, geometry: f.geometry };
  });
  return { name, extent, features };
}

/** Layers of a tile by name. */
export function decodeMvt(buf: Uint8Array): Record<string, MvtLayer> {
  const r = new Reader(buf);
  const layers: Record<string, MvtLayer> = {};
  for (const [field, wire] of r.fields()) {
    if (field === 3) {
      const l = layer(r.bytes());
      layers[l.name] = l;
    } else r.skip(wire);
  }
  return layers;
}

/** The tile (z, x, y) holding a lon/lat point. */
export function tileOf(lon: number, lat: number, z: number): { z: number; x: number; y: number } {
  const n = 2 ** z;
  const x = Math.floor(((lon + 180) / 360) * n);
  const rad = (lat * Math.PI) / 180;
  const y = Math.floor(((1 - Math.asinh(Math.tan(rad)) / Math.PI) / 2) * n);
  return { z, x: Math.min(n - 1, Math.max(0, x)), y: Math.min(n - 1, Math.max(0, y)) };
}

/**
 * The centre of the zoom-z tile holding a spot. A test that reads one tile and puts features a
 * few metres from its spot must start from here: from a random spot they would fall in the next
 * tile now and then (one run in 25 at zoom 15 for features 55 m north).
 */
export function tileCentre(spot: { lon: number; lat: number }, z: number): { lon: number; lat: number } {
  const { x, y } = tileOf(spot.lon, spot.lat, z);
  const n = 2 ** z;
  const lon = ((x + 0.5) / n) * 360 - 180;
  const lat = (Math.atan(Math.sinh(Math.PI * (1 - (2 * (y + 0.5)) / n))) * 180) / Math.PI;
  return { lon, lat };
}

/** The parts of a feature's geometry (a new part at each MoveTo), in tile units; ClosePath skipped. */
export function lineParts(feature: MvtFeature): [number, number][][] {
  const parts: [number, number][][] = [];
  const g = feature.geometry;
  const zigzag = (n: number) => (n % 2 ? -(n + 1) / 2 : n / 2);
  let x = 0;
  let y = 0;
  let i = 0;
  while (i < g.length) {
    const command = g[i]! & 7;
    const count = g[i]! >> 3;
    i++;
    if (command === 7) continue;
    for (let k = 0; k < count; k++) {
      x += zigzag(g[i++]!);
      y += zigzag(g[i++]!);
      if (command === 1 || parts.length === 0) parts.push([]);
      parts[parts.length - 1]!.push([x, y]);
    }
  }
  return parts;
}

/** The vertices of a feature's geometry, in tile units (MoveTo / LineTo commands decoded; ClosePath skipped). */
export function vertices(feature: MvtFeature): [number, number][] {
  return lineParts(feature).flat();
}
