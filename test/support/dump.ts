import type { TestApp } from './harness.js';

/** Every row of every table (application and pg-boss), as lower-case JSON text: for scans that prove a secret or a person is gone. */
export async function dumpEverything(t: TestApp): Promise<string> {
  const { rows: tables } = await t.app.pool.query<{ schema: string; name: string }>(
    `SELECT table_schema AS schema, table_name AS name FROM information_schema.tables
      WHERE table_schema IN ('public', 'pgboss') AND table_type = 'BASE TABLE'`,
  );
  let dump = '';
  for (const { schema, name } of tables) {
    const { rows } = await t.app.pool.query(`SELECT row_to_json(x)::text AS row FROM "${schema}"."${name}" x`);
    dump += rows.map((r) => r.row).join('\n');
  }
  return dump.toLowerCase();
}
