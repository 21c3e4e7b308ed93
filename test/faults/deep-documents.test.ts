// Documents nested far deeper than any real one (lists, selections, arguments), on a production
// instance that has answered nothing yet: each is a coded error (QUERY_TOO_COMPLEX), over POST,
// GET and WebSocket, never a 500, a stack overflow or an "erreur inattendue" in the log.
import { createClient } from 'graphql-ws';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { createHttpServer, type HttpServer } from '../../src/server/http.js';
import { MAX_NESTING, nestingOf } from '../../src/server/nesting.js';
import { startTestApp, type TestApp, listenOnLoopback } from '../support/harness.js';
import { captureLogs, type LogLine } from '../support/logs.js';

let t: TestApp;
let http: HttpServer;
let origin: string;
let lines: LogLine[];

beforeAll(async () => {
  ({ lines } = captureLogs('warn'));
  t = await startTestApp({ env: { NODE_ENV: 'production', NUMOS_THROTTLE: '0', METRICS_TOKEN: 'x' } });
  http = createHttpServer(t.app);
  origin = await listenOnLoopback(http.server);
});
afterAll(async () => {
  await http.close(1_000);
  await t.close();
});

const deepList = (n: number) => `{ libraries(search: ${'['.repeat(n)}"a"${']'.repeat(n)}) { id } }`;
const deepSelection = (n: number) => `{ ${'libraries { '.repeat(n)}id${' }'.repeat(n)} }`;
const deepObject = (n: number) => `{ libraries(search: ${'{a: '.repeat(n)}1${'}'.repeat(n)}) { id } }`;

describe('deeply nested documents', () => {
  const cases = [1_000, 10_000, 100_000].flatMap((n) => [
    [`a list literal nested ${n} times`, deepList(n)],
    [`selections nested ${n} times`, deepSelection(n)],
    [`an object literal nested ${n} times`, deepObject(n)],
  ]);

  it.each(cases)('answers %s with a code, over POST and GET, cold and warm', async (_label, query) => {
    for (let round = 0; round < 2; round++) {
      const post = await fetch(`${origin}/graphql`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ query }) });
      expect(post.status).toBeLessThan(500);
      const body = await post.json();
      expect(['QUERY_TOO_COMPLEX', 'REQUEST_ENTITY_TOO_LARGE']).toContain(body.errors[0].extensions.code);
      const get = await fetch(`${origin}/graphql?query=${encodeURIComponent(query)}`, { headers: { accept: 'application/json' } });
      expect(get.status).toBeLessThan(500);
    }
  });

  it('answers the same over WebSocket, and the socket lives on', async () => {
    const client = createClient({ url: `${origin.replace('http', 'ws')}/graphql`, webSocketImpl: WebSocket, retryAttempts: 0 });
    const run = (query: string) =>
      new Promise<unknown>((resolve) => {
        client.subscribe({ query }, { next: resolve, error: resolve, complete: () => undefined });
      });
    try {
      const deep = (await run(deepList(10_000))) as { message?: string; extensions?: { code?: string } }[];
      expect(deep[0]?.extensions?.code).toBe('QUERY_TOO_COMPLEX');
      expect(await run('{ __typename }')).toEqual({ data: { __typename: 'Query' } });
    } finally {
      await client.dispose();
    }
  });

  it('takes what real documents need, and counts nesting outside strings and comments only', async () => {
    const fine = await t.gql(`{ libraries(search: "${'['.repeat(90)}") { id } } # ${'{'.repeat(500)}`);
    expect(fine.errors).toBeUndefined();
    expect(nestingOf(`{ a(b: """ ${'['.repeat(200)} \\""" ${'('.repeat(200)} """) }`)).toBe(2);
    expect(nestingOf(`{ a(b: "\\"${'{'.repeat(200)}") }`)).toBe(2);
    expect(nestingOf(deepList(MAX_NESTING - 2))).toBe(MAX_NESTING);
    // At the limit, a document is parsed (and here refused by validation, as any mistyped argument).
    expect((await t.gql(deepList(MAX_NESTING - 2))).errors?.[0]?.extensions?.code).toBe('GRAPHQL_VALIDATION_FAILED');
    expect((await t.gql(deepList(MAX_NESTING - 1))).errors?.[0]?.extensions?.code).toBe('QUERY_TOO_COMPLEX');
  });

  it('logged no unexpected error', () => {
    expect(lines.filter((l) => l.level >= 50)).toEqual([]);
  });
});
