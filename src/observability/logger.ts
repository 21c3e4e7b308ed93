// The process's log (pino): JSON lines in production, readable lines otherwise. A request's lines
// carry its request id (and the trace id, when tracing is on) through an AsyncLocalStorage, so
// whatever the request causes (a masked error, a lost connection) can be matched to it.
import { AsyncLocalStorage } from 'node:async_hooks';
import { createRequire } from 'node:module';
import pino, { type DestinationStream, type Logger } from 'pino';
import { earlyLogging } from '../config.js';
import { currentTrace } from './tracing.js';

export type { Logger };

export interface LoggingOptions {
  /** JSON lines (production) or readable lines. */
  json: boolean;
  level: string;
  /** Where lines go; stdout by default (tests capture them). */
  destination?: DestinationStream;
}

/** What a request's log lines (and masked errors) carry. */
export interface RequestScope {
  requestId: string;
  log: Logger;
}

export const requestScope = new AsyncLocalStorage<RequestScope>();

/** Readable lines, for a terminal: pino-pretty, loaded only then (a production server writes JSON). */
function readableLines(): DestinationStream {
  const pretty = createRequire(import.meta.url)('pino-pretty') as typeof import('pino-pretty');
  return pretty({ sync: true, translateTime: 'SYS:HH:MM:ss.l', ignore: 'pid,hostname,service' });
}

function build(options: LoggingOptions): Logger {
  const destination = options.destination ?? (options.json ? pino.destination({ sync: false }) : readableLines());
  return pino(
    {
      level: options.level,
      base: { service: 'numos' },
      // Never a secret in a line, whatever an object carries.
      redact: { paths: ['password', 'token', 'apiKey', '*.password', '*.token', '*.apiKey', '*.authorization'], censor: '[masqué]' },
      // The trace and span ids, one key each: a line's own fields never repeat them (request-log.ts).
      mixin: () => currentTrace() ?? {},
    },
    destination,
  );
}

/** Until configured: production writes JSON, tests only warnings and errors. */
let root: Logger = build(earlyLogging());

/** Sets up the process's log (at start-up, or by a test that captures it). */
export function configureLogging(options: LoggingOptions): Logger {
  root = build(options);
  return root;
}

/** The log of the current request if there is one, else the process's. */
export function log(): Logger {
  return requestScope.getStore()?.log ?? root;
}
