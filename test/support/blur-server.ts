import { createHash } from 'node:crypto';
import http from 'node:http';
import sharp from 'sharp';
import { freePort } from './net.js';

/** The region the test blur service blurs (or reports, as a detector). */
export const BOX = { left: 160, top: 120, width: 240, height: 160 };
const sha256 = (b: Buffer) => createHash('sha256').update(b).digest('hex');

export type BlurMode = 'jpeg' | 'multipart' | 'detector' | 'unavailable';

/**
 * A blur service following the Panoramax contract: `POST /blur/` with a multipart `picture`;
 * it blurs BOX and answers the JPEG (EXIF kept), or image + metadata when asked for multipart.
 * In `detector` mode it only reports the box (JSON), in `unavailable` mode it answers 503.
 */
export async function startBlurServer() {
  const state = { mode: 'jpeg' as BlurMode, requests: 0, received: [] as string[] };
  // eslint-disable-next-line @typescript-eslint/no-misused-promises -- a throw here fails the test as an unhandled rejection
  const server = http.createServer(async (req, res) => {
    const chunks: Buffer[] = [];
    for await (const c of req) chunks.push(c as Buffer);
    if (req.method !== 'POST' || req.url?.split('?')[0] !== '/blur/') {
      res.writeHead(404).end();
      return;
    }
    state.requests++;
    if (state.mode === 'unavailable') {
      res.writeHead(503, { 'content-type': 'text/plain' }).end('model is loading');
      return;
    }
    const form = await new Response(Buffer.concat(chunks), { headers: { 'content-type': req.headers['content-type']! } }).formData();
    const picture = form.get('picture');
    if (!picture || typeof picture === 'string') {
      res.writeHead(422, { 'content-type': 'application/json' }).end('{"detail":"picture is required"}');
      return;
    }
    const input = Buffer.from(await picture.arrayBuffer());
    state.received.push(sha256(input));
    if (state.mode === 'detector') {
      res
        .writeHead(200, { 'content-type': 'application/json' })
        .end(JSON.stringify({ boxes: [{ x: BOX.left, y: BOX.top, width: BOX.width, height: BOX.height }], service_name: 'test-detector' }));
      return;
    }
    const patch = await sharp(input).extract(BOX).blur(12).toBuffer();
    const blurred = await sharp(input)
      .composite([{ input: patch, left: BOX.left, top: BOX.top }])
      .keepMetadata()
      .jpeg({ quality: 98 })
      .toBuffer();
    if (state.mode === 'multipart' && String(req.headers.accept).includes('multipart/form-data')) {
      const answer = new FormData();
      answer.append('image', new Blob([new Uint8Array(blurred)], { type: 'image/jpeg' }), 'blurred.jpg');
      answer.append('metadata', new Blob([JSON.stringify({ blurring_id: `b-${state.requests}`, service_name: 'test-blur' })], { type: 'application/json' }));
      const body = new Response(answer);
      res.writeHead(200, { 'content-type': body.headers.get('content-type')! });
      res.end(Buffer.from(await body.arrayBuffer()));
      return;
    }
    res.writeHead(200, { 'content-type': 'image/jpeg' }).end(blurred);
  });
  const port = await freePort();
  await new Promise<void>((resolve) => server.listen(port, '127.0.0.1', resolve));
  return { state, url: `http://127.0.0.1:${port}`, close: () => new Promise<void>((resolve) => server.close(() => resolve())) };
}
