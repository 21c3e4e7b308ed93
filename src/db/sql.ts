// Plain SQL transactions on the pool, for the set-based jobs: large parameters (arrays of a
// hundred thousand ids or e-mails) go straight through `pg`, without Prisma's conversion.
import type pg from 'pg';

export interface Sql {
  query<R extends pg.QueryResultRow = any>(text: string, values?: unknown[]): Promise<pg.QueryResult<R>>;
}

export async function sqlTransaction<T>(pool: pg.Pool, run: (sql: Sql) => Promise<T>): Promise<T> {
  const client = await pool.connect();
  try {
    await client.query('BEGIN');
    const result = await run(client);
    await client.query('COMMIT');
    return result;
  } catch (error) {
    await client.query('ROLLBACK').catch(() => undefined);
    throw error;
  } finally {
    client.release();
  }
}

/** pg-boss's view of a transaction, so that jobs it inserts commit with the rest. */
export const bossDb = (sql: Sql) => ({ executeSql: (text: string, values: unknown[] = []) => sql.query(text, values) });
