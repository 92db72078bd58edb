import tzLookup from '@photostructure/tz-lookup';
import geomagnetism from 'geomagnetism';

/** The IANA time zone of a place (offline boundaries), or null where none is known (open sea far out). */
export function timeZoneAt(lat: number, lon: number): string | null {
  try {
    return tzLookup(lat, lon);
  } catch {
    return null;
  }
}

/** Offset from UTC (minutes, east positive) of `zone` at the instant `utcMs`. */
export function zoneOffsetAt(zone: string, utcMs: number): number {
  const name =
    new Intl.DateTimeFormat('en-US', { timeZone: zone, timeZoneName: 'longOffset' }).formatToParts(new Date(utcMs)).find((p) => p.type === 'timeZoneName')?.value ?? 'GMT';
  const m = /GMT([+-])(\d{2}):(\d{2})/.exec(name);
  return m ? (m[1] === '-' ? -1 : 1) * (Number(m[2]) * 60 + Number(m[3])) : 0;
}

/**
 * The offset of a wall-clock time read in `zone` (its milliseconds as if it were UTC): the offset
 * in force at that local time, daylight saving included (the later one in an ambiguous hour).
 */
export function offsetOfLocalTime(zone: string, localMs: number): number {
  const first = zoneOffsetAt(zone, localMs);
  const second = zoneOffsetAt(zone, localMs - first * 60_000);
  return first === second ? first : zoneOffsetAt(zone, localMs - second * 60_000);
}

/** The dates the bundled World Magnetic Models cover (WMM2015 to WMM2025). */
const WMM_SPAN = { start: Date.parse('2014-12-16T00:00:00Z'), end: Date.parse('2029-11-12T00:00:00Z') };

/**
 * Magnetic declination (degrees, east positive: true = magnetic + declination) at a place and
 * date, from the World Magnetic Model; `extrapolated` when the date is outside the models' span.
 */
export function magneticDeclination(lat: number, lon: number, at: Date): { degrees: number; extrapolated: boolean } | null {
  try {
    // Outside the models' span the nearest model date is used (the declination drifts a few tenths of a degree a year).
    const t = Math.min(Math.max(at.getTime(), WMM_SPAN.start), WMM_SPAN.end);
    const degrees = geomagnetism.model(new Date(t)).point([lat, lon]).decl;
    const extrapolated = t !== at.getTime();
    return Number.isFinite(degrees) ? { degrees, extrapolated } : null;
  } catch {
    return null;
  }
}
