// The OpenTelemetry SDK, loaded by src/observability/tracing.ts only when tracing is on. A span per
// HTTP request (probes and scrapes excepted), beneath it the GraphQL parse, validate and execute
// spans, beneath those the SQL statements (pg, their text only) and the calls out (undici: Resend,
// the libraries' systems). No query string reaches a span: a GET request's variables, a library
// system's search by e-mail or name are personal data.
import { register } from 'node:module';
import { useOpenTelemetry } from '@envelop/opentelemetry';
import { type Span, SpanStatusCode, trace } from '@opentelemetry/api';
import { HttpInstrumentation } from '@opentelemetry/instrumentation-http';
import { PgInstrumentation } from '@opentelemetry/instrumentation-pg';
import { UndiciInstrumentation } from '@opentelemetry/instrumentation-undici';
import { NodeSDK } from '@opentelemetry/sdk-node';
import { ParentBasedSampler, SimpleSpanProcessor, type SpanExporter, TraceIdRatioBasedSampler } from '@opentelemetry/sdk-trace';
import type { Plugin } from 'graphql-yoga';
import type { TracingSettings } from '../config.js';

/** What the SDK gives the application once started. */
export interface ActiveTracing {
  /** The GraphQL spans (parse, validate, execute) for the server. */
  plugin(): Plugin;
  /** The trace and span of the code running now, for the log lines. */
  current(): { traceId: string; spanId: string } | undefined;
  shutdown(): Promise<void>;
}

const INSTRUMENTED = ['http', 'node:http', 'https', 'node:https', 'pg', 'pg-pool', 'undici'];

/** Probes and scrapes are not worth a trace each. */
const UNTRACED_PATHS = new Set(['/health', '/ready', '/metrics']);

const pathOf = (url: string | undefined) => url?.split('?')[0] ?? '';

/** A request's URL attributes without its query string (set after the instrumentation's own). */
function withoutQuery(span: Span, url: string | undefined, origin?: string): void {
  if (!url?.includes('?')) return;
  span.setAttribute('url.query', '');
  if (origin) span.setAttribute('url.full', `${origin}${pathOf(url)}`);
}

const tracer = () => trace.getTracer('numos-graphql');

/** A span for parsing and one for validating each document (the execution's is useOpenTelemetry's). */
const phaseSpans: Plugin = {
  onParse() {
    const span = tracer().startSpan('graphql.parse');
    return ({ result }) => {
      // Not graphql-js's message: it quotes the token it stopped at, which may be a secret sent inline.
      if (result instanceof Error) span.setStatus({ code: SpanStatusCode.ERROR, message: 'document illisible' });
      span.end();
    };
  },
  onValidate() {
    const span = tracer().startSpan('graphql.validate');
    return ({ valid }) => {
      if (!valid) span.setStatus({ code: SpanStatusCode.ERROR, message: 'document invalide' });
      span.end();
    };
  },
};

export function startSdk(settings: TracingSettings, exporter?: SpanExporter): ActiveTracing {
  // ES modules are instrumented through import-in-the-middle's loader hooks: only the modules
  // instrumented here (wrapping every module would cost each import, and fails on TypeScript's).
  register('import-in-the-middle/hook.mjs', import.meta.url, { data: { include: INSTRUMENTED } });
  const sdk = new NodeSDK({
    serviceName: settings.serviceName,
    // Unless OTEL_TRACES_SAMPLER names a sampler (the SDK then reads it and its argument), a share
    // of the requests: OTEL_TRACES_SAMPLER_ARG, one in ten by default (tracing every request costs
    // about a fifth of consumeQuota's throughput: `npm run bench -- observability`). A test's
    // exporter sees everything.
    ...(exporter || settings.samplerChosen ? {} : { sampler: new ParentBasedSampler({ root: new TraceIdRatioBasedSampler(settings.ratio) }) }),
    // A test's exporter gets every span at once; otherwise the OTLP exporter of the environment.
    ...(exporter ? { spanProcessors: [new SimpleSpanProcessor({ exporter })] } : {}),
    instrumentations: [
      new HttpInstrumentation({
        ignoreIncomingRequestHook: (request) => UNTRACED_PATHS.has(pathOf(request.url)),
        // A request received (its url) or sent (its path, host and protocol).
        requestHook: (span, request) =>
          'path' in request ? withoutQuery(span, request.path, `${request.protocol}//${request.host}`) : withoutQuery(span, request.url),
      }),
      new PgInstrumentation({ requireParentSpan: true, ignoreConnectSpans: true }),
      new UndiciInstrumentation({ requireParentforSpans: true, requestHook: (span, request) => withoutQuery(span, request.path, request.origin) }),
    ],
  });
  sdk.start();
  return {
    plugin: () => ({
      onPluginInit({ addPlugin }) {
        addPlugin(phaseSpans);
        addPlugin(useOpenTelemetry({ resolvers: false, variables: false, result: false, document: false }, trace.getTracerProvider()) as Plugin);
      },
    }),
    current: () => {
      const span = trace.getActiveSpan()?.spanContext();
      return span ? { traceId: span.traceId, spanId: span.spanId } : undefined;
    },
    shutdown: () => sdk.shutdown(),
  };
}
