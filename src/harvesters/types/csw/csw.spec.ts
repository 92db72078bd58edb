import { Ajv } from 'ajv';
import addFormatsPlugin from 'ajv-formats';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { after, describe, it } from 'node:test';
import { sharedPath } from '../../../../test/support/env.js';
import { drain, harvestContext, remoteHttp } from '../../../../test/support/harvest-context.js';
import { RemoteServer, type ReceivedRequest } from '../../../../test/support/remote-server.js';
import type { Listed, RemoteRecord, RemoteRecordFailure } from '../../harvester-type.js';
import { itemFields } from '../../record-mapping.js';
import { getCapabilities, getRecordById, getRecords } from './csw-client.js';
import { buildFilter } from './csw-filter.js';
import { latitudeFirst, summarizeRecord, toRemoteRecord, toRfc3339 } from './csw-records.js';
import { child, children, parseXml, readCswXml, type XmlElement } from './csw-xml.js';
import { CSW_CONFIG_SCHEMA, CswHarvesterType } from './csw.harvester-type.js';

const addFormats = ((addFormatsPlugin as unknown as { default?: unknown }).default ?? addFormatsPlugin) as (ajv: Ajv) => Ajv;

const fixture = (name: string) => sharedPath('fixtures', 'harvest', 'csw', name);
const text = (name: string) => readFileSync(fixture(name), 'utf8');
const XML = { 'content-type': 'application/xml' };
// No retries: a failing page fails at once.
const http = remoteHttp({ HARVEST_HTTP_RETRIES: '0' });

const records = (listed: Listed[]): RemoteRecord[] => listed.flatMap((l) => ('record' in l ? [l.record] : []));
const failures = (listed: Listed[]): RemoteRecordFailure[] => listed.flatMap((l) => ('failure' in l ? [l.failure] : []));

/** The GetRecords parameters that matter, from a request body. */
function getRecordsParams(body: string) {
  const root = parseXml(body);
  const query = child(root, 'Query');
  const filter = child(child(query, 'Constraint'), 'Filter');
  return {
    root: root.name,
    service: root.attrs.service,
    version: root.attrs.version,
    resultType: root.attrs.resultType,
    startPosition: root.attrs.startPosition,
    maxRecords: root.attrs.maxRecords,
    outputSchema: root.attrs.outputSchema,
    typeNames: query?.attrs.typeNames,
    elementSet: child(query, 'ElementSetName')?.text,
    filter,
  };
}

/**
 * A CSW at /csw: GetCapabilities (GET) from `capabilities`, GetRecords (POST) answered by
 * `page(startPosition)`, GetRecordById (GET) by `byId(id)`.
 */
function cswServer(options: { capabilities?: string; page?: (start: number, request: ReceivedRequest) => string | null; byId?: (id: string) => string | null }) {
  const server = new RemoteServer();
  server.route('/csw', (request, res) => {
    const query = new URL(request.url, 'http://x').searchParams;
    const operation = (query.get('request') ?? '').toLowerCase();
    let body: string | null = null;
    if (request.method === 'GET' && operation === 'getcapabilities') body = options.capabilities ?? text('01-GetCapabilities.xml');
    else if (request.method === 'GET' && operation === 'getrecordbyid') body = options.byId?.(query.get('id') ?? '') ?? null;
    else if (request.method === 'POST') body = options.page?.(Number(getRecordsParams(request.body).startPosition), request) ?? null;
    if (body === null) res.writeHead(404, { 'content-type': 'text/plain' }).end('no such page');
    else res.writeHead(200, XML).end(body);
  });
  return server;
}

describe('CSW XML reading', () => {
  it('decodes the predefined entities once and keeps text, attributes and CDATA', () => {
    const root = parseXml('<a x:b="1&amp;2" xmlns:x="urn:x"><x:c>Ocean &amp;gt; Pacific &#x41;&#66;</x:c><d><![CDATA[a &amp; <b>]]></d></a>');
    assert.equal(root.attrs.b, '1&2');
    assert.equal(child(root, 'c')?.text, 'Ocean &gt; Pacific AB');
    assert.equal(child(root, 'd')?.text, 'a &amp; <b>');
  });

  it('does not expand the entities of a DOCTYPE (billion laughs)', () => {
    const lol = ['<!ENTITY lol0 "lol">', ...Array.from({ length: 9 }, (_, i) => `<!ENTITY lol${i + 1} "${`&lol${i};`.repeat(10)}">`)].join('');
    const started = Date.now();
    const root = parseXml(`<?xml version="1.0"?><!DOCTYPE lolz [${lol}]><lolz>&lol9;</lolz>`);
    assert.equal(root.text, '&lol9;');
    assert.ok(Date.now() - started < 1000);
  });

  it('refuses an external entity and reads no file (XXE)', () => {
    const xxe = '<?xml version="1.0"?><!DOCTYPE r [<!ENTITY x SYSTEM "file:///etc/passwd">]><r>&x;</r>';
    let read: XmlElement | undefined;
    try {
      read = parseXml(xxe);
    } catch (error) {
      assert.match((error as Error).message, /external entit/i);
    }
    assert.ok(!read || !read.text.includes('root:'), 'the file was not read');
  });

  it('names what came instead of CSW XML: HTML, garbage, another XML document', () => {
    const response = (body: string, type: string) => ({ body: Buffer.from(body), headers: { 'content-type': type }, url: 'http://remote/csw', status: 200 });
    assert.throws(
      () => readCswXml(response('<!DOCTYPE html><html><head><title>Login</title></head><body><p>Sign in<br></body></html>', 'text/html; charset=utf-8'), ['Capabilities']),
      /^RemoteError: expected CSW XML from http:\/\/remote\/csw, got text\/html; charset=utf-8 .*starting "<!DOCTYPE html><html><head><title>Login/,
    );
    assert.throws(
      () => readCswXml(response('<html><body>hi</body></html>', 'text/html'), ['Capabilities']),
      /expected CSW XML from http:\/\/remote\/csw, got text\/html \(an HTML page\)/,
    );
    assert.throws(
      () => readCswXml(response('\u0000\u0001 binary garbage', 'application/octet-stream'), ['Capabilities']),
      /expected CSW XML from http:\/\/remote\/csw, got application\/octet-stream starting/,
    );
    assert.throws(() => readCswXml(response('<rss><channel/></rss>', 'application/rss+xml'), ['Capabilities']), /got application\/rss\+xml \(a rss document, not Capabilities\)/);
  });

  it('gives an ows:ExceptionReport its exception text', () => {
    const report =
      '<?xml version="1.0"?><ows:ExceptionReport xmlns:ows="http://www.opengis.net/ows" version="1.2.0"><ows:Exception exceptionCode="InvalidParameterValue" locator="outputschema">' +
      '<ows:ExceptionText>Invalid outputSchema parameter value: urn:nope</ows:ExceptionText></ows:Exception></ows:ExceptionReport>';
    assert.throws(
      () => readCswXml({ body: Buffer.from(report), headers: XML, url: 'http://remote/csw', status: 200 }, ['GetRecordsResponse']),
      /the CSW at http:\/\/remote\/csw answered an exception: InvalidParameterValue \(outputschema\): Invalid outputSchema parameter value: urn:nope/,
    );
  });
});

describe('CSW record mapping', () => {
  it('reads box axes by CRS: EPSG URNs latitude first, CRS84 and EPSG:4326 longitude first', () => {
    assert.equal(latitudeFirst('urn:ogc:def:crs:EPSG::4326'), true);
    assert.equal(latitudeFirst('urn:x-ogc:def:crs:EPSG:6.11:4326'), true);
    assert.equal(latitudeFirst('http://www.opengis.net/def/crs/EPSG/0/4326'), true);
    assert.equal(latitudeFirst('urn:ogc:def:crs:OGC:1.3:CRS84'), false);
    assert.equal(latitudeFirst('EPSG:4326'), false);
    assert.equal(latitudeFirst(undefined), false);
    assert.equal(latitudeFirst('urn:ogc:def:crs:EPSG::3857'), null);
    const record = parseXml(
      '<csw:Record xmlns:csw="c" xmlns:dc="d" xmlns:ows="o"><dc:identifier>a</dc:identifier><dc:date>2020-01-02</dc:date>' +
        '<ows:BoundingBox crs="urn:ogc:def:crs:EPSG::4326"><ows:LowerCorner>59.9 10.7</ows:LowerCorner><ows:UpperCorner>60.1 10.9</ows:UpperCorner></ows:BoundingBox></csw:Record>',
    );
    assert.deepEqual(summarizeRecord(record).bbox, [10.7, 59.9, 10.9, 60.1]);
    const crs84 = parseXml(
      '<csw:Record xmlns:csw="c" xmlns:dc="d" xmlns:ows="o"><dc:identifier>a</dc:identifier><dc:date>2020-01-02</dc:date>' +
        '<ows:BoundingBox crs="urn:ogc:def:crs:OGC:1.3:CRS84"><ows:LowerCorner>170 -10</ows:LowerCorner><ows:UpperCorner>-170 10</ows:UpperCorner></ows:BoundingBox></csw:Record>',
    );
    const mapped = toRemoteRecord(summarizeRecord(crs84), 'http://remote/csw');
    assert.equal(mapped.geometry?.type, 'MultiPolygon', 'a box across the antimeridian is two polygons');
    const projected = parseXml(
      '<csw:Record xmlns:csw="c" xmlns:dc="d" xmlns:ows="o"><dc:identifier>a</dc:identifier><dc:date>2020-01-02</dc:date>' +
        '<ows:BoundingBox crs="urn:ogc:def:crs:EPSG::3857"><ows:LowerCorner>1000 2000</ows:LowerCorner><ows:UpperCorner>3000 4000</ows:UpperCorner></ows:BoundingBox></csw:Record>',
    );
    assert.equal(toRemoteRecord(summarizeRecord(projected), 'http://remote/csw').geometry, null);
    const impossible = parseXml(
      '<csw:Record xmlns:csw="c" xmlns:dc="d" xmlns:ows="o"><dc:identifier>a</dc:identifier><dc:date>2020-01-02</dc:date>' +
        '<ows:BoundingBox crs="urn:ogc:def:crs:EPSG::4326"><ows:LowerCorner>100 10</ows:LowerCorner><ows:UpperCorner>110 20</ows:UpperCorner></ows:BoundingBox></csw:Record>',
    );
    assert.throws(() => toRemoteRecord(summarizeRecord(impossible), 'http://remote/csw'), /bounding box cannot be read: latitudes 100..110 are out of range/);
  });

  it('normalises dates: partial dates, zoneless times, ends of periods', () => {
    assert.equal(toRfc3339('2006-05-12'), '2006-05-12T00:00:00Z');
    assert.equal(toRfc3339('2014'), '2014-01-01T00:00:00Z');
    assert.equal(toRfc3339('2014', true), '2014-12-31T23:59:59Z');
    assert.equal(toRfc3339('2024-02', true), '2024-02-29T23:59:59Z');
    assert.equal(toRfc3339('2024-07-05T13:35:37'), '2024-07-05T13:35:37Z');
    assert.equal(toRfc3339('2024-07-05T13:35:37+02:00'), '2024-07-05T11:35:37Z');
    assert.equal(toRfc3339('yesterday'), null);
    assert.equal(toRfc3339('2024-13-01'), null);
  });

  it('maps a file reference by its scheme and extension: GeoTIFF data, thumbnails, OGC services as links', () => {
    const record = parseXml(
      '<csw:Record xmlns:csw="c" xmlns:dc="d" xmlns:dct="t"><dc:identifier>r1</dc:identifier><dct:modified>2021-03-04T05:06:07Z</dct:modified>' +
        '<dct:references scheme="WWW:DOWNLOAD-1.0-http--download">https://data.example.org/dem/tile_01.tif</dct:references>' +
        '<dct:references scheme="WWW:LINK-1.0-http--image-thumbnail">https://data.example.org/dem/tile_01.png</dct:references>' +
        '<dct:references scheme="OGC:WMS">https://maps.example.org/wms</dct:references>' +
        '<dct:references scheme="OGC:WFS">https://maps.example.org/wfs</dct:references>' +
        '<dct:references>https://maps.example.org/wms</dct:references>' +
        '<dct:references scheme="WWW:LINK">https://example.org/about.html</dct:references>' +
        '<dc:rights>CC BY 4.0</dc:rights><dct:license>https://creativecommons.org/licenses/by/4.0/</dct:license></csw:Record>',
    );
    const mapped = toRemoteRecord(summarizeRecord(record), 'http://remote/csw?profile=x');
    assert.deepEqual(mapped.assets, {
      tile_01: { href: 'https://data.example.org/dem/tile_01.tif', type: 'image/tiff; application=geotiff', roles: ['data'] },
      thumbnail: { href: 'https://data.example.org/dem/tile_01.png', type: 'image/png', roles: ['thumbnail'] },
    });
    assert.deepEqual(mapped.links, [
      { rel: 'wms', href: 'https://maps.example.org/wms', title: 'OGC:WMS' },
      { rel: 'alternate', href: 'https://maps.example.org/wfs', title: 'OGC:WFS' },
      { rel: 'related', href: 'https://example.org/about.html', type: 'text/html' },
      { rel: 'license', href: 'https://creativecommons.org/licenses/by/4.0/' },
    ]);
    assert.equal(mapped.properties.license, 'CC-BY-4.0');
    assert.deepEqual(mapped.properties['csw:rights'], ['CC BY 4.0']);
    assert.equal(mapped.properties.datetime, '2021-03-04T05:06:07Z');
    assert.equal(mapped.remoteUpdated, '2021-03-04T05:06:07Z');
    const via = new URL(mapped.remoteUrl!);
    assert.deepEqual(Object.fromEntries(via.searchParams), {
      profile: 'x',
      service: 'CSW',
      version: '2.0.2',
      request: 'GetRecordById',
      id: 'r1',
      elementSetName: 'full',
      outputSchema: 'http://www.opengis.net/cat/csw/2.0.2',
    });
  });

  it('fails a record without identifier or date, saying which', () => {
    const noId = parseXml('<csw:Record xmlns:csw="c" xmlns:dc="d"><dc:title>x</dc:title></csw:Record>');
    assert.throws(() => toRemoteRecord(summarizeRecord(noId), 'http://remote/csw'), /no identifier \(dc:identifier \/ gmd:fileIdentifier\)/);
    const noDate = parseXml('<csw:Record xmlns:csw="c" xmlns:dc="d"><dc:identifier>x</dc:identifier><dc:date>sometime</dc:date></csw:Record>');
    assert.throws(() => toRemoteRecord(summarizeRecord(noDate), 'http://remote/csw'), /no readable date \(dc:date or dct:modified: "sometime"\)/);
  });
});

describe('CSW harvester type on recorded pycsw and GeoNetwork answers', () => {
  const type = new CswHarvesterType();
  const servers: RemoteServer[] = [];
  const start = async (server: RemoteServer) => {
    servers.push(server);
    return `${await server.start()}/csw`;
  };
  after(async () => {
    for (const server of servers) await server.stop();
  });

  it('checks GetCapabilities (01): title, operations, no ISO output offered', async () => {
    const url = await start(cswServer({}));
    const caps = await getCapabilities(http, url);
    assert.equal(caps.title, 'pycsw Geospatial Catalogue');
    assert.deepEqual(caps.operations, ['GetCapabilities', 'DescribeRecord', 'GetDomain', 'GetRecords', 'GetRecordById', 'GetRepositoryItem']);
    assert.ok(caps.queryables.includes('dct:modified'));
    assert.ok(!caps.outputSchemas.includes('http://www.isotc211.org/2005/gmd'));
    const { context } = harvestContext(url, {}, { http });
    const check = await type.check(context);
    assert.equal(check.available, true);
    assert.match(
      check.message,
      /^pycsw Geospatial Catalogue: CSW 2\.0\.2, 3\.0\.0; operations GetCapabilities, .*GetRecords.*; ISO 19139 output not offered; records are read as Dublin Core/,
    );
  });

  it('says clearly when the answer is not a CSW: an HTML page, garbage, an exception, an unreachable host', async () => {
    const server = new RemoteServer()
      .route('/html', { headers: { 'content-type': 'text/html' }, body: '<!doctype html><html><body>Welcome to nginx!</body></html>' })
      .route('/garbage', { headers: { 'content-type': 'text/plain' }, body: 'hello' })
      .route('/exception', {
        headers: XML,
        body: '<ows:ExceptionReport xmlns:ows="http://www.opengis.net/ows"><ows:Exception exceptionCode="NoApplicableCode"><ows:ExceptionText>Database down</ows:ExceptionText></ows:Exception></ows:ExceptionReport>',
      })
      .route('/exception-400', {
        status: 400,
        headers: XML,
        body: '<ows:ExceptionReport xmlns:ows="http://www.opengis.net/ows"><ows:Exception exceptionCode="InvalidParameterValue" locator="typeNames"><ows:ExceptionText>Unknown type</ows:ExceptionText></ows:Exception></ows:ExceptionReport>',
      })
      .route('/wms', {
        headers: XML,
        body: '<Capabilities xmlns:ows="http://www.opengis.net/ows/1.1"><ows:ServiceIdentification><ows:ServiceType>WMTS</ows:ServiceType></ows:ServiceIdentification></Capabilities>',
      });
    const base = (await start(server)).replace(/\/csw$/, '');
    const check = async (path: string) => (await type.check(harvestContext(`${base}${path}`, {}, { http }).context)).message;
    assert.match(await check('/html'), new RegExp(`^expected CSW XML from ${base}/html\\?service=CSW&version=2\\.0\\.2&request=GetCapabilities, got text/html`));
    assert.match(await check('/garbage'), /expected CSW XML from .*, got text\/plain starting "hello"/);
    assert.match(await check('/exception'), /answered an exception: NoApplicableCode: Database down/);
    assert.match(await check('/exception-400'), /answered HTTP 400 with an exception: InvalidParameterValue.*Unknown type/);
    assert.match(await check('/wms'), /describes a WMTS service, not a CSW/);
    const closed = new RemoteServer();
    const closedUrl = await closed.start();
    await closed.stop();
    const unreachable = await type.check(harvestContext(`${closedUrl}/csw`, {}, { http }).context);
    assert.equal(unreachable.available, false);
    assert.match(unreachable.message, /could not reach .*ECONNREFUSED/);
  });

  it('discovers the resource of all records, and one per configured subject', async () => {
    const url = await start(cswServer({}));
    const found = [];
    for await (const resource of type.discover(harvestContext(url, { subjects: ['Vegetation', 'Land titles'] }, { http }).context)) found.push(resource);
    assert.deepEqual(
      found.map((r) => [r.remoteId, r.title, r.type]),
      [
        ['records', 'pycsw Geospatial Catalogue: all records', 'csw-records'],
        ['subject:Vegetation', 'pycsw Geospatial Catalogue: Vegetation', 'csw-records'],
        ['subject:Land titles', 'pycsw Geospatial Catalogue: Land titles', 'csw-records'],
      ],
    );
    const collection = type.collection(found[1]);
    assert.deepEqual(collection.keywords, ['Vegetation']);
    assert.match(collection.description ?? '', /^Records about "Vegetation" in pycsw Geospatial Catalogue/);
  });

  it('pages GetRecords in Dublin Core (02 → 03) as the recorded requests do, and maps each record', async () => {
    // The recorded middle page (6..9) does not exist: page 1 is served pointing at the recorded last page.
    const page1 = text('02-GetRecords-csw-Record-full-page1.xml').replace('nextRecord="6"', 'nextRecord="10"');
    const server = cswServer({ page: (start) => (start === 1 ? page1 : start === 10 ? text('03-GetRecords-csw-Record-full-lastpage.xml') : null) });
    const url = await start(server);
    const { context, logs } = harvestContext(url, { page_size: 5 }, { http });
    const { listed, end } = await drain(type.harvest(context, { remoteId: 'records', title: 'all', type: 'csw-records' }, { since: null, full: false }));

    const posts = server.requests.filter((r) => r.method === 'POST');
    assert.equal(posts.length, 2);
    for (const [index, name] of ['02-GetRecords-csw-Record-full-page1', '03-GetRecords-csw-Record-full-lastpage'].entries()) {
      const sent = getRecordsParams(posts[index].body);
      const recorded = getRecordsParams(text(`requests/${name}.request.xml`));
      assert.deepEqual({ ...sent, filter: undefined }, { ...recorded, filter: undefined }, name);
      assert.equal(sent.filter, undefined);
      assert.match(posts[index].headers['content-type'] ?? '', /^application\/xml/);
    }

    assert.equal(listed.length, 8);
    // Two records are dated; the six others have no date at all and are kept without one.
    assert.equal(failures(listed).length, 0);
    const dated = records(listed).filter((r) => r.properties.datetime);
    assert.deepEqual(
      dated.map((r) => [r.remoteId, r.properties.datetime, r.properties.title]),
      [
        ['urn:uuid:784e2afd-a9fd-44a6-9a92-a3848371c8ec', '2006-05-12T00:00:00Z', 'Aliquam fermentum purus quis arcu'],
        ['urn:uuid:e9330592-0932-474b-be34-c3a3bb67c7db', '2003-05-09T00:00:00Z', 'Fuscé vitae ligulä'],
      ],
    );
    assert.deepEqual(dated[1].properties.keywords, ['Land titles']);
    assert.deepEqual(
      records(listed)
        .filter((r) => r.properties.datetime === null)
        .map((r) => r.remoteId)
        .sort(),
      [
        'urn:uuid:19887a8a-f6b0-4a63-ae56-7fba0e17801f',
        'urn:uuid:1ef30a8b-876d-4828-9246-c37ab4510bbd',
        'urn:uuid:66ae76b7-54ba-489b-a582-0f0633d96493',
        'urn:uuid:6a3de50b-fa66-4b58-a0e6-ca146fdd18d4',
        'urn:uuid:a06af396-3105-442d-8b40-22b57a90d2f2',
        'urn:uuid:ab42a8c4-95e8-4630-bf79-33e59241605a',
      ],
    );
    // 8 of the 12 matched records were listed: the listing is not complete, so nothing may be deleted.
    assert.equal(end.exhaustive, false);
    assert.ok(logs.some((l) => /listed 8 of the 12 records/.test(l)));
  });

  it('reads the box of a pycsw record latitude first (02, urn:x-ogc:def:crs:EPSG:6.11:4326)', () => {
    const root = readCswXml({ body: Buffer.from(text('02-GetRecords-csw-Record-full-page1.xml')), headers: XML, url: 'http://remote/csw', status: 200 }, ['GetRecordsResponse']);
    const record = children(child(root, 'SearchResults'), 'Record')[1];
    assert.deepEqual(summarizeRecord(record).bbox, [13.754, 60.042, 17.92, 68.41]);
  });

  it('ends an exhaustive listing on nextRecord 0; a second record with the same identifier fails (05)', async () => {
    const url = await start(cswServer({ page: () => text('05-GetRecords-csw-Record-full-wms-services.xml') }));
    const { listed, end } = await drain(
      type.harvest(harvestContext(url, {}, { http }).context, { remoteId: 'records', title: 'all', type: 'csw-records' }, { since: null, full: true }),
    );
    assert.equal(listed.length, 4);
    assert.equal(end.exhaustive, true);
    // The first record (no date: kept without one) is read; the others repeat its identifier.
    assert.equal(records(listed).length, 1);
    assert.equal(records(listed)[0].properties.datetime, null);
    const errors = failures(listed).map((f) => f.error);
    for (const error of errors) assert.match(error, /the identifier "PYCSW_IDENTIFIER" is listed twice/);
    const summary = summarizeRecord(children(child(parseXml(text('05-GetRecords-csw-Record-full-wms-services.xml')), 'SearchResults'), 'Record')[0]);
    assert.deepEqual(summary.bbox, [-179.13, 18.92, 179.79, 71.4]);
  });

  it('lists every identifier from brief records, for deletions after incremental runs', async () => {
    const page1 = text('02-GetRecords-csw-Record-full-page1.xml').replace('nextRecord="6"', 'nextRecord="10"');
    const server = cswServer({ page: (start) => (start === 1 ? page1 : start === 10 ? text('03-GetRecords-csw-Record-full-lastpage.xml') : null) });
    const url = await start(server);
    const listing = type.listIds(harvestContext(url, {}, { http }).context, { remoteId: 'records', title: 'all', type: 'csw-records' });
    const ids: string[] = [];
    let next = await listing.next();
    for (; !next.done; next = await listing.next()) ids.push(next.value);
    assert.equal(ids.length, 8);
    assert.equal(ids[0], 'urn:uuid:19887a8a-f6b0-4a63-ae56-7fba0e17801f');
    assert.deepEqual(next.value, { complete: false }, '8 of 12 matched records');
    const sent = getRecordsParams(server.requests.find((r) => r.method === 'POST')!.body);
    assert.deepEqual([sent.elementSet, sent.maxRecords, sent.startPosition], ['brief', '100', '1']);
  });

  it('a page that fails ends the harvest with an error (nothing may be deleted)', async () => {
    const url = await start(cswServer({ page: (start) => (start === 1 ? text('02-GetRecords-csw-Record-full-page1.xml') : null) }));
    const listing = type.harvest(harvestContext(url, { page_size: 5 }, { http }).context, { remoteId: 'records', title: 'all', type: 'csw-records' }, { since: null, full: true });
    const seen: Listed[] = [];
    await assert.rejects(async () => {
      for (;;) {
        const next = await listing.next();
        if (next.done) break;
        seen.push(next.value);
      }
    }, /HTTP 404 from .*\/csw: "no such page"/);
    assert.equal(seen.length, 5);
  });

  it('harvests ISO 19139 (06): extents, temporal periods, dateStamps, service links', async () => {
    const server = cswServer({ page: (start) => (start === 1 ? text('06-GetRecords-gmd-full-page1.xml') : null) });
    const url = await start(server);
    const listing = type.harvest(
      harvestContext(url, { output_schema: 'iso19139', page_size: 5 }, { http }).context,
      { remoteId: 'records', title: 'all', type: 'csw-records' },
      { since: null, full: true },
    );
    const seen: Listed[] = [];
    await assert.rejects(async () => {
      for (;;) {
        const next = await listing.next();
        if (next.done) break;
        seen.push(next.value);
      }
    }, /HTTP 404/);
    const sent = getRecordsParams(server.requests.find((r) => r.method === 'POST')!.body);
    const recorded = getRecordsParams(text('requests/06-GetRecords-gmd-full-page1.request.xml'));
    assert.deepEqual({ ...sent, filter: undefined }, { ...recorded, filter: undefined });

    const mapped = records(seen);
    assert.deepEqual(
      mapped.map((r) => r.remoteId),
      ['3e9a8c05', '366f6257-19eb-4f20-ba78-0698ac4aae77', '75a7eb5e-336e-453d-ab06-209b1070d396', 'a7308c0a-b748-48e2-bab7-0a608a51d416', '0173e0d7-6ea9-4407-b846-f29d6bfa9903'],
    );
    const service = mapped[0];
    assert.deepEqual(service.geometry, {
      type: 'Polygon',
      coordinates: [
        [
          [19.37, 34.8],
          [29.61, 34.8],
          [29.61, 41.75],
          [19.37, 41.75],
          [19.37, 34.8],
        ],
      ],
    });
    assert.equal(service.properties.datetime, null);
    assert.equal(service.properties.start_datetime, '2011-04-18T00:00:00Z');
    assert.equal(service.properties.end_datetime, '2011-04-20T23:59:59Z');
    assert.equal(service.properties['csw:type'], 'service');
    assert.deepEqual(service.properties.keywords, ['Geographic viewer (humanGeographicViewer)', 'administration']);
    assert.equal(service.remoteUpdated, '2011-04-18T00:00:00Z');
    assert.deepEqual(service.links, [{ rel: 'wms', href: 'http://aiolos.survey.ntua.gr/geoserver/wms' }]);
    assert.match(service.remoteUrl!, /request=GetRecordById&id=3e9a8c05&elementSetName=full&outputSchema=http%3A%2F%2Fwww\.isotc211\.org%2F2005%2Fgmd$/);
    assert.equal(mapped[1].properties.title, 'Aerial Photos');
    assert.equal(mapped[1].remoteUpdated, '2009-10-09T00:00:00Z');
  });

  it('reads GetRecordById answers in both schemas (07 Dublin Core, 08 ISO 19139)', async () => {
    const url = await start(
      cswServer({
        byId: (id) =>
          id === 'NS06agg' ? text('07-GetRecordById-csw-Record-full.xml') : id === 'de53e931-778a-4792-94ad-9fe507aca483' ? text('08-GetRecordById-gmd-full.xml') : null,
      }),
    );
    const dc = toRemoteRecord(summarizeRecord((await getRecordById(http, url, 'NS06agg', 'dc'))!), url);
    assert.deepEqual(dc.geometry, { type: 'Point', coordinates: [158.22, 6.96] });
    assert.equal(dc.properties.datetime, '2014-04-16T00:00:00Z');
    assert.equal(dc.remoteUpdated, '2014-04-16T00:00:00Z');
    assert.equal((dc.properties.keywords as string[]).length, 20);
    assert.ok(
      (dc.properties.keywords as string[]).includes('Ocean &gt; Pacific Ocean &gt; United States of America &gt; Territories'),
      'an escaped entity stays as the record wrote it',
    );
    assert.deepEqual(dc.assets, { thumbnail: { href: 'http://pacioos.org/metadata/browse/NS06agg.png', type: 'image/png', roles: ['thumbnail'] } });
    assert.equal(dc.links?.length, 7);

    const iso = toRemoteRecord(summarizeRecord((await getRecordById(http, url, 'de53e931-778a-4792-94ad-9fe507aca483', 'iso19139'))!), url);
    assert.equal(iso.properties.title, 'Ortho');
    assert.deepEqual(iso.geometry, {
      type: 'Polygon',
      coordinates: [
        [
          [21.478784, 39.76001],
          [21.527317, 39.76001],
          [21.527317, 39.790341],
          [21.478784, 39.790341],
          [21.478784, 39.76001],
        ],
      ],
    });
    assert.equal(iso.properties.start_datetime, '1997-01-01T00:00:00Z');
    assert.equal(iso.properties.end_datetime, '1999-01-01T23:59:59Z');
    assert.equal(iso.remoteUpdated, '2009-10-07T00:00:00Z');
    assert.deepEqual(iso.properties.keywords, ['Orthoimagery', 'geoscientificInformation']);
  });

  it('maps INSPIRE geoportal (09) and DOV (10) GeoNetwork records', async () => {
    const server = cswServer({ page: () => text('09-GetRecords-gmd-full-inspire-geoportal.xml'), byId: () => text('10-GetRecordById-gmd-dov.xml') });
    const url = await start(server);
    const page = await getRecords(http, url, { outputSchema: 'iso19139', startPosition: 83, maxRecords: 2 });
    assert.deepEqual([page.matched, page.returned, page.nextRecord, page.records.length], [216, 2, 85, 2]);
    const [suvim, zamg] = page.records.map((r) => toRemoteRecord(summarizeRecord(r), url));
    assert.equal(suvim.remoteId, '8dad9c98-0512-4845-a2bf-3ace1c93df6f');
    assert.equal(suvim.geometry, null);
    assert.equal(suvim.properties.datetime, '2024-07-05T13:35:37Z');
    assert.equal(suvim.properties['csw:type'], 'service');
    assert.deepEqual(suvim.assets, { thumbnail: { href: 'https://www.geo.be/thumbs/uv-station-suvim.jpg', type: 'image/jpeg', roles: ['thumbnail'] } });
    assert.deepEqual(
      suvim.links?.map((l) => l.rel),
      ['wms', 'wms'],
    );
    assert.ok(!(suvim.properties.keywords as string[]).some((k) => k.includes('PT_FreeText')));
    assert.ok((suvim.properties.keywords as string[]).includes('Science and technology'), 'a gmx:Anchor keyword is read');
    assert.equal(zamg.remoteId, 'eeae2de7-0a09-4b69-b7a0-0b6b20903fd5');
    assert.deepEqual(zamg.geometry?.coordinates, [
      [
        [9.53357, 46.40749],
        [17.16639, 46.40749],
        [17.16639, 49.01875],
        [9.53357, 49.01875],
        [9.53357, 46.40749],
      ],
    ]);
    assert.equal(zamg.links?.[0].rel, 'alternate', 'a CSW service is a link, not a data asset');

    const dov = toRemoteRecord(summarizeRecord((await getRecordById(http, url, '6c39d716-aecc-4fbc-bac8-4f05a49a78d5', 'iso19139'))!), url);
    assert.equal(dov.remoteId, '6c39d716-aecc-4fbc-bac8-4f05a49a78d5');
    assert.equal(dov.properties.title, 'Grondwatermeetnetten');
    assert.equal(dov.properties.start_datetime, '1900-01-01T00:00:00Z');
    assert.deepEqual(
      Object.values(dov.assets ?? {}).map((a) => [a.type, a.roles]),
      [
        ['image/png', ['thumbnail']],
        ['image/png', ['thumbnail']],
      ],
    );
    assert.deepEqual(
      dov.links?.filter((l) => l.rel === 'wms' || l.rel === 'alternate').map((l) => [l.rel, l.title]),
      [
        ['wms', 'gw_meetnetten:meetnetten'],
        ['wms', 'gw_meetnetten:meetnetten'],
        ['wms', 'gw_meetnetten:meetnetten'],
        ['alternate', 'gw_meetnetten:meetnetten'],
        ['alternate', 'gw_meetnetten:meetnetten'],
        ['alternate', 'gw_meetnetten:meetnetten'],
      ],
    );
  });

  it('filters an incremental run on apiso:Modified when the server lists it, with the configured constraints and the subject', async () => {
    const capabilities = text('01-GetCapabilities.xml').replace(
      '<ows:Constraint name="SupportedDublinCoreQueryables">',
      '<ows:Constraint name="SupportedISOQueryables"><ows:Value>apiso:Modified</ows:Value><ows:Value>apiso:TempExtent_begin</ows:Value></ows:Constraint><ows:Constraint name="SupportedDublinCoreQueryables">',
    );
    const server = cswServer({ capabilities, page: () => text('03-GetRecords-csw-Record-full-lastpage.xml') });
    const url = await start(server);
    const config = { constraint: { anytext: 'lorem', bbox: { minx: 5, miny: 58, maxx: 31, maxy: 71 } } };
    const { end } = await drain(
      type.harvest(
        harvestContext(url, config, { http }).context,
        { remoteId: 'subject:Land titles', title: 't', type: 'csw-records' },
        { since: '2020-06-02T00:00:00Z', full: false },
      ),
    );
    assert.equal(end.exhaustive, false, 'an incremental run is never exhaustive');
    assert.equal(end.watermark, null);
    const filter = getRecordsParams(server.requests.find((r) => r.method === 'POST')!.body).filter!;
    const and = child(filter, 'And')!;
    assert.deepEqual(
      and.children.map((c) => [c.name, child(c, 'PropertyName')?.text, child(c, 'Literal')?.text ?? null]),
      [
        ['PropertyIsLike', 'dc:subject', '%Land titles%'],
        ['PropertyIsLike', 'csw:AnyText', '%lorem%'],
        ['BBOX', 'ows:BoundingBox', null],
        ['PropertyIsGreaterThanOrEqualTo', 'apiso:Modified', '2020-06-01T00:00:00.000Z'],
      ],
    );
    const envelope = child(and.children[2], 'Envelope')!;
    assert.equal(envelope.attrs.srsName, 'urn:ogc:def:crs:EPSG::4326');
    assert.equal(child(envelope, 'lowerCorner')?.text, '58 5');
    assert.equal(child(envelope, 'upperCorner')?.text, '71 31');

    // Without apiso:Modified in the capabilities, every record is listed.
    const plain = cswServer({ page: () => text('05-GetRecords-csw-Record-full-wms-services.xml') });
    const plainUrl = await start(plain);
    const { end: full } = await drain(
      type.harvest(harvestContext(plainUrl, {}, { http }).context, { remoteId: 'records', title: 't', type: 'csw-records' }, { since: '2020-06-02T00:00:00Z', full: false }),
    );
    assert.equal(full.exhaustive, true);
    assert.equal(getRecordsParams(plain.requests.find((r) => r.method === 'POST')!.body).filter, undefined);
  });

  it('escapes what a user gives in the filter', () => {
    const { xml, applied } = buildFilter({ keywords: ['a<b>&"c"', '100%_x'] });
    const filter = parseXml(xml!);
    const literals = child(filter, 'And')!.children.map((c) => child(c, 'Literal')?.text);
    assert.deepEqual(literals, ['%a<b>&"c"%', '%100\\%\\_x%']);
    assert.deepEqual(applied, ['dc:subject like "%a<b>&\\"c\\"%"', 'dc:subject like "%100\\\\%\\\\_x%"']);
  });

  it('publishes a configuration schema that accepts the documented fields and refuses others', () => {
    const validate = addFormats(new Ajv({ allErrors: true, useDefaults: true, strict: true })).compile(CSW_CONFIG_SCHEMA);
    const config: Record<string, unknown> = {
      output_schema: 'iso19139',
      type_names: 'gmd:MD_Metadata',
      constraint: { keywords: ['ocean'], anytext: 'ice', bbox: { minx: -10, miny: 50, maxx: 30, maxy: 72 }, start_datetime: '2020-01-01T00:00:00Z' },
      subjects: ['Orthoimagery'],
    };
    assert.ok(validate(config), JSON.stringify(validate.errors));
    assert.equal(config.page_size, 50, 'page_size defaults to 50');
    for (const bad of [
      { output_schema: 'fgdc' },
      { page_size: 101 },
      { page_size: 0 },
      { constraint: { bbox: { minx: 0, miny: -91, maxx: 1, maxy: 1 } } },
      { constraint: { start_datetime: 'yesterday' } },
      { type_names: 'x y; z' },
      { nope: 1 },
    ]) {
      assert.equal(validate(bad), false, JSON.stringify(bad));
    }
  });

  it('gives records the engine stores as they are (every fixture record that maps)', () => {
    const provenance = { harvesterId: 'h', sessionId: 's', remoteId: 'r', remoteUrl: null, remoteUpdated: null, contentHash: 'x' };
    let stored = 0;
    for (const name of [
      '02-GetRecords-csw-Record-full-page1.xml',
      '03-GetRecords-csw-Record-full-lastpage.xml',
      '04-GetRecords-kvp-sortby-title.xml',
      '06-GetRecords-gmd-full-page1.xml',
      '09-GetRecords-gmd-full-inspire-geoportal.xml',
      '07-GetRecordById-csw-Record-full.xml',
      '08-GetRecordById-gmd-full.xml',
      '10-GetRecordById-gmd-dov.xml',
    ]) {
      const root = parseXml(text(name));
      const elements = root.name === 'GetRecordsResponse' ? child(root, 'SearchResults')!.children : root.children;
      for (const element of elements) {
        let record: RemoteRecord;
        try {
          record = toRemoteRecord(summarizeRecord(element), 'http://remote/csw');
        } catch {
          continue;
        }
        const fields = itemFields(record, { ...provenance, remoteId: record.remoteId, remoteUrl: record.remoteUrl });
        const properties = fields.properties as Record<string, unknown>;
        // A dated record keeps its date; an undated one is stored without one.
        if (record.properties.datetime) assert.ok(fields.datetime, record.remoteId);
        else assert.ok(fields.datetime === null && (properties.start_datetime !== undefined || record.properties.datetime === null), record.remoteId);
        assert.equal(fields.links.at(-1)?.rel, 'via');
        stored++;
      }
    }
    // 15 dated records and 13 without any date.
    assert.equal(stored, 28);
  });
});
