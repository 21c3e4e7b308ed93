// The registration's SQL that Prisma cannot say.
import type { Sql } from '../../db/sql.js';

/** Two submissions for one person at once: the second waits for the first (and then sees it). */
export async function lockIdentity(sql: Sql, identityKey: string): Promise<void> {
  await sql.query('SELECT 1 FROM pg_advisory_xact_lock(hashtext($1))', [identityKey]);
}
