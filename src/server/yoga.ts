// The GraphQL server: yoga + the Pothos schema, with the hardening of notes/quality-bar.md.
import type { IncomingMessage } from 'node:http';
import { EnvelopArmorPlugin } from '@escape.tech/graphql-armor';
import { useCSRFPrevention } from '@graphql-yoga/plugin-csrf-prevention';
import { createYoga, useReadinessCheck, type YogaServerInstance } from 'graphql-yoga';
import type { App } from '../app.js';
import { bearerToken, resolveCaller } from '../auth/caller.js';
import type { Context } from '../graphql/context.js';
import { getSchema } from '../graphql/schema.js';
import { syncTestClock } from '../modules/lifecycle/test-clock.js';
import { clientIp, trustedProxyList } from './client-ip.js';

export type ServerContext = { req?: IncomingMessage };
export type Yoga = YogaServerInstance<ServerContext, Context>;

export const QUERY_LIMITS = {
  maxDepth: 12,
  maxAliases: 15,
  maxDirectives: 20,
  maxTokens: 2_500,
  maxCost: 10_000,
};

export function createYogaServer(app: App): Yoga {
  const production = app.config.nodeEnv === 'production';
  const proxies = trustedProxyList(app.config.trustedProxies);
  return createYoga<ServerContext, Context>({
    schema: getSchema(app.config.testClock),
    graphqlEndpoint: '/graphql',
    healthCheckEndpoint: '/health',
    graphiql: app.config.graphiql ? { title: 'NuMos API', shouldPersistHeaders: false } : false,
    landingPage: false,
    // Unexpected errors become "Unexpected error." with no internals; GraphQLErrors we throw
    // (UNAUTHENTICATED, FORBIDDEN, bad scalars) pass through.
    maskedErrors: true,
    batching: false,
    logging: production ? 'warn' : 'info',
    plugins: [
      // Browsers cannot send this header cross-site without a CORS preflight; JSON POSTs
      // (preflighted anyway) and GraphiQL pass.
      useCSRFPrevention({ requestHeaders: ['x-graphql-yoga-csrf'] }),
      EnvelopArmorPlugin({
        maxDepth: { n: QUERY_LIMITS.maxDepth, flattenFragments: true },
        maxAliases: { n: QUERY_LIMITS.maxAliases },
        maxDirectives: { n: QUERY_LIMITS.maxDirectives },
        maxTokens: { n: QUERY_LIMITS.maxTokens },
        costLimit: { maxCost: QUERY_LIMITS.maxCost },
        blockFieldSuggestion: { enabled: production },
      }),
      useReadinessCheck({
        endpoint: '/ready',
        check: async () => {
          await app.pool.query('SELECT 1');
          return app.boss.isInstalled();
        },
      }),
    ],
    context: async ({ request, req }) => {
      if (app.config.testClock) await syncTestClock(app);
      return {
      app,
      prisma: app.prisma,
      caller: await resolveCaller(app.prisma, bearerToken(request.headers.get('authorization')), app.clock.now()),
      clientIp: clientIp(proxies, req?.socket.remoteAddress, request.headers.get('x-forwarded-for')),
      granted: new Set<string>(),
      };
    },
  });
}
