// The GraphQL server: yoga + the Pothos schema, hardened: query limits (graphql-armor), CSRF
// prevention, no batching, masked errors, body limits, readiness.
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import type { IncomingMessage } from 'node:http';
import { join } from 'node:path';
import { renderGraphiQL } from '@graphql-yoga/render-graphiql';
import { GraphQLError, parse, type GraphQLSchema } from 'graphql';
import { EnvelopArmorPlugin } from '@escape.tech/graphql-armor';
import { useCSRFPrevention } from '@graphql-yoga/plugin-csrf-prevention';
import { createYoga, type Plugin, type YogaServerInstance } from 'graphql-yoga';
import type { App } from '../instance.js';
import { bearerToken, resolveCaller } from '../auth/caller.js';
import type { Context } from '../graphql/context.js';
import { clientIp, trustedProxyList } from './client-ip.js';
import { requestBodyLimit } from './body-limit.js';
import { compiledExecution } from './compiled.js';
import { noteOverLimit, requestRefused, refineError, retryStatus, shapeError } from './errors.js';
import { nestingLimit } from './nesting.js';
import type { DocumentStore } from './persisted-documents.js';
import { noteCaller, noteOperation } from './request-log.js';
import { isDatabaseUnavailable, reportDatabaseError } from '../db/availability.js';
import { log } from '../observability/logger.js';
import { readServiceState } from '../observability/store.js';
import { tracingEnabled, tracingPlugin } from '../observability/tracing.js';

export type ServerContext = { req?: IncomingMessage; socket?: unknown };
export type Yoga = YogaServerInstance<ServerContext, Context>;

/**
 * The largest request body (and WebSocket message) taken: several times the longest input (a
 * 20,000-character response text), far below what would hold the event loop. A body's stated
 * length is checked before it is read; a body of unstated length is counted as it is read.
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

/**
 * The operation names metrics may carry as labels: those of the documents the server knows (the
 * persisted-documents manifest and the sample operations), a closed set whatever clients send.
 */
function knownOperationNames(documents: DocumentStore | undefined): Set<string> {
  const names = new Set<string>();
  for (const source of [...exampleTabs().map((tab) => tab.query), ...(documents?.documents() ?? [])]) {
    try {
      for (const definition of parse(source).definitions) if (definition.kind === 'OperationDefinition' && definition.name) names.add(definition.name.value);
    } catch {
      // A file that does not parse names nothing.
    }
  }
  return names;
}

/**
 * /ready: 503 `unavailable` while the database, the job queue or the event bus is out of reach
 * (without naming a host or a port); 200 `degraded` with its reasons when e-mails pile up (more
 * than NUMOS_READY_MAX_OUTBOX waiting, or the oldest older than NUMOS_READY_MAX_OUTBOX_AGE_SECONDS)
 * or jobs failed for good (more than NUMOS_READY_MAX_FAILED_JOBS), or Resend refuses NuMos itself
 * (e-mails held for a key or a sender), or e-mails were given up (more than
 * NUMOS_READY_MAX_FAILED_EMAILS in 24 hours): the instance still serves, an operator should look;
 * else 200 `ready`.
 */
async function readiness(app: App, Response: typeof globalThis.Response): Promise<Response> {
  const json = (status: number, body: object) => new Response(JSON.stringify(body), { status, headers: { 'content-type': 'application/json' } });
  const unavailable = () => json(503, { status: 'unavailable', reason: 'database unavailable' });
  try {
    const [state, installed] = await Promise.all([readServiceState(app.db, app.boss, app.clock.now(), app.settings.licenceCapacity), app.boss.isInstalled()]);
    if (!installed || !app.events.listening) return unavailable();
    const limits = app.config.readiness;
    const reasons = [
      state.outboxPending > limits.outboxBacklog && 'outbox backlog',
      state.outboxOldestSeconds > limits.outboxAgeSeconds && 'outbox age',
      state.failedJobs > limits.failedJobs && 'failed jobs',
      state.emailsHeld > 0 && 'emails held',
      state.emailsFailedRecently > limits.failedEmails && 'emails failed',
    ].filter(Boolean);
    const figures = {
      outboxPending: state.outboxPending,
      outboxOldestSeconds: Math.round(state.outboxOldestSeconds),
      failedJobs: state.failedJobs,
      emailsHeld: state.emailsHeld,
      emailsFailing: state.emailsFailing,
      emailsFailedRecently: state.emailsFailedRecently,
    };
    return json(200, reasons.length ? { status: 'degraded', reasons, ...figures } : { status: 'ready', ...figures });
  } catch {
    return unavailable();
  }
}

/**
 * GET /ready answered by `readiness`. yoga's useReadinessCheck also matches every other request's
 * URL against a URLPattern: 12 µs a request on consumeQuota, for a path compared here as a string.
 * yoga's `url` parses the request's URL on first use: it is read only when the URL names /ready
 * (this hook was the only one to read it on every API request; yoga's own look at the string first).
 */
const readinessEndpoint = (app: App): Plugin => ({
  onRequest({ request, url, endResponse, fetchAPI }) {
    if (request.url.includes('/ready') && url.pathname === '/ready') return readiness(app, fetchAPI.Response).then(endResponse);
  },
});

/**
 * Errors with their code, field and French message as soon as validation or execution ends, before
 * the plugins after this one see them: the metrics count them by code (unrefined, a refused
 * variable or document had none, counted as INTERNAL_SERVER_ERROR), and the tracing plugin records
 * them (graphql-js's message about a refused variable quotes the whole value sent: a connector's
 * secret, a password). Validation errors never reach maskError; request errors are refined here
 * once. A resolver's error (it has a path) is shaped by maskError.
 */
const refineErrors = (production: boolean): Plugin => ({
  onValidate:
    () =>
    ({ result, setResult }) => {
      if (result.length) setResult(result.map((error) => refineError(error, production)));
    },
  onExecute: () => ({
    onExecuteDone: ({ result, setResult }) => {
      if (!('errors' in result) || !result.errors?.length) return;
      setResult({ ...result, errors: result.errors.map((error) => (error.path ? error : refineError(error, production))) });
    },
  }),
});

/** What the wiring gives the server beside the instance: the schema, and what runs before each operation. */
export interface YogaOptions {
  schema: GraphQLSchema;
  /** Brings this instance up to date before an operation (the shared test clock). */
  beforeOperation?: () => Promise<void>;
  /** Persisted (trusted) documents, when configured. */
  documents?: DocumentStore;
  /** The providers' calls compiled (src/server/compiled.ts); false: every operation by the standard executor. */
  compiled?: boolean;
}

export function createYogaServer(app: App, options: YogaOptions): Yoga {
  const production = app.config.nodeEnv === 'production';
  const proxies = trustedProxyList(app.config.trustedProxies);
  return createYoga<ServerContext, Context>({
    schema: options.schema,
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
    // Counted by requestBodyLimit (src/server/body-limit.ts) only when the body does not state its length.
    maxRequestBodySize: false,
    // The failures yoga masks are logged here: an unreachable database once per cause.
    logging: {
      debug: () => {},
      info: () => {},
      warn: (...args) => log().warn(args.map(String).join(' ')),
      error: (error) => {
        if (isDatabaseUnavailable(error)) reportDatabaseError(error as Error);
        // A client's own mistake (a bad variable, a malformed ID) is its answer, not a failure here.
        else if (!requestRefused(error) && (!(error instanceof GraphQLError) || (error.originalError && !(error.originalError instanceof GraphQLError)))) {
          log().error({ err: error instanceof GraphQLError ? (error.originalError ?? error) : error }, 'erreur inattendue');
        }
      },
    },
    plugins: [
      nestingLimit,
      retryStatus,
      csrfPrevention(),
      noteOperation,
      refineErrors(production),
      app.config.metrics.enabled ? app.metrics.plugin(knownOperationNames(options.documents)) : {},
      tracingEnabled() ? tracingPlugin() : {},
      options.documents?.plugin((request) => resolveCaller(app.prisma, app.providerKeys, bearerToken(request.headers.get('authorization')), app.clock.now())) ??
        {},
      // Each protection's rejections are noted through its own hook (QUERY_TOO_COMPLEX), not read from its message.
      EnvelopArmorPlugin({
        maxDepth: { n: QUERY_LIMITS.maxDepth, flattenFragments: true, onReject: [noteOverLimit] },
        maxAliases: { n: QUERY_LIMITS.maxAliases, onReject: [noteOverLimit] },
        maxDirectives: { n: QUERY_LIMITS.maxDirectives, onReject: [noteOverLimit] },
        maxTokens: { n: QUERY_LIMITS.maxTokens, onReject: [noteOverLimit] },
        costLimit: { maxCost: QUERY_LIMITS.maxCost, onReject: [noteOverLimit] },
        blockFieldSuggestion: { enabled: production },
      }),
      readinessEndpoint(app),
      options.compiled === false ? {} : compiledExecution(),
      requestBodyLimit(REQUEST_BODY_MAX),
    ],
    context: async ({ request, req, socket }) => {
      if (options.beforeOperation) await options.beforeOperation();
      const caller = await resolveCaller(app.prisma, app.providerKeys, bearerToken(request.headers.get('authorization')), app.clock.now());
      noteCaller(req, caller);
      return {
        app,
        prisma: app.prisma,
        caller,
        clientIp: clientIp(proxies, req?.socket.remoteAddress, request.headers.get('x-forwarded-for')),
        granted: new Set<string>(),
        counts: new Map<string, number>(),
        transport: socket ? 'websocket' : 'http',
      };
    },
  });
}
