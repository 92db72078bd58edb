import { Controller, Get, Header, ServiceUnavailableException } from '@nestjs/common';
import { ApiOkResponse, ApiOperation, ApiProduces, ApiProperty, ApiServiceUnavailableResponse, ApiTags } from '@nestjs/swagger';
import { Public } from '../auth/auth.decorators.js';
import { ErrorResponseDto } from '../common/error-response.js';
import { HealthService } from './health.service.js';
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
  @ApiOperation({ summary: 'Prometheus metrics: HTTP latency histogram, queue depths, runtime' })
  @ApiProduces('text/plain')
  @Header('Content-Type', 'text/plain; version=0.0.4; charset=utf-8')
  metricsText(): Promise<string> {
    return this.metrics.registry.metrics();
  }
}
