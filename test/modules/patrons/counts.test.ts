// The patron list's totalCount comes from counts kept by triggers, in the transaction of each
// change: they stay exactly the table's, whatever runs at once (registrations, status changes, a
// set-based job, erasures), and the list answers them.
import { encodeGlobalID } from '@pothos/plugin-relay';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { login, seedLibrary, seedStaff, startTestApp, type TestApp } from '../../support/harness.js';

let t: TestApp;
let libraries: string[];

beforeAll(async () => {
  t = await startTestApp({ env: { NUMOS_THROTTLE: '0' } });
  libraries = [(await seedLibrary(t.app, { code: '5218001', name: 'Yutz' })).id, (await seedLibrary(t.app, { code: '5218002', name: 'Hayange' })).id];
  await seedStaff(t.app, { login: 'dlpb', password: 'mot de passe DLPB' });
});
afterAll(() => t.close());

const STATUSES = ['UNCONFIRMED', 'TEMPORARY', 'ACTIVE', 'EXPIRED', 'REFUSED'] as const;
let seq = 0;

/** Inserts patrons, each in a transaction of its own (as registrations do). */
const insert = (libraryId: string, n: number) =>
  Promise.all(
    Array.from({ length: n }, () => {
      seq += 1;
      return t.app.pool.query(
        `INSERT INTO patron (library_id, last_name, first_name, birth_date, email, login, login_key, password_hash, newsletter, identity_key, search_text, status, updated_at)
         VALUES ($1, 'Compte', 'N', date '1990-01-01', $2, $3, $3, 'x', false, $3, $3, $4::"AccountStatus", now())`,
        [libraryId, `c${seq}@example.org`, `compte.${seq}`, STATUSES[seq % STATUSES.length]],
      );
    }),
  );

async function truth() {
  const { rows } = await t.app.pool.query(`SELECT library_id, status::text, count(*)::int AS n FROM patron GROUP BY 1, 2 ORDER BY 1, 2`);
  return rows;
}
async function kept() {
  const { rows } = await t.app.pool.query(
    `SELECT library_id, status::text, sum(count)::int AS n FROM patron_count GROUP BY 1, 2 HAVING sum(count) <> 0 ORDER BY 1, 2`,
  );
  return rows;
}

describe('kept patron counts', () => {
  it('stay exactly the table’s under concurrent inserts, changes, a set-based job and erasures', async () => {
    await Promise.all([insert(libraries[0]!, 60), insert(libraries[1]!, 40)]);
    await Promise.all([
      // Status changes one by one, at once.
      ...Array.from({ length: 30 }, (_, i) =>
        t.app.pool.query(`UPDATE patron SET status = 'ACTIVE' WHERE id = (SELECT id FROM patron WHERE login_key = $1)`, [`compte.${i + 1}`]),
      ),
      // A set-based job's statement.
      t.app.pool.query(`UPDATE patron SET status = 'EXPIRED' WHERE status = 'TEMPORARY' AND library_id = $1`, [libraries[1]]),
      // A move between libraries, and erasures.
      t.app.pool.query(`UPDATE patron SET library_id = $1 WHERE login_key IN ('compte.40', 'compte.41')`, [libraries[1]]),
      t.app.pool.query(`DELETE FROM patron WHERE login_key IN ('compte.50', 'compte.51', 'compte.52')`),
      insert(libraries[0]!, 20),
    ]);
    expect(await kept()).toEqual(await truth());

    const dlpb = await login(t, 'STAFF', 'dlpb', 'mot de passe DLPB');
    const count = async (filter: object) =>
      (await t.gql(`query($f: PatronsFilter) { patrons(filter: $f) { totalCount } }`, { f: filter }, { token: dlpb })).data.patrons.totalCount;
    const exact = async (where: string, values: unknown[]) =>
      (await t.app.pool.query(`SELECT count(*)::int AS n FROM patron WHERE ${where}`, values)).rows[0].n;
    expect(await count({})).toBe(await exact('true', []));
    expect(await count({ statuses: ['ACTIVE', 'EXPIRED'] })).toBe(await exact(`status IN ('ACTIVE', 'EXPIRED')`, []));
    expect(await count({ libraryId: encodeGlobalID('Library', libraries[1]!), statuses: ['EXPIRED'] })).toBe(
      await exact(`library_id = $1 AND status = 'EXPIRED'`, [libraries[1]]),
    );
    // A search asked for its total alone (no page read) is counted, not taken from the kept counts.
    expect(await count({ search: 'compte.4' })).toBe(await exact(`login_key LIKE 'compte.4%'`, []));
    expect(await count({ search: 'compte.4', statuses: ['ACTIVE'] })).toBe(await exact(`login_key LIKE 'compte.4%' AND status = 'ACTIVE'`, []));
  });
});
