import pg from 'pg';

/**
 * Seeds the bench database in SQL: users, ~10,000 sequences and 1,000,000 pictures over a
 * country-sized area (about metropolitan France: 4.5°W–8°E, 42.5°N–51°N), each sequence a
 * walk of 5 m steps every 2 s, taken between 2015 and 2024. 5% of the sequences are
 * logged-only, 2% owner-only; 0.5% of the pictures are still pending. Secondary indexes are
 * dropped during the load and rebuilt from their own definitions afterwards.
 */
export const AREA = { west: -4.5, south: 42.5, east: 8, north: 51 };

export interface SeedOptions {
  items: number;
  sequences: number;
  log: (line: string) => void;
}

export async function seedBench(client: pg.Client, { items, sequences, log }: SeedOptions): Promise<void> {
  const perSequence = Math.max(1, Math.round(items / sequences));
  const started = Date.now();
  await client.query(`SET maintenance_work_mem = '512MB'`);
  // One transaction: a failed or interrupted seed leaves the database (and its indexes) as it was.
  await client.query('BEGIN');
  // The aggregates below group a million rows by sequence: at the default 4 MB they spill to disk
  // and take minutes; in memory, seconds.
  await client.query(`SET LOCAL work_mem = '256MB'`);
  await client.query('TRUNCATE item, collection CASCADE');
  await client.query(`DELETE FROM users WHERE issuer = 'bench'`);
  await client.query(`INSERT INTO users (issuer, subject, name, role) SELECT 'bench', 'u' || g, 'bench user ' || g, 'user' FROM generate_series(1, 50) g`);
  await client.query('SELECT setseed(0.42)');
  await client.query(
    `CREATE TEMP TABLE bench_sequence AS
     SELECT n, gen_random_uuid() AS id,
            (SELECT array_agg(id ORDER BY subject) FROM users WHERE issuer = 'bench')[1 + n % 50] AS owner_id,
            CASE WHEN n % 20 = 0 THEN 'logged-only' WHEN n % 50 = 1 THEN 'owner-only' ELSE 'anyone' END AS visibility,
            $1::float8 + random() * ($2::float8 - $1::float8) AS lon0,
            $3::float8 + random() * ($4::float8 - $3::float8) AS lat0,
            random() * 2 * pi() AS heading,
            timestamptz '2015-01-01' + random() * interval '3287 days' AS t0
     FROM generate_series(1, $5::int) n`,
    [AREA.west, AREA.east, AREA.south, AREA.north, sequences],
  );
  await client.query(
    `INSERT INTO collection (id, kind, owner_id, visibility, status, title, description, license, keywords, providers, properties, created_at, updated_at)
     SELECT id, 'sequence', owner_id, visibility, 'ready', 'Sequence ' || n, 'Bench walk number ' || n, 'CC-BY-SA-4.0',
            ARRAY['street', CASE WHEN n % 3 = 0 THEN 'cycling' ELSE 'walking' END], '[{"name": "Bench", "roles": ["producer"]}]',
            jsonb_build_object('sort_method', 'time-asc', 'relative_heading', 0),
            t0, t0
     FROM bench_sequence`,
  );
  log(`  ${sequences} sequences in ${((Date.now() - started) / 1000).toFixed(1)} s`);

  const indexes = await client.query<{ indexname: string; indexdef: string }>(
    `SELECT indexname, indexdef FROM pg_indexes WHERE schemaname = 'public' AND tablename = 'item' AND indexname NOT LIKE 'pk\\_%'`,
  );
  for (const ix of indexes.rows) await client.query(`DROP INDEX ${ix.indexname}`);

  const loadStart = Date.now();
  // In slices, so the progress shows and no single statement holds everything.
  const slice = Math.max(1, Math.floor(sequences / 10));
  for (let from = 1; from <= sequences; from += slice) {
    await client.query(
      `INSERT INTO item (id, collection_id, kind, owner_id, visibility, status, datetime, geom, rank, properties, assets, created_at, updated_at)
       SELECT s.pid, s.id, 'picture', s.owner_id, s.visibility,
              CASE WHEN random() < 0.005 THEN 'pending' ELSE 'ready' END,
              s.t0 + s.r * interval '2 seconds',
              ST_SetSRID(ST_MakePoint(s.lon0 + s.r * 0.00006 * sin(s.heading + 0.3 * sin(s.r / 7.0)), s.lat0 + s.r * 0.000045 * cos(s.heading + 0.3 * sin(s.r / 7.0))), 4326),
              s.r,
              jsonb_build_object(
                'view:azimuth', (round(degrees(s.heading)) + (s.r % 7) - 3 + 360)::int % 360,
                'pers:interior_orientation', jsonb_build_object('camera_manufacturer', (ARRAY['GoPro', 'Insta360', 'Ricoh', 'Sony'])[1 + s.n % 4], 'camera_model', 'Model ' || (s.n % 9), 'focal_length', 3, 'field_of_view', 360),
                'sightline:projection', 'equirectangular'),
              jsonb_build_object(
                'hd', jsonb_build_object('href', 'pictures/' || s.pid || '/hd.jpg', 'type', 'image/jpeg', 'roles', jsonb_build_array('data')),
                'sd', jsonb_build_object('href', 'pictures/' || s.pid || '/sd.jpg', 'type', 'image/jpeg', 'roles', jsonb_build_array('visual')),
                'thumb', jsonb_build_object('href', 'pictures/' || s.pid || '/thumb.jpg', 'type', 'image/jpeg', 'roles', jsonb_build_array('thumbnail'))),
              s.t0, s.t0
       FROM (
         -- gen_random_uuid() in this target list runs once per row (volatile: not pulled up).
         SELECT b.*, g.r, gen_random_uuid() AS pid
         FROM bench_sequence b CROSS JOIN generate_series(1, $3::int) AS g(r)
         WHERE b.n >= $1 AND b.n < $2
         -- A sequence's pictures are stored together, as dispatch writes them in production.
         ORDER BY b.n, g.r
       ) s`,
      [from, from + slice, perSequence],
    );
    log(`  items of sequences ${from}–${Math.min(from + slice - 1, sequences)} loaded (${((Date.now() - loadStart) / 1000).toFixed(0)} s)`);
  }
  const indexStart = Date.now();
  for (const ix of indexes.rows) await client.query(ix.indexdef);
  log(`  ${indexes.rows.length} item indexes rebuilt in ${((Date.now() - indexStart) / 1000).toFixed(1)} s`);
  // Statistics of the rows just loaded: without them the planner joins the aggregate below to the
  // sequences as if the tables were empty and reads the items once per sequence.
  await client.query('ANALYZE item');
  await client.query('ANALYZE collection');

  await client.query(
    `UPDATE collection c SET item_count = s.n, datetime_start = s.t0, datetime_end = s.t1, geom = ST_SetSRID(s.ext::geometry, 4326)
     FROM (SELECT collection_id, count(*)::int AS n, min(datetime) AS t0, max(datetime) AS t1, ST_Extent(geom) AS ext
           FROM item WHERE status = 'ready' GROUP BY collection_id) s
     WHERE c.id = s.collection_id`,
  );
  log(`  sequences' counts and extents in ${((Date.now() - indexStart) / 1000).toFixed(1)} s since the indexes`);
  await client.query('DROP TABLE bench_sequence');
  await client.query('COMMIT');
  await client.query('VACUUM ANALYZE item');
  await client.query('VACUUM ANALYZE collection');
  log(`  seeded in ${((Date.now() - started) / 1000).toFixed(0)} s`);
}
