// Traces (OpenTelemetry), with an in-memory exporter: a request's span, the GraphQL operation's
// beneath it, the SQL statements and the call to Resend beneath that; the trace id in the log.
import { spans } from '../support/tracing.js';
import type { AddressInfo } from 'node:net';
import type { ReadableSpan } from '@opentelemetry/sdk-trace';
import { encodeGlobalID } from '@pothos/plugin-relay';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createHttpServer, type HttpServer } from '../../src/server/http.js';
import { seedLibrary, startTestApp, type TestApp } from '../support/harness.js';
import { REGISTER, registerInput } from '../support/patrons.js';
import { captureLogs, type LogLine } from '../support/logs.js';

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
  await new Promise<void>((resolve) => http.server.listen(0, '127.0.0.1', resolve));
  url = `http://127.0.0.1:${(http.server.address() as AddressInfo).port}/graphql`;
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
});
