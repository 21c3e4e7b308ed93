// The GraphQL server: yoga + the Pothos schema, with the hardening of notes/quality-bar.md.
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import type { IncomingMessage } from 'node:http';
import { join } from 'node:path';
import { renderGraphiQL } from '@graphql-yoga/render-graphiql';
import { GraphQLError } from 'graphql';
import { EnvelopArmorPlugin } from '@escape.tech/graphql-armor';
import { useCSRFPrevention } from '@graphql-yoga/plugin-csrf-prevention';
import { createYoga, useReadinessCheck, type Plugin, type YogaServerInstance } from 'graphql-yoga';
import type { App } from '../app.js';
import { bearerToken, resolveCaller } from '../auth/caller.js';
import type { Context } from '../graphql/context.js';
import { getSchema } from '../graphql/schema.js';
import { syncTestClock } from '../modules/lifecycle/test-clock.js';
import { clientIp, trustedProxyList } from './client-ip.js';
import { refineError, shapeError } from './errors.js';
import { isDatabaseUnavailable, reportDatabaseError } from '../db/availability.js';

export type ServerContext = { req?: IncomingMessage };
export type Yoga = YogaServerInstance<ServerContext, Context>;

/**
 * The largest request body (and WebSocket message) taken: several times the longest input (a
 * 20,000-character response text), far below what would hold the event loop. Counted as it is
 * read, whatever the Content-Length says.
 */
export const REQUEST_BODY_MAX = 256 * 1024;

export const QUERY_LIMITS = {
  maxDepth: 12,
  maxAliases: 15,
  maxDirectives: 20,
  maxTokens: 2_500,
  maxCost: 10_000,
};

/**
 * Cross-site request forgery. NuMos authenticates with a bearer header only, never a cookie: a page
 * of another site cannot act as anyone. What it can still send, with no CORS preflight, is a
 * "simple" request: an HTML form's POST (text/plain, urlencoded, multipart), which could register
 * strangers or flood messages. Those are refused unless they carry a header a form cannot set
 * (yoga's CSRF check). GET runs queries only (mutations over GET are refused) and shows what any
 * visitor may read: allowed, so that clients that send queries over GET (urql's default) work.
 */
function csrfPrevention(): Plugin {
  const check = useCSRFPrevention({ requestHeaders: ['x-graphql-yoga-csrf'] });
  return {
    onRequestParse(payload) {
      if (payload.request.method !== 'GET') return check.onRequestParse?.(payload);
    },
  };
}

const EXAMPLES_DIR = join(import.meta.dirname, '..', '..', 'codegen');

/** One GraphiQL tab per file of sample operations (codegen/*.graphql), read once at start-up. */
function exampleTabs(): { query: string }[] {
  if (!existsSync(EXAMPLES_DIR)) return [];
  return readdirSync(EXAMPLES_DIR)
    .filter((name) => name.endsWith('.graphql'))
    .sort()
    .map((name) => ({ query: readFileSync(join(EXAMPLES_DIR, name), 'utf8') }));
}

/** Validation errors do not pass through maskError: they are refined (code, field, message) here. */
const refineValidationErrors = (production: boolean): Plugin => ({
  onValidate: () => ({ result, setResult }) => {
    if (result.length) setResult(result.map((error) => refineError(error, production)));
  },
});

export function createYogaServer(app: App): Yoga {
  const production = app.config.nodeEnv === 'production';
  const proxies = trustedProxyList(app.config.trustedProxies);
  return createYoga<ServerContext, Context>({
    schema: getSchema(app.config.testClock),
    graphqlEndpoint: '/graphql',
    healthCheckEndpoint: '/health',
    // GraphiQL's assets come from the project's own dependencies (no CDN: it works offline, on an
    // intranet), with the sample operations of codegen/ in its tabs.
    graphiql: app.config.graphiql ? { title: 'NuMos API', shouldPersistHeaders: false, defaultTabs: exampleTabs() } : false,
    renderGraphiQL,
    landingPage: false,
    // Unexpected errors become "Unexpected error." with no internals; GraphQLErrors we throw
    // (UNAUTHENTICATED, FORBIDDEN, bad scalars) pass through; a database out of reach is
    // SERVICE_UNAVAILABLE (src/server/errors.ts).
    maskedErrors: { maskError: (error, message, isDev) => shapeError(error, message, isDev, production) },
    batching: false,
    // The GraphQL-over-HTTP name of a persisted document (src/server/persisted-documents.ts).
    extraParamNames: ['documentId'],
    maxRequestBodySize: REQUEST_BODY_MAX,
    // The failures yoga masks are logged here: an unreachable database once per cause.
    logging: {
      debug: () => {},
      info: () => {},
      warn: (...args) => console.warn('[numos]', ...args),
      error: (error, ...rest) => {
        if (isDatabaseUnavailable(error)) reportDatabaseError(error as Error);
        // A client's own mistake (a bad variable, a malformed ID) is its answer, not a failure here.
        else if (!(error instanceof GraphQLError) || (error.originalError && !(error.originalError instanceof GraphQLError))) {
          console.error('[numos]', error, ...rest);
        }
      },
    },
    plugins: [
      csrfPrevention(),
      app.documents?.plugin((request) => resolveCaller(app.prisma, bearerToken(request.headers.get('authorization')), app.clock.now())) ?? {},
      refineValidationErrors(production),
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
        // Says what is wrong without naming a host, a port or a user.
        check: async ({ fetchAPI }) => {
          const ready = await Promise.all([app.pool.query('SELECT 1'), app.boss.isInstalled()]).then(
            ([, installed]) => installed && app.events.listening,
            () => false,
          );
          return ready || new fetchAPI.Response('database unavailable', { status: 503, headers: { 'content-type': 'text/plain; charset=utf-8' } });
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
