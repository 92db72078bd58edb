/**
 * When a raster was acquired, as its file says. Sources, first found wins:
 * 1. GDAL metadata (TIFF tag 42112, GDAL_METADATA) `ACQUISITIONDATETIME`, in the default or the
 *    IMAGERY domain (GDAL's imagery metadata, in UTC);
 * 2. GDAL metadata `ACQUISITION_START_TIME` and `ACQUISITION_END_TIME`: an interval, whose start
 *    is also the datetime;
 * 3. GDAL metadata `TIFFTAG_DATETIME`, then the TIFF DateTime tag (306, "YYYY:MM:DD HH:MM:SS").
 * A time without a zone is read as UTC: TIFF DateTime has none and gives no way to know the
 * writer's zone; GDAL's imagery metadata is UTC. An explicit zone (`Z`, `+02:00`) is honoured.
 */

export interface AcquisitionTime {
  datetime: string | null;
  startDatetime: string | null;
  endDatetime: string | null;
  /** Where `datetime` came from: the metadata item or tag name, null when the file gives none. */
  source: string | null;
}

const NONE: AcquisitionTime = { datetime: null, startDatetime: null, endDatetime: null, source: null };

const ENTITIES: Record<string, string> = { amp: '&', lt: '<', gt: '>', quot: '"', apos: "'" };

function unescapeXml(text: string): string {
  return text.replace(/&(amp|lt|gt|quot|apos|#\d+|#x[0-9a-f]+);/gi, (_, e: string) => {
    if (e[0] !== '#') return ENTITIES[e.toLowerCase()]!;
    const code = e[1] === 'x' || e[1] === 'X' ? parseInt(e.slice(2), 16) : parseInt(e.slice(1), 10);
    return code > 0 && code <= 0x10ffff ? String.fromCodePoint(code) : '';
  });
}

/**
 * The dataset-level items of a GDAL_METADATA document (band items, which carry `sample`, are
 * left out), from the default and IMAGERY domains, by upper-case name.
 */
export function gdalMetadataItems(xml: string): Map<string, string> {
  const items = new Map<string, string>();
  for (const [, attributes, value] of xml.matchAll(/<Item\b([^>]*)>([\s\S]*?)<\/Item>/gi)) {
    const attrs = new Map<string, string>();
    for (const [, key, v] of attributes!.matchAll(/([\w:-]+)\s*=\s*"([^"]*)"/g)) attrs.set(key!.toLowerCase(), unescapeXml(v!));
    const name = attrs.get('name');
    const domain = (attrs.get('domain') ?? '').toUpperCase();
    if (!name || attrs.has('sample') || (domain !== '' && domain !== 'IMAGERY')) continue;
    const key = name.toUpperCase();
    // The default domain wins over IMAGERY for the same name.
    if (!items.has(key) || domain === '') items.set(key, unescapeXml(value!).trim());
  }
  return items;
}

/**
 * A date-time as files write it: TIFF ("2021:05:04 10:20:30") or ISO 8601 ("2021-05-04T10:20:30.5Z",
 * "2021-05-04 10:20:30", "2021-05-04"), UTC unless it names a zone. Null when it is not one, or
 * before 1800 (placeholders such as 0000:00:00 00:00:00).
 */
export function parseFileTime(text: string | undefined): string | null {
  const m = text?.trim().match(/^(\d{4})[:-](\d{2})[:-](\d{2})(?:[ T](\d{2}):(\d{2})(?::(\d{2})(?:[.,](\d{1,9}))?)?)?\s*(Z|UTC|GMT|[+-]\d{2}:?\d{2})?$/i);
  if (!m) return null;
  const [, y, mo, d, h = '0', mi = '0', s = '0', frac = '', zone = 'Z'] = m;
  const ms = Math.round(Number(`0.${frac || '0'}`) * 1000);
  const parts = [+y!, +mo!, +d!, +h, +mi, +s];
  if (parts[1]! < 1 || parts[1]! > 12 || parts[2]! < 1 || parts[2]! > 31 || parts[3]! > 23 || parts[4]! > 59 || parts[5]! > 60) return null;
  let time = Date.UTC(parts[0]!, parts[1]! - 1, parts[2]!, parts[3]!, parts[4]!, parts[5]!, ms);
  const offset = zone.match(/^([+-])(\d{2}):?(\d{2})$/);
  if (offset) time -= (offset[1] === '-' ? -1 : 1) * (+offset[2]! * 60 + +offset[3]!) * 60_000;
  const date = new Date(time);
  // Date.UTC rolls 31 April over to 1 May: such a date is not one.
  if (Number.isNaN(time) || date.getUTCFullYear() < 1800 || new Date(Date.UTC(parts[0]!, parts[1]! - 1, parts[2]!)).getUTCDate() !== parts[2]) return null;
  return date.toISOString();
}

/** The acquisition time of a raster from its TIFF DateTime tag and its GDAL metadata (see above). */
export function acquisitionTime(tiffDateTime: string | undefined, gdalMetadata: string | undefined): AcquisitionTime {
  const items = gdalMetadata ? gdalMetadataItems(gdalMetadata) : new Map<string, string>();
  const start = parseFileTime(items.get('ACQUISITION_START_TIME'));
  const end = parseFileTime(items.get('ACQUISITION_END_TIME'));
  const interval = start && end && start <= end ? { startDatetime: start, endDatetime: end } : { startDatetime: null, endDatetime: null };
  const acquired = parseFileTime(items.get('ACQUISITIONDATETIME'));
  if (acquired) return { datetime: acquired, ...interval, source: 'ACQUISITIONDATETIME' };
  if (interval.startDatetime) return { datetime: interval.startDatetime, ...interval, source: 'ACQUISITION_START_TIME' };
  if (start) return { ...NONE, datetime: start, source: 'ACQUISITION_START_TIME' };
  const tagged = parseFileTime(items.get('TIFFTAG_DATETIME'));
  if (tagged) return { ...NONE, datetime: tagged, source: 'TIFFTAG_DATETIME' };
  const tiff = parseFileTime(tiffDateTime);
  return tiff ? { ...NONE, datetime: tiff, source: 'DateTime' } : NONE;
}
