// Shared by the benchmark scripts: a throw-away database (embedded unless DATABASE_URL) with the
// migrations applied, and small statistics helpers.
import { mkdtemp, rm } from 'node:fs/promises';
import { chmod } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { startEmbeddedPostgres } from '../src/db/embedded.js';
import { applyMigrations } from '../src/db/migrate.js';

export async function benchDatabase(): Promise<{ url: string; close(): Promise<void> }> {
  const name = `numos_bench_${process.pid}`;
  let adminUrl = process.env.DATABASE_URL;
  let stop = async () => {};
  if (!adminUrl) {
    const dir = await mkdtemp(join(tmpdir(), 'numos-bench-'));
    await chmod(dir, 0o755);
    const server = await startEmbeddedPostgres({ dataDir: join(dir, 'postgres') });
    adminUrl = server.adminUrl;
    stop = async () => {
      await server.stop();
      await rm(dir, { recursive: true, force: true });
    };
  }
  const admin = new pg.Client({ connectionString: adminUrl });
  await admin.connect();
  await admin.query(`DROP DATABASE IF EXISTS ${name}`);
  await admin.query(`CREATE DATABASE ${name}`);
  const url = new URL(adminUrl);
  url.pathname = `/${name}`;
  await applyMigrations(url.toString());
  return {
    url: url.toString(),
    close: async () => {
      await admin.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
      await admin.end();
      await stop();
    },
  };
}

export function stats(samples: number[]) {
  const sorted = [...samples].sort((x, y) => x - y);
  const at = (q: number) => sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))]!;
  const mean = samples.reduce((s, x) => s + x, 0) / samples.length;
  return { n: samples.length, mean, p50: at(0.5), p95: at(0.95), p99: at(0.99), min: sorted[0]!, max: sorted.at(-1)! };
}

export const ms = (x: number) => `${x.toFixed(2)} ms`;

export async function time(run: () => Promise<unknown>): Promise<number> {
  const start = performance.now();
  await run();
  return performance.now() - start;
}

/** GraphQL in process against an application, and staff logins (password of the benchmarks' seeds). */
export function graphqlClient(app: { yoga: { fetch: (url: string, init: RequestInit) => Response | Promise<Response> } }) {
  const gql = (query: string, variables: object, token?: string) =>
    Promise.resolve(
      app.yoga.fetch('http://bench/graphql', {
        method: 'POST',
        headers: { 'content-type': 'application/json', ...(token ? { authorization: `Bearer ${token}` } : {}) },
        body: JSON.stringify({ query, variables }),
      }),
    ).then((r) => r.json());
  const staffToken = async (login: string, password: string): Promise<string> =>
    (await gql(`mutation($i: LoginInput!) { login(input: $i) { token } }`, { i: { realm: 'STAFF', login, password } })).data.login.token;
  return { gql, staffToken };
}

/** Prints the plans of the SQL that `run` sends through `pg` and that `matches`. */
export async function printPlans(url: string, matches: RegExp, run: () => Promise<unknown>): Promise<void> {
  const captured: { text: string; values: unknown[] }[] = [];
  const original = pg.Client.prototype.query;
  pg.Client.prototype.query = function (this: pg.Client, ...args: unknown[]) {
    const [config, values] = args as [string | { text: string; values?: unknown[] }, unknown[] | undefined];
    const text = typeof config === 'string' ? config : config?.text;
    if (text && matches.test(text)) captured.push({ text, values: (typeof config === 'string' ? values : config.values) ?? [] });
    return (original as (...a: unknown[]) => unknown).apply(this, args);
  } as typeof original;
  try {
    await run();
  } finally {
    pg.Client.prototype.query = original;
  }
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  for (const { text, values } of captured) {
    const plan = await client.query(`EXPLAIN (ANALYZE, BUFFERS, COSTS OFF) ${text}`, values);
    console.log(`\n-- ${text.replace(/\s+/g, ' ').slice(0, 160)}…`);
    for (const row of plan.rows) console.log(`   ${row['QUERY PLAN']}`);
  }
  await client.end();
}
