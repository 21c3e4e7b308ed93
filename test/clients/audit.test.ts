// The GraphQL-over-HTTP audit of graphql-http (the reference implementation of the spec): every
// MUST, SHOULD and MAY it checks, against the server over real HTTP. No error, no warning.
import { auditServer } from 'graphql-http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createHttpServer, type HttpServer } from '../../src/server/http.js';
import { startTestApp, type TestApp, listenOnLoopback } from '../support/harness.js';

let t: TestApp;
let http: HttpServer;
let url: string;

beforeAll(async () => {
  t = await startTestApp();
  http = createHttpServer(t.app);
  url = `${await listenOnLoopback(http.server)}/graphql`;
});
afterAll(async () => {
  await http.close(1_000);
  await t.close();
});

describe('GraphQL over HTTP (graphql-http auditServer)', () => {
  it('passes every audit, with no warning', async () => {
    const results = await auditServer({ url });
    const notOk = await Promise.all(
      results.filter((r) => r.status !== 'ok').map(async (r) => ({ id: r.id, name: r.name, status: r.status, reason: 'reason' in r ? r.reason : undefined })),
    );
    console.log(JSON.stringify({ audits: results.length, ok: results.filter((r) => r.status === 'ok').length, notOk }));
    expect(notOk).toEqual([]);
  });
});
