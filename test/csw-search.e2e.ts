import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { after, before, describe, it } from 'node:test';
import { child, parseXml, type XmlElement } from '../src/harvesters/types/csw/csw-xml.js';
import { startApi, type TestApi } from './support/app.js';
import { createUser, type TestUser } from './support/auth.js';
import { sharedPath } from './support/env.js';
import { json } from './support/net.js';
import { RemoteServer } from './support/remote-server.js';

const fixture = (name: string) => readFileSync(sharedPath('fixtures', 'harvest', 'csw', name), 'utf8');

/** Each comparison of an ogc:Filter: [operator, property, literal]. */
function comparisons(filter: XmlElement | undefined): [string, string | undefined, string | undefined][] {
  const and = child(filter, 'And');
  return (and ? and.children : (filter?.children ?? [])).map((c) => [c.name, child(c, 'PropertyName')?.text, child(c, 'Literal')?.text]);
}

describe('CSW search route (POST /api/csw/search)', () => {
  let api: TestApi;
  let admin: TestUser;
  let user: TestUser;
  const remote = new RemoteServer();
  let endpoint = '';
  /** What the remote answers to the next GetRecords. */
  let answer: { status: number; type: string; body: string } = { status: 200, type: 'application/xml', body: '' };

  const search = (body: unknown, who: TestUser | null = admin) =>
    api.fetch('/api/csw/search', { method: 'POST', headers: { 'content-type': 'application/json', ...(who?.headers ?? {}) }, body: JSON.stringify(body) });
  const lastRequest = () => {
    const request = remote.requests.at(-1)!;
    assert.equal(request.method, 'POST');
    const root = parseXml(request.body);
    return { root, query: child(root, 'Query'), filter: child(child(child(root, 'Query'), 'Constraint'), 'Filter') };
  };

  before(async () => {
    remote.route('/csw', (_request, res) => {
      res.writeHead(answer.status, { 'content-type': answer.type }).end(answer.body);
    });
    endpoint = `${await remote.start()}/csw?profile=default`;
    // No retries: an unreachable endpoint answers at once.
    api = await startApi({ env: { HARVEST_HTTP_RETRIES: '0' } });
    admin = await createUser(api, 'csw-admin', 'admin');
    user = await createUser(api, 'csw-user');
  });
  after(async () => {
    await api?.close();
    await remote.stop();
  });

  it('sends an AND-combined FES filter of every constraint and answers the page of records', async () => {
    answer = { status: 200, type: 'application/xml', body: fixture('02-GetRecords-csw-Record-full-page1.xml') };
    const res = await search({
      endpoint,
      keywords: ['Tourism', 'Greece'],
      anytext: 'lorem',
      bbox: { minx: 5, miny: 55, maxx: 31, maxy: 71 },
      start_datetime: '2001-01-01T00:00:00Z',
      end_datetime: '2010-12-31T23:59:59Z',
      limit: 5,
    });
    const body = await json(res);
    assert.equal(res.status, 200, JSON.stringify(body));

    const { root, query, filter } = lastRequest();
    assert.equal(root.name, 'GetRecords');
    assert.deepEqual([root.attrs.service, root.attrs.version, root.attrs.resultType, root.attrs.startPosition, root.attrs.maxRecords], ['CSW', '2.0.2', 'results', '1', '5']);
    assert.equal(root.attrs.outputSchema, 'http://www.opengis.net/cat/csw/2.0.2');
    assert.equal(query?.attrs.typeNames, 'csw:Record');
    assert.equal(child(query, 'Constraint')?.attrs.version, '1.1.0');
    assert.deepEqual(comparisons(filter), [
      ['PropertyIsLike', 'dc:subject', '%Tourism%'],
      ['PropertyIsLike', 'dc:subject', '%Greece%'],
      ['PropertyIsLike', 'csw:AnyText', '%lorem%'],
      ['BBOX', 'ows:BoundingBox', undefined],
      ['PropertyIsGreaterThanOrEqualTo', 'apiso:TempExtent_begin', '2001-01-01T00:00:00Z'],
      ['PropertyIsLessThanOrEqualTo', 'apiso:TempExtent_end', '2010-12-31T23:59:59Z'],
    ]);
    const envelope = child(child(child(filter, 'And'), 'BBOX'), 'Envelope');
    assert.equal(envelope?.attrs.srsName, 'urn:ogc:def:crs:EPSG::4326');
    assert.equal(child(envelope, 'lowerCorner')?.text, '55 5', 'latitude first in EPSG::4326');
    assert.equal(child(envelope, 'upperCorner')?.text, '71 31');
    assert.equal(new URL(remote.requests.at(-1)!.url, 'http://x').searchParams.get('profile'), 'default', 'the endpoint’s own query is kept');

    assert.deepEqual(
      { ...body, items: undefined },
      {
        total: 12,
        returned: 5,
        limit: 5,
        offset: 0,
        next_offset: 5,
        prev_offset: null,
        constraints_applied: [
          'dc:subject like "%Tourism%"',
          'dc:subject like "%Greece%"',
          'csw:AnyText like "%lorem%"',
          'ows:BoundingBox intersects [5, 55, 31, 71] (CRS84: minx, miny, maxx, maxy)',
          'apiso:TempExtent_begin >= 2001-01-01T00:00:00Z',
          'apiso:TempExtent_end <= 2010-12-31T23:59:59Z',
        ],
        items: undefined,
      },
    );
    assert.equal(body.items.length, 5);
    assert.deepEqual(body.items[0], {
      identifier: 'urn:uuid:19887a8a-f6b0-4a63-ae56-7fba0e17801f',
      title: 'Lorem ipsum',
      abstract: 'Quisque lacus diam, placerat mollis, pharetra in, commodo sed, augue. Duis iaculis arcu vel arcu.',
      subjects: ['Tourism--Greece'],
      type: 'http://purl.org/dc/dcmitype/Image',
      date: null,
      modified: null,
      bbox: null,
      references: [],
    });
    assert.deepEqual(body.items[1].bbox, [13.754, 60.042, 17.92, 68.41], 'pycsw’s EPSG:6.11:4326 box is read latitude first');
    assert.equal(body.items[4].date, '2006-05-12');
  });

  it('pages with offset: the last page has no next_offset', async () => {
    answer = { status: 200, type: 'application/xml', body: fixture('03-GetRecords-csw-Record-full-lastpage.xml') };
    const res = await search({ endpoint, offset: 9, limit: 5 });
    const body = await json(res);
    assert.equal(res.status, 200, JSON.stringify(body));
    const { root, filter } = lastRequest();
    assert.deepEqual([root.attrs.startPosition, root.attrs.maxRecords], ['10', '5']);
    assert.equal(filter, undefined, 'no constraint, no filter');
    assert.deepEqual([body.total, body.returned, body.offset, body.next_offset, body.prev_offset, body.constraints_applied], [12, 3, 9, null, 4, []]);
    assert.deepEqual(
      body.items.map((i: { identifier: string }) => i.identifier),
      ['urn:uuid:a06af396-3105-442d-8b40-22b57a90d2f2', 'urn:uuid:ab42a8c4-95e8-4630-bf79-33e59241605a', 'urn:uuid:e9330592-0932-474b-be34-c3a3bb67c7db'],
    );
  });

  it('answers references with their schemes, and ISO 19139 records when asked', async () => {
    answer = { status: 200, type: 'application/xml', body: fixture('05-GetRecords-csw-Record-full-wms-services.xml') };
    const dc = await json(await search({ endpoint }));
    assert.equal(lastRequest().root.attrs.maxRecords, '25', 'limit defaults to 25');
    assert.deepEqual(dc.items[3].references, [{ url: 'http://mesonet.agron.iastate.edu/cgi-bin/wms/nexrad/n0r-t.cgi', scheme: 'OGC:WMS', name: null }]);
    assert.deepEqual(dc.items[0].bbox, [-179.13, 18.92, 179.79, 71.4]);

    answer = { status: 200, type: 'application/xml', body: fixture('09-GetRecords-gmd-full-inspire-geoportal.xml') };
    const res = await search({ endpoint, output_schema: 'iso19139', offset: 82, limit: 2 });
    const iso = await json(res);
    assert.equal(res.status, 200, JSON.stringify(iso));
    const { root, query } = lastRequest();
    assert.equal(root.attrs.outputSchema, 'http://www.isotc211.org/2005/gmd');
    assert.equal(query?.attrs.typeNames, 'gmd:MD_Metadata');
    assert.deepEqual([iso.total, iso.returned, iso.next_offset, iso.prev_offset], [216, 2, 84, 80]);
    assert.equal(iso.items[1].identifier, 'eeae2de7-0a09-4b69-b7a0-0b6b20903fd5');
    assert.deepEqual(iso.items[1].bbox, [9.53357, 46.40749, 17.16639, 49.01875]);
    assert.ok(iso.items[0].references.some((r: { scheme: string }) => r.scheme === 'OGC:WMS'));
  });

  it('refuses bad bodies with 400, naming the field', async () => {
    const cases: [unknown, RegExp][] = [
      [{}, /endpoint/],
      [{ endpoint: 'not a url' }, /endpoint must be a URL address/],
      [{ endpoint: 'ftp://example.org/csw' }, /endpoint must be a URL address/],
      [{ endpoint, limit: 101 }, /limit must not be greater than 100/],
      [{ endpoint, limit: 0 }, /limit must not be less than 1/],
      [{ endpoint, offset: -1 }, /offset must not be less than 0/],
      [{ endpoint, keywords: 'ocean' }, /keywords must be an array/],
      [{ endpoint, keywords: [''] }, /each value in keywords must be longer than or equal to 1 characters/],
      [{ endpoint, bbox: { minx: 0, miny: -95, maxx: 10, maxy: 10 } }, /bbox\.miny must not be less than -90/],
      [{ endpoint, bbox: { minx: 0, miny: 0, maxx: 10 } }, /bbox\.maxy/],
      [{ endpoint, bbox: { minx: 20, miny: 0, maxx: 10, maxy: 10 } }, /bbox\.minx must not be greater than bbox\.maxx/],
      [{ endpoint, start_datetime: 'yesterday' }, /start_datetime must be a valid ISO 8601 date string/],
      [{ endpoint, start_datetime: '2020-01-02T00:00:00Z', end_datetime: '2020-01-01T00:00:00Z' }, /end_datetime must not be before start_datetime/],
      [{ endpoint, output_schema: 'fgdc' }, /output_schema must be one of the following values/],
      [{ endpoint, sortby: 'title' }, /property sortby should not exist/],
      [{ endpoint: 'http://169.254.169.254/latest/meta-data' }, /endpoint: 169\.254\.169\.254 is on the deny list of harvesters/],
    ];
    const before = remote.requests.length;
    for (const [body, message] of cases) {
      const res = await search(body);
      const error = await json(res);
      assert.equal(res.status, 400, `${JSON.stringify(body)} → ${JSON.stringify(error)}`);
      assert.match(error.message, message, JSON.stringify(body));
    }
    assert.equal(remote.requests.length, before, 'nothing was sent for a refused body');
  });

  it('publishes the csw harvester type with its configuration schema', async () => {
    const res = await api.fetch('/api/harvester-types', { headers: admin.headers });
    assert.equal(res.status, 200);
    const { types } = await json(res);
    const csw = types.find((t: { id: string }) => t.id === 'csw');
    assert.ok(csw, JSON.stringify(types.map((t: { id: string }) => t.id)));
    assert.equal(csw.title, 'OGC CSW 2.0.2 catalogue');
    assert.deepEqual(Object.keys(csw.config_schema.properties), ['output_schema', 'page_size', 'type_names', 'constraint', 'subjects']);
    assert.deepEqual(csw.config_schema.properties.page_size, { type: 'integer', minimum: 1, maximum: 100, default: 50, description: 'maxRecords of each GetRecords page' });
  });

  it('is for admins only', async () => {
    assert.equal((await search({ endpoint }, user)).status, 403);
    assert.equal((await search({ endpoint }, null)).status, 401);
  });

  it('answers 502 naming the remote problem: an HTML page, an exception report, an HTTP error, an unreachable host', async () => {
    answer = { status: 200, type: 'text/html; charset=utf-8', body: '<!DOCTYPE html><html><head><title>Portal</title></head><body><p>Maintenance<br></body></html>' };
    let res = await search({ endpoint });
    let error = await json(res);
    assert.equal(res.status, 502);
    assert.match(
      error.message,
      /^the CSW endpoint gave no usable GetRecords answer: expected CSW XML from http:\/\/127\.0\.0\.1:\d+\/csw\?profile=default, got text\/html; charset=utf-8/,
    );

    answer = {
      status: 200,
      type: 'application/xml',
      body: '<ows:ExceptionReport xmlns:ows="http://www.opengis.net/ows" version="1.2.0"><ows:Exception exceptionCode="InvalidParameterValue" locator="constraint"><ows:ExceptionText>Invalid Filter query: unknown property apiso:TempExtent_begin</ows:ExceptionText></ows:Exception></ows:ExceptionReport>',
    };
    res = await search({ endpoint, start_datetime: '2020-01-01T00:00:00Z' });
    error = await json(res);
    assert.equal(res.status, 502);
    assert.match(error.message, /answered an exception: InvalidParameterValue \(constraint\): Invalid Filter query: unknown property apiso:TempExtent_begin/);

    answer = { status: 404, type: 'text/plain', body: 'Not Found' };
    res = await search({ endpoint });
    error = await json(res);
    assert.equal(res.status, 502);
    assert.match(error.message, /HTTP 404 from http:\/\/127\.0\.0\.1:\d+\/csw\?profile=default: "Not Found"/);

    const closed = new RemoteServer();
    const closedUrl = await closed.start();
    await closed.stop();
    res = await search({ endpoint: `${closedUrl}/csw` });
    error = await json(res);
    assert.equal(res.status, 502);
    assert.match(error.message, /could not reach http:\/\/127\.0\.0\.1:\d+\/csw: ECONNREFUSED/);

    // A host that does not exist is a mistake in the request: 400 naming the field.
    res = await search({ endpoint: 'http://no-such-host.invalid/csw' });
    error = await json(res);
    assert.equal(res.status, 400);
    assert.match(error.message, /endpoint: no such host/);
  });
});
