import { Controller, Get, Header, Headers, NotFoundException, ServiceUnavailableException, UnauthorizedException } from '@nestjs/common';
import { ApiNotFoundResponse, ApiOkResponse, ApiOperation, ApiProduces, ApiProperty, ApiServiceUnavailableResponse, ApiTags, ApiUnauthorizedResponse } from '@nestjs/swagger';
import { AppConfig } from '../config/app-config.js';
import { Public } from '../auth/auth.decorators.js';
import { ErrorResponseDto } from '../common/error-response.js';
import { HealthService } from './health.service.js';
import { metricsAccess } from './metrics-access.js';
import { MetricsService } from './metrics.service.js';
import { VERSION } from './version.js';

class LivenessDto {
  @ApiProperty({ example: 'ok' }) status: string;
}

class VersionDto {
  @ApiProperty({ example: 'sightline' }) name: string;
  @ApiProperty({ example: '0.1.0' }) version: string;
  @ApiProperty({ example: 'v20.19.0' }) node: string;
}

@ApiTags('health')
@Public()
@Controller()
export class HealthController {
  constructor(
    private readonly health: HealthService,
    private readonly metrics: MetricsService,
    private readonly config: AppConfig,
  ) {}

  @Get('health')
  @ApiOperation({ summary: 'Liveness: the process answers' })
  @ApiOkResponse({ type: LivenessDto })
  live(): LivenessDto {
    return { status: 'ok' };
  }

  @Get('health/ready')
  @ApiOperation({ summary: 'Readiness: database, Redis (with queue depths) and storage' })
  @ApiOkResponse({ description: 'Everything is up; `details` per dependency' })
  @ApiServiceUnavailableResponse({ type: ErrorResponseDto, description: 'A dependency is down; `details` says which' })
  async ready() {
    try {
      return await this.health.ready();
    } catch (error) {
      if (error instanceof ServiceUnavailableException) {
        throw new ServiceUnavailableException({ message: 'Not ready: a dependency is down', details: error.getResponse() });
      }
      throw error;
    }
  }

  @Get('version')
  @ApiOperation({ summary: 'Name and version of the server' })
  @ApiOkResponse({ type: VersionDto })
  version(): VersionDto {
    return { name: 'sightline', version: VERSION, node: process.version };
  }

  @Get('metrics')
  @ApiOperation({
    summary: 'Prometheus metrics: HTTP latency histogram, queue depths, runtime',
    description: 'With METRICS_TOKEN set, send it as `Authorization: Bearer <token>`. Without it: open in development, not served in production.',
  })
  @ApiProduces('text/plain')
  @ApiUnauthorizedResponse({ type: ErrorResponseDto, description: 'METRICS_TOKEN is set and was not sent' })
  @ApiNotFoundResponse({ type: ErrorResponseDto, description: 'Metrics are disabled, or production without METRICS_TOKEN' })
  @Header('Content-Type', 'text/plain; version=0.0.4; charset=utf-8')
  @Header('Cache-Control', 'no-store')
  metricsText(@Headers('authorization') authorization: string | undefined): Promise<string> {
    const access = metricsAccess(this.config, authorization);
    if (!access.allowed) throw access.status === 401 ? new UnauthorizedException(access.message) : new NotFoundException(access.message);
    return this.metrics.registry.metrics();
  }
}
