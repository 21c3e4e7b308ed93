// Plain SQL transactions on the pool, for the set-based jobs: large parameters (arrays of a
// hundred thousand ids or e-mails) go straight through `pg`, without Prisma's conversion.
import type pg from 'pg';
import type { Tx } from './prisma.js';

export interface Sql {
  query<R extends pg.QueryResultRow = pg.QueryResultRow>(text: string, values?: unknown[]): Promise<pg.QueryResult<R>>;
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

/**
 * The same port over a Prisma interactive transaction, so that SQL written for `Sql` (the erasure
 * of a person) runs inside a change made through Prisma, in one transaction with its outbox rows.
 */
export const prismaSql = (tx: Pick<Tx, '$queryRawUnsafe' | '$executeRawUnsafe'>): Sql => ({
  async query<R extends pg.QueryResultRow>(text: string, values: unknown[] = []) {
    // Rows when the statement gives some, else the count of rows it changed.
    if (/^\s*(SELECT|WITH)\b|\bRETURNING\b/i.test(text)) {
      const rows = await tx.$queryRawUnsafe<R[]>(text, ...values);
      return { rows, rowCount: rows.length } as unknown as pg.QueryResult<R>;
    }
    const rowCount = await tx.$executeRawUnsafe(text, ...values);
    return { rows: [], rowCount } as unknown as pg.QueryResult<R>;
  },
});
