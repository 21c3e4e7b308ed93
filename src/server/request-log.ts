// One log line per HTTP request: its id (X-Request-Id, taken from the request when it
// brings a sane one, else made, and sent back), method and path, status, duration, the GraphQL
// operation's name and type, and the caller's kind and id. Never a header, a token, a variable or
// a person's name: those are not in the line. Lines the request causes carry its id too.
import { randomUUID } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { getOperationAST, type DocumentNode } from 'graphql';
import type { Plugin } from 'graphql-yoga';
import type { Caller } from '../auth/caller.js';
import type { Logger, RequestScope } from '../observability/logger.js';
import { currentTrace } from '../observability/tracing.js';

interface RequestFacts {
  /** With tracing on: the trace of the request (its line is written when no span is active any more). */
  traceId?: string;
  operation?: string;
  operationType?: string;
  caller?: Caller;
}

const facts = new WeakMap<IncomingMessage, RequestFacts>();

/** A provider's id is known once its key was checked (when the request needed it). */
const idOfCaller = (caller: Caller) =>
  caller.kind === 'patron' ? caller.patronId : caller.kind === 'staff' ? caller.staffId : caller.kind === 'provider' ? caller.known?.providerId : undefined;

/** What is known of a request so far, noted in place (one object per request). */
function factsFor(request: IncomingMessage): RequestFacts {
  let known = facts.get(request);
  if (!known) {
    known = {};
    facts.set(request, known);
  }
  return known;
}

/** Notes who is calling (from the GraphQL context); their id is read when the line is written. */
export function noteCaller(request: IncomingMessage | undefined, caller: Caller): void {
  if (request) factsFor(request).caller = caller;
}

/** Notes a request's operation (name and type) for its line; `named` stands in when the document names none. */
function noteOperationOf(args: { contextValue: { req?: IncomingMessage }; document: DocumentNode; operationName?: string | null }, named?: string | null) {
  const request = args.contextValue.req;
  if (!request) return;
  const operation = getOperationAST(args.document, args.operationName);
  Object.assign(factsFor(request), { operation: operation?.name?.value ?? named ?? undefined, operationType: operation?.operation });
}

/** Notes the operation of each request (name and type), for its log line. */
export const noteOperation: Plugin<{ req?: IncomingMessage }> = {
  onExecute: ({ args }) => noteOperationOf(args, args.operationName),
  onSubscribe: ({ args }) => noteOperationOf(args),
};

/** What the request's line says of it; the trace id as seen when the request arrived (the span may be over when the line is written). */
function factsOf(request: IncomingMessage): object {
  const { caller, ...rest } = facts.get(request) ?? {};
  return { ...rest, ...(caller ? { caller: { kind: caller.kind, id: idOfCaller(caller) } } : {}) };
}

const SANE_ID = /^[\w.:-]{1,100}$/;
/** Probes and scrapes, every few seconds: not worth a line each. */
const QUIET_PATHS = new Set(['/health', '/ready', '/metrics']);

/**
 * Called once per request when its response is over (sent, or the connection closed), with its
 * duration; `probe`: a health check, a readiness probe or a scrape (not an API request).
 */
export type RequestEnded = (request: IncomingMessage, response: ServerResponse, seconds: number, probe: boolean) => void;

/**
 * The access log: the request's id and scope (what its lines carry), and its one line once the
 * response is over. Written here rather than with pino-http, which makes a child logger per
 * request up front: a quarter of the per-request cost of logging on consumeQuota, the providers'
 * hot path (npm run bench -- consume). The child is made only if the request logs something of its
 * own; the line itself names the id, as the child would. `ended` runs at the same moment, from the
 * same listener (the server's own bookkeeping and the HTTP metrics).
 */
export function requestLogger(logger: Logger, ended: RequestEnded): (request: IncomingMessage, response: ServerResponse) => RequestScope {
  return (request, response) => {
    const given = request.headers['x-request-id'];
    const requestId = typeof given === 'string' && SANE_ID.test(given) ? given : randomUUID();
    response.setHeader('X-Request-Id', requestId);
    let child: Logger | undefined;
    const scope: RequestScope = {
      requestId,
      get log() {
        child ??= logger.child({ reqId: requestId });
        return child;
      },
    };
    const path = request.url?.split('?')[0] ?? '';
    const quiet = QUIET_PATHS.has(path);
    const traceId = quiet ? undefined : currentTrace()?.traceId;
    if (traceId) factsFor(request).traceId = traceId;
    const started = performance.now();
    let error: Error | undefined;
    // A response emits 'close' once whatever happens (after 'finish', or when the connection is cut).
    response.on('error', (cause) => {
      error = cause;
    });
    response.once('close', () => {
      const elapsed = performance.now() - started;
      ended(request, response, elapsed / 1_000, quiet);
      if (quiet) return;
      // 503 is the database being away: its cause is logged once (src/db/availability.ts), not per request.
      const failed = error !== undefined || (response.statusCode >= 500 && response.statusCode !== 503);
      const level = failed ? 'error' : 'info';
      if (!logger.isLevelEnabled(level)) return;
      const line = {
        reqId: requestId,
        req: { method: request.method, path },
        res: { status: response.statusCode },
        ...(error ? { err: error } : {}),
        responseTime: Math.round(elapsed),
        ...factsOf(request),
      };
      logger[level](line, failed ? 'requête en échec' : 'requête');
    });
    return scope;
  };
}

/** An operation received over WebSocket, logged once it ends like an HTTP request is. */
export interface SocketOperation {
  requestId: string;
  /** The log of what the operation causes (its lines carry its id). */
  log: Logger;
  /** Once its document is read: its name and type, and who sends it. */
  note(fields: { operation?: string; operationType?: string; caller?: Caller }): void;
  /** Errors it answered (refusals, failures); counted into its line. */
  failed(count: number): void;
  /** Writes its one line (once). */
  end(): void;
}

/**
 * One line per operation sent over a WebSocket (graphql-ws runs queries and mutations as well as
 * subscriptions): the same fields as an HTTP request's (id, operation, caller, duration), with the
 * transport, and the errors answered instead of a status.
 */
export function startSocketOperation(logger: Logger): SocketOperation {
  const requestId = randomUUID();
  const started = Date.now();
  const fields: Omit<RequestFacts, 'traceId'> = {};
  let errors = 0;
  let ended = false;
  const child = logger.child({ reqId: requestId });
  return {
    requestId,
    log: child,
    note: (more) => Object.assign(fields, more),
    failed: (count) => {
      errors += count;
    },
    end() {
      if (ended) return;
      ended = true;
      const { caller, ...rest } = fields;
      child.info(
        {
          transport: 'websocket',
          ...rest,
          ...(caller ? { caller: { kind: caller.kind, id: idOfCaller(caller) } } : {}),
          errors,
          responseTime: Date.now() - started,
        },
        'requête',
      );
    },
  };
}
