// Time-driven steps of an account's life. Each one claims what is due with
// one conditional statement (idempotent: a row changes only while still due) and records the
// moment the step was due, not the moment the job ran, so that steps run late — or together,
// by the test clock — chain as they would have in time.
import { createElement } from 'react';
import { RenewalReminder } from '../../../emails/RenewalReminder.js';
import type { App } from '../../app.js';
import { sqlTransaction } from '../../db/sql.js';
import { queueDeliveries } from '../../email/bulk.js';
import { formatSender, renderEmail } from '../../email/outbox.js';
import { publish } from '../../events/bus.js';
import { TIME_ZONE, addParisDays, addParisYears, formatFrenchDate, parisDate } from '../../lib/calendar.js';
import { links } from '../../links.js';
import { erasePatrons } from './erase.js';

/** Requests not confirmed in 15 days lapse; the person's data is deleted at once. */
export async function lapseUnconfirmedRequests(app: App, at: Date): Promise<number> {
  return sqlTransaction(app.pool, async (sql) => {
    // Lapsed and detached from the person in the same pass; the person is erased right after.
    const { rows } = await sql.query<{ patron_id: string; id: string; library_id: string; lapsed_at: Date }>(
      `WITH due AS (
         SELECT id, patron_id FROM registration_request
          WHERE state = 'AWAITING_CONFIRMATION' AND confirmation_due_at <= $1
          FOR UPDATE SKIP LOCKED
       )
       UPDATE registration_request r
          SET state = 'LAPSED', lapsed_at = r.confirmation_due_at, patron_id = NULL, search_text = NULL
         FROM due WHERE r.id = due.id
       RETURNING due.patron_id, r.id, r.library_id, r.lapsed_at`,
      [at],
    );
    if (!rows.length) return 0;
    await publish(
      sql,
      rows.map((r) => ({ type: 'LAPSED', occurredAt: r.lapsed_at.toISOString(), requestId: r.id, libraryId: r.library_id })),
    );
    // A request awaiting confirmation belongs to an account that was never confirmed.
    await erasePatrons(sql, rows.map((r) => r.patron_id).filter(Boolean));
    app.metrics.registrations.inc({ step: 'lapsed' }, rows.length);
    return rows.length;
  });
}

/**
 * 15 days before the end of access, one reminder per account and period (a `renewal_reminder`
 * row, whose key refuses a second one), with a renewal link valid until the purge date. One
 * statement claims the accounts, mints their tokens and writes their e-mails, so nothing per
 * person travels between the database and the application.
 */
export async function sendRenewalReminders(app: App, at: Date): Promise<number> {
  const noticeDays = app.settings.renewalNoticeDays;
  // The French dates the reminders may show: every Paris day of the notice window.
  const frenchDates: Record<string, string> = {};
  for (let day = 0; day <= noticeDays + 1; day++) {
    const instant = addParisDays(at, day);
    frenchDates[parisDate(instant)] = formatFrenchDate(instant);
  }
  const delivered = app.config.resendApiKey !== undefined;
  const body = await renderEmail(createElement(RenewalReminder, { firstName: '__FIRST__', lastName: '__LAST__', activeUntil: '__UNTIL__', link: '__LINK__' }));
  return sqlTransaction(app.pool, async (sql) => {
    // Claimed: the key conflict leaves out the accounts already reminded, and those another
    // instance claims at the same moment (it waits for that one to commit). The token: two
    // version-4 UUIDs, 244 bits from the server's strong random source, in the base64url form and
    // SHA-256 hex hash of src/lib/secrets.ts, minted in a materialised CTE so that both inserts
    // see the same one. The batch row exists only if someone is due.
    const { rows } = await sql.query<{ id: string }>(
      `WITH candidates AS MATERIALIZED (
         SELECT id, email, first_name, last_name, active_until FROM patron
          WHERE status = 'ACTIVE' AND active_until > $1 AND active_until <= $1 + make_interval(days => $2)
       ), claimed AS (
         INSERT INTO renewal_reminder (patron_id, active_until, created_at)
         SELECT id, active_until, $1 FROM candidates
         ON CONFLICT DO NOTHING
         RETURNING patron_id
       ), due AS MATERIALIZED (
         SELECT c.id, c.email, c.first_name, c.last_name, c.active_until,
                rtrim(translate(encode(uuid_send(gen_random_uuid()) || uuid_send(gen_random_uuid()), 'base64'), '+/', '-_'), '=') AS token
           FROM claimed JOIN candidates c ON c.id = claimed.patron_id
       ), tokens AS (
         INSERT INTO one_time_token (purpose, token_hash, patron_id, created_at, expires_at)
         SELECT 'RENEWAL', encode(sha256(convert_to(token, 'UTF8')), 'hex'), id, $1,
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
        at,
        noticeDays,
        app.settings.purgeAfterYears,
        body.html,
        body.text,
        app.clock.now(),
        formatSender(app.config.emailFrom),
        'Votre abonnement NuMos arrive à échéance',
        links(app.config).renew(''),
        JSON.stringify(frenchDates),
        delivered,
        delivered ? 'PENDING' : 'LOCAL',
      ],
    );
    await queueDeliveries(
      app,
      sql,
      rows.map((r) => r.id),
    );
    return rows.length;
  });
}

/** At `activeUntil` the account becomes EXPIRED; its sessions only serve to ask for a renewal. */
export async function expireAccounts(app: App, at: Date): Promise<number> {
  return app.prisma.$executeRaw`
    UPDATE patron SET status = 'EXPIRED', status_changed_at = active_until, updated_at = now()
     WHERE status = 'ACTIVE' AND active_until <= ${at}`;
}

/** Accounts expired or refused for more than a year, with no renewal waiting: data deleted. */
export async function purgePersonalData(app: App, at: Date): Promise<number> {
  const cutoff = addParisYears(at, -app.settings.purgeAfterYears);
  return sqlTransaction(app.pool, async (sql) => {
    const { rows } = await sql.query<{ id: string }>(
      `SELECT p.id FROM patron p
        WHERE p.status IN ('EXPIRED', 'REFUSED') AND p.status_changed_at <= $1
          AND NOT EXISTS (SELECT 1 FROM registration_request r WHERE r.patron_id = p.id AND r.state = 'AWAITING_DECISION')
        FOR UPDATE SKIP LOCKED`,
      [cutoff],
    );
    return erasePatrons(
      sql,
      rows.map((p) => p.id),
    );
  });
}

/**
 * The outbox is not an archive: e-mails handled more than 30 days ago are deleted, so no copy of
 * a person's data outlives its use (lists sent to the DLPB name several people at once).
 */
export async function pruneOutbox(app: App, at: Date): Promise<number> {
  const cutoff = addParisDays(at, -30);
  return sqlTransaction(app.pool, async (sql) => {
    const { rowCount } = await sql.query(`DELETE FROM email_outbox WHERE status <> 'PENDING' AND created_at < $1`, [cutoff]);
    // A bulk run's shared body, once no e-mail uses it any more (purged patrons' too).
    await sql.query(`DELETE FROM email_batch b WHERE created_at < $1 AND NOT EXISTS (SELECT FROM email_outbox o WHERE o.batch_id = b.id)`, [cutoff]);
    return rowCount ?? 0;
  });
}
