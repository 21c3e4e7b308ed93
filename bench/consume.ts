// consumeQuota under load, over HTTP, against two baselines measured in the same run on the same
// database: the service's own SQL called directly (no HTTP, no GraphQL: the database's ceiling)
// and a minimal graphql-yoga server whose resolver calls that same service (the stack's ceiling).
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { encodeGlobalID } from '@pothos/plugin-relay';
import { createSchema, createYoga } from 'graphql-yoga';
import { createApp, type RunningApp as App } from '../src/wiring/app.js';
import type { Caller } from '../src/auth/caller.js';
import { loadConfig } from '../src/config.js';
import { createProviderForBench } from './support-provider.js';
import { consumeQuota } from '../src/modules/quotas/service.js';
import { createHttpServer } from '../src/server/http.js';
import { runLoad, type LoadResult } from './load.js';
import { benchDatabase, stats } from './support.js';

const PATRONS = 10_000;
const SECONDS = Number(process.env.BENCH_SECONDS ?? 8);

async function listen(server: Server): Promise<string> {
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}/graphql`;
}

/** The database's ceiling: the service itself, N callers in a loop, no HTTP. */
async function direct(app: App, caller: Caller, patronIds: string[], connections: number): Promise<LoadResult> {
  const latencies: number[] = [];
  let errors = 0;
  let counter = 0;
  const run = `${connections}-${Date.now()}`;
  const deadline = performance.now() + SECONDS * 1_000;
  const started = performance.now();
  await Promise.all(
    Array.from({ length: connections }, async () => {
      while (performance.now() < deadline) {
        const t0 = performance.now();
        const patronId = patronIds[Math.floor(Math.random() * patronIds.length)]!;
        const result = await consumeQuota(app, caller, {
          patronId,
          patronRef: patronId,
          category: 'NEWSPAPER',
          resourceId: 'journal',
          idempotencyKey: `direct-${run}-${counter++}`,
        });
        if (result.errors.length && result.errors[0]!.code !== 'QUOTA_EXCEEDED') errors += 1;
        latencies.push(performance.now() - t0);
      }
    }),
  );
  return { requests: latencies.length, errors, seconds: (performance.now() - started) / 1_000, latencies };
}

function line(label: string, result: LoadResult) {
  const s = stats(result.latencies);
  const rps = result.requests / result.seconds;
  console.log(
    `${label.padEnd(40)} ${rps.toFixed(0).padStart(6)} req/s   p50 ${s.p50.toFixed(1).padStart(6)} ms   p99 ${s.p99.toFixed(1).padStart(6)} ms   errors ${result.errors}`,
  );
  return { rps, p99: s.p99 };
}

export async function consumeBench(): Promise<void> {
  const db = await benchDatabase();
  const app = await createApp({ config: loadConfig({ DATABASE_URL: db.url, NUMOS_THROTTLE: '0', NODE_ENV: 'production' }), databaseUrl: db.url });
  const numos = createHttpServer(app);
  try {
    await app.pool.query(`INSERT INTO library (code, name, email, search_text, updated_at) VALUES ('5200001', 'Bench', 'b@example.org', 'bench', now())`);
    const { rows } = await app.pool.query<{ id: string }>(
      `INSERT INTO patron (library_id, last_name, first_name, birth_date, email, login, login_key, password_hash, newsletter, identity_key, search_text, status, updated_at)
       SELECT (SELECT id FROM library), 'Nom', 'Prénom', date '1980-01-01', 'p' || i || '@example.org', 'p.' || i, 'p.' || i, 'x', false, 'k' || i, 'p' || i, 'ACTIVE', now()
         FROM generate_series(1, ${PATRONS}) i RETURNING id`,
    );
    // The service takes the ids the GraphQL layer decodes; HTTP calls send global IDs.
    const patronIds = rows.map((r) => r.id);
    const globalIds = rows.map((r) => encodeGlobalID('Patron', r.id));
    const { caller, apiKey } = await createProviderForBench(app);

    const url = await listen(numos.server);
    const minimal = createYoga({
      schema: createSchema({
        typeDefs: 'type Query { ok: Boolean } type Mutation { consume(patronId: ID!, key: String!): Boolean }',
        resolvers: {
          Mutation: {
            consume: async (_: unknown, args: { patronId: string; key: string }) =>
              (
                await consumeQuota(app, caller, {
                  patronId: args.patronId,
                  patronRef: args.patronId,
                  category: 'NEWSPAPER',
                  resourceId: 'journal',
                  idempotencyKey: args.key,
                })
              ).granted,
          },
        },
      }),
      logging: false,
      graphiql: false,
    });
    const minimalUrl = await listen(createServer(minimal));

    const headers = { 'content-type': 'application/json', authorization: `Bearer ${apiKey}` };
    const consumeBody = JSON.stringify({
      query: 'mutation($i: ConsumeQuotaInput!) { consumeQuota(input: $i) { granted consumptionId balance { lines { category remaining } } errors { code } } }',
      variables: { i: { patronId: '%PATRON%', category: 'NEWSPAPER', resourceId: 'journal', idempotencyKey: '%KEY%' } },
    });
    const minimalBody = JSON.stringify({
      query: 'mutation($p: ID!, $k: String!) { consume(patronId: $p, key: $k) }',
      variables: { p: '%PATRON%', k: '%KEY%' },
    });

    console.log(`${PATRONS} ACTIVE patrons; ${SECONDS} s per measure; consumeQuota on NEWSPAPER (limit 31)`);
    // Each measure starts from vacuumed tables: otherwise autovacuum, woken by the previous
    // measure's inserts, runs during the next one and the last measured pays for the others.
    const settle = () => app.pool.query('VACUUM (ANALYZE) consumption, quota_usage');
    for (const connections of [8, 50]) {
      await runLoad({ url, headers, body: consumeBody, patronIds: globalIds, connections, seconds: 2 }); // warm-up
      await settle();
      const base = line(`SQL through pg, ${connections} callers`, await direct(app, caller, patronIds, connections));
      await settle();
      const yoga = line(
        `minimal yoga, ${connections} connections`,
        await runLoad({ url: minimalUrl, headers: { 'content-type': 'application/json' }, body: minimalBody, patronIds, connections, seconds: SECONDS }),
      );
      await settle();
      const full = line(
        `NuMos consumeQuota, ${connections} connections`,
        await runLoad({ url, headers, body: consumeBody, patronIds: globalIds, connections, seconds: SECONDS }),
      );
      console.log(
        `  ratios: NuMos / minimal yoga ${((100 * full.rps) / yoga.rps).toFixed(0)} %, NuMos / pg ${((100 * full.rps) / base.rps).toFixed(0)} %, ` +
          `minimal yoga / pg ${((100 * yoga.rps) / base.rps).toFixed(0)} %`,
      );
    }
    const counts = await app.pool.query(`SELECT count(*)::int AS calls, count(*) FILTER (WHERE granted)::int AS granted FROM consumption`);
    console.log(`consumption log: ${counts.rows[0].calls} calls, ${counts.rows[0].granted} granted`);
  } finally {
    await numos.close(1_000);
    await app.close();
    await db.close();
  }
}
