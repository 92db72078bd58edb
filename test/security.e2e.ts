import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { startApi, type TestApi } from './support/app.js';
import { createUser, type TestUser } from './support/auth.js';
import { freePort, json, waitFor } from './support/net.js';
import { type ChildHandle, spawnEntry } from './support/processes.js';
import { createUploadSet } from './upload-support.js';

/** A multipart body whose file part is `size` bytes and whose closing boundary never comes. */
function unterminatedMultipart(size: number, field = 'file'): { body: Buffer; type: string } {
  const boundary = '----sightline-test-boundary';
  const head = Buffer.from(`--${boundary}\r\nContent-Disposition: form-data; name="${field}"; filename="x.tif"\r\nContent-Type: image/tiff\r\n\r\n`);
  const data = Buffer.alloc(size, 0x49);
  return { body: Buffer.concat([head, data]), type: `multipart/form-data; boundary=${boundary}` };
}

/** The status of a request, or `closed` when the server closed the connection without answering. */
async function statusOf(res: Promise<Response>): Promise<number | 'closed'> {
  try {
    const r = await res;
    await r.arrayBuffer();
    return r.status;
  } catch {
    return 'closed';
  }
}

describe('security: no request ends the API process', () => {
  let helper: TestApi;
  let child: ChildHandle;
  let base: string;
  let user: TestUser;

  before(async () => {
    helper = await startApi();
    user = await createUser(helper, 'uploader');
    const port = await freePort();
    base = `http://127.0.0.1:${port}`;
    child = spawnEntry('main', { env: { PORT: String(port), PUBLIC_URL: base } });
    await child.waitForOutput(/listening on port/);
  });
  after(async () => {
    await child?.stop();
    await helper?.close();
  });

  const alive = async () => {
    assert.equal(child.proc.exitCode, null, `the API exited:\n${child.output().slice(-3000)}`);
    const ready = await waitFor('the API to answer readiness', async () => (await fetch(`${base}/api/health/ready`)).status === 200, 10_000);
    assert.ok(ready);
  };

  it('answers a multipart body without its closing boundary with 400, for small and large parts, datasets and pictures', async () => {
    const set = await createUploadSet(helper, user, { title: 'boundary test' });
    for (const route of ['/api/datasets', `/api/upload_sets/${set.id}/files`]) {
      for (const size of [1, 1000, 20_000, 55_000, 70_000, 300_000]) {
        const { body, type } = unterminatedMultipart(size);
        const status = await statusOf(fetch(`${base}${route}`, { method: 'POST', headers: { ...user.headers, 'content-type': type }, body }));
        assert.equal(status, 400, `${route} with a ${size}-byte part`);
        await alive();
      }
    }
  });
});
