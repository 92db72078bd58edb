/** RFC 3339 date-times and the STAC `datetime` parameter (an instant or an interval, open ends allowed). */

export class DatetimeError extends Error {}

const RFC3339 = /^(\d{4})-(\d{2})-(\d{2})[Tt](\d{2}):(\d{2}):(\d{2})(\.\d+)?([Zz]|([+-])(\d{2}):(\d{2}))$/;
const DATE_ONLY = /^(\d{4})-(\d{2})-(\d{2})$/;

function daysInMonth(year: number, month: number): number {
  return new Date(Date.UTC(year, month, 0)).getUTCDate();
}

export interface Instant {
  /** Normalised text for PostgreSQL (`T` and `Z` upper-case, full fractional precision kept). */
  text: string;
  /** Milliseconds since the epoch, for ordering checks only. */
  epochMs: number;
}

/** Parses an RFC 3339 date-time with a time zone; throws DatetimeError saying what is wrong. */
export function parseRfc3339(value: string): Instant {
  const m = RFC3339.exec(value);
  if (!m) throw new DatetimeError(`'${value}' is not an RFC 3339 date-time (expected e.g. 2020-07-23T00:00:00Z, with a time zone)`);
  const [year, month, day, hour, minute, second] = m.slice(1, 7).map(Number);
  if (month < 1 || month > 12) throw new DatetimeError(`'${value}': month ${month} is out of range`);
  if (day < 1 || day > daysInMonth(year, month)) throw new DatetimeError(`'${value}': day ${day} does not exist in ${m[1]}-${m[2]}`);
  if (hour > 23) throw new DatetimeError(`'${value}': hour ${hour} is out of range`);
  if (minute > 59) throw new DatetimeError(`'${value}': minute ${minute} is out of range`);
  if (second > 60) throw new DatetimeError(`'${value}': second ${second} is out of range`);
  let offsetMinutes = 0;
  if (m[9]) {
    const oh = Number(m[10]);
    const om = Number(m[11]);
    if (oh > 23 || om > 59) throw new DatetimeError(`'${value}': time zone offset ${m[8]} is out of range`);
    offsetMinutes = (m[9] === '-' ? -1 : 1) * (oh * 60 + om);
  }
  const fraction = m[7] ? Number(`0${m[7]}`) : 0;
  const epochMs = Date.UTC(year, month - 1, day, hour, minute, Math.min(second, 59)) + (second === 60 ? 1000 : 0) + Math.floor(fraction * 1000) - offsetMinutes * 60_000;
  return { text: value.toUpperCase(), epochMs };
}

/** A calendar date (CQL2 DATE literal). */
export function parseDate(value: string): string {
  const m = DATE_ONLY.exec(value);
  if (!m) throw new DatetimeError(`'${value}' is not a date (expected YYYY-MM-DD)`);
  const [year, month, day] = m.slice(1).map(Number);
  if (month < 1 || month > 12 || day < 1 || day > daysInMonth(year, month)) throw new DatetimeError(`'${value}' is not a valid date`);
  return value;
}

export interface DatetimeRange {
  /** Inclusive bounds; null for an open end. An instant has start === end. */
  start: Instant | null;
  end: Instant | null;
  instant: boolean;
}

function isOpen(part: string): boolean {
  return part === '' || part === '..';
}

/**
 * The STAC `datetime` parameter: `instant`, `start/end`, `../end`, `start/..`, `/end`, `start/`.
 * Refuses `../..`, `/`, more than one slash, and start after end.
 */
export function parseDatetimeParameter(value: string): DatetimeRange {
  const trimmed = value.trim();
  if (trimmed === '') throw new DatetimeError('datetime is empty');
  const parts = trimmed.split('/');
  if (parts.length === 1) {
    const instant = parseRfc3339(parts[0]);
    return { start: instant, end: instant, instant: true };
  }
  if (parts.length !== 2) throw new DatetimeError(`'${value}' is neither an instant nor an interval start/end`);
  const [a, b] = parts;
  if (isOpen(a) && isOpen(b)) throw new DatetimeError(`'${value}': an interval needs at least one closed end`);
  const start = isOpen(a) ? null : parseRfc3339(a);
  const end = isOpen(b) ? null : parseRfc3339(b);
  if (start && end && start.epochMs > end.epochMs) throw new DatetimeError(`'${value}': the interval starts after it ends`);
  return { start, end, instant: false };
}
