// Traces (OpenTelemetry), with an in-memory exporter: a request's span, the GraphQL parse, validate
// and execute spans beneath it, the SQL statements and the call to Resend beneath that; the trace
// id in the log, once; no query string in any span; the SDK not even loaded when tracing is off.
import { spans } from '../support/tracing.js';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { trace } from '@opentelemetry/api';
import type { ReadableSpan } from '@opentelemetry/sdk-trace';
import { encodeGlobalID } from '@pothos/plugin-relay';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createHttpServer, type HttpServer } from '../../src/server/http.js';
import { seedLibrary, startTestApp, type TestApp, listenOnLoopback } from '../support/harness.js';
import { REGISTER, registerInput } from '../support/patrons.js';
import { captureLogs, type LogLine } from '../support/logs.js';

const run = promisify(execFile);
let t: TestApp;
let http: HttpServer;
let url: string;
let libraryId: string;
let lines: LogLine[];

beforeAll(async () => {
  ({ lines } = captureLogs());
  t = await startTestApp({ resend: true, workers: true, env: { NUMOS_THROTTLE: '0' } });
  libraryId = encodeGlobalID('Library', (await seedLibrary(t.app, { code: '5200001', name: 'Nilvange' })).id);
  http = createHttpServer(t.app);
  url = `${await listenOnLoopback(http.server)}/graphql`;
});
afterAll(async () => {
  await http.close(1_000);
  await t.close();
});

const childrenOf = (parent: ReadableSpan, all: ReadableSpan[]) => all.filter((s) => s.parentSpanContext?.spanId === parent.spanContext().spanId);

describe('traces', () => {
  it('nests the SQL statements under the GraphQL operation under the HTTP request, and a Resend call under its job', async () => {
    spans.reset();
    const response = await fetch(url, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ query: REGISTER, operationName: undefined, variables: { input: registerInput(libraryId) } }),
    });
    expect((await response.json()).data.register.ok).toBe(true);
    await t.resend!.waitFor((sent) => sent.length === 1);
    await new Promise((r) => setTimeout(r, 300));

    const all = spans.getFinishedSpans();
    const request = all.find((s) => s.name.startsWith('POST') && s.attributes['url.path'] === '/graphql');
    expect(request, all.map((s) => s.name).join(', ')).toBeDefined();
    const operation = childrenOf(request!, all).find((s) => s.name.includes('mutation') || s.name.includes('execute'));
    expect(
      operation,
      childrenOf(request!, all)
        .map((s) => s.name)
        .join(', '),
    ).toBeDefined();
    const sql = childrenOf(operation!, all).filter((s) => s.attributes['db.system.name'] === 'postgresql' || s.attributes['db.system'] === 'postgresql');
    expect(sql.length).toBeGreaterThan(2);
    // The e-mail left through a job: Resend's call is a span of its own trace, with its SQL.
    const resend = all.find((s) => s.name.startsWith('POST') && String(s.attributes['url.full'] ?? '').startsWith(t.resend!.url));
    expect(resend).toBeDefined();
    // The request's log line carries the trace id.
    const line = lines.find((l) => l.msg === 'requête' && l.operationType === 'mutation');
    expect(line?.traceId).toBe(request!.spanContext().traceId);
  });

  it('has a span for parsing and one for validating the document, beside the execution', async () => {
    spans.reset();
    await fetch(url, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ query: '{ libraries { id } }' }),
    });
    // The execution's span ends once its result is sent.
    // The execution's span ends once its result is sent.
    await expect.poll(() => spans.getFinishedSpans().some((s) => s.name === 'query.anonymous')).toBe(true);
    const all = spans.getFinishedSpans();
    const request = all.find((s) => s.name.startsWith('POST') && s.attributes['url.path'] === '/graphql')!;
    const phases = childrenOf(request, all).map((s) => s.name);
    expect(phases, all.map((s) => `${s.name} ← ${s.parentSpanContext?.spanId}`).join(', ')).toEqual(
      expect.arrayContaining(['graphql.parse', 'graphql.validate', 'query.anonymous']),
    );
  });

  it('keeps query strings out of every span: GET variables, searches sent to other systems', async () => {
    spans.reset();
    const email = `trace-secret-${crypto.randomUUID()}@example.org`;
    const params = new URLSearchParams({
      query: 'query Q($e: String) { libraries(search: $e) { id } }',
      variables: JSON.stringify({ e: email }),
    });
    const response = await fetch(`${url}?${params}`);
    expect(await response.json()).toEqual({ data: { libraries: [] } });
    // A call out with a query string, as a library system's search by e-mail is.
    await trace.getTracer('test').startActiveSpan('appel sortant', async (span) => {
      await fetch(`${t.resend!.url}/search?email=${encodeURIComponent(email)}`).catch(() => undefined);
      span.end();
    });
    const all = spans.getFinishedSpans();
    const incoming = all.find((s) => s.name.startsWith('GET') && s.attributes['url.path'] === '/graphql');
    const outgoing = all.find((s) => s.name.startsWith('GET') && String(s.attributes['url.full'] ?? '').startsWith(t.resend!.url));
    expect(incoming).toBeDefined();
    expect(outgoing?.attributes['url.full']).toBe(`${t.resend!.url}/search`);
    const everything = JSON.stringify(all.map((s) => ({ name: s.name, attributes: s.attributes, events: s.events })));
    expect(everything).not.toContain('trace-secret');
    expect(everything).not.toContain('variables');
  });
});

describe('tracing off', () => {
  // The server's modules (tracing, logs, request log: those that loaded the SDK before), imported
  // as `npm start` does, in a child process that records whether the SDK was resolved at all.
  const loaded = async (env: Record<string, string>) => {
    const args = ['--import', './test/support/record-imports.mjs', '--import', 'tsx', '--import', './src/observability/register.ts'];
    const { stderr } = await run(process.execPath, [...args, '-e', "await import('./src/server/yoga.ts')"], {
      env: { ...process.env, RECORD_IMPORTS: '@opentelemetry/sdk-node', OTEL_EXPORTER_OTLP_ENDPOINT: '', ...env },
      encoding: 'utf8',
    });
    return stderr.includes('LOADED');
  };

  it('loads no OpenTelemetry SDK without an endpoint, and loads it with one', async () => {
    const [off, on] = await Promise.all([loaded({}), loaded({ OTEL_EXPORTER_OTLP_ENDPOINT: 'http://127.0.0.1:9' })]);
    expect(off).toBe(false);
    expect(on).toBe(true);
  }, 60_000);
});
