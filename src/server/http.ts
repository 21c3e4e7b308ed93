// The HTTP server: yoga for GraphQL over HTTP and SSE, and graphql-ws for subscriptions over
// WebSocket on the same path, both through yoga's envelop (same schema, context, limits).
import { createServer, type Server, type ServerResponse } from 'node:http';
import { Server as NetServer } from 'node:net';
import { GraphQLError, getOperationAST, type ExecutionArgs } from 'graphql';
import type { Context } from '../graphql/context.js';
import { shapeError } from './errors.js';
import { useServer } from 'graphql-ws/use/ws';
import { WebSocketServer } from 'ws';
import type { App } from '../instance.js';
import { REQUEST_BODY_MAX, type Yoga } from './yoga.js';
import type { DocumentStore } from './persisted-documents.js';
import { serveMailbox } from './mailbox.js';
import { serveMetrics } from './metrics.js';
import { requestLogger, type SocketOperation, startSocketOperation } from './request-log.js';
import { log, requestScope } from '../observability/logger.js';

type EnvelopedRoot = { execute: (args: ExecutionArgs) => unknown; subscribe: (args: ExecutionArgs) => unknown; operation: SocketOperation };

export interface HttpServer {
  server: Server;
  /**
   * Stops accepting, ends subscriptions, lets in-flight requests finish within `graceMs`, then
   * cuts what is left. Meanwhile every response says `Connection: close`, and a kept-alive socket
   * is closed only after its next response or by its keep-alive timeout (announced to clients), so
   * no request is cut off on its way in.
   */
  close(graceMs: number): Promise<void>;
}

export function createHttpServer(app: App & { yoga: Yoga; documents: DocumentStore | undefined }): HttpServer {
  const production = app.config.nodeEnv === 'production';
  const shape = (error: unknown) => shapeError(error, 'Unexpected error.', false, production) as GraphQLError;
  let draining = false;
  /** Responses in progress; those of subscriptions over SSE are streams that never finish. */
  const unanswered = new Map<ServerResponse, { stream: boolean }>();
  const metered = app.config.metrics.enabled;
  const accessLog = requestLogger(log(), (request, response, seconds, probe) => {
    unanswered.delete(response);
    // The histogram is about the API's requests: probes every few seconds would drown its low buckets.
    if (metered && !probe) app.metrics.httpRequest(request.method ?? 'other', response.statusCode, seconds);
  });
  const server = createServer((request, response) => {
    if (serveMetrics(app, request, response) || serveMailbox(app, request, response)) return;
    const scope = accessLog(request, response);
    if (draining) response.shouldKeepAlive = false;
    unanswered.set(response, { stream: request.headers.accept?.includes('text/event-stream') ?? false });
    // Whatever the request causes is logged with its id (and masked errors carry it).
    requestScope.run(scope, () => void app.yoga(request, response));
  });
  // Upgrades are handed over here rather than by giving ws the server: ws would also take on the
  // server's own errors (a port in use), which are the caller's to report.
  const sockets = new WebSocketServer({ noServer: true, maxPayload: REQUEST_BODY_MAX });
  server.on('upgrade', (request, socket, head) => {
    if (request.url?.split('?')[0] !== app.yoga.graphqlEndpoint) return socket.destroy();
    sockets.handleUpgrade(request, socket, head, (client) => sockets.emit('connection', client, request));
  });
  // The operations of each socket in progress, by their id: each gets its log line when it ends.
  const operations = new WeakMap<object, Map<string, SocketOperation>>();
  const operationOf = (ctx: object, id: string) => operations.get(ctx)?.get(id);
  const endOperation = (ctx: object, id: string) => {
    operationOf(ctx, id)?.end();
    operations.get(ctx)?.delete(id);
  };
  // What an operation causes is logged with its id, as a request's is.
  const inScope = (root: EnvelopedRoot, run: () => unknown) => requestScope.run({ requestId: root.operation.requestId, log: root.operation.log }, run);
  useServer(
    {
      execute: (args) => {
        const root = args.rootValue as EnvelopedRoot;
        return inScope(root, () => root.execute(args)) as never;
      },
      subscribe: (args) => {
        const root = args.rootValue as EnvelopedRoot;
        return inScope(root, () => root.subscribe(args)) as never;
      },
      // A bad document (syntax, limits, validation, a failing context) is answered with an error
      // message for its own subscription: the socket and its other subscriptions live on.
      onSubscribe: async (ctx, id, payload) => {
        const operation = startSocketOperation(log());
        if (!operations.has(ctx)) operations.set(ctx, new Map());
        operations.get(ctx)!.set(id, operation);
        // WebSocket clients send their token in the connection parameters, not in a header.
        const authorization = ctx.connectionParams?.authorization;
        // Any operation may come over the socket (graphql-ws runs queries and mutations too): it is
        // seen as the POST it stands for.
        const request = new Request('http://websocket/graphql', {
          method: 'POST',
          headers: typeof authorization === 'string' ? { authorization } : {},
        });
        const { schema, execute, subscribe, contextFactory, parse, validate } = app.yoga.getEnveloped({
          ...ctx,
          req: ctx.extra.request,
          socket: ctx.extra.socket,
          request,
          params: payload,
        });
        try {
          const contextValue = (await contextFactory()) as Context;
          operation.note({ caller: contextValue.caller, operation: payload.operationName ?? undefined });
          // A document by its id, or as sent if the caller may send any (persisted documents).
          const source = app.documents
            ? await app.documents.documentFor({ query: payload.query, extensions: payload.extensions ?? undefined }, contextValue.caller)
            : { query: payload.query };
          if ('error' in source) return [new GraphQLError(source.error.message, { extensions: source.error.extensions })];
          const document = parse(source.query);
          const ast = getOperationAST(document, payload.operationName);
          operation.note({ operation: ast?.name?.value ?? payload.operationName ?? undefined, operationType: ast?.operation });
          const errors = validate(schema, document);
          if (errors.length) return errors.map(shape);
          return {
            schema,
            operationName: payload.operationName,
            document,
            variableValues: payload.variables,
            contextValue,
            rootValue: { execute, subscribe, operation } satisfies EnvelopedRoot,
          };
        } catch (error) {
          return [shape(error)];
        }
      },
      // Errors of an operation, as over HTTP (codes, no internals); they end it.
      onError: (ctx, id, _payload, errors) => {
        operationOf(ctx, id)?.failed(errors.length);
        endOperation(ctx, id);
        return errors.map(shape);
      },
      onNext: (ctx, id, _payload, _args, result) => {
        if (result.errors?.length) operationOf(ctx, id)?.failed(result.errors.length);
      },
      // A query's single result, a subscription's end (by the server, the client or a closed socket).
      onComplete: (ctx, id) => endOperation(ctx, id),
    },
    sockets,
  );
  return {
    server,
    async close(graceMs) {
      draining = true;
      for (const [response, { stream }] of unanswered) {
        // A subscription over SSE never finishes by itself: its stream ends now (the client
        // reconnects, to another instance). Any other response closes its connection when done.
        if (stream) response.destroy();
        else if (!response.headersSent) response.shouldKeepAlive = false;
      }
      // net.Server#close stops accepting; http.Server#close would also drop idle kept-alive
      // sockets at once, under the feet of a request the client may be sending on one right now.
      const closed = new Promise<void>((resolve) => NetServer.prototype.close.call(server, () => resolve()));
      for (const socket of sockets.clients) socket.close(1001, 'Arrêt du serveur');
      sockets.close();
      const cut = setTimeout(() => {
        for (const socket of sockets.clients) socket.terminate();
        server.closeAllConnections();
      }, graceMs);
      await closed;
      clearTimeout(cut);
    },
  };
}
