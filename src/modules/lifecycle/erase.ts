// Deleting a person's data everywhere it was copied (lapse, GDPR purge). What stays is anonymous:
// requests keep their library, kind, states, dates and age group; consumptions keep library, age
// group and category. Sessions, tokens, quota counters, e-mails and messages go with the patron
// row (foreign keys cascade); job payloads that carried an address or a login are deleted here.
import type { Tx } from '../../db/prisma.js';
import { PASSWORD_RESET_QUEUE, RESEND_CONFIRMATION_QUEUE } from '../../jobs/queues.js';

export async function erasePatrons(tx: Tx, patronIds: string[]): Promise<number> {
  if (!patronIds.length) return 0;
  // Semi-joins on the job name's rows only: hash joins, whatever the number of patrons.
  await tx.$executeRawUnsafe(
    `DELETE FROM pgboss.job WHERE name = $2
        AND lower(data->>'email') IN (SELECT lower(email) FROM patron WHERE id = ANY($1::uuid[]))`,
    patronIds,
    RESEND_CONFIRMATION_QUEUE,
  );
  await tx.$executeRawUnsafe(
    `DELETE FROM pgboss.job WHERE name = $2
        AND lower(data->>'login') IN (SELECT login_key FROM patron WHERE id = ANY($1::uuid[]))`,
    patronIds,
    PASSWORD_RESET_QUEUE,
  );
  // Messages a visitor sent with the same address before registering.
  await tx.$executeRawUnsafe(
    `DELETE FROM message WHERE lower(sender_email) IN (SELECT lower(email) FROM patron WHERE id = ANY($1::uuid[]))`,
    patronIds,
  );
  await tx.$executeRawUnsafe(`UPDATE registration_request SET response_message = NULL WHERE patron_id = ANY($1::uuid[])`, patronIds);
  return tx.$executeRawUnsafe(`DELETE FROM patron WHERE id = ANY($1::uuid[])`, patronIds);
}
