// Time-driven steps of the decision: escalation to the DLPB (step 4) and the end of temporary
// access (step 5). Each is a few set-based statements in one transaction: any number of due rows,
// idempotent (a row is changed only while it is still due), safe when runs overlap or repeat.
import { createElement } from 'react';
import { EscalatedRequests, type EscalatedRequestLine } from '../../../emails/EscalatedRequests.js';
import type { App } from '../../app.js';
import { publishInTransaction } from '../../events/bus.js';
import { formatFrenchDateTime } from '../../lib/calendar.js';
import { links } from '../../links.js';

/** How many requests an escalation e-mail lists; the rest are counted. */
const LIST_CAP = 200;

interface EscalatedRow {
  id: string;
  library_id: string;
  library_name: string;
  library_email: string;
  first_name: string;
  last_name: string;
  confirmed_at: Date;
}

export async function escalateOverdueRequests(app: App, at: Date): Promise<number> {
  return app.prisma.$transaction(
    async (tx) => {
      const rows = await tx.$queryRawUnsafe<EscalatedRow[]>(
        `UPDATE registration_request r SET escalated = true, escalated_at = $1
           FROM patron p, library l
          WHERE r.state = 'AWAITING_DECISION' AND NOT r.escalated AND r.decision_due_at <= $1
            AND p.id = r.patron_id AND l.id = r.library_id
         RETURNING r.id, r.library_id, l.name AS library_name, l.email AS library_email,
                   p.first_name, p.last_name, r.confirmed_at`,
        at,
      );
      if (!rows.length) return 0;
      await publishInTransaction(
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
        });
      }
      app.metrics.registrations.inc({ step: 'escalated' }, rows.length);
      return rows.length;
    },
    { timeout: 120_000 },
  );
}

/** TEMPORARY accounts past their month stop (EXPIRED); their request stays open for a late acceptance. */
export async function expireTemporaryAccounts(app: App, at: Date): Promise<number> {
  return app.prisma.$executeRaw`
    UPDATE patron SET status = 'EXPIRED', status_changed_at = ${at}, updated_at = now()
     WHERE status = 'TEMPORARY' AND temporary_until <= ${at}`;
}
