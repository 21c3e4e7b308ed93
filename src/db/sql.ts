// The SQL port: the one way modules run SQL, whether on the pool, in a plain transaction (the
// set-based jobs: arrays of a hundred thousand ids go straight through `pg`, without Prisma's
// conversion) or inside a Prisma interactive transaction (a change made through Prisma, with its
// outbox rows, events and jobs in the same transaction). Stores (src/modules/*/store.ts) take a
// `Sql`; services never see a pool.
import type pg from 'pg';
import type { Tx } from './prisma.js';

export interface SqlResult<R> {
  rows: R[];
  rowCount: number | null;
}

export interface Sql {
  /**
   * Runs one statement. `name` prepares it once per connection (hot paths called thousands of
   * times a second); the Prisma adapter ignores it.
   */
  query<R extends pg.QueryResultRow = pg.QueryResultRow>(text: string, values?: unknown[], name?: string): Promise<SqlResult<R>>;
}

/** The pool as a port, with transactions of its own. */
export interface Db extends Sql {
  transaction<T>(run: (sql: Sql) => Promise<T>): Promise<T>;
}

const pgSql = (client: pg.Pool | pg.PoolClient): Sql => ({
  query: <R extends pg.QueryResultRow>(text: string, values: unknown[] = [], name?: string) =>
    client.query<R>(name ? { name, text, values } : { text, values }),
});

export function poolDb(pool: pg.Pool): Db {
  return {
    ...pgSql(pool),
    async transaction(run) {
      const client = await pool.connect();
      try {
        await client.query('BEGIN');
        const result = await run(pgSql(client));
        await client.query('COMMIT');
        return result;
      } catch (error) {
        await client.query('ROLLBACK').catch(() => undefined);
        throw error;
      } finally {
        client.release();
      }
    },
  };
}

/**
 * The same port over a Prisma interactive transaction, so that SQL written for `Sql` (a store's
 * statement, the erasure of a person) runs inside a change made through Prisma.
 */
/** What the Prisma adapter needs: the Prisma client or one of its interactive transactions. */
export type PrismaSqlSource = Pick<Tx, '$queryRawUnsafe' | '$executeRawUnsafe'>;

export const prismaSql = (tx: PrismaSqlSource): Sql => ({
  async query<R extends pg.QueryResultRow>(text: string, values: unknown[] = []) {
    // Rows when the statement gives some, else the count of rows it changed.
    if (/^\s*(SELECT|WITH)\b|\bRETURNING\b/i.test(text)) {
      const rows = await tx.$queryRawUnsafe<R[]>(text, ...values);
      return { rows, rowCount: rows.length };
    }
    const rowCount = await tx.$executeRawUnsafe(text, ...values);
    return { rows: [], rowCount };
  },
});

/** The port for a caller holding either: a Prisma client or transaction is adapted, a port kept. */
export const asSql = (db: PrismaSqlSource | Sql): Sql => ('query' in db ? db : prismaSql(db));

/**
 * A transaction-wide advisory lock: what serialises a check-then-write no row can carry (the first
 * DLPB agent, a quota policy, the test clock). The keys are constants of this code base.
 */
export async function lockKey(sql: Sql, key: number): Promise<void> {
  if (!Number.isSafeInteger(key)) throw new Error(`lockKey: ${key} is not an integer`);
  await sql.query(`SELECT 1 FROM pg_advisory_xact_lock(${key})`);
}
