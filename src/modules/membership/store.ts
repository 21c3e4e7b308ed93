// The membership checks' SQL: the per-library limits on calls to its system (slots and a rate,
// shared by every instance), what each call leaves on the connector (last call, failures in a row,
// the pause), and the checks themselves, one per event.
import { column, rowsOf, z } from '../../db/rows.js';
import type { Db, Sql } from '../../db/sql.js';
import type { MembershipFigures } from './outcome.js';

/**
 * Takes one of the library's call slots (at most `slots` at once) and one call of its minute
 * (at most `perMinute`), in one transaction on the connector's row: either both, or neither and
 * how long to wait. Real time (the database's clock): this is the library's server's pace.
 */
export async function acquireCall(
  db: Db,
  call: { libraryId: string; holder: string; leaseSeconds: number; slots: number; perMinute: number },
): Promise<{ slot: number } | { waitSeconds: number }> {
  return db.transaction(async (sql) => {
    const { rows } = await sql.query(
      `SELECT rate_calls, rate_window = date_trunc('minute', now()) AS same_minute,
              extract(epoch FROM date_trunc('minute', now()) + interval '1 minute' - now())::float8 AS minute_left
         FROM membership_connector WHERE library_id = $1 FOR UPDATE`,
      [call.libraryId],
    );
    const [connector] = rowsOf(z.object({ rate_calls: column.count, same_minute: z.boolean().nullable(), minute_left: z.number() }), rows, 'acquireCall');
    if (!connector) return { waitSeconds: 0 };
    if (connector.same_minute && connector.rate_calls >= call.perMinute) return { waitSeconds: Math.max(0.2, connector.minute_left) };
    await sql.query(`INSERT INTO connector_lease (library_id, slot) SELECT $1, s FROM generate_series(0, $2 - 1) AS s ON CONFLICT DO NOTHING`, [
      call.libraryId,
      call.slots,
    ]);
    const taken = await sql.query(
      `UPDATE connector_lease SET holder = $2, held_until = now() + make_interval(secs => $3)
        WHERE library_id = $1 AND slot = (SELECT min(slot) FROM connector_lease WHERE library_id = $1 AND slot < $4 AND held_until < now())
        RETURNING slot`,
      [call.libraryId, call.holder, call.leaseSeconds, call.slots],
    );
    const [lease] = rowsOf(z.object({ slot: z.number().int() }), taken.rows, 'acquireCall');
    if (!lease) {
      const { rows: next } = await sql.query(
        `SELECT greatest(0.2, extract(epoch FROM min(held_until) - now()))::float8 AS wait FROM connector_lease WHERE library_id = $1 AND slot < $2`,
        [call.libraryId, call.slots],
      );
      return { waitSeconds: Math.min(1, rowsOf(z.object({ wait: z.number().nullable() }), next, 'acquireCall')[0]?.wait ?? 1) };
    }
    await sql.query(
      `UPDATE membership_connector SET rate_calls = CASE WHEN rate_window = date_trunc('minute', now()) THEN rate_calls + 1 ELSE 1 END,
              rate_window = date_trunc('minute', now())
        WHERE library_id = $1`,
      [call.libraryId],
    );
    return { slot: lease.slot };
  });
}

export async function releaseCall(sql: Sql, libraryId: string, slot: number, holder: string): Promise<void> {
  await sql.query(`UPDATE connector_lease SET held_until = '-infinity', holder = NULL WHERE library_id = $1 AND slot = $2 AND holder = $3`, [
    libraryId,
    slot,
    holder,
  ]);
}

/**
 * What a call leaves on the connector, in one statement: the last call, the failures in a row,
 * and at the `pauseAfter`-th the pause. `announce`: this failure started a pause that nobody was
 * told of yet (one e-mail per outage: a success clears the flag).
 */
export async function recordCall(
  sql: Sql,
  call: { libraryId: string; at: Date; ok: boolean; error: string | null; pauseAfter: number; pauseMinutes: number },
): Promise<{ announce: boolean; pausedUntil: Date | null }> {
  const { rows } = await sql.query(
    `WITH before AS (
       SELECT consecutive_failures, pause_announced FROM membership_connector WHERE library_id = $1 FOR UPDATE
     )
     UPDATE membership_connector c SET
            last_call_at = $2, last_call_ok = $3,
            last_error = CASE WHEN $3 THEN c.last_error ELSE $4 END,
            consecutive_failures = CASE WHEN $3 OR before.consecutive_failures + 1 >= $5 THEN 0 ELSE before.consecutive_failures + 1 END,
            paused_until = CASE WHEN NOT $3 AND before.consecutive_failures + 1 >= $5 THEN $2 + make_interval(mins => $6) ELSE c.paused_until END,
            pause_announced = CASE WHEN $3 THEN false WHEN before.consecutive_failures + 1 >= $5 THEN true ELSE before.pause_announced END
       FROM before
      WHERE c.library_id = $1
     RETURNING (NOT $3 AND before.consecutive_failures + 1 >= $5 AND NOT before.pause_announced) AS announce, c.paused_until`,
    [call.libraryId, call.at, call.ok, call.error, call.pauseAfter, call.pauseMinutes],
  );
  const [row] = rowsOf(z.object({ announce: z.boolean(), paused_until: column.instant.nullable() }), rows, 'recordCall');
  return { announce: row?.announce ?? false, pausedUntil: row?.paused_until ?? null };
}

/**
 * Stores a check and makes it the request's latest, once per event: a retried job, or a twin
 * on another instance, stores nothing more (null).
 */
export async function insertCheck(
  sql: Sql,
  check: MembershipFigures & { requestId: string; libraryId: string; eventKey: string; connector: 'KOHA_REST' | 'SIP2'; checkedAt: Date },
): Promise<string | null> {
  const { rows } = await sql.query(
    `WITH stored AS (
       INSERT INTO membership_check (request_id, library_id, event_key, outcome, connector, checked_at, matched_by, enrolled_or_renewed_on,
                                     member_until, birth_date_matches, birth_year_matches, summary)
       VALUES ($1, $2, $3, $4::"MembershipCheckOutcome", $5::"MembershipConnectorKind", $6, $7::"MembershipMatch", $8::date, $9::date, $10, $11, $12)
       ON CONFLICT (event_key) DO NOTHING
       RETURNING id, request_id, outcome
     ), latest AS (
       UPDATE registration_request r SET membership_outcome = stored.outcome FROM stored WHERE r.id = stored.request_id
     )
     SELECT id FROM stored`,
    [
      check.requestId,
      check.libraryId,
      check.eventKey,
      check.outcome,
      check.connector,
      check.checkedAt,
      check.matchedBy,
      check.enrolledOrRenewedOn,
      check.memberUntil,
      check.birthDateMatches,
      check.birthYearMatches,
      check.summary,
    ],
  );
  return rowsOf(z.object({ id: column.uuid }), rows, 'insertCheck')[0]?.id ?? null;
}
