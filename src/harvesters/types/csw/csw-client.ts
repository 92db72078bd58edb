import { RemoteError, type RemoteHttp } from '../../remote-http.js';
import { buildFilter, type CswConstraints } from './csw-filter.js';
import { child, children, descendants, exceptionOf, readCswXml, type XmlElement } from './csw-xml.js';

/** The record schemas Sightline reads: Dublin Core (csw:Record) and ISO 19139 (gmd:MD_Metadata). */
export type CswOutputSchema = 'dc' | 'iso19139';

export const OUTPUT_SCHEMA_URI: Record<CswOutputSchema, string> = {
  dc: 'http://www.opengis.net/cat/csw/2.0.2',
  iso19139: 'http://www.isotc211.org/2005/gmd',
};

export const DEFAULT_TYPE_NAMES: Record<CswOutputSchema, string> = { dc: 'csw:Record', iso19139: 'gmd:MD_Metadata' };

/** What a CSW's GetCapabilities says. */
export interface CswCapabilities {
  title: string;
  abstract: string | null;
  keywords: string[];
  /** ows:ServiceTypeVersion values. */
  versions: string[];
  /** Operation names (GetCapabilities, GetRecords, GetRecordById…). */
  operations: string[];
  /** GetRecords outputSchema values. */
  outputSchemas: string[];
  /** GetRecords typeNames values. */
  typeNames: string[];
  /** Every queryable the server lists (SupportedISOQueryables, SupportedDublinCoreQueryables, AdditionalQueryables). */
  queryables: string[];
}

export interface GetRecordsQuery {
  outputSchema: CswOutputSchema;
  typeNames?: string;
  /** 1-based. */
  startPosition: number;
  maxRecords: number;
  constraints?: CswConstraints;
  /** `full` (default), or `brief` when identifiers are enough. */
  elementSet?: 'brief' | 'summary' | 'full';
}

/** One page of a GetRecords answer. */
export interface CswPage {
  matched: number;
  returned: number;
  /** 0 when this is the last page. */
  nextRecord: number;
  /** The csw:Record / gmd:MD_Metadata elements of the page. */
  records: XmlElement[];
  /** What was applied to the query, in words. */
  applied: string[];
}

/** The endpoint URL with CSW key-value parameters set (those it carries already are kept). */
export function kvpUrl(endpoint: string, params: Record<string, string>): string {
  const url = new URL(endpoint);
  const lower = new Set(Object.keys(params).map((k) => k.toLowerCase()));
  for (const key of [...url.searchParams.keys()]) if (lower.has(key.toLowerCase())) url.searchParams.delete(key);
  for (const [key, value] of Object.entries(params)) url.searchParams.set(key, value);
  return url.toString();
}

export function capabilitiesUrl(endpoint: string): string {
  return kvpUrl(endpoint, { service: 'CSW', version: '2.0.2', request: 'GetCapabilities' });
}

/** The GetRecordById address of a record: its `via` link and remote URL. */
export function recordByIdUrl(endpoint: string, id: string, schema: CswOutputSchema): string {
  return kvpUrl(endpoint, { service: 'CSW', version: '2.0.2', request: 'GetRecordById', id, elementSetName: 'full', outputSchema: OUTPUT_SCHEMA_URI[schema] });
}

const XML_ACCEPT = 'application/xml, text/xml;q=0.9, */*;q=0.1';

function values(parent: XmlElement | undefined, element: string, name: string): string[] {
  return children(parent, element)
    .filter((p) => p.attrs.name?.toLowerCase() === name.toLowerCase())
    .flatMap((p) => children(p, 'Value').map((v) => v.text))
    .filter(Boolean);
}

/** Reads GetCapabilities; a non-CSW answer is a RemoteError saying what came. */
export async function getCapabilities(http: RemoteHttp, endpoint: string, signal?: AbortSignal): Promise<CswCapabilities> {
  const response = await http.request(capabilitiesUrl(endpoint), { headers: { accept: XML_ACCEPT }, signal }).catch((error: unknown) => {
    throw exceptionOf(error);
  });
  const root = readCswXml(response, ['Capabilities']);
  const identification = child(root, 'ServiceIdentification');
  const serviceType = child(identification, 'ServiceType')?.text;
  if (serviceType && serviceType.toUpperCase() !== 'CSW') {
    throw new RemoteError(`${response.url} describes a ${serviceType} service, not a CSW`, response.url, response.status);
  }
  const operationsMetadata = child(root, 'OperationsMetadata');
  const operations = children(operationsMetadata, 'Operation');
  const getRecords = operations.find((o) => o.attrs.name === 'GetRecords');
  const queryables = ['SupportedISOQueryables', 'SupportedDublinCoreQueryables', 'AdditionalQueryables'].flatMap((name) => [
    ...values(getRecords, 'Constraint', name),
    ...values(operationsMetadata, 'Constraint', name),
  ]);
  return {
    title: child(identification, 'Title')?.text || new URL(response.url).host,
    abstract: child(identification, 'Abstract')?.text || null,
    keywords: descendants(identification, 'Keyword')
      .map((k) => k.text)
      .filter(Boolean),
    versions: children(identification, 'ServiceTypeVersion').map((v) => v.text),
    operations: operations.map((o) => o.attrs.name).filter(Boolean),
    outputSchemas: values(getRecords, 'Parameter', 'outputSchema'),
    typeNames: [...values(getRecords, 'Parameter', 'typeNames'), ...values(getRecords, 'Parameter', 'typeName')],
    queryables: [...new Set(queryables)],
  };
}

/** The GetRecords request document (CSW 2.0.2, POST XML). */
export function getRecordsXml(query: GetRecordsQuery): { xml: string; applied: string[] } {
  const filter = buildFilter(query.constraints ?? {});
  const typeNames = query.typeNames ?? DEFAULT_TYPE_NAMES[query.outputSchema];
  const constraint = filter.xml ? `\n    <csw:Constraint version="1.1.0">${filter.xml}</csw:Constraint>` : '';
  const xml =
    '<?xml version="1.0" encoding="UTF-8"?>\n' +
    '<csw:GetRecords xmlns:csw="http://www.opengis.net/cat/csw/2.0.2" xmlns:ogc="http://www.opengis.net/ogc" xmlns:gml="http://www.opengis.net/gml"' +
    ' xmlns:ows="http://www.opengis.net/ows" xmlns:dc="http://purl.org/dc/elements/1.1/" xmlns:dct="http://purl.org/dc/terms/"' +
    ' xmlns:gmd="http://www.isotc211.org/2005/gmd" xmlns:apiso="http://www.opengis.net/cat/csw/apiso/1.0"' +
    ` service="CSW" version="2.0.2" resultType="results" startPosition="${query.startPosition}" maxRecords="${query.maxRecords}"` +
    ` outputFormat="application/xml" outputSchema="${OUTPUT_SCHEMA_URI[query.outputSchema]}">\n` +
    `  <csw:Query typeNames="${typeNames.replace(/[^\w:., -]/g, '')}">\n` +
    `    <csw:ElementSetName>${query.elementSet ?? 'full'}</csw:ElementSetName>${constraint}\n` +
    '  </csw:Query>\n' +
    '</csw:GetRecords>\n';
  return { xml, applied: filter.applied };
}

function count(value: string | undefined, what: string, url: string): number {
  const n = Number(value);
  if (value === undefined || value === '' || !Number.isInteger(n) || n < 0)
    throw new RemoteError(`the GetRecords answer of ${url} has no valid ${what} (${JSON.stringify(value ?? null)})`, url);
  return n;
}

/** One GetRecords page (POST). A failed or unreadable page is a RemoteError. */
export async function getRecords(http: RemoteHttp, endpoint: string, query: GetRecordsQuery, signal?: AbortSignal): Promise<CswPage> {
  const { xml, applied } = getRecordsXml(query);
  const response = await http
    .request(endpoint, { method: 'POST', body: xml, headers: { 'content-type': 'application/xml; charset=utf-8', accept: XML_ACCEPT }, signal })
    .catch((error: unknown) => {
      throw exceptionOf(error);
    });
  const root = readCswXml(response, ['GetRecordsResponse']);
  const results = child(root, 'SearchResults');
  if (!results) throw new RemoteError(`the GetRecords answer of ${response.url} has no csw:SearchResults`, response.url, response.status);
  const records = results.children.filter(
    (c) => c.name === 'Record' || c.name === 'SummaryRecord' || c.name === 'BriefRecord' || c.name === 'MD_Metadata' || c.name === 'MI_Metadata',
  );
  const matched = count(results.attrs.numberOfRecordsMatched, 'numberOfRecordsMatched', response.url);
  const returned = results.attrs.numberOfRecordsReturned === undefined ? records.length : count(results.attrs.numberOfRecordsReturned, 'numberOfRecordsReturned', response.url);
  // Some servers leave nextRecord out on the last page.
  const nextRecord = results.attrs.nextRecord === undefined ? 0 : count(results.attrs.nextRecord, 'nextRecord', response.url);
  return { matched, returned, nextRecord, records, applied };
}

/** The one record of a GetRecordById answer, or null when the server has none by that id. */
export async function getRecordById(http: RemoteHttp, endpoint: string, id: string, schema: CswOutputSchema, signal?: AbortSignal): Promise<XmlElement | null> {
  const response = await http.request(recordByIdUrl(endpoint, id, schema), { headers: { accept: XML_ACCEPT }, signal }).catch((error: unknown) => {
    throw exceptionOf(error);
  });
  const root = readCswXml(response, ['GetRecordByIdResponse']);
  return root.children[0] ?? null;
}
