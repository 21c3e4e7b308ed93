// The SQL of an account's time-driven steps: claiming what is due (one conditional statement
// each, so a row changes only while it is still due), and the erasure of people.
//
// Erasure deletes a person's data everywhere it was copied (lapse, GDPR purge, own request). What
// stays is anonymous: requests keep their library, kind, states, dates and age group; consumptions
// keep library, age group and category. Sessions, tokens, quota counters, e-mails and messages go
// with the patron row (foreign keys cascade); renewal reminders (no foreign key) are deleted here.
// Every statement joins the id list as a relation (unnest), so the cost grows with the number of
// patrons, not with its square. Job payloads that carried an address or a login are pg-boss's:
// erased through its API (./service.ts).
import { column, rowsOf, z } from '../../db/rows.js';
import type { Sql } from '../../db/sql.js';
import type { Envelope } from '../../email/outbox.js';
import { TIME_ZONE } from '../../lib/calendar.js';

const IdShape = z.object({ id: column.uuid });

const GONE = `(SELECT p.email, p.login_key FROM unnest($1::uuid[]) AS g(id) JOIN patron p ON p.id = g.id)`;

/** What identifies people outside their rows: their addresses and logins, lower-cased (to find their job payloads). */
export async function identitiesOf(sql: Sql, patronIds: string[]): Promise<{ emails: string[]; logins: string[] }> {
  const { rows } = await sql.query(
    `SELECT array_agg(DISTINCT lower(p.email)) AS emails, array_agg(DISTINCT p.login_key) AS logins
       FROM unnest($1::uuid[]) AS g(id) JOIN patron p ON p.id = g.id`,
    [patronIds],
  );
  const [row] = rowsOf(z.object({ emails: z.array(z.string()).nullable(), logins: z.array(z.string()).nullable() }), rows, 'identitiesOf');
  return { emails: row?.emails ?? [], logins: row?.logins ?? [] };
}

export async function erasePatrons(sql: Sql, patronIds: string[]): Promise<number> {
  if (!patronIds.length) return 0;
  // Messages a visitor sent with the same address before registering, and their forwarded copies.
  await sql.query(`DELETE FROM message WHERE lower(sender_email) IN (SELECT lower(email) FROM ${GONE} gone)`, [patronIds]);
  await sql.query(`DELETE FROM email_outbox WHERE lower(reply_to) IN (SELECT lower(email) FROM ${GONE} gone)`, [patronIds]);
  // E-mails that name them among others (lists of escalated requests), delivered or not.
  // A join on the names mentioned, not `mentions && $1`: that operator unpacks the whole list of
  // people for each e-mail (36 s for 100,000 people against 100,000 e-mails; 0.1 s this way).
  await sql.query(
    `DELETE FROM email_outbox o
      USING (SELECT DISTINCT e.id FROM email_outbox e CROSS JOIN LATERAL unnest(e.mentions) AS m(id)
               JOIN unnest($1::uuid[]) AS g(id) ON g.id = m.id) named
      WHERE o.id = named.id`,
    [patronIds],
  );
  // What membership checks found goes; their outcome, library and date stay, anonymous, for the statistics.
  await sql.query(
    `UPDATE membership_check c SET matched_by = NULL, enrolled_or_renewed_on = NULL, member_until = NULL, birth_date_matches = NULL,
            birth_year_matches = NULL, summary = ''
       FROM registration_request r, unnest($1::uuid[]) AS g(id)
      WHERE r.patron_id = g.id AND c.request_id = r.id`,
    [patronIds],
  );
  // Detached here in one pass, so that the patrons' deletion finds no request to update row by row.
  await sql.query(
    `UPDATE registration_request r SET patron_id = NULL, response_message = NULL, search_text = NULL, library_card_number = NULL
       FROM unnest($1::uuid[]) AS g(id)
      WHERE r.patron_id = g.id`,
    [patronIds],
  );
  await sql.query(`DELETE FROM renewal_reminder r USING unnest($1::uuid[]) AS g(id) WHERE r.patron_id = g.id`, [patronIds]);
  const { rowCount } = await sql.query(`DELETE FROM patron p USING unnest($1::uuid[]) AS g(id) WHERE p.id = g.id`, [patronIds]);
  return rowCount ?? 0;
}

const LapsedShape = z.object({ patron_id: column.uuid.nullable(), id: column.uuid, library_id: column.uuid, lapsed_at: column.instant });

/** Requests unconfirmed at their due date: lapsed, and detached from the person, in one pass. */
export async function lapseDueRequests(sql: Sql, at: Date): Promise<z.infer<typeof LapsedShape>[]> {
  const { rows } = await sql.query(
    `WITH due AS (
       SELECT id, patron_id FROM registration_request
        WHERE state = 'AWAITING_CONFIRMATION' AND confirmation_due_at <= $1
        FOR UPDATE SKIP LOCKED
     )
     UPDATE registration_request r
        SET state = 'LAPSED', lapsed_at = r.confirmation_due_at, patron_id = NULL, search_text = NULL, library_card_number = NULL
       FROM due WHERE r.id = due.id
     RETURNING due.patron_id, r.id, r.library_id, r.lapsed_at`,
    [at],
  );
  return rowsOf(LapsedShape, rows, 'lapseDueRequests');
}

export interface ReminderRun {
  at: Date;
  noticeDays: number;
  /** The renewal link lives until the purge date: the end of access plus these years. */
  purgeAfterYears: number;
  /** The run's shared body, with the markers __FIRST__, __LAST__, __UNTIL__ and __LINK__. */
  body: { html: string; text: string };
  /** The outbox's rules for every row (src/email/outbox.ts). */
  envelope: Envelope;
  subject: string;
  /** The renewal link, to which the token is appended. */
  linkPrefix: string;
  /** Paris date (YYYY-MM-DD) → French date, for every day of the notice window. */
  frenchDates: Record<string, string>;
}

/**
 * One statement claims the accounts due for a reminder, mints their tokens (mint_token) and writes
 * their e-mails. Claimed: the key conflict leaves out the accounts already reminded, and those
 * another instance claims at the same moment (it waits for that one to commit). The token is
 * minted in a materialised CTE so that both inserts see the same one; the batch row exists only
 * if someone is due. Returns the outbox rows written.
 */
export async function claimDueReminders(sql: Sql, run: ReminderRun): Promise<string[]> {
  const { rows } = await sql.query(
    `WITH candidates AS MATERIALIZED (
       SELECT id, email, first_name, last_name, active_until FROM patron
        WHERE status = 'ACTIVE' AND active_until > $1 AND active_until <= $1 + make_interval(days => $2)
     ), claimed AS (
       INSERT INTO renewal_reminder (patron_id, active_until, created_at)
       SELECT id, active_until, $1 FROM candidates
       ON CONFLICT DO NOTHING
       RETURNING patron_id
     ), due AS MATERIALIZED (
       SELECT c.id, c.email, c.first_name, c.last_name, c.active_until, mint_token() AS token
         FROM claimed JOIN candidates c ON c.id = claimed.patron_id
     ), tokens AS (
       INSERT INTO one_time_token (purpose, token_hash, patron_id, created_at, expires_at)
       SELECT 'RENEWAL', secret_hash(token), id, $1,
              ((active_until AT TIME ZONE '${TIME_ZONE}') + make_interval(years => $3)) AT TIME ZONE '${TIME_ZONE}'
         FROM due
     ), batch AS (
       INSERT INTO email_batch (html, text, created_at) SELECT $4, $5, $6 WHERE EXISTS (SELECT FROM due) RETURNING id
     )
     INSERT INTO email_outbox (template, from_address, to_addresses, cc_addresses, subject,
                               batch_id, values, secrets, status, patron_id, created_at)
     SELECT 'RenewalReminder', $7, ARRAY[email], '{}', $8, batch.id,
            jsonb_build_object('__FIRST__', first_name, '__LAST__', last_name, '__LINK__', $9 || token,
                               '__UNTIL__', $10::jsonb ->> to_char(active_until AT TIME ZONE '${TIME_ZONE}', 'YYYY-MM-DD')),
            CASE WHEN $11 THEN ARRAY[token] ELSE '{}' END, $12::"EmailStatus", due.id, $6
       FROM due, batch
     RETURNING id`,
    [
      run.at,
      run.noticeDays,
      run.purgeAfterYears,
      run.body.html,
      run.body.text,
      run.envelope.createdAt,
      run.envelope.fromAddress,
      run.subject,
      run.linkPrefix,
      JSON.stringify(run.frenchDates),
      run.envelope.keepSecrets,
      run.envelope.status,
    ],
  );
  return rowsOf(IdShape, rows, 'claimDueReminders').map((r) => r.id);
}

/** At `activeUntil` the account becomes EXPIRED (recorded at that moment, not the job's). */
export async function expireDueAccounts(sql: Sql, at: Date): Promise<number> {
  const { rowCount } = await sql.query(
    `UPDATE patron SET status = 'EXPIRED', status_changed_at = active_until, updated_at = now()
      WHERE status = 'ACTIVE' AND active_until <= $1`,
    [at],
  );
  return rowCount ?? 0;
}

/** Accounts expired or refused before the cutoff, with no renewal waiting: locked for erasure. */
export async function claimPurgeable(sql: Sql, cutoff: Date): Promise<string[]> {
  const { rows } = await sql.query(
    `SELECT p.id FROM patron p
      WHERE p.status IN ('EXPIRED', 'REFUSED') AND p.status_changed_at <= $1
        AND NOT EXISTS (SELECT 1 FROM registration_request r WHERE r.patron_id = p.id AND r.state = 'AWAITING_DECISION')
      FOR UPDATE SKIP LOCKED`,
    [cutoff],
  );
  return rowsOf(IdShape, rows, 'claimPurgeable').map((p) => p.id);
}

/** E-mails handled before the cutoff, and bulk bodies no e-mail uses any more (purged patrons' too). */
export async function pruneHandledEmails(sql: Sql, cutoff: Date, forgottenCutoff: Date): Promise<number> {
  const { rowCount } = await sql.query(
    `DELETE FROM email_outbox WHERE status NOT IN ('PENDING', 'HELD') AND (created_at < $1 OR (forget AND status = 'LOCAL' AND created_at < $2))`,
    [cutoff, forgottenCutoff],
  );
  await sql.query(`DELETE FROM email_batch b WHERE created_at < $1 AND NOT EXISTS (SELECT FROM email_outbox o WHERE o.batch_id = b.id)`, [cutoff]);
  return rowCount ?? 0;
}
