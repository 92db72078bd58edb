/** The conformance classes the STAC API advertises (and the e2e tests hold it to). */

const STAC = 'https://api.stacspec.org/v1.0.0';
const STAC_RC1 = 'https://api.stacspec.org/v1.0.0-rc.1';
const STAC_RC2 = 'https://api.stacspec.org/v1.0.0-rc.2';
const OAF1 = 'http://www.opengis.net/spec/ogcapi-features-1/1.0/conf';
const OAF3 = 'http://www.opengis.net/spec/ogcapi-features-3/1.0/conf';
const CQL2 = 'http://www.opengis.net/spec/cql2/1.0/conf';

export const CONFORMANCE_CLASSES: readonly string[] = [
  // STAC API core, collections (features) and item search.
  `${STAC}/core`,
  `${STAC}/collections`,
  `${STAC}/ogcapi-features`,
  `${STAC}/item-search`,
  // Extensions bound to item search and to /collections/{id}/items.
  `${STAC}/item-search#fields`,
  `${STAC}/item-search#sort`,
  `${STAC}/item-search#filter`,
  `${STAC_RC2}/item-search#filter`,
  `${STAC}/ogcapi-features#fields`,
  `${STAC}/ogcapi-features#sort`,
  `${STAC}/ogcapi-features#filter`,
  `${STAC_RC2}/ogcapi-features#filter`,
  `${STAC_RC1}/item-search#free-text`,
  `${STAC_RC1}/ogcapi-features#free-text`,
  // Collection search on GET /collections.
  `${STAC_RC1}/collection-search`,
  `${STAC_RC1}/collection-search#free-text`,
  `${STAC_RC1}/collection-search#filter`,
  `${STAC_RC1}/collection-search#sort`,
  `${STAC_RC1}/collection-search#fields`,
  'http://www.opengis.net/spec/ogcapi-common-2/1.0/conf/simple-query',
  // OGC API - Features part 1 and part 3.
  `${OAF1}/core`,
  `${OAF1}/oas30`,
  `${OAF1}/geojson`,
  `${OAF3}/queryables`,
  `${OAF3}/filter`,
  `${OAF3}/features-filter`,
  // CQL2 1.0.0.
  `${CQL2}/basic-cql2`,
  `${CQL2}/cql2-text`,
  `${CQL2}/cql2-json`,
  `${CQL2}/advanced-comparison-operators`,
  `${CQL2}/case-insensitive-comparison`,
  `${CQL2}/basic-spatial-functions`,
  `${CQL2}/basic-spatial-functions-plus`,
  `${CQL2}/spatial-functions`,
  `${CQL2}/temporal-functions`,
  `${CQL2}/array-functions`,
  `${CQL2}/property-property`,
  // Pre-1.0 names of the same classes ("operators" before they became "functions"): QGIS and
  // stac-api-validator still look for them; newer clients ignore URIs they do not know.
  `${CQL2}/basic-spatial-operators`,
  `${CQL2}/spatial-operators`,
  `${CQL2}/temporal-operators`,
];

export const STAC_VERSION = '1.0.0';
export const QUERYABLES_REL = 'http://www.opengis.net/def/rel/ogc/1.0/queryables';
export const OPENAPI_MEDIA_TYPE = 'application/vnd.oai.openapi+json;version=3.0';
