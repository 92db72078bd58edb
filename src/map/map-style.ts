/** Zoom levels of the layers of the vector tiles. */
export const GRID_MAX_ZOOM = 6; // the grid below it
export const SEQUENCES_MIN_ZOOM = 6;
export const PICTURES_MIN_ZOOM = 14;
export const FOOTPRINTS_MIN_ZOOM = 2;
/** Tiles above this zoom are overzoomed by the client from this one (it holds every picture already). */
export const SOURCE_MAX_ZOOM = 15;

/** A MapLibre style (version 8) drawing the layers of the tiles; to be used over a base map. */
export function mapStyle(publicUrl: string): Record<string, unknown> {
  const base = publicUrl.replace(/\/$/, '');
  return {
    version: 8,
    name: 'Sightline pictures',
    metadata: { 'sightline:layers': ['grid', 'sequences', 'footprints', 'pictures'] },
    sources: {
      sightline: {
        type: 'vector',
        tiles: [`${base}/api/map/{z}/{x}/{y}.mvt`],
        minzoom: 0,
        maxzoom: SOURCE_MAX_ZOOM,
        attribution: 'Pictures © their authors, via Sightline',
      },
      'sightline-footprints': {
        type: 'vector',
        tiles: [`${base}/api/map/footprints/{z}/{x}/{y}.mvt`],
        minzoom: FOOTPRINTS_MIN_ZOOM,
        maxzoom: SOURCE_MAX_ZOOM,
        attribution: 'Datasets and harvested records via Sightline',
      },
    },
    layers: [
      {
        id: 'sightline-grid',
        type: 'fill',
        source: 'sightline',
        'source-layer': 'grid',
        maxzoom: GRID_MAX_ZOOM,
        paint: {
          'fill-color': ['interpolate', ['linear'], ['get', 'count'], 1, '#fee0b6', 100, '#fdb863', 10000, '#e66101', 1000000, '#b2182b'],
          'fill-opacity': 0.6,
          'fill-outline-color': '#ffffff',
        },
      },
      {
        id: 'sightline-footprints',
        type: 'line',
        source: 'sightline-footprints',
        'source-layer': 'footprints',
        minzoom: FOOTPRINTS_MIN_ZOOM,
        paint: { 'line-color': '#5e3c99', 'line-width': 1.5, 'line-opacity': 0.8 },
      },
      {
        id: 'sightline-sequences',
        type: 'line',
        source: 'sightline',
        'source-layer': 'sequences',
        minzoom: SEQUENCES_MIN_ZOOM,
        layout: { 'line-cap': 'round', 'line-join': 'round' },
        paint: {
          'line-color': '#e66101',
          'line-width': ['interpolate', ['linear'], ['zoom'], SEQUENCES_MIN_ZOOM, 1, PICTURES_MIN_ZOOM, 3, 20, 6],
          'line-opacity': 0.9,
        },
      },
      {
        id: 'sightline-pictures',
        type: 'circle',
        source: 'sightline',
        'source-layer': 'pictures',
        minzoom: PICTURES_MIN_ZOOM,
        paint: {
          'circle-radius': ['interpolate', ['linear'], ['zoom'], PICTURES_MIN_ZOOM, 3, 20, 8],
          'circle-color': '#ffffff',
          'circle-stroke-color': '#e66101',
          'circle-stroke-width': 2,
        },
      },
    ],
  };
}
