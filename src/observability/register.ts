// Loaded before the application (`node --import tsx --import ./src/observability/register.ts`):
// tracing starts first when OTEL_EXPORTER_OTLP_ENDPOINT is set, so that http, pg and undici are
// instrumented as they are imported.
import { startTracing } from './tracing.js';

startTracing();
