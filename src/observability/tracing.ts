// OpenTelemetry traces, off unless OTEL_EXPORTER_OTLP_ENDPOINT is set (the standard OTEL_*
// variables then configure the exporter: OTLP over HTTP, service name `numos` unless
// OTEL_SERVICE_NAME). A span per HTTP request, a span per GraphQL operation beneath it, and
// beneath that the SQL statements (pg) and the calls to Resend (undici). Started before the
// application's modules are imported (src/observability/register.ts, `npm start`), so that the
// instrumented modules are patched as they load.
import { register } from 'node:module';
import { useOpenTelemetry } from '@envelop/opentelemetry';
import { trace } from '@opentelemetry/api';
import { HttpInstrumentation } from '@opentelemetry/instrumentation-http';
import { PgInstrumentation } from '@opentelemetry/instrumentation-pg';
import { UndiciInstrumentation } from '@opentelemetry/instrumentation-undici';
import { NodeSDK } from '@opentelemetry/sdk-node';
import { ParentBasedSampler, SimpleSpanProcessor, TraceIdRatioBasedSampler, type SpanExporter } from '@opentelemetry/sdk-trace';
import type { Plugin } from 'graphql-yoga';
import { tracingSettings } from '../config.js';

const INSTRUMENTED = ['http', 'node:http', 'https', 'node:https', 'pg', 'pg-pool', 'undici'];

const DEFAULT_RATIO = 0.1;

/** Probes and scrapes are not worth a trace each. */
const UNTRACED_PATHS = new Set(['/health', '/ready', '/metrics']);

let sdk: NodeSDK | undefined;

/** Starts tracing when asked (the environment, or a test's exporter); idempotent. */
export function startTracing(exporter?: SpanExporter): boolean {
  if (sdk) return true;
  const settings = tracingSettings();
  if (!exporter && !settings.enabled) return false;
  // ES modules are instrumented through import-in-the-middle's loader hooks: only the modules
  // instrumented here (wrapping every module would cost each import, and fails on TypeScript's).
  register('import-in-the-middle/hook.mjs', import.meta.url, { data: { include: INSTRUMENTED } });
  sdk = new NodeSDK({
    serviceName: settings.serviceName,
    // One request in ten is traced unless OTEL_TRACES_SAMPLER says otherwise: every request costs
    // about a fifth of the throughput of consumeQuota (`npm run bench -- observability`). A test's
    // exporter sees everything.
    ...(exporter || settings.samplerChosen ? {} : { sampler: new ParentBasedSampler({ root: new TraceIdRatioBasedSampler(DEFAULT_RATIO) }) }),
    // A test's exporter gets every span at once; otherwise the OTLP exporter of the environment.
    ...(exporter ? { spanProcessors: [new SimpleSpanProcessor({ exporter })] } : {}),
    instrumentations: [
      new HttpInstrumentation({ ignoreIncomingRequestHook: (request) => UNTRACED_PATHS.has(request.url?.split('?')[0] ?? '') }),
      new PgInstrumentation({ requireParentSpan: true, ignoreConnectSpans: true }),
      new UndiciInstrumentation({ requireParentforSpans: true }),
    ],
  });
  sdk.start();
  return true;
}

export const tracingEnabled = () => sdk !== undefined;

/** The GraphQL operation spans (operation name and type; no variables, no result). */
export const tracingPlugin = (): Plugin =>
  useOpenTelemetry({ resolvers: false, variables: false, result: false, document: false }, trace.getTracerProvider()) as Plugin;

/** Sends what is left and stops (at shutdown). */
export async function stopTracing(): Promise<void> {
  await sdk?.shutdown().catch(() => undefined);
  sdk = undefined;
}
