import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import fs from 'node:fs/promises';
import { after, before, describe, it } from 'node:test';
import { startApi, type TestApi } from './support/app.js';
import { createUser, type TestUser } from './support/auth.js';
import { AuthzMatrix, assertCells, byStatus, statusText, type Caller } from './support/authz-matrix.js';
import { uniqueSn } from './support/drones.js';
import { sharedPath } from './support/env.js';
import { json } from './support/net.js';

/**
 * Who may reach what under a drone workspace: anonymous callers, its owner, another person and an
 * administrator, and pilot apps with their connection's token (of this workspace or another).
 */
describe('drones: authorization matrix', () => {
  let api: TestApi;
  const people = {} as Record<Caller, TestUser | undefined>;
  let workspace: { id: string; workspace_uuid: string };
  let pilotToken = '';
  let foreignPilotToken = '';
  const ids = { aircraft: '', flight: '', media: '', connection: '' };
  const matrix = new AuthzMatrix();

  const send = (method: string, path: string, headers: Record<string, string> = {}, body?: unknown) =>
    api.fetch(path, {
      method,
      headers: { ...headers, ...(body !== undefined ? { 'content-type': 'application/json' } : {}) },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
  const headersOf = (caller: Caller): Record<string, string> => people[caller]?.headers ?? {};

  async function pilotOf(owner: TestUser, workspaceId: string): Promise<{ token: string; connectionId: string }> {
    const connection = await json(await send('POST', `/api/drones/workspaces/${workspaceId}/connections`, owner.headers, { name: 'RC' }));
    const login = await json(await send('POST', '/api/drones/connection-link/auth/login', {}, { connection_id: connection.connection_id, secret: connection.secret }));
    return { token: login.token, connectionId: connection.id };
  }

  before(async () => {
    api = await startApi({ env: { LOG_LEVEL: 'error' } });
    people.anonymous = undefined;
    people.owner = await createUser(api, 'ws-owner');
    people.other = await createUser(api, 'ws-other');
    people.admin = await createUser(api, 'ws-admin', 'admin');
    workspace = await json(await send('POST', '/api/drones/workspaces', people.owner.headers, { name: 'Matrix fleet' }));
    const pilot = await pilotOf(people.owner, workspace.id);
    pilotToken = pilot.token;
    ids.connection = pilot.connectionId;
    const theirs = await json(await send('POST', '/api/drones/workspaces', people.other!.headers, { name: 'Other fleet' }));
    foreignPilotToken = (await pilotOf(people.other!, theirs.id)).token;

    const bound = await send('POST', `/api/drones/workspaces/${workspace.id}/devices`, people.owner.headers, { sn: uniqueSn('AZ'), kind: 'aircraft' });
    assert.equal(bound.status, 201, await bound.clone().text());
    ids.aircraft = (await json(bound)).id;
    const flight = await send('POST', `/api/drones/workspaces/${workspace.id}/flights`, people.owner.headers, {
      drone: ids.aircraft,
      name: 'Matrix flight',
      started_at: '2021-05-28T10:30:00Z',
      ended_at: '2021-05-28T10:45:00Z',
    });
    assert.equal(flight.status, 201, await flight.clone().text());
    ids.flight = (await json(flight)).id;
    const photo = await fs.readFile(sharedPath('fixtures', 'drones', 'photos', 'oblique-thermal', 'DJI_H20T.jpg'));
    const form = new FormData();
    form.set('fingerprint', createHash('md5').update(photo).update(randomBytes(4)).digest('hex'));
    form.set('file', new Blob([photo], { type: 'image/jpeg' }), 'DJI_H20T.jpg');
    const media = await api.fetch(`/api/drones/workspaces/${workspace.id}/media`, { method: 'POST', headers: people.owner.headers, body: form });
    assert.equal(media.status, 201, await media.clone().text());
    ids.media = (await json(media)).id;
  });
  after(() => api?.close());

  /** Reads of the workspace and everything under it. */
  const reads = () => {
    const w = `/api/drones/workspaces/${workspace.id}`;
    const list: { path: string; pilot: boolean; ok?: number[]; message?: RegExp }[] = [
      { path: w, pilot: false },
      { path: `${w}/connections`, pilot: false },
      { path: `${w}/drones`, pilot: false },
      { path: `${w}/drones/${ids.aircraft}`, pilot: false },
      // No telemetry yet: 404 saying so (the cell checks the message, so a hidden drone cannot pass for it).
      { path: `${w}/drones/${ids.aircraft}/last-position`, pilot: false, ok: [404], message: /reported no position yet/ },
      { path: `${w}/drones/${ids.aircraft}/last-battery`, pilot: false, ok: [404], message: /reported no battery level yet/ },
      { path: `${w}/drones/${ids.aircraft}/flights`, pilot: false },
      { path: `${w}/drones/${ids.aircraft}/current-flight`, pilot: false, ok: [200, 204] },
      { path: `${w}/remote-controllers`, pilot: false },
      { path: `${w}/flights/${ids.flight}`, pilot: false },
      { path: `${w}/flights/${ids.flight}/media`, pilot: true },
      { path: `${w}/media`, pilot: true },
      { path: `${w}/media/${ids.media}`, pilot: true },
      { path: `${w}/media/${ids.media}/file`, pilot: true },
      { path: `${w}/media/${ids.media}/ground-coverage`, pilot: true },
    ];
    return list;
  };

  it('reads: the owner and administrators see the workspace and all below it; another person gets 404, nobody 401', async () => {
    for (const read of reads()) {
      for (const caller of ['anonymous', 'owner', 'other', 'admin'] as Caller[]) {
        const expected = caller === 'anonymous' ? [401] : caller === 'other' ? [404] : (read.ok ?? [200]);
        const message = caller === 'owner' || caller === 'admin' ? read.message : undefined;
        matrix.cell({ route: `GET ${read.path.replace(workspace.id, '{ws}')}`, caller, setup: 'workspace of owner', expected: statusText(expected) }, async () => {
          const res = await send('GET', read.path, headersOf(caller));
          if (!message) {
            await res.body?.cancel();
            return byStatus(res.status, expected);
          }
          const body = (await res.json().catch(() => ({}))) as { message?: string };
          return byStatus(res.status, expected, message.test(body.message ?? '') ? null : `message ${JSON.stringify(body.message)}`);
        });
      }
      // Pilot apps: their own workspace's media routes; no route of a person; never another workspace.
      const own = read.pilot ? [200] : [401];
      matrix.cell(
        { route: `GET ${read.path.replace(workspace.id, '{ws}')}`, caller: 'anonymous', setup: "x-auth-token of the workspace's pilot", expected: statusText(own) },
        async () => {
          const res = await send('GET', read.path, { 'x-auth-token': pilotToken });
          await res.body?.cancel();
          return byStatus(res.status, own);
        },
      );
      const foreign = read.pilot ? [404] : [401];
      matrix.cell(
        { route: `GET ${read.path.replace(workspace.id, '{ws}')}`, caller: 'anonymous', setup: "x-auth-token of another workspace's pilot", expected: statusText(foreign) },
        async () => {
          const res = await send('GET', read.path, { 'x-auth-token': foreignPilotToken });
          await res.body?.cancel();
          return byStatus(res.status, foreign);
        },
      );
    }
    // The live events stream: opened for the owner and administrators (then closed here).
    for (const caller of ['anonymous', 'owner', 'other', 'admin'] as Caller[]) {
      const expected = caller === 'anonymous' ? [401] : caller === 'other' ? [404] : [200];
      matrix.cell({ route: 'GET /api/drones/workspaces/{ws}/events', caller, setup: 'workspace of owner', expected: statusText(expected) }, async () => {
        const controller = new AbortController();
        const res = await api.fetch(`/api/drones/workspaces/${workspace.id}/events`, { headers: headersOf(caller), signal: controller.signal });
        controller.abort();
        return byStatus(res.status, expected);
      });
    }
    assertCells(await matrix.run());
  });

  it('writes: only the owner and administrators change the workspace, its devices and flights; another person gets 404', async () => {
    const w = `/api/drones/workspaces/${workspace.id}`;
    const writes = [
      { method: 'PATCH', path: w, body: { description: 'edited' }, ok: 200 },
      { method: 'PATCH', path: `${w}/flights/${ids.flight}`, body: { name: 'Renamed flight' }, ok: 200 },
      { method: 'POST', path: `${w}/flights`, body: { name: 'Another', started_at: '2021-05-29T10:00:00Z', ended_at: '2021-05-29T10:10:00Z' }, ok: 201 },
      { method: 'POST', path: `${w}/connections`, body: { name: 'Spare RC' }, ok: 201 },
      { method: 'POST', path: `${w}/devices`, body: { sn: uniqueSn('AW'), kind: 'gateway', connection_id: ids.connection }, ok: 201, once: true },
    ];
    for (const write of writes) {
      for (const caller of ['anonymous', 'other', 'owner', 'admin'] as Caller[]) {
        if (write.once && caller === 'admin') continue;
        const expected = caller === 'anonymous' ? [401] : caller === 'other' ? [404] : [write.ok];
        matrix.cell({ route: `${write.method} ${write.path.replace(workspace.id, '{ws}')}`, caller, setup: 'workspace of owner', expected: statusText(expected) }, async () => {
          const res = await send(write.method, write.path, headersOf(caller), write.body);
          await res.body?.cancel();
          return byStatus(res.status, expected);
        });
      }
      matrix.cell(
        { route: `${write.method} ${write.path.replace(workspace.id, '{ws}')}`, caller: 'anonymous', setup: "x-auth-token of the workspace's pilot", expected: '401' },
        async () => {
          const res = await send(write.method, write.path, { 'x-auth-token': pilotToken }, write.body);
          await res.body?.cancel();
          return byStatus(res.status, [401]);
        },
      );
    }
    // Run one at a time: the owner's write must not race the stranger's.
    assertCells(await matrix.run(1));

    for (const caller of ['anonymous', 'other'] as Caller[]) {
      const expected = caller === 'anonymous' ? [401] : [404];
      for (const path of [`${w}/connections/${ids.connection}`, `${w}/devices/${ids.aircraft}`, w]) {
        matrix.cell({ route: `DELETE ${path.replace(workspace.id, '{ws}')}`, caller, setup: 'workspace of owner', expected: statusText(expected) }, async () =>
          byStatus((await send('DELETE', path, headersOf(caller))).status, expected),
        );
      }
    }
    assertCells(await matrix.run(1));
    // Nothing was deleted by them.
    assert.equal((await send('GET', w, people.owner!.headers)).status, 200);
    assert.equal((await send('GET', `${w}/drones/${ids.aircraft}`, people.owner!.headers)).status, 200);
  });
});
