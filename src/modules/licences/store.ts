// The licence pool's SQL: one row (id 1) holding the capacity and the last alert level; use is
// the count of ACTIVE accounts.
import type { Sql } from '../../db/sql.js';

const ACTIVE_COUNT = `(SELECT count(*) FROM patron WHERE status = 'ACTIVE')::int`;

/** Capacity (the row, or the default before the DLPB ever set one) and use, in one statement. */
export async function readPool(sql: Sql, defaultCapacity: number): Promise<{ capacity: number; used: number }> {
  const { rows } = await sql.query<{ capacity: number; used: number }>(
    `SELECT coalesce((SELECT capacity FROM licence_pool WHERE id = 1), $1)::int AS capacity, ${ACTIVE_COUNT} AS used`,
    [defaultCapacity],
  );
  return rows[0]!;
}

/** Locks the pool's row (created with the default capacity if need be) and reads it. */
export async function lockPool(sql: Sql, defaultCapacity: number): Promise<{ capacity: number; alert_level: number; used: number }> {
  await sql.query('INSERT INTO licence_pool (id, capacity, alert_level, updated_at) VALUES (1, $1, 0, now()) ON CONFLICT (id) DO NOTHING', [defaultCapacity]);
  const { rows } = await sql.query<{ capacity: number; alert_level: number }>('SELECT capacity, alert_level FROM licence_pool WHERE id = 1 FOR UPDATE');
  // Counted in a statement of its own, after the lock is ours: a statement that waited for the
  // lock still reads with the snapshot it started with, and would miss the acceptance that held it.
  const { used } = await lockedUse(sql);
  return { ...rows[0]!, used };
}

/** Capacity and use, read with the pool locked. */
export async function lockedUse(sql: Sql): Promise<{ capacity: number; used: number }> {
  const { rows } = await sql.query<{ capacity: number; used: number }>(`SELECT capacity, ${ACTIVE_COUNT} AS used FROM licence_pool WHERE id = 1`);
  return rows[0]!;
}
