import { BadRequestException, ValidationError, ValidationPipe } from '@nestjs/common';

export interface FieldProblem {
  field: string;
  problems: string[];
}

function flatten(errors: ValidationError[], parent = ''): FieldProblem[] {
  return errors.flatMap((e) => {
    const field = parent ? `${parent}.${e.property}` : e.property;
    // class-validator names only the property: a nested one gets its full path (`position.type must …`).
    const named = (problem: string) => (parent && problem.startsWith(`${e.property} `) ? `${field}${problem.slice(e.property.length)}` : problem);
    const own = e.constraints ? [{ field, problems: Object.values(e.constraints).map(named) }] : [];
    return own.concat(flatten(e.children ?? [], field));
  });
}

/** The global pipe: strips nothing silently — unknown fields are refused, types converted. */
export function createValidationPipe(): ValidationPipe {
  return new ValidationPipe({
    whitelist: true,
    forbidNonWhitelisted: true,
    transform: true,
    transformOptions: { enableImplicitConversion: false },
    exceptionFactory: (errors) => {
      const details = flatten(errors);
      const message = details.map((d) => d.problems.join('; ')).join('; ') || 'Validation failed';
      return new BadRequestException({ message, details });
    },
  });
}
