/**
 * Rows of an `UPDATE … RETURNING` / `DELETE … RETURNING`: TypeORM's postgres `query()` answers
 * those as `[rows, affectedCount]` (and plain rows for SELECT and INSERT).
 */
export function returnedRows<T>(result: unknown): T[] {
  if (Array.isArray(result) && result.length === 2 && Array.isArray(result[0]) && typeof result[1] === 'number') return result[0] as T[];
  return result as T[];
}
