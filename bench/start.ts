// npm run bench -- start: launch to /ready, and the memory of an idle instance.
//   - baseline: a bare Node.js HTTP server, launch to its first answer (same machine, same run);
//   - the built server (npm run build, then `node dist/src/start.js` as the image runs it) on a
//     PostgreSQL already up and migrated: the target is 3 s;
//   - the same through tsx (`npm start` with DATABASE_URL): what the build saves;
//   - a newcomer's first `npm start` (embedded PostgreSQL created, migrations, demonstration data):
//     the target is 15 s.
// Memory: resident set size of the server's own process once ready, then after 200 requests.
import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort } from '../src/db/embedded.js';
import { benchDatabase, stats } from './support.js';

const RUNS = 5;

interface Launch {
  readyMs: number;
  rssIdleMb: number;
  rssLoadedMb: number;
}

/** Resident memory of a process and its children (npm → node → PostgreSQL excepted: only node). */
async function rssMb(pid: number): Promise<number> {
  const status = await readFile(`/proc/${pid}/status`, 'utf8').catch(() => '');
  return Number(/VmRSS:\s+(\d+) kB/.exec(status)?.[1] ?? 0) / 1024;
}

async function untilAnswered(url: string, child: ChildProcess, timeoutMs: number): Promise<void> {
  const deadline = performance.now() + timeoutMs;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`le processus s'est arrêté (code ${child.exitCode}) avant de répondre`);
    const ok = await fetch(url)
      .then((r) => r.ok)
      .catch(() => false);
    if (ok) return;
    if (performance.now() > deadline) throw new Error(`${url} sans réponse après ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

async function stop(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null) return;
  const exited = new Promise((resolve) => child.once('exit', resolve));
  // The whole group: `npm start` runs node, which may run PostgreSQL.
  process.kill(-child.pid!, 'SIGTERM');
  await exited;
}

/** Launches a command (its own process group), waits for `path` to answer, measures, stops it. */
async function launch(command: string, args: string[], env: NodeJS.ProcessEnv, path: string, timeoutMs = 60_000): Promise<Launch> {
  const port = await freePort();
  const started = performance.now();
  const child = spawn(command, args, { env: { ...env, PORT: String(port) }, detached: true, stdio: ['ignore', 'ignore', 'pipe'] });
  let errors = '';
  child.stderr!.on('data', (chunk) => (errors += chunk));
  try {
    await untilAnswered(`http://127.0.0.1:${port}${path}`, child, timeoutMs);
    const readyMs = performance.now() - started;
    // The node process itself (npm's parent excepted): the deepest `node` of the group.
    const serverPid = nodeOf(child.pid!);
    const rssIdleMb = await rssMb(serverPid);
    for (let i = 0; i < 200; i++) {
      await fetch(`http://127.0.0.1:${port}/graphql`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ query: '{ libraries { id name town } }' }),
      }).then((r) => r.arrayBuffer());
    }
    return { readyMs, rssIdleMb, rssLoadedMb: await rssMb(serverPid) };
  } catch (error) {
    throw new Error(`${(error as Error).message}\n${errors.slice(-2_000)}`);
  } finally {
    await stop(child);
  }
}

/** The node process a launch runs the server in (itself, or npm's child). */
function nodeOf(pid: number): number {
  const children = spawnSync('pgrep', ['-P', String(pid)], { encoding: 'utf8' })
    .stdout.split('\n')
    .filter(Boolean)
    .map(Number);
  // By its command line: Node.js 24 names its main thread "MainThread", which `ps -o comm` shows.
  const node = children.find((child) =>
    spawnSync('ps', ['-o', 'args=', '-p', String(child)], { encoding: 'utf8' })
      .stdout.trim()
      .split(' ')[0]
      ?.endsWith('node'),
  );
  return node ? nodeOf(node) : pid;
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

  const built = performance.now();
  const build = spawnSync('npm', ['run', '--silent', 'build'], { encoding: 'utf8' });
  if (build.status !== 0) throw new Error(`npm run build a échoué :\n${build.stdout}${build.stderr}`);
  console.log(`npm run build : ${((performance.now() - built) / 1000).toFixed(1)} s`);

  const database = await benchDatabase();
  try {
    const env = { ...base, DATABASE_URL: database.url, NODE_ENV: 'production' };
    const image = [];
    for (let i = 0; i < RUNS; i++) image.push(await launch(node, ['--import', './dist/src/observability/register.js', 'dist/src/start.js'], env, '/ready'));
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
