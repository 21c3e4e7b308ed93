// Runs the Prisma CLI against a live PostgreSQL: in the Rust-free mode even `migrate diff` opens a
// connection through the driver adapter. Uses DATABASE_URL when set, else a throw-away embedded
// PostgreSQL in the system temporary folder.
import { spawnSync } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startEmbeddedPostgres } from '../src/db/embedded.js';

export async function withDatabaseUrl<T>(run: (url: string) => Promise<T> | T): Promise<T> {
  if (process.env.DATABASE_URL) return run(process.env.DATABASE_URL);
  const dir = await mkdtemp(join(tmpdir(), 'numos-cli-'));
  const db = await startEmbeddedPostgres({ dataDir: join(dir, 'pg') });
  try {
    return await run(db.adminUrl);
  } finally {
    await db.stop();
    await rm(dir, { recursive: true, force: true });
  }
}

export function prisma(args: string[], url: string): string {
  const result = spawnSync('prisma', args, {
    env: { ...process.env, DATABASE_URL: url },
    encoding: 'utf8',
    maxBuffer: 64 * 1024 * 1024,
  });
  if (result.status !== 0) throw new Error(`prisma ${args.join(' ')} a échoué :\n${result.stderr}`);
  return result.stdout;
}
