// The membership checks' SQL: the per-library limits on calls to its system (slots and rate
// tokens, shared by every instance), what each call leaves on the connector (last call, failures
// in a row, the pause), and the checks themselves, one per event.
import { column, rowsOf, z } from '../../db/rows.js';
import type { Db, Sql } from '../../db/sql.js';
import type { MembershipFigures } from './outcome.js';

/** Rate tokens are the lease rows from this slot on (below it: the slots of calls at once). */
export const RATE_SLOT_BASE = 1000;

/** What a call holds while it runs: a slot (calls at once) and a rate token (calls a minute). */
export interface CallLease {
  slot: number;
  rateSlot: number;
}

/**
 * Takes one of the library's call slots (at most `slots` at once) and one of its `perMinute` rate
 * tokens, in one transaction on the connector's row: either both, or neither and how long to wait.
 * A rate token is held from the call's start until a minute after its end, so that no 60-second
 * span, wherever it starts, sees more than `perMinute` calls (a counter per calendar minute lets
 * 120 through around a minute's turn). Real time (the database's clock at this moment, not the
 * transaction's start, which may be late behind a lock): this is the library's server's pace.
 */
export async function acquireCall(
  db: Db,
  call: { libraryId: string; holder: string; leaseSeconds: number; slots: number; perMinute: number },
): Promise<CallLease | { waitSeconds: number }> {
  return db.transaction(async (sql) => {
    const { rows } = await sql.query(`SELECT clock_timestamp() AS now FROM membership_connector WHERE library_id = $1 FOR UPDATE`, [call.libraryId]);
    const [locked] = rowsOf(z.object({ now: column.instant }), rows, 'acquireCall');
    if (!locked) return { waitSeconds: 0 };
    const { now } = locked;
    const lastRate = RATE_SLOT_BASE + call.perMinute - 1;
    await sql.query(
      `INSERT INTO connector_lease (library_id, slot)
       SELECT $1, s FROM (SELECT generate_series(0, $2 - 1) AS s UNION ALL SELECT generate_series($3::int, $4::int)) AS wanted
        WHERE NOT EXISTS (SELECT 1 FROM connector_lease WHERE library_id = $1 AND slot = $2 - 1)
           OR NOT EXISTS (SELECT 1 FROM connector_lease WHERE library_id = $1 AND slot = $4)
       ON CONFLICT DO NOTHING`,
      [call.libraryId, call.slots, RATE_SLOT_BASE, lastRate],
    );
    const { rows: free } = await sql.query(
      `SELECT (SELECT min(slot) FROM connector_lease WHERE library_id = $1 AND slot < $2 AND held_until <= $3) AS slot,
              (SELECT greatest(0, extract(epoch FROM min(held_until) - $3))::float8 FROM connector_lease WHERE library_id = $1 AND slot < $2) AS slot_wait,
              (SELECT slot FROM connector_lease WHERE library_id = $1 AND slot BETWEEN $4 AND $5 ORDER BY held_until, slot LIMIT 1) AS rate_slot,
              (SELECT greatest(0, extract(epoch FROM min(held_until) - $3))::float8 FROM connector_lease WHERE library_id = $1 AND slot BETWEEN $4 AND $5) AS rate_wait`,
      [call.libraryId, call.slots, now, RATE_SLOT_BASE, lastRate],
    );
    const [state] = rowsOf(
      z.object({
        slot: z.number().int().nullable(),
        slot_wait: z.number().nullable(),
        rate_slot: z.number().int().nullable(),
        rate_wait: z.number().nullable(),
      }),
      free,
      'acquireCall',
    );
    // The minute's calls are all made: back when the oldest token frees.
    if (state?.rate_slot == null || (state.rate_wait ?? 0) > 0) return { waitSeconds: Math.max(0.2, state?.rate_wait ?? 1) };
    // Both slots busy: a call ends within its lease, usually much sooner; asked again within a second.
    if (state.slot === null) return { waitSeconds: Math.min(1, Math.max(0.2, state.slot_wait ?? 1)) };
    await sql.query(
      `UPDATE connector_lease
          SET holder = $2,
              held_until = CASE WHEN slot = $3 THEN $5::timestamptz + make_interval(secs => $6)
                                ELSE $5::timestamptz + interval '1 minute' + make_interval(secs => $6) END
        WHERE library_id = $1 AND slot IN ($3, $4)`,
      [call.libraryId, call.holder, state.slot, state.rate_slot, now, call.leaseSeconds],
    );
    return { slot: state.slot, rateSlot: state.rate_slot };
  });
}

/** The call ended: its slot is free at once, its rate token a minute from now. */
export async function releaseCall(sql: Sql, libraryId: string, lease: CallLease, holder: string): Promise<void> {
  await sql.query(
    `UPDATE connector_lease
        SET held_until = CASE WHEN slot = $2 THEN '-infinity'::timestamptz ELSE clock_timestamp() + interval '1 minute' END,
            holder = CASE WHEN slot = $2 THEN NULL ELSE holder END
      WHERE library_id = $1 AND slot IN ($2, $3) AND holder = $4`,
    [libraryId, lease.slot, lease.rateSlot, holder],
  );
}

/**
 * What a call leaves on the connector, in one statement: the last call, the failures in a row,
 * and at the `pauseAfter`-th the pause (a pause over, or a success, clears it: `pausedUntil` is
 * shown to the library as "calls suspended"). `announce`: this failure started a pause that nobody was
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
            last_call_at = $2::timestamptz, last_call_ok = $3::boolean,
            last_error = CASE WHEN $3 THEN c.last_error ELSE $4 END,
            consecutive_failures = CASE WHEN $3 OR before.consecutive_failures + 1 >= $5 THEN 0 ELSE before.consecutive_failures + 1 END,
            paused_until = CASE WHEN NOT $3 AND before.consecutive_failures + 1 >= $5 THEN $2::timestamptz + make_interval(mins => $6::int)
                                WHEN $3 OR c.paused_until <= $2::timestamptz THEN NULL ELSE c.paused_until END,
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
