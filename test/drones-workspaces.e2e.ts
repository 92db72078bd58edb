import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { startApi, type TestApi } from './support/app.js';
import { createUser, type TestUser } from './support/auth.js';
import { json, waitFor } from './support/net.js';

describe('drone workspaces, pilot connections and their login', () => {
  let api: TestApi;
  let alice: TestUser;
  let bob: TestUser;
  let admin: TestUser;
  let workspace: { id: string; workspace_uuid: string; name: string };

  before(async () => {
    api = await startApi({
      env: { LOG_LEVEL: 'error', DJI_APP_ID: '123456', DJI_APP_KEY: 'app-key', DJI_APP_LICENSE: 'licence', MQTT_PUBLIC_URL: 'mqtts://mqtt.example.org:8883' },
    });
    alice = await createUser(api, 'pilot-alice');
    bob = await createUser(api, 'pilot-bob');
    admin = await createUser(api, 'drone-admin', 'admin');
  });
  after(async () => {
    await api?.close();
  });

  const post = (path: string, body: unknown, headers: Record<string, string> = {}) =>
    api.fetch(path, { method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body: JSON.stringify(body) });

  it('creates a workspace its owner and administrators see, and nobody else', async () => {
    const res = await post('/api/drones/workspaces', { name: 'Survey team', description: 'Coastal surveys', location: { lon: 8.54, lat: 47.37 } }, alice.headers);
    assert.equal(res.status, 201);
    workspace = await json(res);
    assert.equal(workspace.name, 'Survey team');
    assert.match(workspace.workspace_uuid, /^[0-9a-f-]{36}$/);
    assert.deepEqual((workspace as unknown as { location: unknown }).location, { lon: 8.54, lat: 47.37 });

    assert.equal((await api.fetch(`/api/drones/workspaces/${workspace.id}`, { headers: alice.headers })).status, 200);
    assert.equal((await api.fetch(`/api/drones/workspaces/${workspace.id}`, { headers: admin.headers })).status, 200);
    const hidden = await api.fetch(`/api/drones/workspaces/${workspace.id}`, { headers: bob.headers });
    assert.equal(hidden.status, 404, "another person's workspace is not revealed");
    assert.equal((await api.fetch(`/api/drones/workspaces/${workspace.id}`)).status, 401);
    assert.equal((await api.fetch(`/api/drones/workspaces/not-a-uuid`, { headers: alice.headers })).status, 404);

    const bobs = await json(await api.fetch('/api/drones/workspaces', { headers: bob.headers }));
    assert.ok(!bobs.items.some((w: { id: string }) => w.id === workspace.id));
    const alices = await json(await api.fetch('/api/drones/workspaces', { headers: alice.headers }));
    assert.deepEqual(
      alices.items.map((w: { id: string }) => w.id),
      [workspace.id],
    );
    assert.equal(
      (await api.fetch(`/api/drones/workspaces/${workspace.id}`, { method: 'PATCH', headers: { ...bob.headers, 'content-type': 'application/json' }, body: '{"name":"mine"}' }))
        .status,
      404,
    );
  });

  it('refuses a workspace without a name or with a position off the globe, naming the field', async () => {
    const res = await post('/api/drones/workspaces', { name: '', location: { lon: 200, lat: 0 } }, alice.headers);
    assert.equal(res.status, 400);
    const body = await json(res);
    assert.match(JSON.stringify(body.details), /name/);
    assert.match(JSON.stringify(body.details), /lon/);
  });

  it('creates a connection whose secret is shown once and logs a pilot app in with it', async () => {
    const created = await post(`/api/drones/workspaces/${workspace.id}/connections`, { name: "Anna's RC" }, alice.headers);
    assert.equal(created.status, 201);
    const connection = await json(created);
    assert.ok(connection.secret.length >= 24);
    const listed = await json(await api.fetch(`/api/drones/workspaces/${workspace.id}/connections`, { headers: alice.headers }));
    assert.equal(listed.length, 1);
    assert.equal(listed[0].secret, undefined, 'the secret is never shown again');
    assert.equal((await api.fetch(`/api/drones/workspaces/${workspace.id}/connections`, { headers: bob.headers })).status, 404);

    const wrong = await post('/api/drones/connection-link/auth/login', { connection_id: connection.connection_id, secret: 'not-it' });
    assert.equal(wrong.status, 401);
    const unknown = await post('/api/drones/connection-link/auth/login', { connection_id: 'c-nope', secret: connection.secret });
    assert.equal(unknown.status, 401);
    assert.equal((await json(unknown)).message, (await json(wrong)).message, 'which of the two was wrong is not told');

    const res = await post('/api/drones/connection-link/auth/login', { connection_id: connection.connection_id, secret: connection.secret });
    assert.equal(res.status, 200);
    const login = await json(res);
    assert.ok(login.token.length >= 32);
    assert.deepEqual(login.platform, {
      connection_id: connection.connection_id,
      platform_name: 'Sightline',
      platform_url: api.baseUrl.replace(/\/+$/, ''),
      workspace_id: workspace.workspace_uuid,
      workspace_uuid: workspace.id,
      workspace_name: 'Survey team',
      workspace_description: 'Coastal surveys',
    });
    assert.equal(login.dji.app_id, '123456');
    assert.equal(login.dji.app_key, 'app-key');
    assert.equal(login.dji.app_license, 'licence');
    assert.equal(login.dji.api.host, new URL(api.baseUrl).origin);
    assert.equal(login.dji.api.token, login.token);
    assert.equal(login.dji.workspace_id, workspace.workspace_uuid);
    assert.equal(login.mqtt.host, 'ssl://mqtt.example.org:8883');
    assert.equal(login.mqtt.username, connection.connection_id);
    assert.deepEqual(login.dji.thing, login.mqtt);

    const after = await json(await api.fetch(`/api/drones/workspaces/${workspace.id}/connections`, { headers: alice.headers }));
    assert.ok(after[0].last_login_at);

    // The token is a pilot app's, not a person's: it opens no user route.
    assert.equal((await api.fetch('/api/drones/workspaces', { headers: { 'x-auth-token': login.token } })).status, 401);

    // Deleting the connection ends its tokens at once.
    const del = await api.fetch(`/api/drones/workspaces/${workspace.id}/connections/${connection.id}`, { method: 'DELETE', headers: alice.headers });
    assert.equal(del.status, 204);
    const relogin = await post('/api/drones/connection-link/auth/login', { connection_id: connection.connection_id, secret: connection.secret });
    assert.equal(relogin.status, 401);
    assert.equal((await api.fetch(`/api/drones/workspaces/${workspace.id}/connections/${connection.id}`, { method: 'DELETE', headers: alice.headers })).status, 404);
  });

  it('gives the workspace a new DJI id on request', async () => {
    const res = await api.fetch(`/api/drones/workspaces/${workspace.id}/regenerate-uuid`, { method: 'POST', headers: alice.headers });
    assert.equal(res.status, 200);
    const updated = await json(res);
    assert.equal(updated.id, workspace.id);
    assert.notEqual(updated.workspace_uuid, workspace.workspace_uuid);
    assert.match(updated.workspace_uuid, /^[0-9a-f-]{36}$/);
  });

  it('refuses malformed logins with a 400 naming the field', async () => {
    const res = await post('/api/drones/connection-link/auth/login', { connection_id: 'has space', secret: 42 });
    assert.equal(res.status, 400);
    const body = await json(res);
    assert.match(JSON.stringify(body.details), /connection_id/);
    assert.match(JSON.stringify(body.details), /secret/);
  });

  it('deletes a workspace with its connections', async () => {
    const created = await json(await post(`/api/drones/workspaces/${workspace.id}/connections`, { name: 'second' }, alice.headers));
    assert.equal((await api.fetch(`/api/drones/workspaces/${workspace.id}`, { method: 'DELETE', headers: bob.headers })).status, 404);
    assert.equal((await api.fetch(`/api/drones/workspaces/${workspace.id}`, { method: 'DELETE', headers: alice.headers })).status, 204);
    await waitFor('the workspace gone', async () => (await api.fetch(`/api/drones/workspaces/${workspace.id}`, { headers: alice.headers })).status === 404);
    const relogin = await post('/api/drones/connection-link/auth/login', { connection_id: created.connection_id, secret: created.secret });
    assert.equal(relogin.status, 401);
  });
});
