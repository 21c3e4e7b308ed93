// The staff accounts' SQL that Prisma cannot say.
import type { Sql } from '../../db/sql.js';

/**
 * Locks every DLPB agent's row, in one order: a change that must leave one enabled agent (two
 * agents disabling each other at once) is then decided one at a time.
 */
export async function lockDlpbAgents(sql: Sql): Promise<void> {
  await sql.query("SELECT id FROM staff_account WHERE role = 'DLPB_AGENT' ORDER BY id FOR UPDATE");
}
