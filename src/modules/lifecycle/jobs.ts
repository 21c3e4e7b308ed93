// Time-driven steps of an account's life. Each one claims what is due with
// one conditional statement (idempotent: a row changes only while still due) and records the
// moment the step was due, not the moment the job ran, so that steps run late — or together,
// by the test clock — chain as they would have in time.
import { createElement } from 'react';
import { RenewalReminder } from '../../../emails/RenewalReminder.js';
import type { App } from '../../instance.js';
import { queueDeliveries } from '../../email/bulk.js';
import { envelope, renderEmail } from '../../email/outbox.js';
import { publish } from '../../events/bus.js';
import { addParisDays, addParisYears, formatFrenchDate, parisDate } from '../../lib/calendar.js';
import { links } from '../../links.js';
import { erasePeople } from './service.js';
import { claimDueReminders, claimPurgeable, expireDueAccounts, lapseDueRequests, pruneHandledEmails } from './store.js';

/** What this module uses of the application instance. */
type Services = Pick<App, 'boss' | 'clock' | 'config' | 'db' | 'metrics' | 'settings'>;

/** Requests not confirmed in 15 days lapse; the person's data is deleted at once. */
export async function lapseUnconfirmedRequests(app: Services, at: Date): Promise<number> {
  return app.db.transaction(async (sql) => {
    const rows = await lapseDueRequests(sql, at);
    if (!rows.length) return 0;
    await publish(
      sql,
      rows.map((r) => ({ type: 'LAPSED', occurredAt: r.lapsed_at.toISOString(), requestId: r.id, libraryId: r.library_id })),
    );
    // A request awaiting confirmation belongs to an account that was never confirmed.
    await erasePeople(
      app.boss,
      sql,
      rows.flatMap((r) => (r.patron_id ? [r.patron_id] : [])),
    );
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
export async function sendRenewalReminders(app: Services, at: Date): Promise<number> {
  const noticeDays = app.settings.renewalNoticeDays;
  // The French dates the reminders may show: every Paris day of the notice window.
  const frenchDates: Record<string, string> = {};
  for (let day = 0; day <= noticeDays + 1; day++) {
    const instant = addParisDays(at, day);
    frenchDates[parisDate(instant)] = formatFrenchDate(instant);
  }
  const body = await renderEmail(createElement(RenewalReminder, { firstName: '__FIRST__', lastName: '__LAST__', activeUntil: '__UNTIL__', link: '__LINK__' }));
  return app.db.transaction(async (sql) => {
    const outboxIds = await claimDueReminders(sql, {
      at,
      noticeDays,
      purgeAfterYears: app.settings.purgeAfterYears,
      body,
      envelope: envelope(app.config, app.clock.now()),
      subject: 'Votre abonnement NuMos arrive à échéance',
      linkPrefix: links(app.config).renew(''),
      frenchDates,
    });
    await queueDeliveries(app, sql, outboxIds);
    return outboxIds.length;
  });
}

/** At `activeUntil` the account becomes EXPIRED; its sessions only serve to ask for a renewal. */
export async function expireAccounts(app: Services, at: Date): Promise<number> {
  return expireDueAccounts(app.db, at);
}

/** Accounts expired or refused for more than a year, with no renewal waiting: data deleted. */
export async function purgePersonalData(app: Services, at: Date): Promise<number> {
  const cutoff = addParisYears(at, -app.settings.purgeAfterYears);
  return app.db.transaction(async (sql) => erasePeople(app.boss, sql, await claimPurgeable(sql, cutoff)));
}

/**
 * The outbox is not an archive: e-mails handled more than 30 days ago are deleted, so no copy of
 * a person's data outlives its use (lists sent to the DLPB name several people at once).
 */
export async function pruneOutbox(app: Services, at: Date): Promise<number> {
  // The development mailbox shows an erased person's last e-mail for a day, not a month.
  return app.db.transaction((sql) => pruneHandledEmails(sql, addParisDays(at, -30), addParisDays(at, -1)));
}
