// Each scheduled job with 100,000 due rows (target: under 10 s each). Six disjoint groups of
// patrons are made, one per step, all due at the same instant; the jobs then run in pipeline
// order, as the test clock runs them, with e-mail delivery jobs created (a Resend key is set, no
// worker runs).
import pg from 'pg';
import { createApp } from '../src/wiring/app.js';
import { loadConfig } from '../src/config.js';
import { SCHEDULED_JOBS } from '../src/wiring/schedules.js';
import { benchDatabase } from './support.js';

const ROWS = Number(process.env.BENCH_JOB_ROWS ?? 100_000);
const AT = new Date('2027-06-15T10:00:00Z');
// BENCH_JOBS=account.renewal-reminder,… times only those jobs (the others still fill their groups).
const ONLY = process.env.BENCH_JOBS?.split(',')
  .map((name) => name.trim())
  .filter(Boolean);

async function fill(url: string) {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  const started = performance.now();
  await client.query(`
    INSERT INTO library (code, name, town, email, placeholder, search_text, updated_at)
      SELECT '52' || lpad(n::text, 5, '0'), 'Bibliothèque ' || n, 'Commune ' || n, 'bib' || n || '@example.org', true, 'bibliotheque ' || n, now()
        FROM generate_series(1, 153) n`);
  // group g: 0 unconfirmed (lapse), 1 temporary (expiry of temporary access), 2 confirmed awaiting
  // a decision (escalation), 3 active ending in 10 days (reminder), 4 active ended (expiry),
  // 5 expired 13 months ago (purge).
  await client.query(
    `INSERT INTO patron (library_id, last_name, first_name, birth_date, email, login, login_key, password_hash, newsletter,
                         identity_key, search_text, status, status_changed_at, confirmed_at, temporary_until, active_until, registered_at, updated_at)
     SELECT l.id, 'Nom' || i, 'Prénom', date '1980-01-01', 'p' || i || '@example.org', 'p.' || i, 'p.' || i, 'x', false, 'k' || i, 'nom' || i,
            (ARRAY['UNCONFIRMED','TEMPORARY','TEMPORARY','ACTIVE','ACTIVE','EXPIRED'])[g + 1]::"AccountStatus",
            CASE g WHEN 5 THEN $1::timestamptz - interval '13 months' ELSE $1::timestamptz - interval '20 days' END,
            $1::timestamptz - interval '20 days',
            CASE g WHEN 1 THEN $1::timestamptz - interval '1 day' WHEN 2 THEN $1::timestamptz + interval '20 days' END,
            CASE g WHEN 3 THEN $1::timestamptz + interval '10 days' WHEN 4 THEN $1::timestamptz - interval '1 hour'
                   WHEN 5 THEN $1::timestamptz - interval '13 months' END,
            $1::timestamptz - interval '40 days', now()
       FROM generate_series(0, 5) g, generate_series(1, $2::int) s, LATERAL (SELECT g * $2::int + s AS i) x
       JOIN library l ON l.code = '52' || lpad((1 + x.i % 153)::text, 5, '0')`,
    [AT, ROWS],
  );
  await client.query(
    `INSERT INTO registration_request (kind, state, patron_id, library_id, age_group, submitted_at, confirmation_due_at, confirmed_at, decision_due_at)
     SELECT 'REGISTRATION',
            CASE p.status WHEN 'UNCONFIRMED' THEN 'AWAITING_CONFIRMATION'::"RegistrationState" ELSE 'ACCEPTED'::"RegistrationState" END,
            p.id, p.library_id, 'ADULT', $1::timestamptz - interval '20 days', $1::timestamptz - interval '5 days',
            CASE WHEN p.status <> 'UNCONFIRMED' THEN $1::timestamptz - interval '20 days' END,
            CASE WHEN p.status <> 'UNCONFIRMED' THEN $1::timestamptz - interval '15 days' END
       FROM patron p`,
    [AT],
  );
  // Group 2 (temporary, not yet past its month) awaits a decision overdue for 15 days.
  await client.query(
    `UPDATE registration_request r SET state = 'AWAITING_DECISION' FROM patron p
      WHERE p.id = r.patron_id AND p.status = 'TEMPORARY' AND p.temporary_until > $1`,
    [AT],
  );
  await client.query('VACUUM ANALYZE');
  await client.end();
  return (performance.now() - started) / 1_000;
}

export async function jobsBench(): Promise<void> {
  const db = await benchDatabase();
  const app = await createApp({
    config: loadConfig({
      DATABASE_URL: db.url,
      RESEND_API_KEY: 're_bench',
      RESEND_BASE_URL: 'http://127.0.0.1:9',
      EMAIL_FROM: 'numos@numos.local',
      NODE_ENV: 'production',
    }),
    databaseUrl: db.url,
  });
  try {
    console.log(`${6 * ROWS} patrons (${ROWS} due for each step) made in ${(await fill(db.url)).toFixed(0)} s`);
    for (const job of SCHEDULED_JOBS.filter((j) => !ONLY?.length || ONLY.includes(j.name))) {
      // What autovacuum's analyze does on a live database after the bulk changes of the previous
      // step; without it, foreign-key checks plan against the statistics of empty tables.
      await app.pool.query('ANALYZE');
      const started = performance.now();
      const rows = await job.run(app, AT);
      const seconds = (performance.now() - started) / 1_000;
      const again = performance.now();
      const second = await job.run(app, AT);
      console.log(
        `${job.name.padEnd(26)} ${String(rows).padStart(7)} rows in ${seconds.toFixed(2)} s` +
          `   (run again: ${second} rows in ${((performance.now() - again) / 1_000).toFixed(2)} s)`,
      );
    }
    const { rows } = await app.pool.query(
      `SELECT (SELECT count(*) FROM email_outbox)::int AS emails, (SELECT count(*) FROM pgboss.job WHERE name = 'email.send')::int AS jobs`,
    );
    console.log(`e-mails queued: ${rows[0].emails}, delivery jobs: ${rows[0].jobs}`);
  } finally {
    await app.close();
    await db.close();
  }
}
