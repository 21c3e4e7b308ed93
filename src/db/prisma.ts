// Prisma Client in its Rust-free mode: queries go through the `pg` driver adapter, on a pool the
// application also uses for the hand-written SQL of jobs and atomic counters.
import { PrismaPg } from '@prisma/adapter-pg';
import pg from 'pg';
import { PrismaClient } from '../generated/prisma/client.js';
import { reportDatabaseError } from './availability.js';

export type { PrismaClient };

const ignore = () => {};
export type Tx = Parameters<Parameters<PrismaClient['$transaction']>[0]>[0];

/** How long a request waits for a connection before it fails (SERVICE_UNAVAILABLE). */
export const CONNECT_TIMEOUT_MS = 3_000;

export function createPool(connectionString: string, max = 10, applicationName = 'numos'): pg.Pool {
  const pool = new pg.Pool({
    connectionString,
    max,
    application_name: applicationName,
    connectionTimeoutMillis: CONNECT_TIMEOUT_MS,
    // A connection whose server vanished without a word (a cut network) is found out by TCP.
    keepAlive: true,
  });
  // An idle client losing its connection must not crash the process; the pool replaces it.
  pool.on('error', reportDatabaseError);
  // The pool takes that listener off a client it hands out (a transaction, Prisma's adapter), and a
  // socket dying then emits 'error' on the client: unheard, that would end the process. The
  // statement in flight fails with the same error, so the listener has nothing more to do.
  pool.on('connect', (client) => client.on('error', ignore));
  return pool;
}

export function createPrisma(pool: pg.Pool): PrismaClient {
  return new PrismaClient({ adapter: new PrismaPg(pool) });
}
