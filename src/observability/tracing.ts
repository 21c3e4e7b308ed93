// OpenTelemetry traces, off unless an OTLP endpoint is set (the standard OTEL_* variables, see
// tracingSettings in src/config.ts). This module is what the application imports: light, it loads
// the SDK (src/observability/tracing-sdk.ts: exporter, instrumentations, span plugin) only when
// tracing is asked for, so that a server without tracing never loads it. Started before the
// application's modules are imported (src/observability/register.ts, `npm start`, `npm run
// serve`), so that http, pg and undici are instrumented as they load.
import type { SpanExporter } from '@opentelemetry/sdk-trace';
import type { Plugin } from 'graphql-yoga';
import { tracingSettings } from '../config.js';
import type { ActiveTracing } from './tracing-sdk.js';

let active: ActiveTracing | undefined;

/** Starts tracing when asked (the environment, or a test's exporter, which sees every span); idempotent. */
export async function startTracing(exporter?: SpanExporter): Promise<boolean> {
  if (active) return true;
  const settings = tracingSettings();
  if (!exporter && !settings.enabled) return false;
  const { startSdk } = await import('./tracing-sdk.js');
  active = startSdk(settings, exporter);
  return true;
}

export const tracingEnabled = (): boolean => active !== undefined;

/** The GraphQL spans, or nothing without tracing. */
export const tracingPlugin = (): Plugin => active?.plugin() ?? {};

/** The trace and span ids of the code running now (none without tracing). */
export const currentTrace = (): { traceId: string; spanId: string } | undefined => active?.current();

/** Sends what is left and stops (at shutdown). */
export async function stopTracing(): Promise<void> {
  await active?.shutdown().catch(() => undefined);
  active = undefined;
}
