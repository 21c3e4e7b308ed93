// Prometheus metrics (prom-client), one registry per application instance. Requests (by operation
// and outcome, with latency histograms) come from yoga's Prometheus plugin; the domain's counters
// are incremented where a change has committed; what is a state of the database (the outbox
// backlog, pending requests, the licence pool, failed jobs) is read when Prometheus scrapes, so
// that every instance reports the same value (aggregate it with max, not sum).
import { usePrometheus } from '@graphql-yoga/plugin-prometheus';
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
  /** yoga's request metrics, on this registry. */
  plugin(): Plugin;
}

/** Reads of the database made when Prometheus scrapes. */
export interface MetricsSources {
  pools: { name: string; pool: pg.Pool }[];
  /** One query: outbox backlog and its oldest row, pending requests, licences, failed jobs. */
  state(): Promise<ServiceState>;
}

export function createMetrics(): Metrics {
  const registry = new Registry();
  registry.setDefaultLabels({ service: 'numos' });
  collectDefaultMetrics({ register: registry });
  return {
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
    plugin: () =>
      usePrometheus({
        registry,
        endpoint: false,
        metrics: {
          graphql_yoga_http_duration: true,
          graphql_envelop_request_duration: true,
          graphql_envelop_request: true,
          graphql_envelop_error_result: true,
          graphql_envelop_phase_parse: false,
          graphql_envelop_phase_validate: false,
          graphql_envelop_phase_context: false,
          graphql_envelop_phase_execute: false,
          graphql_envelop_phase_subscribe: false,
          graphql_envelop_request_time_summary: false,
          graphql_envelop_deprecated_field: false,
          graphql_envelop_schema_change: false,
        },
        labels: { operationName: true, operationType: true, statusCode: true, method: true },
      }),
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
}
