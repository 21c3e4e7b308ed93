// The libraries' SQL that Prisma cannot say.
import type { Sql } from '../../db/sql.js';

/** Blocks other writers of the library table (the demonstration load fills only an empty one). */
export async function lockLibraries(sql: Sql): Promise<void> {
  await sql.query('LOCK TABLE library IN SHARE ROW EXCLUSIVE MODE');
}
