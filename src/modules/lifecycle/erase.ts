// Deleting a person's data everywhere it was copied (lapse, GDPR purge). What stays is anonymous:
// requests keep their library, kind, states, dates and age group; consumptions keep library, age
// group and category. Sessions, tokens, quota counters, e-mails and messages go with the patron
// row (foreign keys cascade); renewal reminders (no foreign key) and job payloads that carried an
// address or a login are deleted here.
// Every statement joins the id list as a relation (unnest), so the cost grows with the number of
// patrons, not with its square.
import type { Sql } from '../../db/sql.js';
import { PASSWORD_RESET_QUEUE, RESEND_CONFIRMATION_QUEUE } from '../../jobs/queues.js';

const GONE = `(SELECT p.email, p.login_key FROM unnest($1::uuid[]) AS g(id) JOIN patron p ON p.id = g.id)`;

export async function erasePatrons(sql: Sql, patronIds: string[]): Promise<number> {
  if (!patronIds.length) return 0;
  await sql.query(`DELETE FROM pgboss.job WHERE name = $2 AND lower(data->>'email') IN (SELECT lower(email) FROM ${GONE} gone)`, [
    patronIds,
    RESEND_CONFIRMATION_QUEUE,
  ]);
  await sql.query(`DELETE FROM pgboss.job WHERE name = $2 AND lower(data->>'login') IN (SELECT login_key FROM ${GONE} gone)`, [
    patronIds,
    PASSWORD_RESET_QUEUE,
  ]);
  // Messages a visitor sent with the same address before registering.
  await sql.query(`DELETE FROM message WHERE lower(sender_email) IN (SELECT lower(email) FROM ${GONE} gone)`, [patronIds]);
  // Detached here in one pass, so that the patrons' deletion finds no request to update row by row.
  await sql.query(
    `UPDATE registration_request r SET patron_id = NULL, response_message = NULL, search_text = NULL FROM unnest($1::uuid[]) AS g(id)
      WHERE r.patron_id = g.id`,
    [patronIds],
  );
  await sql.query(`DELETE FROM renewal_reminder r USING unnest($1::uuid[]) AS g(id) WHERE r.patron_id = g.id`, [patronIds]);
  const { rowCount } = await sql.query(`DELETE FROM patron p USING unnest($1::uuid[]) AS g(id) WHERE p.id = g.id`, [patronIds]);
  return rowCount ?? 0;
}
