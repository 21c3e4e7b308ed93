// The rules written in SQL for speed (consumeQuota in one statement) are the same as their
// TypeScript twins used elsewhere: a person's age on the Paris date, and the age groups.
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ageAt, ageGroupOf } from '../../src/lib/calendar.js';
import { createTestDatabase, type TestDatabase } from '../support/harness.js';

let database: TestDatabase;
let client: pg.Client;

beforeAll(async () => {
  database = await createTestDatabase();
  client = new pg.Client({ connectionString: database.url });
  await client.connect();
});
afterAll(async () => {
  await client.end();
  await database.drop();
});

const CASES: [string, string][] = [
  ['2008-02-29', '2025-02-28T12:00:00Z'],
  ['2008-02-29', '2025-03-01T12:00:00Z'],
  ['2008-02-29', '2024-02-29T12:00:00Z'],
  ['2014-12-06', '2026-12-05T22:59:59Z'],
  ['2014-12-06', '2026-12-05T23:00:00Z'],
  ['2009-06-15', '2027-06-14T21:59:59Z'],
  ['2009-06-15', '2027-06-14T22:00:00Z'],
  ['1990-01-01', '2026-12-31T23:30:00Z'],
  ['2026-12-06', '2026-12-06T10:00:00Z'],
  ['1906-12-07', '2026-12-06T10:00:00Z'],
];

describe('SQL rules and their TypeScript twins', () => {
  it.each(CASES)('born %s, at %s: the same age and age group', async (birth, at) => {
    const { rows } = await client.query<{ age: number; grp: string }>(
      'SELECT patron_age($1::date, $2::timestamptz) AS age, age_group_of(patron_age($1::date, $2::timestamptz))::text AS grp',
      [birth, at],
    );
    const age = ageAt(birth, new Date(at));
    expect(rows[0]).toEqual({ age, grp: ageGroupOf(age) });
  });

  it('agrees on every age group boundary', async () => {
    for (let age = 0; age <= 20; age++) {
      const { rows } = await client.query<{ grp: string }>('SELECT age_group_of($1)::text AS grp', [age]);
      expect(rows[0]!.grp).toBe(ageGroupOf(age));
    }
  });
});
