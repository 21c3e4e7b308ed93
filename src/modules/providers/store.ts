// The providers' SQL: the key lookup every provider call makes (a prepared statement: through
// Prisma it halved consumeQuota's throughput, `npm run bench -- consume`), and the row lock of
// key changes.
import type { Sql } from '../../db/sql.js';
import type { ContentCategory } from '../../generated/prisma/enums.js';

/** The live provider holding this key (current, or previous within its overlap). */
export async function providerByKey(sql: Sql, keyHash: string, now: Date): Promise<{ id: string; categories: ContentCategory[] } | undefined> {
  const { rows } = await sql.query<{ id: string; categories: ContentCategory[] }>(
    `SELECT id, categories::text[] AS categories FROM resource_provider
      WHERE (api_key_hash = $1 OR (previous_key_hash = $1 AND previous_key_expires_at > $2)) AND revoked_at IS NULL`,
    [keyHash, now],
    'numos-provider-key',
  );
  return rows[0];
}

export async function recordProviderUse(sql: Sql, providerId: string, now: Date): Promise<void> {
  await sql.query('UPDATE resource_provider SET last_used_at = $2 WHERE id = $1', [providerId, now]);
}

/** Locks a provider's row (orders concurrent rotations and revocations); false when there is none. */
export async function lockProvider(sql: Sql, id: string): Promise<boolean> {
  const { rows } = await sql.query('SELECT id FROM resource_provider WHERE id = $1::uuid FOR UPDATE', [id]);
  return rows.length === 1;
}
