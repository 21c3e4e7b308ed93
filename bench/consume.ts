// consumeQuota under load, over HTTP, against two baselines measured in the same run on the same
// database: the service's own SQL called directly (no HTTP, no GraphQL: the database's ceiling)
// and a minimal graphql-yoga server whose resolver calls that same service (the stack's ceiling).
// Both servers are built (npm run build) and run as their own processes, as production runs NuMos;
// the load comes from this process. Their resident memory is read while the load runs.
import { encodeGlobalID } from '@pothos/plugin-relay';
import { createApp, type RunningApp as App } from '../src/wiring/app.js';
import type { Caller } from '../src/auth/caller.js';
import { loadConfig } from '../src/config.js';
import { createProviderForBench } from './support-provider.js';
import { consumeQuota } from '../src/modules/quotas/service.js';
import { runLoad, type LoadResult } from './load.js';
import { build, cpuMs, launch, rssMb, servedArguments, servedEnv, type ServerProcess } from './processes.js';
import { benchDatabase, stats } from './support.js';

const PATRONS = 10_000;
const SECONDS = Number(process.env.BENCH_SECONDS ?? 16);
const WARM_UP_SECONDS = Number(process.env.BENCH_WARM_UP_SECONDS ?? 6);
/** Unmeasured load before each measured turn, so that each is measured in its steady state rather than fresh from a rest. */
const RESUME_SECONDS = Number(process.env.BENCH_RESUME_SECONDS ?? 1);

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

function line(label: string, result: LoadResult, more = '') {
  const s = stats(result.latencies);
  const rps = result.requests / result.seconds;
  console.log(
    `${label.padEnd(40)} ${rps.toFixed(0).padStart(6)} req/s   p50 ${s.p50.toFixed(1).padStart(6)} ms   p99 ${s.p99.toFixed(1).padStart(6)} ms   errors ${result.errors}   ${more}`,
  );
  return { rps, p99: s.p99 };
}

/** A load's result on a server process, with the process's resident memory samples and CPU time. */
type ServerLoad = LoadResult & { rss: number[]; cpuMs: number };

/** A load on a server process: its resident memory read every half second meanwhile, and the CPU time it used. */
async function loadWithMemory(server: ServerProcess, load: () => Promise<LoadResult>): Promise<ServerLoad> {
  const rss: number[] = [];
  const sampler = setInterval(() => void rssMb(server.pid).then((mb) => rss.push(mb)), 500);
  const cpuBefore = await cpuMs(server.pid);
  try {
    const result = await load();
    return { ...result, rss, cpuMs: (await cpuMs(server.pid)) - cpuBefore };
  } finally {
    clearInterval(sampler);
  }
}

/** Several results of one load as one (their requests, latencies and times added up). */
function merged(results: ServerLoad[]): ServerLoad {
  return {
    requests: results.reduce((n, r) => n + r.requests, 0),
    errors: results.reduce((n, r) => n + r.errors, 0),
    seconds: results.reduce((n, r) => n + r.seconds, 0),
    latencies: results.flatMap((r) => r.latencies),
    rss: results.flatMap((r) => r.rss),
    cpuMs: results.reduce((n, r) => n + r.cpuMs, 0),
  };
}

/** Node.js options given in an environment variable, separated by spaces. */
const argumentsOf = (name: string) => (process.env[name] ?? '').split(' ').filter(Boolean);

/** What a server process used: CPU per request (what its own code costs), and its memory at most. */
const usage = (run: ServerLoad) =>
  `CPU ${((1000 * run.cpuMs) / run.requests).toFixed(0)} µs/req (${((100 * run.cpuMs) / (1000 * run.seconds)).toFixed(0)} % of a core), RSS max ${Math.max(...run.rss).toFixed(0)} MB`;

export async function consumeBench(): Promise<void> {
  build();
  // BENCH_COMPARE_DIR: another checkout (its node_modules installed or linked), built and run as
  // the compared NuMos: a change against the commit before it, in the same turns.
  const compareDir = process.env.BENCH_COMPARE_DIR;
  if (compareDir) build(compareDir);
  const db = await benchDatabase();
  // In this process: the data, the provider, and the SQL baseline.
  const app = await createApp({ config: loadConfig({ DATABASE_URL: db.url, NUMOS_THROTTLE: '0', NODE_ENV: 'production' }), databaseUrl: db.url });
  const servers: ServerProcess[] = [];
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

    const env = servedEnv(db.url, { NUMOS_THROTTLE: '0', BENCH_API_KEY: apiKey });
    // BENCH_SERVER_ARGS: more options for both servers' node (--cpu-prof, or memory flags that
    // override production's).
    const serverArgs = argumentsOf('BENCH_SERVER_ARGS');
    // NuMos as `npm run serve` runs it; the baseline with the same runtime flags (memory).
    const served = servedArguments();
    const numos = await launch(process.execPath, [...served.runtime, ...serverArgs, ...served.entry], env, '/ready');
    servers.push(numos);
    const minimal = await launch(process.execPath, [...served.runtime, ...serverArgs, 'bench/minimal-server.mjs'], env, '/health');
    servers.push(minimal);
    // BENCH_COMPARE_ARGS (and BENCH_COMPARE_ENV, NAME=value,…): a second NuMos with other runtime
    // settings, measured in the same turns (memory flags against the defaults, say); the one of
    // BENCH_COMPARE_DIR when set.
    const compareArgs = argumentsOf('BENCH_COMPARE_ARGS');
    const compareEnv = Object.fromEntries(
      (process.env.BENCH_COMPARE_ENV ?? '')
        .split(',')
        .filter(Boolean)
        .map((pair) => pair.split('=') as [string, string]),
    );
    const other =
      compareArgs.length || Object.keys(compareEnv).length || compareDir
        ? await launch(process.execPath, [...served.runtime, ...serverArgs, ...compareArgs, ...served.entry], { ...env, ...compareEnv }, '/ready', {
            cwd: compareDir,
          })
        : undefined;
    if (other) servers.push(other);
    console.log(`servers: NuMos pid ${numos.pid}, minimal yoga pid ${minimal.pid}${other ? `, NuMos compared pid ${other.pid}` : ''}`);
    const numosIdle = await rssMb(numos.pid);
    const minimalIdle = await rssMb(minimal.pid);

    const headers = { 'content-type': 'application/json', authorization: `Bearer ${apiKey}` };
    const consumeBody = JSON.stringify({
      query: 'mutation($i: ConsumeQuotaInput!) { consumeQuota(input: $i) { granted consumptionId balance { lines { category remaining } } errors { code } } }',
      variables: { i: { patronId: '%PATRON%', category: 'NEWSPAPER', resourceId: 'journal', idempotencyKey: '%KEY%' } },
    });
    const minimalBody = JSON.stringify({
      query: 'mutation($p: ID!, $k: String!) { consume(patronId: $p, key: $k) }',
      variables: { p: '%PATRON%', k: '%KEY%' },
    });
    /** consumeQuota on a NuMos server (the production one, or the one with other runtime settings). */
    const loadNuMos = (server: ServerProcess) => (connections: number, seconds: number) =>
      loadWithMemory(server, () => runLoad({ url: `${server.origin}/graphql`, headers, body: consumeBody, patronIds: globalIds, connections, seconds }));
    const loadNumos = loadNuMos(numos);
    const loadMinimal = (connections: number, seconds: number) =>
      loadWithMemory(minimal, () =>
        runLoad({ url: `${minimal.origin}/graphql`, headers: { 'content-type': 'application/json' }, body: minimalBody, patronIds, connections, seconds }),
      );

    console.log(
      `${PATRONS} ACTIVE patrons; consumeQuota on NEWSPAPER (limit 31); SQL ${SECONDS} s, then each server ${SECONDS / 2} s in turns of ${SECONDS / 8} s (each after ${RESUME_SECONDS} s unmeasured) after ${WARM_UP_SECONDS} s of warm-up`,
    );
    console.log(`idle: NuMos ${numosIdle.toFixed(0)} MB, minimal yoga ${minimalIdle.toFixed(0)} MB resident`);
    // Each measure starts from vacuumed tables: otherwise autovacuum, woken by the previous
    // measure's inserts, runs during the next one and the last measured pays for the others.
    const settle = () => app.pool.query('VACUUM (ANALYZE) consumption, quota_usage');
    for (const connections of [8, 50]) {
      // Warm-up: a built server reaches its steady speed only once V8 has optimised its hot paths
      // (two seconds measured both still getting faster, NuMos more: its code is larger).
      await loadMinimal(connections, WARM_UP_SECONDS);
      await loadNumos(connections, WARM_UP_SECONDS);
      if (other) await loadNuMos(other)(connections, WARM_UP_SECONDS);
      await settle();
      const base = line(`SQL through pg, ${connections} callers`, await direct(app, caller, patronIds, connections));
      // The servers in turn, A B A B…, four turns each: a drift in the machine's load falls on all
      // alike. Each turn starts under load: the server has rested while the others were measured
      // (V8 collects garbage when idle), and was until then measured fresh from its rest. A server
      // measured twice in a row (A B B A) paid its garbage in its second turn only: an identical
      // copy of NuMos, placed so, read 89-91 % of the other copy.
      const slice = SECONDS / 8;
      const runs: Record<'minimal' | 'numos' | 'other', ServerLoad[]> = { minimal: [], numos: [], other: [] };
      const load = { minimal: loadMinimal, numos: loadNumos, other: other ? loadNuMos(other) : loadNumos };
      const turn: ('minimal' | 'numos' | 'other')[] = other ? ['minimal', 'numos', 'other'] : ['minimal', 'numos'];
      for (const which of [...turn, ...turn, ...turn, ...turn]) {
        await settle();
        await load[which](connections, RESUME_SECONDS);
        runs[which].push(await load[which](connections, slice));
      }
      const minimalRun = merged(runs.minimal);
      const numosRun = merged(runs.numos);
      const yoga = line(`minimal yoga, ${connections} connections`, minimalRun, usage(minimalRun));
      const full = line(`NuMos consumeQuota, ${connections} connections`, numosRun, usage(numosRun));
      console.log(
        `  ratios: NuMos / minimal yoga ${((100 * full.rps) / yoga.rps).toFixed(0)} %, NuMos / pg ${((100 * full.rps) / base.rps).toFixed(0)} %, ` +
          `minimal yoga / pg ${((100 * yoga.rps) / base.rps).toFixed(0)} %`,
      );
      if (other) {
        const otherRun = merged(runs.other);
        const compared = line(
          `NuMos ${[...(compareDir ? [compareDir] : []), ...compareArgs, ...Object.entries(compareEnv).map(([name, value]) => `${name}=${value}`)].join(' ')}`,
          otherRun,
          usage(otherRun),
        );
        console.log(`  ratio: compared NuMos / NuMos ${((100 * compared.rps) / full.rps).toFixed(0)} %`);
      }
    }
    const counts = await app.pool.query(`SELECT count(*)::int AS calls, count(*) FILTER (WHERE granted)::int AS granted FROM consumption`);
    console.log(`consumption log: ${counts.rows[0].calls} calls, ${counts.rows[0].granted} granted`);
  } finally {
    for (const server of servers) await server.stop();
    await app.close();
    await db.close();
  }
}
