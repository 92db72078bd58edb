import { XMLParser, XMLValidator } from 'fast-xml-parser';
import { bodyExcerpt, RemoteError, type RemoteResponse } from '../../remote-http.js';

/** An element of a parsed document: local name (namespace prefix dropped), attributes, children, text. */
export interface XmlElement {
  name: string;
  attrs: Record<string, string>;
  children: XmlElement[];
  /** The element's own text (its text and CDATA children, entity references decoded). */
  text: string;
}

// Entity processing stays off: a DOCTYPE's entities are never expanded (no billion laughs) and
// an external entity is refused by the parser (no XXE). The five predefined entities and
// character references are decoded below, in one pass, so nothing is expanded twice.
const parser = new XMLParser({
  preserveOrder: true,
  ignoreAttributes: false,
  attributeNamePrefix: '',
  removeNSPrefix: true,
  parseTagValue: false,
  parseAttributeValue: false,
  processEntities: false,
  htmlEntities: false,
  ignoreDeclaration: true,
  ignorePiTags: true,
  cdataPropName: '#cdata',
  trimValues: true,
});

const PREDEFINED: Record<string, string> = { lt: '<', gt: '>', amp: '&', quot: '"', apos: "'" };

/** Decodes the predefined XML entities and character references; any other reference is left as written. */
export function decodeEntities(text: string): string {
  if (!text.includes('&')) return text;
  return text.replace(/&(#x[0-9a-fA-F]{1,6}|#[0-9]{1,7}|[a-zA-Z]+);/g, (whole, ref: string) => {
    if (ref[0] === '#') {
      const code = ref[1] === 'x' || ref[1] === 'X' ? parseInt(ref.slice(2), 16) : parseInt(ref.slice(1), 10);
      return code > 0 && code <= 0x10ffff ? String.fromCodePoint(code) : whole;
    }
    return PREDEFINED[ref] ?? whole;
  });
}

type Ordered = Record<string, unknown>;

function toElement(node: Ordered): XmlElement | null {
  const name = Object.keys(node).find((k) => k !== ':@');
  if (!name || name === '#text' || name === '#cdata') return null;
  const attrs: Record<string, string> = {};
  for (const [key, value] of Object.entries((node[':@'] as Record<string, unknown>) ?? {})) attrs[key] = decodeEntities(String(value));
  const element: XmlElement = { name, attrs, children: [], text: '' };
  const texts: string[] = [];
  for (const child of (node[name] as Ordered[]) ?? []) {
    if ('#text' in child) texts.push(decodeEntities(String(child['#text'])));
    else if ('#cdata' in child) for (const part of (child['#cdata'] as Ordered[]) ?? []) texts.push(String(part['#text'] ?? ''));
    else {
      const sub = toElement(child);
      if (sub) element.children.push(sub);
    }
  }
  element.text = texts.join('').trim();
  return element;
}

/** Parses an XML text into its root element; throws an Error saying why when it is not well-formed XML. */
export function parseXml(text: string): XmlElement {
  const start = text.replace(/^\uFEFF/, '').trimStart();
  if (!start.startsWith('<')) throw new Error('not XML');
  const valid = XMLValidator.validate(start);
  if (valid !== true) throw new Error(`not well-formed XML (${valid.err.msg} at line ${valid.err.line})`);
  const nodes = parser.parse(start) as Ordered[];
  for (const node of nodes) {
    const element = toElement(node);
    if (element) return element;
  }
  throw new Error('no root element');
}

/** The direct children called `name`. */
export function children(element: XmlElement | undefined | null, name: string): XmlElement[] {
  return element ? element.children.filter((c) => c.name === name) : [];
}

/** The first direct child called `name`. */
export function child(element: XmlElement | undefined | null, name: string): XmlElement | undefined {
  return element?.children.find((c) => c.name === name);
}

/** Follows a path of child names, first match at each step. */
export function at(element: XmlElement | undefined | null, ...path: string[]): XmlElement | undefined {
  let current: XmlElement | undefined = element ?? undefined;
  for (const name of path) current = child(current, name);
  return current;
}

/** Every descendant called `name` (depth first, document order); does not look inside a match. */
export function descendants(element: XmlElement | undefined | null, name: string, found: XmlElement[] = []): XmlElement[] {
  for (const c of element?.children ?? []) {
    if (c.name === name) found.push(c);
    else descendants(c, name, found);
  }
  return found;
}

/** The first descendant called `name`. */
export function descendant(element: XmlElement | undefined | null, name: string): XmlElement | undefined {
  for (const c of element?.children ?? []) {
    if (c.name === name) return c;
    const deeper = descendant(c, name);
    if (deeper) return deeper;
  }
  return undefined;
}

/** Raised when a CSW answers with an ows:ExceptionReport. */
export class CswExceptionError extends RemoteError {}

/** The text of an ows:ExceptionReport: each exception's code, locator and text. */
export function exceptionMessage(report: XmlElement): string {
  const parts = descendants(report, 'Exception').map((e) => {
    const texts = children(e, 'ExceptionText')
      .map((t) => t.text)
      .filter(Boolean);
    const code = e.attrs.exceptionCode ? `${e.attrs.exceptionCode}${e.attrs.locator ? ` (${e.attrs.locator})` : ''}` : '';
    return [code, texts.join('; ')].filter(Boolean).join(': ');
  });
  return parts.filter(Boolean).join(' | ') || 'no exception text';
}

/**
 * Reads a CSW answer: well-formed XML whose root is one of `expected` (local names), else a
 * RemoteError naming what came instead; an ows:ExceptionReport gives its exception text.
 */
export function readCswXml(response: Pick<RemoteResponse, 'body' | 'headers' | 'url' | 'status'>, expected: string[]): XmlElement {
  const type = String(response.headers['content-type'] ?? 'no content type');
  let root: XmlElement;
  try {
    root = parseXml(response.body.toString('utf8'));
  } catch (error) {
    const why = (error as Error).message;
    const detail = why === 'not XML' ? '' : ` (${why})`;
    throw new RemoteError(`expected CSW XML from ${response.url}, got ${type} starting ${bodyExcerpt(response.body)}${detail}`, response.url, response.status);
  }
  if (root.name === 'ExceptionReport' || root.name === 'ServiceExceptionReport') {
    throw new CswExceptionError(`the CSW at ${response.url} answered an exception: ${exceptionMessage(root)}`, response.url, response.status);
  }
  if (!expected.includes(root.name)) {
    const what = root.name.toLowerCase() === 'html' ? 'an HTML page' : `a ${root.name} document, not ${expected.join(' or ')}`;
    throw new RemoteError(`expected CSW XML from ${response.url}, got ${type} (${what}) starting ${bodyExcerpt(response.body)}`, response.url, response.status);
  }
  return root;
}

/**
 * An error answer (HTTP 4xx / 5xx) that is an OWS exception report becomes an error saying the
 * exception's text; anything else is left as it was.
 */
export function exceptionOf(error: unknown): unknown {
  if (!(error instanceof RemoteError) || !error.body?.length) return error;
  let root: XmlElement;
  try {
    root = parseXml(error.body.toString('utf8'));
  } catch {
    return error;
  }
  if (root.name !== 'ExceptionReport' && root.name !== 'ServiceExceptionReport') return error;
  return new CswExceptionError(`the CSW at ${error.url} answered HTTP ${error.status} with an exception: ${exceptionMessage(root)}`, error.url, error.status);
}

/** Escapes a text for an XML text node or attribute value. */
export function escapeXml(text: string): string {
  return text.replace(/[<>&"']/g, (c) => ({ '<': '&lt;', '>': '&gt;', '&': '&amp;', '"': '&quot;', "'": '&apos;' })[c]!);
}
