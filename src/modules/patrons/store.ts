// The SQL of the staff's patron list that Prisma cannot shape. With a search, the matching rows
// are found first through the trigram index and only then sorted: left to itself, PostgreSQL walks
// the name index and filters, which is right when matches are spread out but reads half the
// table when they are all one name ("martin" among a million patrons: 1.3 s instead of 40 ms).
import { column, rowsOf, z } from '../../db/rows.js';
import type { Sql } from '../../db/sql.js';
import type { AccountStatus } from '../../generated/prisma/enums.js';
import { escapeLike } from '../../lib/text.js';

export type PatronSortField = 'LAST_NAME' | 'REGISTERED_AT' | 'ACTIVE_UNTIL';

export interface SearchPage {
  /** Normalised words, each to be found in the search text. */
  terms: string[];
  libraryId: string | null;
  statuses: AccountStatus[] | null;
  field: PatronSortField;
  descending: boolean;
  /** The patron after (or, backwards, before) which the page starts. */
  cursorId: string | null;
  /** How many rows; negative: the rows before the cursor (Prisma's `take`). */
  take: number;
}

/** The sort key of each order; accounts never accepted come last either way. */
const SORT_KEY: Record<PatronSortField, (descending: boolean) => string> = {
  LAST_NAME: () => 'last_name',
  REGISTERED_AT: () => 'registered_at',
  ACTIVE_UNTIL: (descending) => `coalesce(active_until, '${descending ? '-' : ''}infinity'::timestamptz)`,
};

/**
 * The piece of a search word the trigram index is asked for, when the word has several (a login
 * "lecteur.4250", an e-mail): the index cannot tell a piece found in every row from a rare one,
 * and reads every trigram's list in full ("lecteur.4250" among a million "lecteur.N" logins: 22 ms
 * in the index, 0.5 ms for "4250" alone). The piece with digits is taken first (the discriminating
 * part of an identifier), else the longest; none under 3 characters (no trigram of its own).
 * Undefined: the word is looked up whole. The whole word is always checked on the rows found.
 */
export function indexedPiece(term: string): string | undefined {
  const pieces = term.split(/[^\p{L}\p{N}]+/u).filter((piece) => piece.length >= 3);
  if (pieces.length === 0 || (pieces.length === 1 && pieces[0] === term)) return undefined;
  const digits = (piece: string) => (/\p{N}/u.test(piece) ? 1 : 0);
  return pieces.sort((a, b) => digits(b) - digits(a) || b.length - a.length)[0];
}

/** The ids of one page of a searched list, in order, and how many patrons match in all. */
export async function searchedPatronPage(sql: Sql, page: SearchPage): Promise<{ ids: string[]; total: number }> {
  const values: unknown[] = [];
  const param = (value: unknown) => {
    values.push(value);
    return `$${values.length}`;
  };
  const conditions = page.terms.flatMap((term) => {
    const piece = indexedPiece(term);
    if (!piece) return [`search_text LIKE ${param(`%${escapeLike(term)}%`)}`];
    // The whole word through an expression the index does not serve: checked on the rows found only.
    return [`search_text LIKE ${param(`%${escapeLike(piece)}%`)}`, `(search_text || '') LIKE ${param(`%${escapeLike(term)}%`)}`];
  });
  if (page.libraryId) conditions.push(`library_id = ${param(page.libraryId)}::uuid`);
  if (page.statuses?.length) conditions.push(`status = ANY(${param(page.statuses)}::"AccountStatus"[])`);
  const key = SORT_KEY[page.field](page.descending);
  // Backwards: the order reversed, then the rows put back in the page's order.
  const backwards = page.take < 0;
  const descending = page.descending !== backwards;
  const direction = descending ? 'DESC' : 'ASC';
  const after = page.cursorId ? `WHERE (m.key, m.id) ${descending ? '<' : '>'} (SELECT ${key}, id FROM patron WHERE id = ${param(page.cursorId)}::uuid)` : '';
  // The total comes with the page: the matches are found once (the trigram search is the cost).
  const { rows } = await sql.query<{ id: string | null; total: number }>(
    `WITH matches AS MATERIALIZED (
       SELECT id, ${key} AS key FROM patron WHERE ${conditions.join(' AND ')}
     )
     SELECT t.total, p.id FROM (SELECT count(*)::int AS total FROM matches) t
       LEFT JOIN LATERAL (
         SELECT m.id, m.key FROM matches m ${after} ORDER BY m.key ${direction}, m.id ${direction} LIMIT ${param(Math.abs(page.take))}
       ) p ON true
      ORDER BY p.key ${direction}, p.id ${direction}`,
    values,
  );
  const ids = rows.flatMap((r) => (r.id ? [r.id] : []));
  return { ids: backwards ? ids.reverse() : ids, total: rows[0]?.total ?? 0 };
}

export interface LockedPatron {
  status: AccountStatus;
  active_until: Date | null;
  first_name: string;
  last_name: string;
  email: string;
  library_id: string;
}

/**
 * Locks a patron's row for the rest of the transaction and reads it as it is once the lock is
 * ours (undefined: erased meanwhile). Changes to one account (renewal, end of access, erasure)
 * queue on it.
 */
export async function lockPatron(sql: Sql, patronId: string): Promise<LockedPatron | undefined> {
  const { rows } = await sql.query<LockedPatron>(
    'SELECT status, active_until, first_name, last_name, email, library_id FROM patron WHERE id = $1::uuid FOR UPDATE',
    [patronId],
  );
  return rows[0];
}

/** Locks a patron's requests (taken before the patron's row, in `decide`'s order). */
export async function lockRequestsOf(sql: Sql, patronId: string): Promise<void> {
  await sql.query('SELECT id FROM registration_request WHERE patron_id = $1::uuid FOR UPDATE', [patronId]);
}

/**
 * How many patrons a scope and statuses hold, exactly, from the counts the triggers keep
 * (src/db/functions/patron_count_changed.sql): no million rows counted for a list's totalCount.
 */
export async function countPatrons(sql: Sql, libraryId: string | null, statuses: readonly string[] | null): Promise<number> {
  const { rows } = await sql.query(
    `SELECT coalesce(sum(count), 0)::int AS n FROM patron_count
      WHERE ($1::uuid IS NULL OR library_id = $1) AND ($2::"AccountStatus"[] IS NULL OR status = ANY ($2::"AccountStatus"[]))`,
    [libraryId, statuses],
    'count-patrons',
  );
  return rowsOf(z.object({ n: column.count }), rows, 'countPatrons')[0]!.n;
}
