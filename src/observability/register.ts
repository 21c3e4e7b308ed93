// Loaded before the application (`node --import … register`): tracing starts first when an OTLP
// endpoint is set, so that http, pg and undici are instrumented as they are imported; without it,
// nothing of OpenTelemetry's SDK is loaded.
import { startTracing } from './tracing.js';

await startTracing();
