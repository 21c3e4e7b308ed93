// Which PostgreSQL the process uses: DATABASE_URL, or an embedded server with data under .data/.
import { join } from 'node:path';
import pg from 'pg';
import type { Config } from './config.js';
import { startEmbeddedPostgres } from './db/embedded.js';

export interface Database {
  url: string;
  embedded: boolean;
  stop(): Promise<void>;
}

const EMBEDDED_DATABASE = 'numos';

/**
 * `share`: a tool (the CLI) uses the embedded server a running instance started; a second server
 * is refused (DataDirectoryInUse), as it would break when the first one stops.
 */
export async function openDatabase(config: Config, options: { share: boolean }): Promise<Database> {
  if (config.databaseUrl) return { url: config.databaseUrl, embedded: false, stop: async () => {} };
  const server = await startEmbeddedPostgres({ dataDir: join(config.dataDir, 'postgres'), share: options.share });
  const admin = new pg.Client({ connectionString: server.adminUrl });
  await admin.connect();
  try {
    const exists = await admin.query('SELECT 1 FROM pg_database WHERE datname = $1', [EMBEDDED_DATABASE]);
    if (!exists.rowCount) await admin.query(`CREATE DATABASE ${EMBEDDED_DATABASE}`);
  } finally {
    await admin.end();
  }
  return { url: server.urlFor(EMBEDDED_DATABASE), embedded: true, stop: server.stop };
}
