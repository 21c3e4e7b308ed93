// One log line per HTTP request (pino-http): its id (X-Request-Id, taken from the request when it
// brings a sane one, else made, and sent back), method and path, status, duration, the GraphQL
// operation's name and type, and the caller's kind and id. Never a header, a token, a variable or
// a person's name: those are not in the line. Lines the request causes carry its id too.
import { randomUUID } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { getOperationAST } from 'graphql';
import type { Plugin } from 'graphql-yoga';
import { pinoHttp } from 'pino-http';
import type { Caller } from '../auth/caller.js';
import type { Logger } from '../observability/logger.js';
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

/** Notes who is calling (from the GraphQL context); their id is read when the line is written. */
export function noteCaller(request: IncomingMessage | undefined, caller: Caller): void {
  if (request) facts.set(request, { ...facts.get(request), caller });
}

/** Notes the operation of each request (name and type), for its log line. */
export const noteOperation: Plugin<{ req?: IncomingMessage }> = {
  onExecute({ args }) {
    const request = args.contextValue.req;
    const operation = getOperationAST(args.document, args.operationName);
    if (request)
      facts.set(request, { ...facts.get(request), operation: operation?.name?.value ?? args.operationName ?? undefined, operationType: operation?.operation });
  },
  onSubscribe({ args }) {
    const request = args.contextValue.req;
    const operation = getOperationAST(args.document, args.operationName);
    if (request) facts.set(request, { ...facts.get(request), operation: operation?.name?.value ?? undefined, operationType: operation?.operation });
  },
};

/** What the request's line says of it; the trace id as seen when the request arrived (the span may be over when the line is written). */
function factsOf(request: IncomingMessage): object {
  const { caller, ...rest } = facts.get(request) ?? {};
  return { ...rest, ...(caller ? { caller: { kind: caller.kind, id: idOfCaller(caller) } } : {}) };
}

const SANE_ID = /^[\w.:-]{1,100}$/;
/** Probes and scrapes, every few seconds: not worth a line each. */
const QUIET_PATHS = new Set(['/health', '/ready', '/metrics']);

export function requestLogger(logger: Logger): (request: IncomingMessage, response: ServerResponse) => void {
  const middleware = pinoHttp({
    logger,
    quietReqLogger: true,
    genReqId: (request: IncomingMessage, response: ServerResponse) => {
      const given = request.headers['x-request-id'];
      const id = typeof given === 'string' && SANE_ID.test(given) ? given : randomUUID();
      response.setHeader('X-Request-Id', id);
      return id;
    },
    autoLogging: { ignore: (request: IncomingMessage) => QUIET_PATHS.has(request.url?.split('?')[0] ?? '') },
    serializers: {
      req: (request: { method?: string; url?: string }) => ({ method: request.method, path: request.url?.split('?')[0] }),
      res: (response: { statusCode?: number }) => ({ status: response.statusCode }),
    },
    // The facts go into the line itself, never into the request logger's bindings (pino-http's
    // customProps would put them in both when they changed meanwhile: duplicate keys, which a log
    // store such as Elasticsearch refuses).
    customSuccessObject: (request: IncomingMessage, _response: ServerResponse, line: object) => ({ ...line, ...factsOf(request) }),
    customErrorObject: (request: IncomingMessage, _response: ServerResponse, _error: Error, line: object) => ({ ...line, ...factsOf(request) }),
    // 503 is the database being away: its cause is logged once (src/db/availability.ts), not per request.
    customLogLevel: (_request: IncomingMessage, response: ServerResponse, error?: Error) =>
      error || (response.statusCode >= 500 && response.statusCode !== 503) ? 'error' : 'info',
    customSuccessMessage: () => 'requête',
    customErrorMessage: () => 'requête en échec',
  });
  return (request, response) => {
    const traceId = currentTrace()?.traceId;
    if (traceId) facts.set(request, { ...facts.get(request), traceId });
    middleware(request, response);
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
