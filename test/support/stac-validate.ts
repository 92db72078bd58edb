import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { Ajv, type AnySchemaObject, type ValidateFunction } from 'ajv';
import addFormatsModule from 'ajv-formats';
import { sharedPath } from './env.js';

/**
 * Validates STAC documents the way stac-node-validator does (its IRI formats, ajv with
 * `allErrors` and `strict: false`, the core schema of the document's type and version, then
 * every schema in `stac_extensions`), with a schema loader that maps
 * `https://<host>/<path>` to `../shared/stac-schemas/<host>/<path>` and fails on any schema
 * that is not there. Without ../shared/stac-schemas it loads schemas from the network; with
 * neither, validation is skipped and `skipReason` says why.
 */

const require = createRequire(import.meta.url);
const iriFormats = require('stac-node-validator/iri.js') as Record<string, (value: string) => boolean | undefined>;
const addFormats = addFormatsModule as unknown as (ajv: Ajv) => Ajv;

const SCHEMAS_DIR = sharedPath('stac-schemas');

export interface ValidationReport {
  /** Documents (items, collections, catalogs) validated so far in this process. */
  validated: number;
  invalid: number;
}

export class StacValidator {
  private readonly ajv: Ajv;
  private readonly compiled = new Map<string, Promise<ValidateFunction>>();
  readonly report: ValidationReport = { validated: 0, invalid: 0 };

  constructor(private readonly load: (uri: string) => Promise<AnySchemaObject>) {
    const formats: Record<string, (value: string) => boolean> = {};
    for (const [name, fn] of Object.entries(iriFormats)) formats[name] = (value: string) => fn(value) !== false;
    this.ajv = new Ajv({ formats, allErrors: true, strict: false, loadSchema: (uri) => this.load(uri) });
    addFormats(this.ajv);
  }

  private schema(id: string): Promise<ValidateFunction> {
    let compiled = this.compiled.get(id);
    if (!compiled) {
      compiled = (async () => {
        const existing = this.ajv.getSchema(id);
        if (existing) return existing;
        const json = await this.load(id);
        const known = json.$id ? this.ajv.getSchema(json.$id) : undefined;
        return known ?? this.ajv.compileAsync(json);
      })();
      this.compiled.set(id, compiled);
    }
    return compiled;
  }

  /** Problems of one STAC object (Item, Collection, Catalog); empty when valid. */
  private async validateObject(doc: Record<string, unknown>, label: string, count: boolean): Promise<string[]> {
    const problems: string[] = [];
    const version = doc.stac_version;
    if (typeof version !== 'string') return [`${label}: no stac_version`];
    const type = doc.type === 'Feature' ? 'item' : doc.type === 'Collection' ? 'collection' : doc.type === 'Catalog' ? 'catalog' : undefined;
    if (!type) return [`${label}: type '${String(doc.type)}' is not a STAC object type`];
    const schemas = [`https://schemas.stacspec.org/v${version}/${type}-spec/json-schema/${type}.json`];
    if (Array.isArray(doc.stac_extensions)) schemas.push(...(doc.stac_extensions as string[]));
    for (const [i, id] of schemas.entries()) {
      const validate = await this.schema(id);
      if (!validate(doc)) {
        problems.push(`${label}: invalid against ${id}: ${this.ajv.errorsText(validate.errors, { separator: '; ' })}`);
        if (i === 0) break; // as stac-node-validator: core errors first
      }
    }
    if (count) {
      this.report.validated++;
      if (problems.length) this.report.invalid++;
    }
    return problems;
  }

  /**
   * Validates a STAC document or API response (ItemCollection features, /collections entries).
   * `count: false` leaves the report alone (for deliberately broken samples).
   */
  async validate(doc: unknown, label = 'document', options: { count?: boolean } = {}): Promise<string[]> {
    const count = options.count ?? true;
    const d = doc as Record<string, unknown>;
    if (d && Array.isArray(d.features)) {
      const all = await Promise.all((d.features as Record<string, unknown>[]).map((f, i) => this.validateObject(f, `${label} features[${i}] (${String(f.id)})`, count)));
      return all.flat();
    }
    if (d && Array.isArray(d.collections)) {
      const all = await Promise.all((d.collections as Record<string, unknown>[]).map((c, i) => this.validateObject(c, `${label} collections[${i}] (${String(c.id)})`, count)));
      return all.flat();
    }
    return this.validateObject(d, label, count);
  }
}

/**
 * Every version of the projection extension references PROJJSON's schema, which
 * ../shared/stac-schemas does not hold. It only describes the value of `proj:projjson`; when the
 * file is absent it is replaced by an empty schema (and said so once), so that items with
 * projection fields can still be validated offline against everything else. Any other
 * missing schema fails.
 */
const PROJJSON = /^https:\/\/proj\.org\/schemas\/v[\d.]+\/projjson\.schema\.json$/;
let projjsonNoticeShown = false;

function localLoader(uri: string): Promise<AnySchemaObject> {
  const url = new URL(uri);
  url.hash = '';
  if (url.protocol !== 'https:' && url.protocol !== 'http:') return Promise.reject(new Error(`schema ${uri}: unsupported protocol`));
  const file = sharedPath('stac-schemas', url.host, decodeURIComponent(url.pathname));
  if (!existsSync(file)) {
    if (PROJJSON.test(url.toString())) {
      if (!projjsonNoticeShown) {
        projjsonNoticeShown = true;
        process.stderr.write(`note: ${url} is not in ../shared/stac-schemas; proj:projjson values are not checked\n`);
      }
      return Promise.resolve({ $id: url.toString() });
    }
    return Promise.reject(new Error(`schema ${uri} is not in ../shared/stac-schemas (looked for ${file})`));
  }
  return readFile(file, 'utf8').then((text) => JSON.parse(text) as AnySchemaObject);
}

async function networkLoader(uri: string): Promise<AnySchemaObject> {
  const res = await fetch(uri, { signal: AbortSignal.timeout(10_000) });
  if (!res.ok) throw new Error(`schema ${uri}: HTTP ${res.status}`);
  return (await res.json()) as AnySchemaObject;
}

let cached: Promise<{ validator?: StacValidator; skipReason?: string }> | undefined;

/** The validator of this process, or why there is none. */
export function stacValidator(): Promise<{ validator?: StacValidator; skipReason?: string }> {
  cached ??= (async () => {
    if (existsSync(SCHEMAS_DIR)) return { validator: new StacValidator(localLoader) };
    try {
      const res = await fetch('https://schemas.stacspec.org/v1.0.0/item-spec/json-schema/item.json', { signal: AbortSignal.timeout(5_000) });
      if (res.ok) return { validator: new StacValidator(networkLoader) };
    } catch {
      /* no network either */
    }
    return { skipReason: `STAC validation skipped: ${SCHEMAS_DIR} is absent and the schemas cannot be fetched from the network` };
  })();
  return cached;
}
