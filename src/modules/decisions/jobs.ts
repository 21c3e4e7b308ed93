// Time-driven steps of the decision: escalation to the DLPB (step 4) and the end of temporary
// access (step 5). Each is a few set-based statements in one transaction: any number of due rows,
// idempotent (a row is changed only while it is still due), safe when runs overlap or repeat.
import { createElement } from 'react';
import { EscalatedRequests, type EscalatedRequestLine } from '../../../emails/EscalatedRequests.js';
import type { App } from '../../instance.js';
import { publish } from '../../events/bus.js';
import { escalateDue, expireDueTemporaryAccounts, type EscalatedRow } from './store.js';
import { formatFrenchDateTime } from '../../lib/calendar.js';
import { links } from '../../links.js';

/** What this module uses of the application instance. */
type Services = Pick<App, 'config' | 'db' | 'metrics' | 'outbox'>;

/** How many requests an escalation e-mail lists; the rest are counted. */
const LIST_CAP = 200;

export async function escalateOverdueRequests(app: Services, at: Date): Promise<number> {
  return app.db.transaction(async (tx) => {
    const rows = await escalateDue(tx, at);
    if (!rows.length) return 0;
    await publish(
      tx,
      rows.map((r) => ({ type: 'ESCALATED', occurredAt: at.toISOString(), requestId: r.id, libraryId: r.library_id })),
    );
    rows.sort((a, b) => a.library_name.localeCompare(b.library_name, 'fr') || a.confirmed_at.getTime() - b.confirmed_at.getTime());
    const link = links(app.config);
    const line = (r: EscalatedRow): EscalatedRequestLine => ({
      name: `${r.first_name} ${r.last_name}`,
      libraryName: r.library_name,
      confirmedAt: formatFrenchDateTime(r.confirmed_at),
      link: link.request(r.id),
    });
    await app.outbox.queue(tx, {
      template: 'EscalatedRequests',
      to: [app.config.dlpbEmail],
      subject: `NuMos : ${rows.length} demande${rows.length > 1 ? 's' : ''} sans décision depuis 5 jours`,
      body: createElement(EscalatedRequests, { audience: 'DLPB', requests: rows.slice(0, LIST_CAP).map(line), more: Math.max(0, rows.length - LIST_CAP) }),
      mentions: rows.slice(0, LIST_CAP).map((r) => r.patron_id),
    });
    const byLibrary = Map.groupBy(rows, (r) => r.library_id);
    for (const libraryRows of byLibrary.values()) {
      await app.outbox.queue(tx, {
        template: 'EscalatedRequests',
        to: [libraryRows[0]!.library_email],
        subject: 'NuMos : rappel, des demandes attendent votre décision',
        body: createElement(EscalatedRequests, {
          audience: 'LIBRARY',
          requests: libraryRows.slice(0, LIST_CAP).map(line),
          more: Math.max(0, libraryRows.length - LIST_CAP),
        }),
        mentions: libraryRows.slice(0, LIST_CAP).map((r) => r.patron_id),
      });
    }
    app.metrics.registrations.inc({ step: 'escalated' }, rows.length);
    return rows.length;
  });
}

/** TEMPORARY accounts past their month stop (EXPIRED); their request stays open for a late acceptance. */
export async function expireTemporaryAccounts(app: Services, at: Date): Promise<number> {
  return expireDueTemporaryAccounts(app.db, at);
}
