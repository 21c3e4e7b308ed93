// A PostgreSQL server that a test owns, kills and restarts: the database of the fault tests.
import { chmod, mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { alive, freePort, startEmbeddedPostgres, type EmbeddedDatabase } from '../../src/db/embedded.js';

export interface OwnPostgres {
  port: number;
  /** URL of a database of this server (created by `createDatabase`). */
  urlFor(database: string): string;
  createDatabase(name: string): Promise<string>;
  /** kill -9 of the postmaster and every backend, as a crashed machine would leave them. */
  kill(): Promise<void>;
  /** Starts the server again on the same port and data (crash recovery included). */
  restart(): Promise<void>;
  /** Rows of pg_stat_activity of a database, by application_name. */
  connections(database: string): Promise<Record<string, number>>;
  stop(): Promise<void>;
}

async function processTree(root: number): Promise<number[]> {
  const parents = new Map<number, number>();
  for (const entry of await readdir('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    const stat = await readFile(`/proc/${entry}/stat`, 'utf8').catch(() => '');
    // "pid (name) state ppid …": the name may hold spaces and parentheses.
    const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
    if (ppid) parents.set(Number(entry), ppid);
  }
  const tree = [root];
  for (let i = 0; i < tree.length; i++) for (const [pid, ppid] of parents) if (ppid === tree[i]) tree.push(pid);
  return tree;
}

export async function startOwnPostgres(): Promise<OwnPostgres> {
  const dir = await mkdtemp(join(tmpdir(), 'numos-fault-'));
  await chmod(dir, 0o755);
  const dataDir = join(dir, 'postgres');
  const port = await freePort();
  let server: EmbeddedDatabase = await startEmbeddedPostgres({ dataDir, port });
  const admin = () => new pg.Client({ connectionString: server.adminUrl });
  return {
    port,
    urlFor: (database) => server.urlFor(database),
    async createDatabase(name) {
      const client = admin();
      await client.connect();
      await client.query(`CREATE DATABASE ${name}`);
      await client.end();
      return server.urlFor(name);
    },
    async kill() {
      const postmaster = Number((await readFile(join(dataDir, 'postmaster.pid'), 'utf8')).split('\n')[0]);
      const pids = await processTree(postmaster);
      for (const pid of pids) {
        try {
          process.kill(pid, 'SIGKILL');
        } catch (error) {
          // A backend that ended between the listing and its kill (a connection closing) is gone already.
          if ((error as NodeJS.ErrnoException).code !== 'ESRCH') throw error;
        }
      }
      while (pids.some(alive)) await new Promise((r) => setTimeout(r, 20));
    },
    async restart() {
      server = await startEmbeddedPostgres({ dataDir, port });
    },
    async connections(database) {
      const client = admin();
      await client.connect();
      const { rows } = await client.query<{ name: string; n: number }>(
        `SELECT application_name AS name, count(*)::int AS n FROM pg_stat_activity WHERE datname = $1 GROUP BY 1`,
        [database],
      );
      await client.end();
      return Object.fromEntries(rows.map((r) => [r.name, r.n]));
    },
    async stop() {
      await server.stop();
      await rm(dir, { recursive: true, force: true });
    },
  };
}

/** Sockets of this process's network namespace connected (or connecting) to a local port. */
export async function socketsTo(port: number): Promise<number> {
  let count = 0;
  for (const file of ['/proc/net/tcp', '/proc/net/tcp6']) {
    const lines = (await readFile(file, 'utf8').catch(() => '')).split('\n').slice(1);
    for (const line of lines) {
      const [, , remote, state] = line.trim().split(/\s+/);
      if (!remote || state === '06' || state === '0A') continue; // TIME_WAIT, LISTEN
      if (Number.parseInt(remote.split(':').at(-1)!, 16) === port) count += 1;
    }
  }
  return count;
}

/** Open file descriptors of this process. */
export async function openFiles(): Promise<number> {
  return (await readdir('/proc/self/fd')).length;
}
