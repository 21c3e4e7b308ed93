// The decisions' SQL that Prisma cannot say in one statement.
import { column, rowsOf, z } from '../../db/rows.js';
import type { Sql } from '../../db/sql.js';
import type { Decision } from '../../generated/prisma/enums.js';

/** One statement: two simultaneous saves end with one row, the last one's text. */
export async function saveResponseTemplate(
  sql: Sql,
  row: { decision: Decision; libraryId: string | null; body: string; now: Date; staffId: string },
): Promise<void> {
  await sql.query(
    `INSERT INTO response_template (decision, library_id, body, updated_at, updated_by_id)
     VALUES ($1::"Decision", $2::uuid, $3, $4, $5::uuid)
     ON CONFLICT (decision, library_id) DO UPDATE
       SET body = EXCLUDED.body, updated_at = EXCLUDED.updated_at, updated_by_id = EXCLUDED.updated_by_id`,
    [row.decision, row.libraryId, row.body, row.now, row.staffId],
  );
}

const EscalatedShape = z.object({
  id: column.uuid,
  library_id: column.uuid,
  library_name: z.string(),
  library_email: z.string(),
  patron_id: column.uuid,
  first_name: z.string(),
  last_name: z.string(),
  confirmed_at: column.instant,
});
export type EscalatedRow = z.infer<typeof EscalatedShape>;

/** Requests past their decision date, escalated to the DLPB in one conditional statement. */
export async function escalateDue(sql: Sql, at: Date): Promise<EscalatedRow[]> {
  const { rows } = await sql.query(
    `UPDATE registration_request r SET escalated = true, escalated_at = $1
       FROM patron p, library l
      WHERE r.state = 'AWAITING_DECISION' AND NOT r.escalated AND r.decision_due_at <= $1
        AND p.id = r.patron_id AND l.id = r.library_id
     RETURNING r.id, r.library_id, l.name AS library_name, l.email AS library_email,
               p.id AS patron_id, p.first_name, p.last_name, r.confirmed_at`,
    [at],
  );
  return rowsOf(EscalatedShape, rows, 'escalateDue');
}

/** TEMPORARY accounts past their month: EXPIRED, as of now. */
export async function expireDueTemporaryAccounts(sql: Sql, at: Date): Promise<number> {
  const { rowCount } = await sql.query(
    `UPDATE patron SET status = 'EXPIRED', status_changed_at = $1, updated_at = now()
      WHERE status = 'TEMPORARY' AND temporary_until <= $1`,
    [at],
  );
  return rowCount ?? 0;
}
