import { Body, Controller, HttpCode, Post } from '@nestjs/common';
import { ApiBadGatewayResponse, ApiBadRequestResponse, ApiOkResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import { Authenticated } from '../auth/auth.decorators.js';
import { ErrorResponseDto } from '../common/error-response.js';
import { CswSearchRequestDto, CswSearchResponseDto } from './csw-search.dto.js';
import { CswSearchService } from './csw-search.service.js';

@ApiTags('harvesters')
@Authenticated({ role: 'admin' })
@Controller('csw')
export class CswSearchController {
  constructor(private readonly csw: CswSearchService) {}

  @Post('search')
  @HttpCode(200)
  @ApiOperation({
    summary: 'Search a remote OGC CSW 2.0.2 catalogue with a typed body (met.no’s CSW search)',
    description:
      'Sends one GetRecords (POST, resultType=results, ElementSetName full) whose FES 1.1 filter AND-combines every constraint given: ' +
      'each keyword (`dc:subject` like `%keyword%`), `anytext` (`csw:AnyText` like `%text%`), `bbox` (`ogc:BBOX` on `ows:BoundingBox`, sent in ' +
      '`urn:ogc:def:crs:EPSG::4326`), `start_datetime` (`apiso:TempExtent_begin >=`) and `end_datetime` (`apiso:TempExtent_end <=`). ' +
      '`constraints_applied` lists them; `next_offset` / `prev_offset` page through the matches.',
  })
  @ApiOkResponse({ type: CswSearchResponseDto })
  @ApiBadRequestResponse({ description: 'A field is refused (named in `details`), or the endpoint is not a URL harvesters may reach (deny list)', type: ErrorResponseDto })
  @ApiBadGatewayResponse({
    description: 'The endpoint is unreachable or did not answer CSW XML (an HTML page, an ows:ExceptionReport…); the message says what came',
    type: ErrorResponseDto,
  })
  search(@Body() body: CswSearchRequestDto): Promise<CswSearchResponseDto> {
    return this.csw.search(body);
  }
}
