// Each SQL function and trigger has one current definition, in a file of its own
// (src/db/functions/<name>.sql), as pg-boss keeps its SQL in one place: this proves that the
// migrations, applied to an empty database, produce exactly those definitions. On a clone of the
// migrated template, in a transaction rolled back: every function of the schema has its file and
// every file its function; running a file changes nothing that PostgreSQL reports of the
// function (pg_get_functiondef) or of the trigger (pg_get_triggerdef).
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestDatabase, type TestDatabase } from '../support/harness.js';

const DIR = join(import.meta.dirname, '..', '..', 'src', 'db', 'functions');
const files = readdirSync(DIR)
  .filter((name) => name.endsWith('.sql'))
  .map((name) => ({ name: name.slice(0, -4), sql: readFileSync(join(DIR, name), 'utf8') }));

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

/** The application's own functions (not an extension's), with their definitions, by name. */
async function functions(): Promise<Map<string, string[]>> {
  const { rows } = await client.query<{ name: string; definition: string }>(
    `SELECT p.proname AS name, pg_get_functiondef(p.oid) AS definition
       FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace
      WHERE n.nspname = 'public'
        AND NOT EXISTS (SELECT FROM pg_depend d WHERE d.objid = p.oid AND d.deptype = 'e')
      ORDER BY 1, 2`,
  );
  const byName = new Map<string, string[]>();
  for (const { name, definition } of rows) byName.set(name, [...(byName.get(name) ?? []), definition]);
  return byName;
}

async function triggers(): Promise<string[]> {
  const { rows } = await client.query<{ definition: string }>(
    `SELECT pg_get_triggerdef(t.oid) AS definition FROM pg_trigger t JOIN pg_class c ON c.oid = t.tgrelid
      JOIN pg_namespace n ON n.oid = c.relnamespace WHERE n.nspname = 'public' AND NOT t.tgisinternal ORDER BY 1`,
  );
  return rows.map((r) => r.definition);
}

describe('SQL functions and triggers', () => {
  it('have one file each, and each file one function', async () => {
    const migrated = await functions();
    expect([...migrated.keys()].sort()).toEqual(files.map((f) => f.name).sort());
    // One definition per name: a changed signature must drop the old one in its migration.
    expect([...migrated].filter(([, definitions]) => definitions.length !== 1).map(([name]) => name)).toEqual([]);
  });

  it.each(files.map((f) => [f.name, f.sql]))('%s: the migrations give exactly the definition of its file', async (name, sql) => {
    const before = await functions();
    const triggersBefore = await triggers();
    await client.query('BEGIN');
    try {
      await client.query(sql);
      const after = await functions();
      expect(after.get(name), `${name}: the file's definition differs from the migrated one`).toEqual(before.get(name));
      expect(after.size).toBe(before.size);
      expect(await triggers()).toEqual(triggersBefore);
    } finally {
      await client.query('ROLLBACK');
    }
  });

  it('would see a difference: a changed body is reported', async () => {
    const file = files.find((f) => f.name === 'secret_hash')!;
    const before = (await functions()).get('secret_hash');
    await client.query('BEGIN');
    try {
      await client.query(file.sql.replace("'hex'", "'base64'"));
      expect((await functions()).get('secret_hash')).not.toEqual(before);
    } finally {
      await client.query('ROLLBACK');
    }
  });
});
