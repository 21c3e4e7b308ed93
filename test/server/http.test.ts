// The server over real HTTP: endpoints, hardening, error masking.
import { createServer, request as httpRequest, type Server } from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { builder } from '../../src/graphql/builder.js';
import { createHttpServer, type HttpServer } from '../../src/server/http.js';
import { seedLibrary, startTestApp, type TestApp, listenOnLoopback } from '../support/harness.js';

// A field that fails unexpectedly, to see what a client is told. Registered before the schema is
// first built (the harness builds it lazily).
builder.queryField('testExplode', (t) =>
  t.boolean({
    resolve: () => {
      throw new Error('SELECT secret FROM internals failed at db.ts:42');
    },
  }),
);

async function serve(t: TestApp): Promise<{ server: Server; url: string }> {
  const server = createServer(t.app.yoga);
  return { server, url: await listenOnLoopback(server) };
}

const post = (url: string, body: unknown, headers: Record<string, string> = {}) =>
  fetch(`${url}/graphql`, { method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body: JSON.stringify(body) });

describe('HTTP server', () => {
  let t: TestApp;
  let url: string;
  let server: Server;
  beforeAll(async () => {
    t = await startTestApp();
    await seedLibrary(t.app, { code: '5200001', name: 'Médiathèque de Nilvange', town: 'Nilvange' });
    ({ server, url } = await serve(t));
  });
  afterAll(async () => {
    server.close();
    await t.close();
  });

  it('answers /health and /ready', async () => {
    expect((await fetch(`${url}/health`)).status).toBe(200);
    expect((await fetch(`${url}/ready`)).status).toBe(200);
  });

  it('serves GraphiQL to a browser in development', async () => {
    const page = await fetch(`${url}/graphql`, { headers: { accept: 'text/html' } });
    expect(page.status).toBe(200);
    expect(await page.text()).toContain('NuMos API');
  });

  it('answers queries over POST', async () => {
    const response = await post(url, { query: '{ libraries(search: "nilvange") { code } }' });
    expect(await response.json()).toEqual({ data: { libraries: [{ code: '5200001' }] } });
  });

  it('refuses mutations over GET', async () => {
    const response = await fetch(`${url}/graphql?query=${encodeURIComponent('mutation { logout { ok } }')}`, {
      headers: { 'x-graphql-yoga-csrf': '1' },
    });
    const body = await response.json();
    expect(body.errors[0].message).toContain('Can only perform a mutation operation from a POST request');
  });

  it('refuses the posts an HTML form of another site can send (no preflight), and answers queries over GET', async () => {
    for (const [type, body] of [
      ['text/plain', JSON.stringify({ query: '{ libraries { code } }' })],
      ['application/x-www-form-urlencoded', `query=${encodeURIComponent('{ libraries { code } }')}`],
    ]) {
      const response = await fetch(`${url}/graphql`, { method: 'POST', headers: { 'content-type': type! }, body });
      expect(response.status).toBe(403);
    }
    // Bearer tokens only (no cookie): a query over GET reads what any visitor may read.
    const response = await fetch(`${url}/graphql?query=${encodeURIComponent('{ libraries { code } }')}`);
    expect(await response.json()).toEqual({ data: { libraries: [{ code: '5200001' }] } });
  });

  it('refuses batched requests', async () => {
    const response = await post(url, [{ query: '{ libraries { code } }' }, { query: '{ libraries { code } }' }]);
    expect(response.ok).toBe(false);
  });

  it('limits aliases, depth and tokens', async () => {
    const aliases = Array.from({ length: 20 }, (_, i) => `a${i}: libraries { code }`).join(' ');
    const tooManyAliases = await (await post(url, { query: `{ ${aliases} }` })).json();
    expect(tooManyAliases.errors[0].message).toMatch(/aliases/i);

    const nested = `${'viewer { '.repeat(15)}__typename${' }'.repeat(15)}`;
    const tooDeep = await (await post(url, { query: `{ ${nested} }` })).json();
    expect(tooDeep.errors.map((e: { message: string }) => e.message).join('\n')).toMatch(/depth limit of 12/i);

    const long = `{ libraries { ${'code '.repeat(3_000)} } }`;
    const tooLong = await (await post(url, { query: long })).json();
    expect(tooLong.errors[0].message).toMatch(/token/i);
  });

  it('masks unexpected errors', async () => {
    const body = await (await post(url, { query: '{ testExplode }' })).json();
    expect(body.errors[0].message).toBe('Unexpected error.');
    expect(JSON.stringify(body)).not.toContain('secret');
  });

  it('names the variable of a malformed scalar', async () => {
    const body = await (
      await post(url, { query: 'query($id: ID!, $d: DateTime!) { node(id: $id) { id } }', variables: { id: 'x', d: '2026-02-30T00:00:00Z' } })
    ).json();
    expect(body.errors[0].message).toContain('$d');
  });

  it('suggests field names outside production', async () => {
    const body = await (await post(url, { query: '{ librarie { code } }' })).json();
    expect(body.errors[0].message).toContain('Did you mean');
  });
});

describe('HTTP server in production', () => {
  let t: TestApp;
  let url: string;
  let server: Server;
  beforeAll(async () => {
    t = await startTestApp({ env: { NODE_ENV: 'production' } });
    ({ server, url } = await serve(t));
  });
  afterAll(async () => {
    server.close();
    await t.close();
  });

  it('hides field suggestions and GraphiQL', async () => {
    const body = await (await post(url, { query: '{ librarie { code } }' })).json();
    expect(body.errors[0].message).not.toContain('Did you mean');
    const page = await fetch(`${url}/graphql`, { headers: { accept: 'text/html' } });
    expect(await page.text()).not.toContain('NuMos API');
  });
});

describe('request bodies', () => {
  let t: TestApp;
  let http: HttpServer;
  let port: number;
  beforeAll(async () => {
    t = await startTestApp();
    http = createHttpServer(t.app);
    port = Number(new URL(await listenOnLoopback(http.server)).port);
  });
  afterAll(async () => {
    await http.close(1_000);
    await t.close();
  });

  it('refuses a body over 256 KiB (413), whether it says its length or not', async () => {
    const big = JSON.stringify({ query: '{ libraries(search: $s) { code } }', variables: { s: 'x'.repeat(300_000) } });
    const tooLarge = await fetch(`http://127.0.0.1:${port}/graphql`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: big });
    expect(tooLarge.status).toBe(413);
    const refused = (await tooLarge.json()).errors[0];
    expect(refused.extensions.code).toBe('REQUEST_ENTITY_TOO_LARGE');
    expect(refused.message).toBe('Requête trop volumineuse : 256 Kio au plus.');

    const chunked = await new Promise<{ status: number; body: string }>((resolve, reject) => {
      const request = httpRequest(
        { host: '127.0.0.1', port, path: '/graphql', method: 'POST', headers: { 'content-type': 'application/json' } },
        (response) => {
          let body = '';
          response.on('data', (chunk) => (body += chunk));
          response.on('end', () => resolve({ status: response.statusCode!, body }));
        },
      );
      request.on('error', reject);
      request.write(big.slice(0, 200_000));
      request.end(big.slice(200_000));
    });
    expect(chunked.status).toBe(413);
    expect(JSON.parse(chunked.body).errors[0].extensions.code).toBe('REQUEST_ENTITY_TOO_LARGE');

    const fine = await fetch(`http://127.0.0.1:${port}/graphql`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ query: '{ __typename }' }),
    });
    expect(await fine.json()).toEqual({ data: { __typename: 'Query' } });
  });

  it('reads a body of unstated length (chunked) under the limit, in several chunks, as any other', async () => {
    // 100 KB: a variable the document does not declare (ignored), so that the body takes several chunks.
    const body = JSON.stringify({ query: '{ __typename }', variables: { padding: 'x'.repeat(100_000) } });
    const answer = await new Promise<{ status: number; body: string }>((resolve, reject) => {
      const request = httpRequest(
        { host: '127.0.0.1', port, path: '/graphql', method: 'POST', headers: { 'content-type': 'application/json', 'transfer-encoding': 'chunked' } },
        (response) => {
          let text = '';
          response.on('data', (chunk) => (text += chunk));
          response.on('end', () => resolve({ status: response.statusCode!, body: text }));
        },
      );
      request.on('error', reject);
      request.write(body.slice(0, 40_000));
      request.write(body.slice(40_000, 80_000));
      request.end(body.slice(80_000));
    });
    expect(answer.status).toBe(200);
    expect(JSON.parse(answer.body)).toEqual({ data: { __typename: 'Query' } });
  });

  it('refuses a Content-Length that is not one number, before reading anything', async () => {
    for (const length of ['12, 12', '-1', '0x10']) {
      const response = await t.app.yoga.fetch('http://localhost/graphql', {
        method: 'POST',
        headers: { 'content-type': 'application/json', 'content-length': length },
        body: JSON.stringify({ query: '{ __typename }' }),
      });
      expect(response.status).toBe(400);
      expect((await response.json()).errors[0]).toMatchObject({ message: 'En-tête Content-Length invalide.', extensions: { code: 'BAD_REQUEST' } });
    }
  });
});
