import { openAsBlob } from 'node:fs';
import { setTimeout as sleep } from 'node:timers/promises';
import type { PixelBox } from '../../media/media.types.js';
import { BlurInput, BlurOutcome, BlurProvider, BlurRefusedError } from './blur-provider.js';

export interface HttpBlurOptions {
  url: string;
  timeoutMs: number;
  retries: number;
}

/** Largest answer accepted from the service, whatever it says. */
const MAX_ANSWER_BYTES = 512 * 1024 * 1024;

/**
 * The Panoramax blur-API contract: `POST {url}/blur/` with a multipart `picture` part; the
 * answer is the blurred JPEG, or (asked for with `Accept`) a multipart `image` + `metadata`.
 * A detector answering JSON boxes (`boxes: [{x, y, width, height}]` or SGBlur's
 * `info: [{xywh}]`) is accepted too: the boxes are blurred here.
 */
export class HttpBlurProvider extends BlurProvider {
  readonly name = 'http';
  readonly enabled = true;

  constructor(private readonly options: HttpBlurOptions) {
    super();
  }

  async blur(input: BlurInput, signal: AbortSignal): Promise<BlurOutcome> {
    let lastError: unknown;
    for (let attempt = 0; attempt <= this.options.retries; attempt++) {
      if (attempt > 0) await sleep(300 * 2 ** (attempt - 1), undefined, { signal });
      try {
        return await this.once(input, signal);
      } catch (error) {
        if (error instanceof BlurRefusedError || signal.aborted) throw error;
        lastError = error;
      }
    }
    throw lastError;
  }

  private async once(input: BlurInput, signal: AbortSignal): Promise<BlurOutcome> {
    const picture = input.path ? await openAsBlob(input.path, { type: 'image/jpeg' }) : new Blob([new Uint8Array(input.buffer!)], { type: 'image/jpeg' });
    const form = new FormData();
    form.append('picture', picture, 'picture.jpg');
    const url = `${this.options.url.replace(/\/+$/, '')}/blur/`;
    let res: Response;
    try {
      res = await fetch(url, {
        method: 'POST',
        body: form,
        headers: { accept: 'multipart/form-data, image/jpeg;q=0.9, application/json;q=0.5' },
        signal: AbortSignal.any([signal, AbortSignal.timeout(this.options.timeoutMs)]),
      });
    } catch (error) {
      const e = error as Error;
      throw new Error(e.name === 'TimeoutError' ? `blur service did not answer within ${this.options.timeoutMs} ms` : `blur service unreachable: ${e.message}`, { cause: error });
    }
    if (!res.ok) {
      const detail = (await res.text().catch(() => '')).slice(0, 200);
      const message = `blur service answered ${res.status}${detail ? `: ${detail}` : ''}`;
      if (res.status >= 400 && res.status < 500 && res.status !== 408 && res.status !== 429) throw new BlurRefusedError(message);
      throw new Error(message);
    }
    const length = Number(res.headers.get('content-length') ?? 0);
    if (length > MAX_ANSWER_BYTES) throw new Error(`blur service answer too large (${length} bytes)`);
    const type = (res.headers.get('content-type') ?? '').toLowerCase();
    if (type.startsWith('image/jpeg')) {
      return { kind: 'image', image: Buffer.from(await res.arrayBuffer()), metadata: headerMetadata(res) };
    }
    if (type.startsWith('multipart/form-data')) {
      const parts = await res.formData();
      const image = parts.get('image');
      if (!image || typeof image === 'string') throw new Error('blur service multipart answer has no image part');
      const meta = parts.get('metadata');
      const text = meta === null ? null : typeof meta === 'string' ? meta : await meta.text();
      return { kind: 'image', image: Buffer.from(await image.arrayBuffer()), metadata: text ? parseObject(text) : null };
    }
    if (type.startsWith('application/json')) {
      const body = parseObject(await res.text());
      return { kind: 'boxes', boxes: boxesOf(body), metadata: body };
    }
    throw new Error(`blur service answered an unexpected content type: ${type || 'none'}`);
  }
}

function parseObject(text: string): Record<string, unknown> {
  try {
    const v = JSON.parse(text) as unknown;
    return v && typeof v === 'object' && !Array.isArray(v) ? (v as Record<string, unknown>) : { value: v };
  } catch {
    throw new Error('blur service metadata is not JSON');
  }
}

/** SGBlur reports what it did in an `x-sgblur` header. */
function headerMetadata(res: Response): Record<string, unknown> | null {
  const h = res.headers.get('x-sgblur');
  if (!h) return null;
  try {
    return parseObject(h);
  } catch {
    return null;
  }
}

function boxesOf(body: Record<string, unknown>): PixelBox[] {
  const out: PixelBox[] = [];
  const add = (x: unknown, y: unknown, w: unknown, h: unknown) => {
    const v = [x, y, w, h].map(Number);
    if (v.every(Number.isFinite) && v[2]! > 0 && v[3]! > 0) out.push({ x: v[0]!, y: v[1]!, width: v[2]!, height: v[3]! });
  };
  if (Array.isArray(body.boxes)) {
    for (const b of body.boxes as Record<string, unknown>[]) add(b?.x, b?.y, b?.width, b?.height);
  } else if (Array.isArray(body.info)) {
    for (const i of body.info as { xywh?: unknown[] }[]) if (Array.isArray(i?.xywh)) add(...(i.xywh as [unknown, unknown, unknown, unknown]));
  } else {
    throw new Error('blur service JSON answer has neither boxes nor info');
  }
  return out;
}
