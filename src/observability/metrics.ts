// Prometheus metrics (prom-client), one registry per application instance. Requests (by operation
// and outcome, with latency histograms) are counted by a plugin of ours whose labels come from
// closed sets only, whatever a client sends: an operation's name when it is one of the known
// documents (the persisted-documents manifest, the sample operations), else `other`; the root field
// of the executed operation (a field of the schema); the method and status; an error's code from
// the codes this API gives. No URL, variable or client-chosen name is ever a label. The domain's counters
// are incremented where a change has committed; what is a state of the database (the outbox
// backlog, pending requests, the licence pool, failed jobs) is read when Prometheus scrapes, so
// that every instance reports the same value (aggregate it with max, not sum).
import { getOperationAST, type DocumentNode, type GraphQLError, type OperationDefinitionNode } from 'graphql';
import type { Plugin } from 'graphql-yoga';
import type pg from 'pg';
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';
import type { ServiceState } from './store.js';

export interface Metrics {
  registry: Registry;
  /** consumeQuota calls: `outcome` is "granted" or the refusal's code. */
  consumptions: Counter<'category' | 'outcome'>;
  /** Steps of registration requests done by this instance (registered, confirmed, decided…). */
  registrations: Counter<'step'>;
  /** E-mails: queued, sent, retried (a failed attempt that will be tried again), failed (given up). */
  emails: Counter<'outcome'>;
  jobRuns: Counter<'job' | 'outcome'>;
  jobDuration: Histogram<'job'>;
  /** Calls to libraries' systems (membership checks): kind (KOHA_REST, SIP2) and outcome (found, not_found, ambiguous, failed, refused). */
  connectorCalls: Counter<'kind' | 'outcome'>;
  connectorCallDuration: Histogram<'kind'>;
  /** GraphQL operations executed, by known operation (else `other`), root field, type and outcome. */
  operations: Counter<'operation' | 'field' | 'type' | 'outcome'>;
  operationDuration: Histogram<'field' | 'type'>;
  /** Top-level errors by code (one of the API's codes, else `other`). */
  errors: Counter<'code'>;
  httpDuration: Histogram<'method' | 'status'>;
  /** An HTTP request served (its response over), for httpDuration; any method name beyond the known ones is "other". */
  httpRequest(method: string, status: number, seconds: number): void;
  /** Live subscriptions of this instance, by transport (sse, websocket). */
  subscriptions: Gauge<'transport'>;
  /** The request metrics plugin; `knownOperations` are the names that may be labels. */
  plugin(knownOperations: ReadonlySet<string>): Plugin;
}

/** Codes a top-level error may carry (src/server/errors.ts and the contract); anything else is `other`. */
const TOP_LEVEL_CODES = new Set([
  'UNAUTHENTICATED',
  'FORBIDDEN',
  'BAD_USER_INPUT',
  'INVALID_INPUT',
  'GRAPHQL_PARSE_FAILED',
  'GRAPHQL_VALIDATION_FAILED',
  'QUERY_TOO_COMPLEX',
  'PERSISTED_QUERY_NOT_FOUND',
  'PERSISTED_QUERY_ONLY',
  'REQUEST_ENTITY_TOO_LARGE',
  'SERVICE_UNAVAILABLE',
  'RATE_LIMITED',
  'PERSONAL_DATA_ERASED',
  'INTERNAL_SERVER_ERROR',
]);
const METHODS = new Set(['GET', 'POST', 'OPTIONS', 'HEAD']);

const codeOf = (error: GraphQLError) => {
  const code = String(error.extensions?.code ?? 'INTERNAL_SERVER_ERROR');
  return TOP_LEVEL_CODES.has(code) ? code : 'other';
};

type OperationLabels = { operation: string; field: string; type: string };

/** The labels of an executed operation: its type, its first root field (a schema field), its name if known. */
function operationLabels(document: DocumentNode, operationName: string | null | undefined, known: ReadonlySet<string>): OperationLabels {
  const operation: OperationDefinitionNode | null | undefined = getOperationAST(document, operationName);
  const first = operation?.selectionSet.selections.find((s) => s.kind === 'Field');
  const name = operation?.name?.value;
  return {
    operation: name && known.has(name) ? name : 'other',
    field: first?.kind === 'Field' ? first.name.value : 'other',
    type: operation?.operation ?? 'other',
  };
}

/** An operation's label sets, made once per parsed document (yoga's parser cache hands the same one back). */
interface OperationSeries {
  ok: OperationLabels & { outcome: string };
  error: OperationLabels & { outcome: string };
  duration: { field: string; type: string };
}

function operationSeries(known: ReadonlySet<string>): (document: DocumentNode, operationName: string | null | undefined) => OperationSeries {
  const byDocument = new WeakMap<DocumentNode, Map<string, OperationSeries>>();
  return (document, operationName) => {
    let byName = byDocument.get(document);
    if (!byName) {
      byName = new Map();
      byDocument.set(document, byName);
    }
    const name = operationName ?? '';
    let series = byName.get(name);
    if (!series) {
      const labels = operationLabels(document, operationName, known);
      series = { ok: { ...labels, outcome: 'ok' }, error: { ...labels, outcome: 'error' }, duration: { field: labels.field, type: labels.type } };
      byName.set(name, series);
    }
    return series;
  };
}

/** Reads of the database made when Prometheus scrapes. */
export interface MetricsSources {
  /** The pools: the application's (numos), pg-boss's (jobs). */
  pools: { name: string; pool: pg.Pool }[];
  /** The event bus's LISTEN connection (events): 1 while up. */
  listening(): boolean;
  /** One query: outbox backlog and its oldest row, pending requests, licences, failed jobs. */
  state(): Promise<ServiceState>;
}

export function createMetrics(): Metrics {
  const registry = new Registry();
  registry.setDefaultLabels({ service: 'numos' });
  collectDefaultMetrics({ register: registry });
  const metrics: Omit<Metrics, 'plugin' | 'httpRequest'> = {
    registry,
    consumptions: new Counter({
      name: 'numos_quota_consumptions_total',
      help: 'consumeQuota calls, by category and outcome (granted or the refusal code).',
      labelNames: ['category', 'outcome'],
      registers: [registry],
    }),
    registrations: new Counter({
      name: 'numos_registration_steps_total',
      help: 'Steps of registration requests: registered, confirmed, accepted, refused, escalated, lapsed, renewal_requested.',
      labelNames: ['step'],
      registers: [registry],
    }),
    emails: new Counter({ name: 'numos_emails_total', help: 'E-mails queued, sent, retried and failed.', labelNames: ['outcome'], registers: [registry] }),
    jobRuns: new Counter({
      name: 'numos_job_runs_total',
      help: 'Runs of scheduled jobs, by job and outcome (ok, failed).',
      labelNames: ['job', 'outcome'],
      registers: [registry],
    }),
    jobDuration: new Histogram({
      name: 'numos_job_duration_seconds',
      help: 'Duration of scheduled job runs.',
      labelNames: ['job'],
      buckets: [0.01, 0.05, 0.1, 0.5, 1, 2, 5, 10, 30, 60, 300],
      registers: [registry],
    }),
    connectorCalls: new Counter({
      name: 'numos_membership_calls_total',
      help: "Calls to libraries' systems for membership checks, by kind (KOHA_REST, SIP2) and outcome (found, not_found, ambiguous, failed).",
      labelNames: ['kind', 'outcome'],
      registers: [registry],
    }),
    connectorCallDuration: new Histogram({
      name: 'numos_membership_call_duration_seconds',
      help: "Duration of calls to libraries' systems (every try included).",
      labelNames: ['kind'],
      buckets: [0.05, 0.1, 0.25, 0.5, 1, 2, 5, 10, 20],
      registers: [registry],
    }),
    operations: new Counter({
      name: 'numos_graphql_operations_total',
      help: 'GraphQL operations executed: operation (a known document name, else other), root field, type (query, mutation, subscription), outcome (ok, error).',
      labelNames: ['operation', 'field', 'type', 'outcome'],
      registers: [registry],
    }),
    operationDuration: new Histogram({
      name: 'numos_graphql_operation_duration_seconds',
      help: 'Execution time of GraphQL operations, by root field and type.',
      labelNames: ['field', 'type'],
      buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
      registers: [registry],
    }),
    errors: new Counter({
      name: 'numos_graphql_errors_total',
      help: 'Top-level GraphQL errors, by code (the codes of the API, else other).',
      labelNames: ['code'],
      registers: [registry],
    }),
    subscriptions: new Gauge({
      name: 'numos_subscriptions_open',
      help: 'Live subscriptions of this instance (admin dashboards), by transport: sse, websocket.',
      labelNames: ['transport'],
      registers: [registry],
    }),
    httpDuration: new Histogram({
      name: 'numos_http_request_duration_seconds',
      help: 'GraphQL HTTP requests (POST, GET, SSE streams until they end), by method and status.',
      labelNames: ['method', 'status'],
      buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
      registers: [registry],
    }),
  };
  // Label sets made once per method and status, not per request.
  const httpLabels = new Map<string, { method: string; status: string }>();
  const httpRequest = (method: string, status: number, seconds: number) => {
    const known = METHODS.has(method) ? method : 'other';
    const key = `${known} ${status}`;
    let labels = httpLabels.get(key);
    if (!labels) {
      labels = { method: known, status: String(status) };
      httpLabels.set(key, labels);
    }
    metrics.httpDuration.observe(labels, seconds);
  };
  return { ...metrics, httpRequest, plugin: (known) => requestMetrics(metrics, known) };
}

/**
 * Counts every operation, over HTTP or WebSocket (HTTP requests are timed by the server as their
 * responses end: httpRequest). On the path of every request (consumeQuota's among them): label
 * sets are made once and reused, not per request.
 */
function requestMetrics(metrics: Omit<Metrics, 'plugin' | 'httpRequest'>, known: ReadonlySet<string>): Plugin {
  const countErrors = (errors: readonly GraphQLError[] | undefined) => {
    for (const error of errors ?? []) metrics.errors.inc({ code: codeOf(error) });
  };
  const seriesOf = operationSeries(known);
  return {
    onParse:
      () =>
      ({ result }) => {
        if (result instanceof Error) countErrors([result as GraphQLError]);
      },
    onValidate:
      () =>
      ({ result }) => {
        if (result.length) countErrors(result as readonly GraphQLError[]);
      },
    onExecute({ args }) {
      const series = seriesOf(args.document, args.operationName);
      const start = performance.now();
      return {
        onExecuteDone({ result }) {
          metrics.operationDuration.observe(series.duration, (performance.now() - start) / 1_000);
          // A stream (@defer) is counted once, as it starts.
          const errors = 'errors' in result ? result.errors : undefined;
          metrics.operations.inc(errors?.length ? series.error : series.ok);
          countErrors(errors);
        },
      };
    },
    onSubscribe({ args }) {
      metrics.operations.inc(seriesOf(args.document, args.operationName).ok);
    },
  };
}

/** The gauges read at scrape time. */
export function registerStateMetrics(metrics: Metrics, sources: MetricsSources): void {
  const { registry } = metrics;
  new Gauge({
    name: 'numos_pg_pool_connections',
    help: 'Connections of the PostgreSQL pools, by pool and state (total, idle, waiting callers).',
    labelNames: ['pool', 'state'],
    registers: [registry],
    collect() {
      for (const { name, pool } of sources.pools) {
        this.set({ pool: name, state: 'total' }, pool.totalCount);
        this.set({ pool: name, state: 'idle' }, pool.idleCount);
        this.set({ pool: name, state: 'in_use' }, pool.totalCount - pool.idleCount);
        this.set({ pool: name, state: 'waiting' }, pool.waitingCount);
      }
      const listening = sources.listening() ? 1 : 0;
      this.set({ pool: 'events', state: 'total' }, listening);
      this.set({ pool: 'events', state: 'in_use' }, listening);
    },
  });
  // One read per scrape, shared by the gauges below (each collect awaits the same promise), and
  // forgotten once the scrape has run: the next scrape, even a moment later, reads afresh.
  let reading: ReturnType<MetricsSources['state']> | undefined;
  const state = () => {
    reading ??= sources.state().finally(() => setImmediate(() => (reading = undefined)));
    return reading;
  };
  const gauge = (name: string, help: string, labelNames: string[], collect: (g: Gauge, s: Awaited<ReturnType<typeof state>>) => void) =>
    new Gauge({
      name,
      help,
      labelNames,
      registers: [registry],
      async collect() {
        // The database out of reach: the gauges keep their last values; /ready says why.
        const read = await state().catch(() => undefined);
        if (read) collect(this, read);
      },
    });
  gauge('numos_outbox_pending', 'E-mails waiting to be handed to Resend.', [], (g, s) => g.set(s.outboxPending));
  gauge('numos_outbox_oldest_pending_seconds', 'Age of the oldest e-mail waiting to be sent (0 when none).', [], (g, s) => g.set(s.outboxOldestSeconds));
  gauge('numos_registration_requests_pending', 'Requests waiting for a confirmation or a decision, by state.', ['state'], (g, s) => {
    for (const { state: name, count } of s.pending) g.set({ state: name }, count);
  });
  gauge('numos_licences', 'The licence pool: capacity and accounts in use (ACTIVE).', ['kind'], (g, s) => {
    g.set({ kind: 'capacity' }, s.licences.capacity);
    g.set({ kind: 'used' }, s.licences.used);
  });
  gauge('numos_jobs_failed', 'Jobs that exhausted their retries (pg-boss state failed, dead letters included).', [], (g, s) => g.set(s.failedJobs));
  gauge(
    'numos_job_queue_depth',
    "pg-boss's queues by state (queued, active, deferred, failed), as its monitor counts them (at most a minute old).",
    ['queue', 'state'],
    (g, s) => {
      for (const q of s.queues) {
        g.set({ queue: q.name, state: 'queued' }, q.queued);
        g.set({ queue: q.name, state: 'active' }, q.active);
        g.set({ queue: q.name, state: 'deferred' }, q.deferred);
        g.set({ queue: q.name, state: 'failed' }, q.failed);
      }
    },
  );
  gauge(
    'numos_emails',
    'E-mails by state: held (the provider refuses NuMos itself: a key, a sender), failed (given up, last 24 hours).',
    ['status'],
    (g, s) => {
      g.set({ status: 'held' }, s.emailsHeld);
      g.set({ status: 'failed' }, s.emailsFailedRecently);
    },
  );
  // 1 when the scrape could read the database, 0 when not (the other gauges keep their last values then).
  new Gauge({
    name: 'numos_database_up',
    help: 'Whether this instance reached PostgreSQL at this scrape (1) or not (0).',
    registers: [registry],
    async collect() {
      this.set(
        (await state()
          .then(() => 1)
          .catch(() => 0)) as number,
      );
    },
  });
}
