// The HTTP server: yoga for GraphQL over HTTP and SSE, and graphql-ws for subscriptions over
// WebSocket on the same path, both through yoga's envelop (same schema, context, limits).
import { createServer, type Server } from 'node:http';
import type { ExecutionArgs } from 'graphql';
import { useServer } from 'graphql-ws/use/ws';
import { WebSocketServer } from 'ws';
import type { App } from '../app.js';

type EnvelopedRoot = { execute: (args: ExecutionArgs) => unknown; subscribe: (args: ExecutionArgs) => unknown };

export interface HttpServer {
  server: Server;
  /**
   * Stops accepting, ends subscriptions, lets in-flight requests finish within `graceMs`, then
   * cuts what is left.
   */
  close(graceMs: number): Promise<void>;
}

export function createHttpServer(app: App): HttpServer {
  const server = createServer(app.yoga);
  const sockets = new WebSocketServer({ server, path: app.yoga.graphqlEndpoint });
  useServer(
    {
      execute: (args) => (args.rootValue as EnvelopedRoot).execute(args) as never,
      subscribe: (args) => (args.rootValue as EnvelopedRoot).subscribe(args) as never,
      onSubscribe: async (ctx, _id, payload) => {
        // WebSocket clients send their token in the connection parameters, not in a header.
        const authorization = ctx.connectionParams?.authorization;
        const request = new Request('http://websocket/graphql', {
          headers: typeof authorization === 'string' ? { authorization } : {},
        });
        const { schema, execute, subscribe, contextFactory, parse, validate } = app.yoga.getEnveloped({
          ...ctx,
          req: ctx.extra.request,
          socket: ctx.extra.socket,
          request,
          params: payload,
        });
        const document = parse(payload.query);
        const errors = validate(schema, document);
        if (errors.length) return errors;
        return {
          schema,
          operationName: payload.operationName,
          document,
          variableValues: payload.variables,
          contextValue: await contextFactory(),
          rootValue: { execute, subscribe },
        };
      },
    },
    sockets,
  );
  return {
    server,
    async close(graceMs) {
      const closed = new Promise<void>((resolve) => server.close(() => resolve()));
      for (const socket of sockets.clients) socket.close(1001, 'Arrêt du serveur');
      sockets.close();
      server.closeIdleConnections();
      const cut = setTimeout(() => {
        for (const socket of sockets.clients) socket.terminate();
        server.closeAllConnections();
      }, graceMs);
      await closed;
      clearTimeout(cut);
    },
  };
}
