import { ApiProperty } from '@nestjs/swagger';

/** The one shape of every error the API answers. */
export class ErrorResponseDto {
  @ApiProperty({ example: 400 })
  statusCode: number;

  @ApiProperty({ example: 'Bad Request' })
  error: string;

  @ApiProperty({ example: 'title must be a string' })
  message: string;

  @ApiProperty({ required: false, description: 'Structured detail: the failing fields, limits, conflicting ids…' })
  details?: unknown;
}

const REASONS: Record<number, string> = {
  400: 'Bad Request',
  401: 'Unauthorized',
  403: 'Forbidden',
  404: 'Not Found',
  405: 'Method Not Allowed',
  406: 'Not Acceptable',
  409: 'Conflict',
  410: 'Gone',
  413: 'Payload Too Large',
  415: 'Unsupported Media Type',
  416: 'Range Not Satisfiable',
  422: 'Unprocessable Entity',
  429: 'Too Many Requests',
  500: 'Internal Server Error',
  502: 'Bad Gateway',
  503: 'Service Unavailable',
};

export function reasonPhrase(status: number): string {
  return REASONS[status] ?? (status >= 500 ? 'Server Error' : 'Error');
}

export function errorBody(statusCode: number, message: string, details?: unknown): ErrorResponseDto {
  const body: ErrorResponseDto = { statusCode, error: reasonPhrase(statusCode), message };
  if (details !== undefined) body.details = details;
  return body;
}
