/**
 * CQL2 JSON, the one representation filters are compiled from: CQL2 text is parsed into it.
 * See OGC 21-065r2 (Common Query Language, CQL2 1.0.0).
 */
export type Cql2Node =
  | boolean
  | number
  | string
  | null
  | Cql2Node[]
  | Cql2Op
  | { property: string }
  | { timestamp: string }
  | { date: string }
  | { interval: Cql2Node[] }
  | { bbox: number[] }
  | GeoJsonGeometry;

export interface Cql2Op {
  op: string;
  args: Cql2Node[];
}

export interface GeoJsonGeometry {
  type: 'Point' | 'LineString' | 'Polygon' | 'MultiPoint' | 'MultiLineString' | 'MultiPolygon' | 'GeometryCollection';
  coordinates?: unknown;
  geometries?: GeoJsonGeometry[];
}

/** A problem in a filter that the caller can fix: answered with 400. */
export class Cql2Error extends Error {
  constructor(
    message: string,
    readonly position?: number,
  ) {
    super(message);
    this.name = 'Cql2Error';
  }
}

/** The CQL2 temporal functions (lower case), shared by the text parser and the compiler. */
export const TEMPORAL_FUNCTIONS: ReadonlySet<string> = new Set([
  't_after',
  't_before',
  't_contains',
  't_disjoint',
  't_during',
  't_equals',
  't_finishedby',
  't_finishes',
  't_intersects',
  't_meets',
  't_metby',
  't_overlappedby',
  't_overlaps',
  't_startedby',
  't_starts',
]);

/** The CQL2 array functions (lower case). */
export const ARRAY_FUNCTIONS: ReadonlySet<string> = new Set(['a_equals', 'a_contains', 'a_containedby', 'a_overlaps']);
