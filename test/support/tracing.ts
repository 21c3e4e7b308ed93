// Imported first by a test file that looks at traces: tracing starts, with an in-memory exporter,
// before the application's modules (pg, http, undici) are imported and instrumented.
import { InMemorySpanExporter } from '@opentelemetry/sdk-trace';
import { startTracing } from '../../src/observability/tracing.js';

export const spans = new InMemorySpanExporter();
await startTracing(spans);
