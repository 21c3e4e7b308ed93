// The sessions' SQL that Prisma cannot say as cheaply.
import type { Sql } from '../../db/sql.js';

/** Of these sessions, those revoked or expired (after the event bus was down: what was missed). */
export async function endedSessions(sql: Sql, sessionIds: string[], now: Date): Promise<string[]> {
  const { rows } = await sql.query<{ id: string }>('SELECT id FROM session WHERE id = ANY($1::uuid[]) AND (revoked_at IS NOT NULL OR expires_at <= $2)', [
    sessionIds,
    now,
  ]);
  return rows.map((r) => r.id);
}
