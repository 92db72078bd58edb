import { BadGatewayException, BadRequestException, Injectable } from '@nestjs/common';
import { RemoteError, RemoteHttp } from './remote-http.js';
import { type CswSearchRequestDto, type CswSearchResponseDto, toCswSearchItemDto } from './csw-search.dto.js';
import { getRecords } from './types/csw/csw-client.js';
import { summarizeRecord } from './types/csw/csw-records.js';

const DEFAULT_LIMIT = 25;

const badField = (field: string, problem: string) => new BadRequestException({ message: problem, details: [{ field, problems: [problem] }] });

/** met.no's typed CSW search: a JSON body turned into one GetRecords page of a remote catalogue. */
@Injectable()
export class CswSearchService {
  constructor(private readonly http: RemoteHttp) {}

  async search(body: CswSearchRequestDto): Promise<CswSearchResponseDto> {
    const limit = body.limit ?? DEFAULT_LIMIT;
    const offset = body.offset ?? 0;
    if (body.bbox && body.bbox.minx > body.bbox.maxx) throw badField('bbox', 'bbox.minx must not be greater than bbox.maxx');
    if (body.bbox && body.bbox.miny > body.bbox.maxy) throw badField('bbox', 'bbox.miny must not be greater than bbox.maxy');
    if (body.start_datetime && body.end_datetime && Date.parse(body.start_datetime) > Date.parse(body.end_datetime)) {
      throw badField('end_datetime', 'end_datetime must not be before start_datetime');
    }
    try {
      this.http.checkUrl(body.endpoint);
    } catch (error) {
      throw badField('endpoint', `endpoint: ${(error as Error).message}`);
    }

    let page;
    try {
      page = await getRecords(this.http, body.endpoint, {
        outputSchema: body.output_schema ?? 'dc',
        startPosition: offset + 1,
        maxRecords: limit,
        constraints: { keywords: body.keywords, anytext: body.anytext, bbox: body.bbox, start_datetime: body.start_datetime, end_datetime: body.end_datetime },
      });
    } catch (error) {
      if (!(error instanceof RemoteError)) throw error;
      // A name resolving to a denied address is the caller's choice of endpoint, not a remote failure.
      if (error.message.includes('deny list')) throw badField('endpoint', `endpoint: ${error.message}`);
      // A host name that does not exist is a mistake in the request, not a remote failure.
      if (/ENOTFOUND/.test(error.message)) throw badField('endpoint', `endpoint: no such host (${error.message})`);
      throw new BadGatewayException(`the CSW endpoint gave no usable GetRecords answer: ${error.message}`);
    }

    const returned = page.records.length;
    const more = page.nextRecord > 0 && page.nextRecord <= page.matched && offset + returned < page.matched && returned > 0;
    return {
      total: page.matched,
      returned,
      limit,
      offset,
      next_offset: more ? page.nextRecord - 1 : null,
      prev_offset: offset > 0 ? Math.max(0, offset - limit) : null,
      constraints_applied: page.applied,
      items: page.records.map((record) => toCswSearchItemDto(summarizeRecord(record))),
    };
  }
}
