// Erasing people, wherever their data was copied: their rows and those that name them (the store),
// and the payloads of jobs that carried their address or login, through pg-boss's own API (its
// tables are its own business), all in the caller's transaction.
import type { Sql } from '../../db/sql.js';
import { bossDb, type PgBoss } from '../../jobs/boss.js';
import { PASSWORD_RESET_QUEUE, RESEND_CONFIRMATION_QUEUE } from '../../jobs/queues.js';
import { normalizeLogin } from '../../lib/text.js';
import { erasePatrons, identitiesOf } from './store.js';

/** The queues whose payloads name a person, and by what. */
const PERSONAL_PAYLOADS = [
  { queue: RESEND_CONFIRMATION_QUEUE, field: 'email', key: (value: string) => value.trim().toLowerCase(), of: 'emails' },
  { queue: PASSWORD_RESET_QUEUE, field: 'login', key: normalizeLogin, of: 'logins' },
] as const;

/** Erases these patrons (lapse, GDPR purge, own request); returns how many rows of people went. */
export async function erasePeople(boss: PgBoss, sql: Sql, patronIds: string[]): Promise<number> {
  if (!patronIds.length) return 0;
  const identities = await identitiesOf(sql, patronIds);
  const db = bossDb(sql);
  for (const { queue, field, key, of } of PERSONAL_PAYLOADS) {
    const wanted = new Set(identities[of]);
    if (!wanted.size) continue;
    // These queues hold a few jobs at a time (throttled requests, deleted within the hour).
    const jobs = await boss.findJobs<Record<string, unknown>>(queue, { db, limit: 100_000 });
    const ids = jobs.filter((job) => typeof job.data?.[field] === 'string' && wanted.has(key(job.data[field] as string))).map((job) => job.id);
    if (ids.length) await boss.deleteJob(queue, ids, { db });
  }
  return erasePatrons(sql, patronIds);
}
