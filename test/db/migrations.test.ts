// The migrations under prisma/migrations must build exactly the database that schema.prisma
// describes: a model changed without a migration (or the reverse) fails here.
import { spawnSync } from 'node:child_process';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it, inject } from 'vitest';
import { applyMigrations } from '../../src/db/migrate.js';
import { hashSecret } from '../../src/lib/secrets.js';
import { databaseUrl } from '../support/global-setup.js';

const adminUrl = inject('adminUrl');
const names = [`numos_mig_a_${process.pid}`, `numos_mig_b_${process.pid}`] as const;

async function admin<T>(run: (client: pg.Client) => Promise<T>): Promise<T> {
  const client = new pg.Client({ connectionString: adminUrl });
  await client.connect();
  try {
    return await run(client);
  } finally {
    await client.end();
  }
}

// Objects Prisma cannot express, added by hand to the migrations (each says why there): the
// comparison leaves them out, and the last test checks they are there.
const HAND_WRITTEN_INDEXES = ['registration_request_pending_search_trgm', 'response_template_decision_library_id_key'];

/** Everything Prisma models in the public schema, as sorted text lines. */
async function catalog(url: string): Promise<string[]> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    const queries = [
      `SELECT 'column ' || table_name || '.' || column_name || ' ' || data_type || ' ' || udt_name || ' null=' || is_nullable
              || ' default=' || coalesce(column_default, '') || ' len=' || coalesce(character_maximum_length::text, '')
              || ' precision=' || coalesce(datetime_precision::text, '')
         FROM information_schema.columns WHERE table_schema = 'public' AND table_name <> '_prisma_migrations'`,
      `SELECT 'index ' || indexdef FROM pg_indexes WHERE schemaname = 'public' AND tablename <> '_prisma_migrations'
          AND indexname <> ALL ('{${HAND_WRITTEN_INDEXES.join(',')}}')`,
      `SELECT 'constraint ' || conrelid::regclass || ' ' || conname || ' ' || pg_get_constraintdef(oid)
         FROM pg_constraint WHERE connamespace = 'public'::regnamespace AND conrelid::regclass::text <> '_prisma_migrations'`,
      `SELECT 'enum ' || t.typname || ' ' || string_agg(e.enumlabel, ',' ORDER BY e.enumsortorder)
         FROM pg_type t JOIN pg_enum e ON e.enumtypid = t.oid WHERE t.typnamespace = 'public'::regnamespace GROUP BY t.typname`,
      `SELECT 'extension ' || extname FROM pg_extension WHERE extname <> 'plpgsql'`,
    ];
    const lines: string[] = [];
    for (const sql of queries) lines.push(...(await client.query<{ '?column?': string }>(sql)).rows.map((r) => Object.values(r)[0] as string));
    return lines.sort();
  } finally {
    await client.end();
  }
}

beforeAll(async () => {
  await admin(async (client) => {
    for (const name of names) {
      await client.query(`DROP DATABASE IF EXISTS ${name}`);
      await client.query(`CREATE DATABASE ${name} TEMPLATE template0`);
    }
  });
});

afterAll(async () => {
  await admin(async (client) => {
    for (const name of names) await client.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
  });
});

describe('migrations', () => {
  it('applied to an empty database, give exactly schema.prisma', async () => {
    const fromMigrations = databaseUrl(adminUrl, names[0]);
    const fromSchema = databaseUrl(adminUrl, names[1]);

    await applyMigrations(fromMigrations);

    const diff = spawnSync('prisma', ['migrate', 'diff', '--from-empty', '--to-schema-datamodel', 'prisma/schema.prisma', '--script'], {
      env: { ...process.env, DATABASE_URL: adminUrl },
      encoding: 'utf8',
    });
    expect(diff.status, diff.stderr).toBe(0);
    const client = new pg.Client({ connectionString: fromSchema });
    await client.connect();
    await client.query(diff.stdout);
    await client.end();

    const [migrated, modelled] = await Promise.all([catalog(fromMigrations), catalog(fromSchema)]);
    expect(migrated.length).toBeGreaterThan(100);
    expect(migrated).toEqual(modelled);
  });

  it('are applied once: a second run does nothing', async () => {
    expect(await applyMigrations(databaseUrl(adminUrl, names[0]))).toEqual([]);
  });

  it('add the partial index of the pending queue’s search and the one-default rule of response texts', async () => {
    const client = new pg.Client({ connectionString: databaseUrl(adminUrl, names[0]) });
    await client.connect();
    const { rows } = await client.query(`SELECT indexdef FROM pg_indexes WHERE indexname = ANY($1) ORDER BY indexname`, [HAND_WRITTEN_INDEXES]);
    await client.end();
    expect(rows.map((r) => r.indexdef)).toEqual([
      expect.stringMatching(/USING gin \(search_text gin_trgm_ops\) WHERE \(state = 'AWAITING_DECISION'/),
      expect.stringMatching(/UNIQUE INDEX response_template_decision_library_id_key .*\(decision, library_id\) NULLS NOT DISTINCT/),
    ]);
  });

  it('keep the audit log append-only (a trigger, added by hand)', async () => {
    const client = new pg.Client({ connectionString: databaseUrl(adminUrl, names[0]) });
    await client.connect();
    try {
      await client.query(`INSERT INTO audit_log (occurred_at, actor_kind, action, subject_type) VALUES (now(), 'system', 'test', 'test')`);
      await expect(client.query(`UPDATE audit_log SET action = 'changed'`)).rejects.toThrow(/ajout seul/);
      await expect(client.query(`DELETE FROM audit_log`)).rejects.toThrow(/ajout seul/);
    } finally {
      await client.end();
    }
  });

  it('mint link tokens in the database: 244 random bits in base64url, each new, hashed as hashSecret', async () => {
    const client = new pg.Client({ connectionString: databaseUrl(adminUrl, names[0]) });
    await client.connect();
    try {
      const { rows } = await client.query<{ token: string; hash: string }>(
        'SELECT token, secret_hash(token) AS hash FROM (SELECT mint_token() AS token FROM generate_series(1, 1000)) t',
      );
      expect(new Set(rows.map((r) => r.token)).size).toBe(1000);
      for (const { token, hash } of rows) {
        expect(token).toMatch(/^[A-Za-z0-9_-]{43}$/);
        expect(hash).toBe(hashSecret(token));
      }
    } finally {
      await client.end();
    }
  });
});
