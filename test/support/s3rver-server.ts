// An s3rver process for the tests (see s3.ts): `node --openssl-legacy-provider s3rver-server.js <dir>`.
// s3rver signs its ListObjectsV2 continuation tokens with DES, which OpenSSL 3 keeps in its legacy
// provider: without the flag every listing of more than one page fails.
import fs from 'node:fs/promises';
import { createRequire } from 'node:module';
import type { AddressInfo } from 'node:net';
import path from 'node:path';

interface KoaContext {
  method: string;
  path: string;
  query: Record<string, string | undefined>;
  status: number;
  body: unknown;
}
type StoreMethod = (...args: unknown[]) => Promise<unknown>;
interface S3rverApp {
  store: Record<string, StoreMethod>;
  middleware: ((ctx: KoaContext, next: () => Promise<void>) => Promise<void>)[];
  run(): Promise<AddressInfo>;
  close(): Promise<void>;
}
type S3rverClass = new (options: Record<string, unknown>) => S3rverApp;

const uploadsDir = (directory: string, bucket: string) => path.join(directory, bucket, '._S3rver_uploads');

const directory = process.argv[2]!;
const S3rver = createRequire(import.meta.url)('s3rver') as S3rverClass;
const server = new S3rver({ address: '127.0.0.1', port: 0, directory, silent: true });
// s3rver's delete removes the folders it empties, and a write into the same folder at that moment
// fails with ENOENT in a stream nobody listens to, which ends the process: writes and deletes take
// turns here (real S3 servers have no folders to race on).
let turn: Promise<unknown> = Promise.resolve();
for (const name of ['putObject', 'deleteObject']) {
  const original = server.store[name]!.bind(server.store);
  server.store[name] = (...args: unknown[]) => {
    const run = turn.then(() => original(...args));
    turn = run.catch(() => undefined);
    return run;
  };
}
// s3rver answers AbortMultipartUpload with 405: implemented here over its own upload folders.
server.middleware.unshift(async (ctx, next) => {
  const id = ctx.query.uploadId;
  if (ctx.method === 'DELETE' && id && /^[A-Za-z0-9_-]+$/.test(id)) {
    await fs.rm(path.join(uploadsDir(directory, ctx.path.split('/')[1]!), id), { recursive: true, force: true });
    ctx.status = 204;
    ctx.body = '';
    return;
  }
  await next();
});
const address = await server.run();
process.stdout.write(`${JSON.stringify({ port: address.port })}\n`);
// Ends with its parent.
process.stdin.resume();
process.stdin.on('end', () => process.exit(0));
