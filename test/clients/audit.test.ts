// The GraphQL-over-HTTP audit of graphql-http (the reference implementation of the spec): every
// MUST, SHOULD and MAY it checks, against the server over real HTTP. No error, no warning.
import type { AddressInfo } from 'node:net';
import { auditServer } from 'graphql-http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createHttpServer, type HttpServer } from '../../src/server/http.js';
import { startTestApp, type TestApp } from '../support/harness.js';

let t: TestApp;
let http: HttpServer;
let url: string;

beforeAll(async () => {
  t = await startTestApp();
  http = createHttpServer(t.app);
  await new Promise<void>((resolve) => http.server.listen(0, '127.0.0.1', resolve));
  url = `http://127.0.0.1:${(http.server.address() as AddressInfo).port}/graphql`;
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
