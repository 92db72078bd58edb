import { Column, ColumnOptions } from 'typeorm';

/** GeoJSON geometry types, as stored in PostGIS (always SRID 4326, WGS 84 lon/lat). */
export type GeometryType = 'Point' | 'LineString' | 'Polygon' | 'MultiPoint' | 'MultiLineString' | 'MultiPolygon' | 'GeometryCollection' | 'Geometry';

export type Position = number[];
export interface Geometry {
  type: Exclude<GeometryType, 'Geometry'>;
  coordinates?: unknown;
  geometries?: Geometry[];
}
export interface Point extends Geometry {
  type: 'Point';
  coordinates: Position;
}
export interface Polygon extends Geometry {
  type: 'Polygon';
  coordinates: Position[][];
}

export const SRID = 4326;

/**
 * A PostGIS geometry column in SRID 4326. The postgres driver of TypeORM reads and writes
 * such columns as GeoJSON objects (ST_GeomFromGeoJSON in, ST_AsGeoJSON out).
 */
export function GeometryColumn(type: GeometryType, options: Omit<ColumnOptions, 'type'> = {}): PropertyDecorator {
  return Column({
    ...options,
    type: 'geometry',
    spatialFeatureType: type,
    srid: SRID,
  });
}

/** SQL that turns a bound GeoJSON parameter into a geometry in SRID 4326. */
export function geomFromGeoJsonSql(param: string): string {
  return `ST_SetSRID(ST_GeomFromGeoJSON(${param}), ${SRID})`;
}

/** SQL that reads a geometry column as a GeoJSON object (json). */
export function geomToGeoJsonSql(column: string, maxDecimals = 9): string {
  return `ST_AsGeoJSON(${column}, ${maxDecimals})::json`;
}

export function point(lon: number, lat: number): Point {
  return { type: 'Point', coordinates: [lon, lat] };
}

/** A closed polygon for a [west, south, east, north] box. */
export function bboxPolygon([w, s, e, n]: [number, number, number, number]): Polygon {
  return {
    type: 'Polygon',
    coordinates: [
      [
        [w, s],
        [e, s],
        [e, n],
        [w, n],
        [w, s],
      ],
    ],
  };
}
