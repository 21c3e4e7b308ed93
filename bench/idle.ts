// What an idle instance costs: the built server (as `npm run serve` runs it) started on its own
// database and left alone, then its transactions against PostgreSQL per second (the workers' polls,
// pg-boss's upkeep) and its own CPU, read over BENCH_SECONDS (default 30). With BENCH_COMPARE_DIR,
// another checkout's build (the commit before a change) is measured the same way, just after.
import pg from 'pg';
import { build, cpuMs, launch, rssMb, servedArguments, servedEnv } from './processes.js';
import { benchDatabase } from './support.js';

const SECONDS = Number(process.env.BENCH_SECONDS ?? 30);
/** After /ready: the start's own work (migrations checked, queues, schedules) is over. */
const SETTLE_SECONDS = 5;

/** Transactions committed and rolled back in a database so far (PostgreSQL's cumulative statistics). */
async function transactions(client: pg.Client, database: string): Promise<number> {
  // A new snapshot of the statistics at each read, not the one the session took first.
  await client.query('SELECT pg_stat_clear_snapshot()');
  const { rows } = await client.query<{ n: string }>('SELECT xact_commit + xact_rollback AS n FROM pg_stat_database WHERE datname = $1', [database]);
  return Number(rows[0]!.n);
}

export async function idleBench(): Promise<void> {
  build();
  const compareDir = process.env.BENCH_COMPARE_DIR;
  if (compareDir) build(compareDir);
  const db = await benchDatabase();
  const database = new URL(db.url).pathname.slice(1);
  const reader = new pg.Client({ connectionString: db.url });
  await reader.connect();
  const env = servedEnv(db.url);
  const served = servedArguments();
  console.log(`an instance started, then left alone ${SECONDS} s (after ${SETTLE_SECONDS} s)`);
  try {
    for (const [label, cwd] of [['NuMos', undefined], ...(compareDir ? [[`NuMos ${compareDir}`, compareDir]] : [])] as [string, string | undefined][]) {
      const server = await launch(process.execPath, served.all, env, '/ready', { cwd });
      try {
        await new Promise((resolve) => setTimeout(resolve, SETTLE_SECONDS * 1_000));
        const [before, cpuBefore] = [await transactions(reader, database), await cpuMs(server.pid)];
        await new Promise((resolve) => setTimeout(resolve, SECONDS * 1_000));
        // Less the reader's own two statements a read.
        const count = (await transactions(reader, database)) - before - 2;
        const cpu = (await cpuMs(server.pid)) - cpuBefore;
        console.log(
          `${label.padEnd(40)} ${(count / SECONDS).toFixed(1).padStart(6)} transactions/s   CPU ${(cpu / SECONDS).toFixed(1).padStart(5)} ms/s   RSS ${(await rssMb(server.pid)).toFixed(0)} MB`,
        );
      } finally {
        await server.stop();
      }
    }
  } finally {
    await reader.end();
    await db.close();
  }
}
