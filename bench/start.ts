// npm run bench -- start: launch to /ready, and the memory of an idle instance.
//   - baseline: a bare Node.js HTTP server, launch to its first answer (same machine, same run);
//   - the built server (npm run build, then `node dist/src/start.js` as the image runs it) on a
//     PostgreSQL already up and migrated: the target is 3 s;
//   - the same through tsx (`npm start` with DATABASE_URL): what the build saves;
//   - a newcomer's first `npm start` (embedded PostgreSQL created, migrations, demonstration data):
//     the target is 15 s.
// Memory: resident set size of the server's own process once ready, then after 200 requests.
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { build, launch as launchServer, rssMb, servedArguments } from './processes.js';
import { benchDatabase, stats } from './support.js';

const RUNS = 5;

interface Launch {
  readyMs: number;
  rssIdleMb: number;
  rssLoadedMb: number;
}

/** Launches a server, waits for `path` to answer, measures its memory idle and after 200 requests, stops it. */
async function launch(command: string, args: string[], env: NodeJS.ProcessEnv, path: string, timeoutMs = 60_000): Promise<Launch> {
  const server = await launchServer(command, args, env, path, { timeoutMs });
  try {
    const rssIdleMb = await rssMb(server.pid);
    for (let i = 0; i < 200; i++) {
      await fetch(`${server.origin}/graphql`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ query: '{ libraries { id name town } }' }),
      }).then((r) => r.arrayBuffer());
    }
    return { readyMs: server.readyMs, rssIdleMb, rssLoadedMb: await rssMb(server.pid) };
  } finally {
    await server.stop();
  }
}

const row = (name: string, launches: Launch[], target?: string) => {
  const ready = stats(launches.map((l) => l.readyMs));
  const idle = Math.max(...launches.map((l) => l.rssIdleMb));
  const loaded = Math.max(...launches.map((l) => l.rssLoadedMb));
  console.log(
    `${name.padEnd(44)} prêt en p50 ${(ready.p50 / 1000).toFixed(2)} s, max ${(ready.max / 1000).toFixed(2)} s${target ? ` (cible ${target})` : ''} ; mémoire ${idle.toFixed(0)} Mo au repos, ${loaded.toFixed(0)} Mo après 200 requêtes`,
  );
  return ready;
};

export async function startBench(): Promise<void> {
  const node = process.execPath;
  const base: NodeJS.ProcessEnv = { ...process.env, LOG_LEVEL: 'warn', NUMOS_THROTTLE: '0' };
  delete base.VITEST;

  const bare = [];
  for (let i = 0; i < RUNS; i++) {
    bare.push(await launch(node, ['-e', "require('node:http').createServer((q, s) => s.end('ok')).listen(Number(process.env.PORT))"], base, '/'));
  }
  const baseline = row('référence : serveur HTTP Node.js nu', bare);

  build();

  const database = await benchDatabase();
  try {
    const env = { ...base, DATABASE_URL: database.url, NODE_ENV: 'production' };
    const image = [];
    for (let i = 0; i < RUNS; i++) image.push(await launch(node, servedArguments().all, env, '/ready'));
    const warm = row('serveur construit (image), PostgreSQL prêt', image, '3 s');
    const tsx = [];
    for (let i = 0; i < 3; i++) tsx.push(await launch(node, ['--import', 'tsx', '--import', './src/observability/register.ts', 'src/start.ts'], env, '/ready'));
    const viaTsx = row('même serveur par tsx (npm start), PostgreSQL prêt', tsx);
    console.log(`rapports : construit/nu ×${(warm.p50 / baseline.p50).toFixed(1)}, tsx/construit ×${(viaTsx.p50 / warm.p50).toFixed(1)}`);
  } finally {
    await database.close();
  }

  // A newcomer: no DATABASE_URL, an empty data directory (PostgreSQL created, migrated, demonstration data).
  const dataDir = await mkdtemp(join(tmpdir(), 'numos-bench-start-'));
  try {
    const env: NodeJS.ProcessEnv = { ...base, NUMOS_DATA_DIR: dataDir };
    delete env.DATABASE_URL;
    delete env.NODE_ENV;
    row('premier npm start d’un nouveau venu', [await launch('npm', ['start'], env, '/ready', 120_000)], '15 s');
  } finally {
    await rm(dataDir, { recursive: true, force: true });
  }
}
