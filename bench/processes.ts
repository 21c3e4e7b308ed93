// Servers run as their own processes by the benchmarks, as production runs them: the build
// (npm run build), a launch that waits for the server's first answer, its resident memory, its stop.
import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { freePort } from '../src/db/embedded.js';

/**
 * What production gives Node.js to run the built server: the arguments of `npm run serve`, which
 * the image's CMD and the systemd unit repeat (test/deploy/packaging.test.ts). `runtime` is the
 * part that is about the process rather than NuMos (memory flags): a baseline server gets it too.
 */
export function servedArguments(): { all: string[]; runtime: string[]; entry: string[] } {
  const scripts = JSON.parse(readFileSync('package.json', 'utf8')).scripts as Record<string, string>;
  const all = scripts.serve!.replace(/^exec node /, '').split(/\s+/);
  const isRuntime = (arg: string, i: number) => arg.startsWith('--') && arg !== '--import' && all[i - 1] !== '--import';
  return { all, runtime: all.filter(isRuntime), entry: all.filter((arg, i) => !isRuntime(arg, i)) };
}

/**
 * The environment of a built server run by a benchmark: production, on `databaseUrl`, warnings only
 * (unless LOG_LEVEL says otherwise), no demonstration data, not seen as under test; `more` on top.
 */
export function servedEnv(databaseUrl: string, more: NodeJS.ProcessEnv = {}): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {
    ...process.env,
    DATABASE_URL: databaseUrl,
    NODE_ENV: 'production',
    LOG_LEVEL: process.env.LOG_LEVEL ?? 'warn',
    NUMOS_DEMO_DATA: '0',
    ...more,
  };
  delete env.VITEST;
  return env;
}

/** npm run build (dist/), once per benchmark that runs the built server; in `cwd` when given. */
export function build(cwd?: string): void {
  const started = performance.now();
  const result = spawnSync('npm', ['run', '--silent', 'build'], { cwd, encoding: 'utf8' });
  if (result.status !== 0) throw new Error(`npm run build a échoué${cwd ? ` dans ${cwd}` : ''} :\n${result.stdout}${result.stderr}`);
  console.log(`npm run build${cwd ? ` (${cwd})` : ''} : ${((performance.now() - started) / 1000).toFixed(1)} s`);
}

/** Resident memory of one process (MB), 0 once it is gone. */
export async function rssMb(pid: number): Promise<number> {
  const status = await readFile(`/proc/${pid}/status`, 'utf8').catch(() => '');
  return Number(/VmRSS:\s+(\d+) kB/.exec(status)?.[1] ?? 0) / 1024;
}

/** CPU time a process has used so far (ms, user and system; its threads included). */
export async function cpuMs(pid: number): Promise<number> {
  const stat = await readFile(`/proc/${pid}/stat`, 'utf8').catch(() => '');
  // The fields after the command's closing parenthesis: utime and stime are the 12th and 13th.
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return ((Number(fields[11]) + Number(fields[12])) * 1000) / CLOCK_TICKS;
}
const CLOCK_TICKS = Number(spawnSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).stdout.trim()) || 100;

export interface ServerProcess {
  origin: string;
  /** From the launch to the first answer on the path waited for. */
  readyMs: number;
  /** The node process that serves (npm's child when launched through npm). */
  pid: number;
  stop(): Promise<void>;
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

/**
 * Launches a command in its own process group on a free PORT, and waits for `path` to answer 200;
 * in `cwd` when given (another checkout's build).
 */
export async function launch(
  command: string,
  args: string[],
  env: NodeJS.ProcessEnv,
  path: string,
  { timeoutMs = 60_000, cwd }: { timeoutMs?: number; cwd?: string } = {},
): Promise<ServerProcess> {
  const port = await freePort();
  const started = performance.now();
  const child = spawn(command, args, { cwd, env: { ...env, PORT: String(port) }, detached: true, stdio: ['ignore', 'ignore', 'pipe'] });
  let errors = '';
  child.stderr!.on('data', (chunk) => {
    errors = (errors + chunk).slice(-4_000);
  });
  const stop = async () => {
    if (child.exitCode !== null) return;
    const exited = new Promise((resolve) => child.once('exit', resolve));
    // The whole group: `npm start` runs node, which may run PostgreSQL.
    process.kill(-child.pid!, 'SIGTERM');
    await exited;
  };
  try {
    const origin = `http://127.0.0.1:${port}`;
    await untilAnswered(`${origin}${path}`, child, timeoutMs);
    return { origin, readyMs: performance.now() - started, pid: nodeOf(child.pid!), stop };
  } catch (error) {
    await stop();
    throw new Error(`${(error as Error).message}\n${errors.slice(-2_000)}`);
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
