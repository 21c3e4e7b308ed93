// Each scheduled job with 100,000 due rows, against the bare SQL that makes the same row changes
// (target: each job within 3× of it), measured in the same run on the same rows: the bare
// statements run first in a transaction rolled back, then the job. Six disjoint groups of patrons
// are made, one per step, all due at the same instant; the jobs then run in pipeline order, as the
// test clock runs them, with e-mail delivery jobs created (a Resend key is set, no worker runs).
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

/**
 * The database's own speed for each job: the bare statements that make its row changes (no claim,
 * no event, no e-mail rendering, no delivery job), on the same rows. Jobs without a bare twin
 * (little to do here) print no ratio.
 */
const BARE: Record<string, (client: pg.Client, at: Date) => Promise<unknown>> = {
  'registration.lapse': async (client, at) => {
    // The person's id as it was before the update (a self-join): RETURNING gives the new row,
    // whose patron_id is already null.
    const { rows } = await client.query<{ patron_id: string | null }>(
      `UPDATE registration_request r SET state = 'LAPSED', lapsed_at = r.confirmation_due_at, patron_id = NULL, search_text = NULL
         FROM registration_request old
        WHERE old.id = r.id AND r.state = 'AWAITING_CONFIRMATION' AND r.confirmation_due_at <= $1
       RETURNING old.patron_id`,
      [at],
    );
    await client.query(`DELETE FROM patron p USING unnest($1::uuid[]) AS g(id) WHERE p.id = g.id`, [rows.flatMap((r) => (r.patron_id ? [r.patron_id] : []))]);
  },
  'account.temporary-expiry': (client, at) =>
    client.query(`UPDATE patron SET status = 'EXPIRED', status_changed_at = $1 WHERE status = 'TEMPORARY' AND temporary_until <= $1`, [at]),
  'registration.escalate': (client, at) =>
    client.query(
      `UPDATE registration_request SET escalated = true, escalated_at = $1 WHERE state = 'AWAITING_DECISION' AND NOT escalated AND decision_due_at <= $1`,
      [at],
    ),
  'account.renewal-reminder': (client, at) =>
    client.query(
      `WITH due AS MATERIALIZED (
         SELECT id, email, active_until, md5(id::text) AS token FROM patron
          WHERE status = 'ACTIVE' AND active_until > $1 AND active_until <= $1 + interval '15 days'
       ), reminders AS (INSERT INTO renewal_reminder (patron_id, active_until, created_at) SELECT id, active_until, $1 FROM due),
       tokens AS (INSERT INTO one_time_token (purpose, token_hash, patron_id, created_at, expires_at) SELECT 'RENEWAL', token, id, $1, active_until FROM due)
       INSERT INTO email_outbox (template, from_address, to_addresses, cc_addresses, subject, values, secrets, status, patron_id, created_at)
       SELECT 'RenewalReminder', 'numos@numos.local', ARRAY[email], '{}', 'Rappel', jsonb_build_object('__LINK__', token), '{}', 'PENDING', id, $1 FROM due`,
      [at],
    ),
  'account.expiry': (client, at) =>
    client.query(`UPDATE patron SET status = 'EXPIRED', status_changed_at = active_until WHERE status = 'ACTIVE' AND active_until <= $1`, [at]),
  'account.purge': async (client, at) => {
    await client.query(
      `WITH gone AS (SELECT id FROM patron WHERE status IN ('EXPIRED', 'REFUSED') AND status_changed_at <= $1::timestamptz - interval '1 year'),
       detached AS (UPDATE registration_request r SET patron_id = NULL, response_message = NULL, search_text = NULL FROM gone WHERE r.patron_id = gone.id)
       DELETE FROM patron p USING gone WHERE p.id = gone.id`,
      [at],
    );
  },
};

async function timeBare(url: string, name: string, at: Date): Promise<number | null> {
  const bare = BARE[name];
  if (!bare) return null;
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    await client.query('BEGIN');
    const started = performance.now();
    await bare(client, at);
    return (performance.now() - started) / 1_000;
  } finally {
    await client.query('ROLLBACK');
    await client.end();
  }
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
      const bare = await timeBare(db.url, job.name, AT);
      // The bare statements' rolled-back row versions are cleared first, as autovacuum would: the
      // job would otherwise walk past 100,000 dead versions of each row it changes.
      await app.pool.query('VACUUM ANALYZE');
      const started = performance.now();
      const rows = await job.run(app, AT);
      const seconds = (performance.now() - started) / 1_000;
      const again = performance.now();
      const second = await job.run(app, AT);
      const ratio = bare ? `   bare SQL ${bare.toFixed(2)} s, job / bare ${(seconds / bare).toFixed(1)}×` : '';
      console.log(
        `${job.name.padEnd(26)} ${String(rows).padStart(7)} rows in ${seconds.toFixed(2)} s${ratio}` +
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
