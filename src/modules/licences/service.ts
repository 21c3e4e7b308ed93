// The département's licence pool: how many accounts may be ACTIVE at once.
import type { App } from '../../app.js';

export interface LicencePoolState {
  capacity: number;
  used: number;
  available: number;
}

export async function licencePool(app: Pick<App, 'pool' | 'settings'>): Promise<LicencePoolState> {
  // One statement: capacity (the row, or the default before the DLPB ever set one) and use.
  const { rows } = await app.pool.query<{ capacity: number; used: number }>(
    `SELECT coalesce((SELECT capacity FROM licence_pool WHERE id = 1), $1)::int AS capacity,
            (SELECT count(*) FROM patron WHERE status = 'ACTIVE')::int AS used`,
    [app.settings.licenceCapacity],
  );
  const { capacity, used } = rows[0]!;
  return { capacity, used, available: Math.max(0, capacity - used) };
}
