import { angleBetween, haversine } from './geo.js';

export const SORT_METHODS = ['time-asc', 'time-desc', 'filename-asc', 'filename-desc'] as const;
export type SortMethod = (typeof SORT_METHODS)[number];

/** What dispatch needs to know of a picture. */
export interface DispatchPicture {
  id: string;
  fileName: string;
  lon: number;
  lat: number;
  /** The published capture time (always set). */
  capturedAt: Date;
  gpsTime: Date | null;
  cameraTime: Date | null;
  /** A heading the camera recorded; computed headings must not be passed (they drift when standing still). */
  heading: number | null;
  projection: 'perspective' | 'equirectangular';
}

export interface DispatchParams {
  sortMethod: SortMethod;
  /** Metres; null = never split on distance. */
  splitDistance: number | null;
  /** Seconds; null = never split on time. */
  splitTime: number | null;
  /** Metres; null = no de-duplication. */
  duplicateDistance: number | null;
  /** Degrees; null = distance alone decides. */
  duplicateRotation: number | null;
}

export interface Duplicate {
  picture: DispatchPicture;
  duplicateOf: DispatchPicture;
  /** Metres, 2 decimals. */
  distance: number;
  /** Degrees between the two headings; null when one of them has no real heading (or is a 360°). */
  angle: number | null;
}

export interface Split {
  before: DispatchPicture;
  after: DispatchPicture;
  reason: 'time' | 'distance';
  /** Seconds or metres between the two pictures. */
  value: number;
}

export type TimeSource = 'gps' | 'camera' | 'capture';

export interface DispatchReport {
  sequences: DispatchPicture[][];
  duplicates: Duplicate[];
  splits: Split[];
  /** The clock used to sort and split: GPS when every picture has it, else the camera's, else the capture time. */
  timeSource: TimeSource;
}

/** Which clock the whole set is compared on; mixing clocks between pictures would create false gaps. */
export function chooseTimeSource(pictures: DispatchPicture[]): TimeSource {
  if (pictures.every((p) => p.gpsTime)) return 'gps';
  if (pictures.every((p) => p.cameraTime)) return 'camera';
  return 'capture';
}

function timeOf(p: DispatchPicture, source: TimeSource): number {
  if (source === 'gps') return p.gpsTime!.getTime();
  if (source === 'camera') return p.cameraTime!.getTime();
  return p.capturedAt.getTime();
}

const collator = new Intl.Collator('en', { numeric: true, sensitivity: 'base' });
const stem = (name: string) => name.replace(/\.[^./\\]*$/, '');

/**
 * Sorts a copy of the pictures. File names sort naturally (IMG_9 before IMG_10), which covers
 * Panoramax's "numeric names" case and mixed names alike; ties fall back to time, then id.
 */
export function sortPictures(pictures: DispatchPicture[], method: SortMethod, source: TimeSource = chooseTimeSource(pictures)): DispatchPicture[] {
  const [by, order] = method.split('-') as ['time' | 'filename', 'asc' | 'desc'];
  const byTime = (a: DispatchPicture, b: DispatchPicture) => timeOf(a, source) - timeOf(b, source) || a.capturedAt.getTime() - b.capturedAt.getTime();
  const byName = (a: DispatchPicture, b: DispatchPicture) => collator.compare(stem(a.fileName), stem(b.fileName)) || collator.compare(a.fileName, b.fileName);
  const sorted = [...pictures].sort((a, b) => {
    const primary = by === 'time' ? byTime(a, b) || byName(a, b) : byName(a, b) || byTime(a, b);
    return primary || (a.id < b.id ? -1 : a.id > b.id ? 1 : 0);
  });
  return order === 'desc' ? sorted.reverse() : sorted;
}

/** Cuts sorted pictures where neighbours are too far apart in time or space. */
export function splitInSequences(
  sorted: DispatchPicture[],
  params: Pick<DispatchParams, 'splitDistance' | 'splitTime'>,
  source: TimeSource,
): { sequences: DispatchPicture[][]; splits: Split[] } {
  if (sorted.length === 0) return { sequences: [], splits: [] };
  const sequences: DispatchPicture[][] = [[sorted[0]!]];
  const splits: Split[] = [];
  for (let i = 1; i < sorted.length; i++) {
    const prev = sorted[i - 1]!;
    const pic = sorted[i]!;
    const seconds = Math.abs(timeOf(pic, source) - timeOf(prev, source)) / 1000;
    const metres = haversine(prev, pic);
    let reason: Split['reason'] | null = null;
    if (params.splitTime !== null && seconds > params.splitTime) reason = 'time';
    else if (params.splitDistance !== null && metres > params.splitDistance) reason = 'distance';
    if (reason) {
      splits.push({ before: prev, after: pic, reason, value: Math.round((reason === 'time' ? seconds : metres) * 100) / 100 });
      sequences.push([pic]);
    } else {
      sequences[sequences.length - 1]!.push(pic);
    }
  }
  return { sequences, splits };
}

/** Whether `b` duplicates `a`; the distance and angle when it does. */
function duplicateOf(a: DispatchPicture, b: DispatchPicture, params: DispatchParams): { distance: number; angle: number | null } | null {
  const distance = haversine(a, b);
  if (params.duplicateDistance === null || distance > params.duplicateDistance) return null;
  // A 360° picture sees every direction; a picture without a real heading cannot be compared.
  const comparable = a.heading !== null && b.heading !== null && a.projection === 'perspective' && b.projection === 'perspective';
  if (!comparable || params.duplicateRotation === null) return { distance, angle: null };
  const angle = angleBetween(a.heading!, b.heading!);
  return angle <= params.duplicateRotation ? { distance, angle } : null;
}

/**
 * Removes pictures too close to an earlier kept picture of the same (sorted) sequence, looking
 * at every pair within the distance through a spatial grid (no neighbour cap).
 */
export function findDuplicates(sequence: DispatchPicture[], params: DispatchParams): { kept: DispatchPicture[]; duplicates: Duplicate[] } {
  if (params.duplicateDistance === null || sequence.length < 2) return { kept: sequence, duplicates: [] };
  // Cells of about the duplicate distance; neighbours are in the 3×3 block around a cell.
  const cellLat = Math.max(params.duplicateDistance, 0.01) / 111_320;
  const meanLat = sequence.reduce((s, p) => s + p.lat, 0) / sequence.length;
  const cellLon = cellLat / Math.max(Math.cos((meanLat * Math.PI) / 180), 0.01);
  const cellOf = (p: DispatchPicture) => [Math.floor(p.lon / cellLon), Math.floor(p.lat / cellLat)] as const;
  const grid = new Map<string, number[]>();
  sequence.forEach((p, i) => {
    const [cx, cy] = cellOf(p);
    const key = `${cx}:${cy}`;
    const list = grid.get(key) ?? [];
    list.push(i);
    grid.set(key, list);
  });
  const flagged = new Set<number>();
  const kept: DispatchPicture[] = [];
  const duplicates: Duplicate[] = [];
  sequence.forEach((pic, i) => {
    if (flagged.has(i)) return;
    kept.push(pic);
    const [cx, cy] = cellOf(pic);
    for (let dx = -1; dx <= 1; dx++) {
      for (let dy = -1; dy <= 1; dy++) {
        for (const j of grid.get(`${cx + dx}:${cy + dy}`) ?? []) {
          if (j <= i || flagged.has(j)) continue;
          const found = duplicateOf(pic, sequence[j]!, params);
          if (!found) continue;
          flagged.add(j);
          duplicates.push({
            picture: sequence[j]!,
            duplicateOf: pic,
            distance: Math.round(found.distance * 100) / 100,
            angle: found.angle === null ? null : Math.round(found.angle * 10) / 10,
          });
        }
      }
    }
  });
  return { kept, duplicates };
}

/** Sort, split, then de-duplicate inside each sequence (Panoramax's order of operations). */
export function dispatchPictures(pictures: DispatchPicture[], params: DispatchParams): DispatchReport {
  const timeSource = chooseTimeSource(pictures);
  const sorted = sortPictures(pictures, params.sortMethod, timeSource);
  const { sequences, splits } = splitInSequences(sorted, params, timeSource);
  const duplicates: Duplicate[] = [];
  const clean = sequences.map((seq) => {
    const r = findDuplicates(seq, params);
    duplicates.push(...r.duplicates);
    return r.kept;
  });
  return { sequences: clean, duplicates, splits, timeSource };
}
