import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { Transform, Type } from 'class-transformer';
import { IsBoolean, IsIn, IsInt, IsISO8601, IsObject, IsOptional, IsString, IsUUID, Max, MaxLength, Min } from 'class-validator';
import { LinkDto, PageQueryDto } from '../common/pagination.js';
import type { RegisteredCommand } from './management-commands.registry.js';
import { MANAGEMENT_JOB_STATUSES, type ManagementJobStatus } from './management-job.entity.js';
import type { ManagementJobRow } from './management-jobs.repository.js';
import type { JobWithTail } from './management-jobs.service.js';

const toBool = ({ value }: { value: unknown }) => (value === 'true' || value === '1' ? true : value === 'false' || value === '0' ? false : value);
const toList = ({ value }: { value: unknown }) =>
  typeof value === 'string'
    ? value
        .split(',')
        .map((s) => s.trim())
        .filter(Boolean)
    : value;

// ---- requests

export class CreateManagementJobDto {
  @ApiPropertyOptional({
    type: 'object',
    additionalProperties: true,
    description: "The command's arguments, checked against its args_schema (unknown arguments are refused)",
    example: { message: 'hello', delay_ms: 2000, steps: 4 },
  })
  @IsOptional()
  @IsObject()
  args?: Record<string, unknown>;

  @ApiPropertyOptional({ default: true, description: 'Queue the job at once; false leaves it `created` until POST …/start' })
  @IsOptional()
  @IsBoolean()
  autostart?: boolean;
}

export class ListManagementJobsQueryDto extends PageQueryDto {
  @ApiPropertyOptional({ description: 'Only jobs of this command', example: 'system.ping' })
  @IsOptional()
  @IsString()
  @MaxLength(128)
  command?: string;

  @ApiPropertyOptional({ description: 'Only jobs in these statuses (comma separated)', example: 'queued,running' })
  @IsOptional()
  @Transform(toList)
  @IsIn(MANAGEMENT_JOB_STATUSES, { each: true })
  status?: ManagementJobStatus[];

  @ApiPropertyOptional({ format: 'uuid', description: 'Only jobs created by this user' })
  @IsOptional()
  @IsUUID()
  user_id?: string;

  @ApiPropertyOptional({ format: 'date-time', description: 'Only jobs created at or after this instant' })
  @IsOptional()
  @IsISO8601({ strict: true })
  created_after?: string;

  @ApiPropertyOptional({ format: 'date-time', description: 'Only jobs created before this instant' })
  @IsOptional()
  @IsISO8601({ strict: true })
  created_before?: string;
}

export class ManagementJobOutputQueryDto {
  @ApiPropertyOptional({ minimum: -1, default: -1, description: 'Only lines after this line number (lines are numbered from 0)' })
  @IsOptional()
  @Type(() => Number)
  @IsInt()
  @Min(-1)
  @Max(2_000_000_000)
  after?: number;

  @ApiPropertyOptional({ default: false, description: 'Prefix each line with the ISO 8601 time it was logged' })
  @IsOptional()
  @Transform(toBool)
  @IsBoolean()
  timestamps?: boolean;
}

// ---- responses

export class ManagementCommandDto {
  @ApiProperty({ example: 'system.ping' }) name: string;
  @ApiProperty() description: string;
  @ApiProperty({ type: 'object', additionalProperties: true, description: 'JSON schema of the arguments (an object)' })
  args_schema: Record<string, unknown>;
  @ApiProperty({ description: 'At most one job of this command queued or running at a time' }) exclusive: boolean;
  @ApiProperty({ description: 'Run again from the start when its worker dies mid-run' }) retryable: boolean;
}

export class ManagementCommandListDto {
  @ApiProperty({ type: [ManagementCommandDto] }) commands: ManagementCommandDto[];
}

export class ManagementJobDto {
  @ApiProperty({ format: 'uuid' }) id: string;
  @ApiProperty({ example: 'system.ping' }) command: string;
  @ApiProperty({ type: 'object', additionalProperties: true, description: 'The validated arguments, defaults filled in' })
  args: Record<string, unknown>;
  @ApiProperty({ enum: MANAGEMENT_JOB_STATUSES }) status: ManagementJobStatus;
  @ApiProperty() exclusive: boolean;
  @ApiProperty({ enum: ['api', 'cli'], description: 'Created through the API (run by a worker) or run by the CLI' }) source: string;
  @ApiProperty({ type: String, format: 'uuid', nullable: true }) user_id: string | null;
  @ApiProperty({ type: String, nullable: true }) user_name: string | null;
  @ApiProperty({ minimum: 0, maximum: 100, description: 'Percent done, as the command last reported it' }) progress: number;
  @ApiProperty({ nullable: true, description: "The command's result (JSON); for a stopped job, what it finished" }) result: unknown;
  @ApiProperty({ type: String, nullable: true, description: 'Why the job failed or ended' }) error: string | null;
  @ApiProperty({ description: 'Runs so far (more than one when a retryable job was run again after its worker died)' }) attempt: number;
  @ApiProperty({ description: 'Lines of output captured' }) output_lines: number;
  @ApiProperty({ format: 'date-time' }) created_at: string;
  @ApiProperty({ type: String, format: 'date-time', nullable: true }) queued_at: string | null;
  @ApiProperty({ type: String, format: 'date-time', nullable: true }) started_at: string | null;
  @ApiProperty({ type: String, format: 'date-time', nullable: true }) ended_at: string | null;
  @ApiProperty({ type: String, format: 'date-time', nullable: true, description: 'Last sign of life of the process running it' })
  heartbeat_at: string | null;
  @ApiProperty({ type: String, format: 'date-time', nullable: true }) stop_requested_at: string | null;
  @ApiProperty({ type: [LinkDto] }) links: LinkDto[];
}

export class ManagementJobDetailDto extends ManagementJobDto {
  @ApiProperty({ type: [String], description: 'The last lines of output (GET …/output has them all)' })
  output_tail: string[];
}

export class ManagementJobPageDto {
  @ApiProperty({ type: [ManagementJobDto] }) items: ManagementJobDto[];
  @ApiProperty() total: number;
  @ApiProperty() page: number;
  @ApiProperty() limit: number;
  @ApiProperty({ type: [LinkDto] }) links: LinkDto[];
}

// ---- mappers

export function toManagementCommandDto(command: RegisteredCommand): ManagementCommandDto {
  return {
    name: command.name,
    description: command.description,
    args_schema: command.argsSchema,
    exclusive: command.exclusive,
    retryable: command.retryable,
  };
}

const iso = (d: Date | null) => (d ? new Date(d).toISOString() : null);

export function toManagementJobDto(job: ManagementJobRow, origin: string): ManagementJobDto {
  const self = `${origin}/api/management/jobs/${job.id}`;
  return {
    id: job.id,
    command: job.command,
    args: job.args,
    status: job.status,
    exclusive: job.exclusive,
    source: job.source,
    user_id: job.userId,
    user_name: job.userName,
    progress: job.progress,
    result: job.result,
    error: job.error,
    attempt: job.attempt,
    output_lines: job.outputLines,
    created_at: iso(job.createdAt)!,
    queued_at: iso(job.queuedAt),
    started_at: iso(job.startedAt),
    ended_at: iso(job.endedAt),
    heartbeat_at: iso(job.heartbeatAt),
    stop_requested_at: iso(job.stopRequestedAt),
    links: [
      { rel: 'self', href: self, type: 'application/json' },
      { rel: 'output', href: `${self}/output`, type: 'text/plain' },
      { rel: 'command', href: `${origin}/api/management/commands/${encodeURIComponent(job.command)}`, type: 'application/json' },
    ],
  };
}

export function toManagementJobDetailDto(job: JobWithTail, origin: string): ManagementJobDetailDto {
  return { ...toManagementJobDto(job, origin), output_tail: job.outputTail.map((l) => l.line) };
}
