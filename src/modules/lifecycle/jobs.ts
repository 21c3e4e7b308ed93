// Time-driven steps of an account's life (SPEC steps 2, 6, 8, 9). Each one claims what is due with
// one conditional statement (idempotent: a row changes only while still due) and records the
// moment the step was due, not the moment the job ran, so that steps run late — or together,
// by the test clock — chain as they would have in time.
import { createElement } from 'react';
import { RenewalReminder } from '../../../emails/RenewalReminder.js';
import type { App } from '../../app.js';
import { sqlTransaction } from '../../db/sql.js';
import { queueBulkEmails } from '../../email/bulk.js';
import { notifySql } from '../../events/bus.js';
import { addParisDays, addParisYears, formatFrenchDate } from '../../lib/calendar.js';
import { hashSecret, newSecret } from '../../lib/secrets.js';
import { links } from '../../links.js';
import { erasePatrons } from './erase.js';

/** Requests not confirmed in 15 days lapse; the person's data is deleted at once. */
export async function lapseUnconfirmedRequests(app: App, at: Date): Promise<number> {
  return sqlTransaction(app.pool, async (sql) => {
    // Lapsed and detached from the person in the same pass; the person is erased right after.
    const { rows } = await sql.query<{ patron_id: string }>(
      `WITH due AS (
         SELECT id, patron_id FROM registration_request
          WHERE state = 'AWAITING_CONFIRMATION' AND confirmation_due_at <= $1
          FOR UPDATE SKIP LOCKED
       )
       UPDATE registration_request r
          SET state = 'LAPSED', lapsed_at = r.confirmation_due_at, patron_id = NULL, search_text = NULL
         FROM due WHERE r.id = due.id
       RETURNING due.patron_id, ${notifySql('LAPSED', 'r.id', 'r.library_id', 'r.confirmation_due_at')}::text AS notified`,
      [at],
    );
    // A request awaiting confirmation belongs to an account that was never confirmed.
    await erasePatrons(sql, rows.map((r) => r.patron_id).filter(Boolean));
    return rows.length;
  });
}

/**
 * 15 days before the end of access, one reminder per account and period (`reminder_sent_for`
 * remembers the end it was sent for), with a renewal link valid until the purge date.
 */
export async function sendRenewalReminders(app: App, at: Date): Promise<number> {
  return sqlTransaction(app.pool, async (sql) => {
    const { rows: due } = await sql.query<{ id: string; email: string; first_name: string; last_name: string; active_until: Date }>(
      `UPDATE patron SET reminder_sent_for = active_until
        WHERE status = 'ACTIVE' AND active_until > $1 AND active_until <= $1 + make_interval(days => $2)
          AND reminder_sent_for IS DISTINCT FROM active_until
       RETURNING id, email, first_name, last_name, active_until`,
      [at, app.settings.renewalNoticeDays],
    );
    if (!due.length) return 0;
    const tokens = due.map(() => newSecret());
    await sql.query(
      `INSERT INTO one_time_token (purpose, token_hash, patron_id, created_at, expires_at)
       SELECT 'RENEWAL', hash, patron, $1, expires FROM unnest($2::text[], $3::uuid[], $4::timestamptz[]) AS t(hash, patron, expires)`,
      [at, tokens.map(hashSecret), due.map((p) => p.id), due.map((p) => addParisYears(p.active_until, app.settings.purgeAfterYears))],
    );
    const link = links(app.config);
    await queueBulkEmails(
      app,
      sql,
      {
        template: 'RenewalReminder',
        subject: 'Votre abonnement NuMos arrive à échéance',
        body: createElement(RenewalReminder, { firstName: '__FIRST__', lastName: '__LAST__', activeUntil: '__UNTIL__', link: '__LINK__' }),
      },
      due.map((p, i) => ({
        to: p.email,
        patronId: p.id,
        values: { __FIRST__: p.first_name, __LAST__: p.last_name, __UNTIL__: formatFrenchDate(p.active_until), __LINK__: link.renew(tokens[i]!) },
        secrets: [tokens[i]!],
      })),
    );
    return due.length;
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
    return erasePatrons(sql, rows.map((p) => p.id));
  });
}

/**
 * The outbox is not an archive: e-mails handled more than 30 days ago are deleted, so no copy of
 * a person's data outlives its use (lists sent to the DLPB name several people at once).
 */
export async function pruneOutbox(app: App, at: Date): Promise<number> {
  return app.prisma.$executeRaw`
    DELETE FROM email_outbox WHERE status <> 'PENDING' AND created_at < ${addParisDays(at, -30)}`;
}
