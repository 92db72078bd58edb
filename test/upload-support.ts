import { readFile } from 'node:fs/promises';
import path from 'node:path';
import type { TestApi } from './support/app.js';
import type { TestUser } from './support/auth.js';
import { json, waitFor } from './support/net.js';

/** Creates an upload set through the API; returns its JSON. */
// eslint-disable-next-line @typescript-eslint/no-explicit-any
export async function createUploadSet(api: TestApi, user: TestUser, body: Record<string, unknown>): Promise<any> {
  const res = await api.fetch('/api/upload_sets', { method: 'POST', headers: { ...user.headers, 'content-type': 'application/json' }, body: JSON.stringify(body) });
  if (res.status !== 201) throw new Error(`creating the upload set answered ${res.status}: ${await res.text()}`);
  return json(res);
}

/** Sends one file (a path, or a name and bytes) as multipart to an upload set. */
export async function uploadPicture(
  api: TestApi,
  user: TestUser,
  setId: string,
  file: string | { name: string; data: Buffer },
  fields: Record<string, string> = {},
): Promise<Response> {
  const { name, data } = typeof file === 'string' ? { name: path.basename(file), data: await readFile(file) } : file;
  const form = new FormData();
  for (const [k, v] of Object.entries(fields)) form.append(k, v);
  form.append('file', new Blob([new Uint8Array(data)], { type: 'image/jpeg' }), name);
  return api.fetch(`/api/upload_sets/${setId}/files`, { method: 'POST', headers: user.headers, body: form });
}

// eslint-disable-next-line @typescript-eslint/no-explicit-any
export async function getUploadSet(api: TestApi, user: TestUser, setId: string): Promise<any> {
  const res = await api.fetch(`/api/upload_sets/${setId}`, { headers: user.headers });
  if (res.status !== 200) throw new Error(`GET upload set answered ${res.status}: ${await res.text()}`);
  return json(res);
}

// eslint-disable-next-line @typescript-eslint/no-explicit-any
export async function getFiles(api: TestApi, user: TestUser, setId: string): Promise<any[]> {
  const res = await api.fetch(`/api/upload_sets/${setId}/files`, { headers: user.headers });
  if (res.status !== 200) throw new Error(`GET files answered ${res.status}: ${await res.text()}`);
  return (await json(res)).files;
}

/** Waits until the set is dispatched and ready (every sequence finalised, every picture processed). */
// eslint-disable-next-line @typescript-eslint/no-explicit-any
export function waitUntilReady(api: TestApi, user: TestUser, setId: string, timeoutMs = 60_000): Promise<any> {
  return waitFor(
    `upload set ${setId} to be ready`,
    async () => {
      const set = await getUploadSet(api, user, setId);
      return set.ready ? set : undefined;
    },
    timeoutMs,
    200,
  );
}
