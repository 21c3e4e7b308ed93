// Deleting a person's data everywhere it was copied (lapse, GDPR purge). What stays is anonymous:
// requests keep their library, kind, states, dates and age group; consumptions keep library, age
// group and category. Sessions, tokens, quota counters, e-mails and messages go with the patron
// row (foreign keys cascade); job payloads that carried an address or a login are deleted here.
import type { Tx } from '../../db/prisma.js';
import { PASSWORD_RESET_QUEUE, RESEND_CONFIRMATION_QUEUE } from '../../jobs/queues.js';

export async function erasePatrons(tx: Tx, patronIds: string[]): Promise<number> {
  if (!patronIds.length) return 0;
  await tx.$executeRawUnsafe(
    `WITH gone AS (SELECT email, login_key FROM patron WHERE id = ANY($1::uuid[]))
     DELETE FROM pgboss.job j USING gone
      WHERE (j.name = $2 AND lower(j.data->>'email') = lower(gone.email))
         OR (j.name = $3 AND lower(j.data->>'login') = gone.login_key)`,
    patronIds,
    RESEND_CONFIRMATION_QUEUE,
    PASSWORD_RESET_QUEUE,
  );
  // Messages a visitor sent with the same address before registering.
  await tx.$executeRawUnsafe(
    `DELETE FROM message m USING patron p WHERE p.id = ANY($1::uuid[]) AND lower(m.sender_email) = lower(p.email)`,
    patronIds,
  );
  await tx.$executeRawUnsafe(`UPDATE registration_request SET response_message = NULL WHERE patron_id = ANY($1::uuid[])`, patronIds);
  return tx.$executeRawUnsafe(`DELETE FROM patron WHERE id = ANY($1::uuid[])`, patronIds);
}
