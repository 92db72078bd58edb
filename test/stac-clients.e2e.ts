import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { syntheticJpeg } from '../scripts/bench/ingest-images.js';
import { startApi, type TestApi } from './support/app.js';
import { createUser, type TestUser } from './support/auth.js';
import { json } from './support/net.js';
import { type ChildHandle, startWorker } from './support/processes.js';
import { createUploadSet, uploadPicture, waitUntilReady } from './upload-support.js';

/* eslint-disable @typescript-eslint/no-explicit-any -- STAC documents are read as JSON */

const linkOf = (doc: any, rel: string) => doc.links.find((l: { rel: string }) => l.rel === rel);

/**
 * What STAC clients see of pictures people uploaded: the requests pystac-client, GDAL and STAC
 * Browser send, and what they show (titles, order, licences, descriptions, assets).
 */
describe('STAC clients: pictures as clients see them', () => {
  let api: TestApi;
  let worker: ChildHandle;
  let alice: TestUser;
  let set: any;
  let sequences: any[];
  const lon = -120 + Math.random() * 240;
  const lat = -50 + Math.random() * 100;

  before(async () => {
    api = await startApi({ env: { INSTANCE_NAME: 'Sightline clients test' } });
    worker = await startWorker({ INSTANCE_NAME: 'Sightline clients test' });
    alice = await createUser(api, 'alice');
    // Two walks an hour apart (split in two sequences), twelve pictures each, 640×480, with a camera.
    set = await createUploadSet(api, alice, { title: `Harbour walk ${Math.random().toString(36).slice(2, 6)}`, estimated_nb_files: 24, license: 'CC-BY-4.0' });
    for (let i = 0; i < 24; i++) {
      const walk = i < 12 ? 0 : 1;
      const time = new Date(Date.UTC(2024, 4, 12, 9 + walk, 0, (i % 12) * 4));
      const data = await syntheticJpeg({ width: 640, height: 480, lon: lon + (i % 12) * 0.00005, lat: lat + walk * 0.01, time, seed: 1000 + i, make: 'GoPro', model: 'HERO12' });
      const res = await uploadPicture(api, alice, set.id, { name: `G${String(i).padStart(4, '0')}.JPG`, data });
      assert.equal(res.status, 202, await res.text());
    }
    const ready = await waitUntilReady(api, alice, set.id, 120_000);
    sequences = await Promise.all(ready.associated_collections.map(async (c: any) => json(await api.fetch(`/api/collections/${c.id}`))));
  });
  after(async () => {
    await worker?.stop();
    await api?.close();
  });

  it('lists the sequences of one upload set in capture order by default', async () => {
    assert.equal(sequences.length, 2, JSON.stringify(sequences.map((c: any) => c.title)));
    assert.deepEqual(
      sequences.map((c: any) => c.title),
      [`${set.title}-1`, `${set.title}-2`],
    );
    const all = await json(await api.fetch('/api/collections?limit=100'));
    const positions = sequences.map((s: any) => all.collections.findIndex((c: any) => c.id === s.id));
    assert.ok(positions[0] >= 0 && positions[0] < positions[1], `default collection order: ${positions}`);
  });

  it('answers pystac-client’s Collection.get_items(), which names the collection again in the query', async () => {
    const [first, second] = sequences;
    const page = await json(await api.fetch(`/api/collections/${first.id}/items?collections=${first.id}&limit=5`));
    assert.equal(page.features.length, 5);
    assert.ok(page.features.every((f: any) => f.collection === first.id));
    // Its next link keeps working as a client follows it.
    const next = await json(await api.fetch(linkOf(page, 'next').href));
    assert.equal(next.features.length, 5);
    const wrong = await api.fetch(`/api/collections/${first.id}/items?collections=${second.id}`);
    assert.equal(wrong.status, 400);
    const body = await json(wrong);
    assert.match(body.message, new RegExp(second.id));
    assert.match(body.message, /\/search/);
  });

  it('pages a pystac-client POST search and a GDAL OGC API Features bbox query to the end, every item once', async () => {
    const ids = new Set<string>();
    let res = await api.fetch('/api/search', {
      method: 'POST',
      headers: { 'content-type': 'application/json', accept: 'application/geo+json' },
      body: JSON.stringify({ collections: sequences.map((c: any) => c.id), limit: 7 }),
    });
    for (let pages = 0; pages < 10; pages++) {
      const page = await json(res);
      for (const f of page.features) ids.add(f.id);
      const next = linkOf(page, 'next');
      if (!next) break;
      // pystac-client follows a POST next link with its body (merged over the previous one when `merge`).
      res = await api.fetch(next.href, { method: next.method ?? 'GET', headers: { 'content-type': 'application/json' }, body: next.body ? JSON.stringify(next.body) : undefined });
    }
    assert.equal(ids.size, 24);

    // GDAL's OAPIF driver: /collections/{id}/items?limit=…&bbox=… and the next links.
    const seen = new Set<string>();
    let url: string | undefined = `/api/collections/${sequences[0].id}/items?limit=4&bbox=${lon - 0.001},${lat - 0.001},${lon + 0.001},${lat + 0.001}`;
    while (url) {
      const page = await json(await api.fetch(url, { headers: { accept: 'application/geo+json, application/json' } }));
      for (const f of page.features) seen.add(f.id);
      url = linkOf(page, 'next')?.href;
    }
    assert.equal(seen.size, 12);
  });

  it('titles every picture so that titles sort in capture order', async () => {
    const page = await json(await api.fetch(`/api/collections/${sequences[0].id}/items?limit=20`));
    const titles = page.features.map((f: any) => f.properties.title);
    assert.equal(titles.length, 12);
    assert.match(titles[0], new RegExp(`^${sequences[0].title} · 01/12 · 2024-05-12 09:00:00 UTC$`));
    assert.deepEqual([...titles].sort(), titles, 'sorting by title keeps the capture order');
    const times = page.features.map((f: any) => f.properties.datetime);
    assert.deepEqual([...times].sort(), times, 'items come in capture order');
  });

  it('publishes the licence the uploader chose, linked, and names the host and the producer', async () => {
    const c = await json(await api.fetch(`/api/collections/${sequences[0].id}`));
    assert.equal(c.license, 'CC-BY-4.0');
    assert.equal(linkOf(c, 'license')?.href, 'https://spdx.org/licenses/CC-BY-4.0.html');
    assert.deepEqual(
      c.providers.map((p: any) => [p.name, p.roles]),
      [
        ['Sightline clients test', ['host']],
        [alice.name, ['producer']],
      ],
    );
    const item = (await json(await api.fetch(`/api/collections/${c.id}/items?limit=1`))).features[0];
    assert.equal(item.properties.license, 'CC-BY-4.0');
  });

  it('describes a sequence by its pictures until its owner writes a description', async () => {
    const c = await json(await api.fetch(`/api/collections/${sequences[1].id}`));
    assert.equal(c.description, `12 pictures taken on 12 May 2024 at 10:00 UTC with a GoPro HERO12, by ${alice.name}.`);
    const patch = (body: unknown) =>
      api.fetch(`/api/collections/${c.id}`, { method: 'PATCH', headers: { ...alice.headers, 'content-type': 'application/json' }, body: JSON.stringify(body) });
    assert.equal((await patch({ description: 'The north pier at low tide' })).status, 200);
    assert.equal((await json(await api.fetch(`/api/collections/${c.id}`))).description, 'The north pier at low tide');
  });

  it('lets the owner change the licence of a collection, and refuses what is not a licence identifier', async () => {
    const id = sequences[1].id;
    const patch = (body: unknown) =>
      api.fetch(`/api/collections/${id}`, { method: 'PATCH', headers: { ...alice.headers, 'content-type': 'application/json' }, body: JSON.stringify(body) });
    assert.equal((await patch({ license: 'other', license_url: 'https://example.org/harbour-terms' })).status, 200);
    let c = await json(await api.fetch(`/api/collections/${id}`));
    assert.equal(c.license, 'other');
    assert.equal(linkOf(c, 'license')?.href, 'https://example.org/harbour-terms');
    assert.equal((await patch({ license: 'etalab-2.0' })).status, 200);
    c = await json(await api.fetch(`/api/collections/${id}`));
    assert.equal(linkOf(c, 'license')?.href, 'https://spdx.org/licenses/etalab-2.0.html', 'a new licence drops the old link');
    const bad = await patch({ license: 'free for all <3' });
    assert.equal(bad.status, 400);
    assert.match((await json(bad)).message, /license/);
  });

  it('gives picture assets true sizes and no role that promises a map display', async () => {
    const item = (await json(await api.fetch(`/api/collections/${sequences[0].id}/items?limit=1`))).features[0];
    assert.deepEqual(item.assets.hd.roles, ['data']);
    assert.deepEqual(item.assets.sd.roles, ['data']);
    assert.deepEqual(item.assets.thumb.roles, ['thumbnail']);
    assert.match(item.assets.hd.title, /640 × 480 px/);
    assert.match(item.assets.sd.title, /640 × 480 px/, 'a 640 px picture is not made 2048 px wide');
    assert.match(item.assets.thumb.title, /500 × 375 px/);
    for (const asset of Object.values(item.assets) as any[]) assert.ok(!asset.roles.includes('visual') && !asset.roles.includes('overview'));
  });
});
