// Is the database there? Errors that mean "PostgreSQL cannot be reached right now" (down,
// restarting, refusing connections, a connection cut mid-statement), whichever layer raised them:
// `pg` itself, Prisma's driver adapter, or Prisma Client wrapping the adapter's error. Requests
// that meet one answer SERVICE_UNAVAILABLE instead of "Unexpected error.", and the logs say it
// once instead of once per failed statement.
import { repeatedErrors } from '../observability/repeated-errors.js';

/** SQLSTATE classes and codes: connection exceptions, server shutting down or starting, too many clients. */
const UNAVAILABLE_SQLSTATE = /^(08[0-9A-Z]{3}|57P0[1-3]|53300)$/;
/** Socket errors of Node.js. */
const SOCKET_CODES = new Set(['ECONNREFUSED', 'ECONNRESET', 'ECONNABORTED', 'EPIPE', 'ETIMEDOUT', 'ENOTFOUND', 'EHOSTUNREACH', 'ENETUNREACH', 'EAI_AGAIN']);
/** Prisma's codes for an unreachable server, a timeout, a closed connection, too many connections. */
const PRISMA_CODES = new Set(['P1001', 'P1002', 'P1008', 'P1017', 'P2037']);
/** Prisma driver adapter error kinds with the same meanings. */
const ADAPTER_KINDS = new Set(['DatabaseNotReachable', 'ConnectionClosed', 'SocketTimeout', 'TooManyConnections']);
/** What `pg` and its pool say when a connection is lost or cannot be had in time. */
const MESSAGES =
  /Connection terminated|timeout exceeded when trying to connect|is not queryable|Cannot use a pool after calling end|Can't reach database server|Server has closed the connection/;
/** Prisma's raw-query errors carry the SQLSTATE in their message only. */
const RAW_QUERY_CODE = /Code: `(08[0-9A-Z]{3}|57P0[1-3]|53300)`/;

interface ErrorLike {
  code?: unknown;
  kind?: unknown;
  originalCode?: unknown;
  message?: unknown;
  cause?: unknown;
  originalError?: unknown;
  meta?: { driverAdapterError?: unknown };
  errors?: unknown;
}

export function isDatabaseUnavailable(error: unknown, depth = 0): boolean {
  if (!error || typeof error !== 'object' || depth > 6) return false;
  const e = error as ErrorLike;
  if (typeof e.code === 'string' && (SOCKET_CODES.has(e.code) || PRISMA_CODES.has(e.code) || UNAVAILABLE_SQLSTATE.test(e.code))) return true;
  if (typeof e.kind === 'string' && ADAPTER_KINDS.has(e.kind)) return true;
  if (typeof e.originalCode === 'string' && UNAVAILABLE_SQLSTATE.test(e.originalCode)) return true;
  if (typeof e.message === 'string' && (MESSAGES.test(e.message) || RAW_QUERY_CODE.test(e.message))) return true;
  const nested = [e.cause, e.originalError, e.meta?.driverAdapterError, ...(Array.isArray(e.errors) ? e.errors : [])];
  return nested.some((inner) => isDatabaseUnavailable(inner, depth + 1));
}

/**
 * Set by the shutdown just before it stops its own (embedded) PostgreSQL. A pool's end() has sent
 * each connection its goodbye but does not wait for the socket to close; on a busy machine a
 * backend may still be there when the fast shutdown ends it (57P01, "terminating connection due to
 * administrator command"). That ending is the one the shutdown asked for, not a lost database.
 */
let stoppingOwnDatabase = false;
export function ownDatabaseStopping(): void {
  stoppingOwnDatabase = true;
}

/** A lost connection, an unreachable server: said once, then counted (src/lib/repeated-errors.ts). */
export function reportDatabaseError(error: Error): void {
  const code = (error as { code?: string }).code;
  if (stoppingOwnDatabase && code === '57P01') return;
  repeatedErrors.report(`database:${code ?? error.message}`, `connexion PostgreSQL perdue : ${error.message}`);
}
