/** Collects bound parameters while a query is assembled; `add` returns the `$n` placeholder. */
export class SqlParams {
  readonly values: unknown[] = [];

  add(value: unknown, cast?: string): string {
    this.values.push(value);
    return cast ? `$${this.values.length}::${cast}` : `$${this.values.length}`;
  }

  /** The number the next placeholder will get. */
  get next(): number {
    return this.values.length + 1;
  }

  /** Appends parameters a helper numbered itself from `next` (e.g. visibilitySql). */
  push(...values: unknown[]): void {
    this.values.push(...values);
  }
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

export function isUuid(value: unknown): value is string {
  return typeof value === 'string' && UUID.test(value);
}
