import { ArgumentMetadata, BadRequestException, CanActivate, ExecutionContext, Injectable, PipeTransform, UnsupportedMediaTypeException } from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import type { NextFunction, Request, Response } from 'express';
import { errorBody } from './error-response.js';

/**
 * How deep a request's JSON may nest (objects and arrays), in bodies and in JSON sent in query
 * parameters (a CQL2 JSON filter). Checked without recursion, before anything recursive (validation,
 * filter compilers, fingerprints) sees the value. CQL2 text filters get the same limit on nested
 * parentheses and NOTs.
 */
export const MAX_NESTING = 64;

export interface InputProblem {
  field: string;
  problem: string;
}

const fieldName = (parent: string, key: string | number) => (typeof key === 'number' ? `${parent}[${key}]` : parent ? `${parent}.${key}` : key);

const LONE_SURROGATE = /[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/;

function stringProblem(value: string): string | null {
  if (value.includes('\u0000')) return 'contains a NUL character (\\u0000), which is not allowed';
  if (LONE_SURROGATE.test(value)) return 'contains a lone UTF-16 surrogate (not valid Unicode)';
  return null;
}

/**
 * The first problem of a parsed input (a body, a query, a JSON parameter): nesting deeper than
 * `maxDepth`, or a string (value or key) with a NUL character or a lone surrogate — PostgreSQL
 * stores neither. Iterative, so any depth is safe to check.
 */
export function findInputProblem(value: unknown, root = '', maxDepth = MAX_NESTING): InputProblem | null {
  // Each entry: the value, its path, its depth, and the path of its top-level field (named in nesting errors).
  const stack: [unknown, string, number, string][] = [[value, root, 0, root]];
  while (stack.length) {
    const [v, at, depth, top] = stack.pop()!;
    if (typeof v === 'string') {
      const problem = stringProblem(v);
      if (problem) return { field: at || 'body', problem };
      continue;
    }
    if (v === null || typeof v !== 'object') continue;
    if (depth >= maxDepth) return { field: top || 'body', problem: `nests deeper than ${maxDepth} levels of objects and arrays` };
    if (Array.isArray(v)) {
      for (let i = v.length - 1; i >= 0; i--) stack.push([v[i], fieldName(at, i), depth + 1, top || fieldName(at, i)]);
      continue;
    }
    for (const [k, child] of Object.entries(v as Record<string, unknown>)) {
      const keyProblem = stringProblem(k);
      if (keyProblem) return { field: fieldName(at, JSON.stringify(k)), problem: `has a field name that ${keyProblem}` };
      stack.push([child, fieldName(at, k), depth + 1, top || fieldName(at, k)]);
    }
  }
  return null;
}

export function inputProblemError(p: InputProblem): BadRequestException {
  return new BadRequestException({ message: `${p.field} ${p.problem}`, details: [{ field: p.field, problems: [p.problem] }] });
}

/** Throws the 400 for the first problem of `value`, if any. */
export function assertCleanInput(value: unknown, root = '', maxDepth = MAX_NESTING): void {
  const p = findInputProblem(value, root, maxDepth);
  if (p) throw inputProblemError(p);
}

/**
 * After the body parsers: refuses (400, naming the field) a path, query or parsed body with a
 * NUL character, a lone surrogate or nesting deeper than MAX_NESTING, before any route sees it.
 */
export function inputGuardMiddleware() {
  return (req: Request, res: Response, next: NextFunction) => {
    let problem: InputProblem | null = null;
    for (const segment of req.path.split('/')) {
      let decoded: string;
      try {
        decoded = decodeURIComponent(segment);
      } catch {
        problem = { field: 'path', problem: `has a malformed percent-encoding: ${JSON.stringify(segment.slice(0, 60))}` };
        break;
      }
      const p = stringProblem(decoded);
      if (p) {
        problem = { field: 'path', problem: p };
        break;
      }
    }
    problem ??= findInputProblem(req.query, '') ?? (req.body !== undefined ? findInputProblem(req.body, '') : null);
    if (!problem) return next();
    const body = errorBody(400, `${problem.field} ${problem.problem}`, [{ field: problem.field, problems: [problem.problem] }]);
    res.status(400).json(body);
  };
}

/** The same checks on every argument a route receives (multipart text fields are parsed after the middleware). */
@Injectable()
export class InputGuardPipe implements PipeTransform {
  transform(value: unknown, metadata: ArgumentMetadata): unknown {
    if (metadata.type === 'custom') return value;
    assertCleanInput(value, metadata.type === 'param' ? (metadata.data ?? 'path') : '');
    return value;
  }
}

const SWAGGER_CONSUMES = 'swagger/apiConsumes';
const JSON_TYPES = ['application/json', 'application/*+json'];

const hasBody = (req: Request) => {
  const length = req.headers['content-length'];
  if (length !== undefined) return Number(length) > 0;
  return req.headers['transfer-encoding'] !== undefined;
};

/**
 * A write whose body has a content type the route does not take is refused with 415 — never read
 * as if it were empty. Routes take JSON unless they declare otherwise (`@ApiConsumes`).
 */
@Injectable()
export class ContentTypeGuard implements CanActivate {
  constructor(private readonly reflector: Reflector) {}

  canActivate(context: ExecutionContext): boolean {
    if (context.getType() !== 'http') return true;
    const req = context.switchToHttp().getRequest<Request>();
    if (!['POST', 'PUT', 'PATCH'].includes(req.method) || !hasBody(req)) return true;
    const declared = this.reflector.getAllAndOverride<string[] | undefined>(SWAGGER_CONSUMES, [context.getHandler(), context.getClass()]);
    const accepted = declared?.length ? declared : JSON_TYPES;
    if (req.is(accepted)) return true;
    const given = req.headers['content-type'] ?? 'none';
    throw new UnsupportedMediaTypeException({
      message: `This route takes ${accepted.join(' or ')} bodies, not ${given}`,
      details: { accepted, content_type: req.headers['content-type'] ?? null },
    });
  }
}

const SWAGGER_PROPERTY = 'swagger/apiModelProperties';

/**
 * `null` for a body field counts only where the field is documented as nullable (where null
 * means "clear"): elsewhere it is refused (400) instead of being read as "absent".
 */
@Injectable()
export class NullFieldsPipe implements PipeTransform {
  transform(value: unknown, metadata: ArgumentMetadata): unknown {
    if (metadata.type !== 'body' || typeof metadata.metatype !== 'function' || value === null || typeof value !== 'object' || Array.isArray(value)) return value;
    const prototype = (metadata.metatype as { prototype?: object }).prototype;
    if (!prototype) return value;
    const refused: string[] = [];
    for (const [key, v] of Object.entries(value as Record<string, unknown>)) {
      if (v !== null) continue;
      const property = Reflect.getMetadata(SWAGGER_PROPERTY, prototype, key) as { nullable?: boolean } | undefined;
      // Undeclared fields are the validation pipe's to refuse.
      if (property && property.nullable !== true) refused.push(key);
    }
    if (refused.length) {
      throw new BadRequestException({
        message: refused.map((k) => `${k} must not be null (leave it out to keep the current value)`).join('; '),
        details: refused.map((field) => ({ field, problems: ['must not be null'] })),
      });
    }
    return value;
  }
}
