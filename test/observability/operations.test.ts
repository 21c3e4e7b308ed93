// What an operator reads: the request log (one line per request, its id, never a secret), the
// Prometheus metrics after a small workload, /ready when e-mails pile up, and the development
// mailbox (its page and `npm run cli -- mailbox`).
import { spawnSync } from 'node:child_process';
import { encodeGlobalID } from '@pothos/plugin-relay';
import { createClient } from 'graphql-ws';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { builder } from '../../src/graphql/builder.js';
import { runScheduledJob } from '../../src/jobs/run.js';
import { createHttpServer, type HttpServer } from '../../src/server/http.js';
import { login, seedLibrary, seedStaff, startTestApp, type TestApp, listenOnLoopback } from '../support/harness.js';
import { captureLogs, type LogLine } from '../support/logs.js';
import { REGISTER, registerAndConfirm, registerInput } from '../support/patrons.js';

// A field that fails unexpectedly, registered before the schema is first built.
builder.queryField('testExplode', (t) =>
  t.boolean({
    resolve: () => {
      throw new Error('panne interne');
    },
  }),
);

let t: TestApp;
let lines: LogLine[];
let raw: () => string;
let http: HttpServer;
let origin: string;
let libraryId: string;

beforeAll(async () => {
  ({ lines, text: raw } = captureLogs());
  t = await startTestApp({ resend: true, workers: true, env: { NUMOS_THROTTLE: '0', NUMOS_READY_MAX_OUTBOX: '2' } });
  libraryId = encodeGlobalID('Library', (await seedLibrary(t.app, { code: '5200001', name: 'Nilvange' })).id);
  await seedStaff(t.app, { login: 'dlpb', password: 'mot de passe DLPB' });
  http = createHttpServer(t.app);
  origin = await listenOnLoopback(http.server);
});
afterAll(async () => {
  await http.close(1_000);
  await t.close();
});

const post = (body: object, headers: Record<string, string> = {}) =>
  fetch(`${origin}/graphql`, { method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body: JSON.stringify(body) });

describe('request log', () => {
  it('writes one line per request, with its id, the operation and the caller, and no secret', async () => {
    const input = registerInput(libraryId, {
      lastName: 'Secrète',
      firstName: 'Personne',
      email: 'personne.secrete@example.org',
      password: 'mot de passe très secret',
    });
    const registered = await post({ query: REGISTER, variables: { input } }, { 'x-request-id': 'essai-123' });
    expect(registered.headers.get('x-request-id')).toBe('essai-123');
    const token = await login(t, 'STAFF', 'dlpb', 'mot de passe DLPB');
    const viewer = await post({ query: 'query Moi { viewer { __typename } }' }, { authorization: `Bearer ${token}` });
    const madeId = viewer.headers.get('x-request-id')!;
    expect(madeId).toMatch(/^[0-9a-f-]{36}$/);
    await new Promise((r) => setTimeout(r, 100));

    const own = lines.filter((l) => l.reqId === 'essai-123');
    expect(own.filter((l) => l.msg === 'requête')).toHaveLength(1);
    expect(own.find((l) => l.msg === 'requête')).toMatchObject({
      req: { method: 'POST', path: '/graphql' },
      res: { status: 200 },
      operationType: 'mutation',
      caller: { kind: 'visitor' },
    });
    const staffLine = lines.find((l) => l.reqId === madeId && l.msg === 'requête')!;
    expect(staffLine).toMatchObject({ operation: 'Moi', operationType: 'query', caller: { kind: 'staff' } });
    expect(staffLine.caller.id).toMatch(/^[0-9a-f-]{36}$/);
    expect(typeof staffLine.responseTime).toBe('number');
    for (const secret of ['mot de passe très secret', token, 'Secrète', 'personne.secrete', 'mot de passe DLPB']) expect(raw()).not.toContain(secret);
  });

  it('names the request in a masked error, and logs the failure under the same id', async () => {
    const response = await post({ query: '{ testExplode }' }, { 'x-request-id': 'panne-42' });
    const body = await response.json();
    expect(body.errors[0]).toMatchObject({ message: 'Unexpected error.', extensions: { code: 'INTERNAL_SERVER_ERROR', requestId: 'panne-42' } });
    await new Promise((r) => setTimeout(r, 100));
    expect(lines.find((l) => l.reqId === 'panne-42' && l.msg === 'erreur inattendue')).toBeDefined();
  });
  it('logs each operation sent over WebSocket like a request: a login, a query, a refused document', async () => {
    const client = createClient({ url: `${origin.replace('http', 'ws')}/graphql`, webSocketImpl: WebSocket, retryAttempts: 0 });
    const once = (query: string, variables: Record<string, unknown> = {}) =>
      new Promise<any>((resolve) => {
        let result: any;
        client.subscribe({ query, variables }, { next: (value) => (result = value), error: (errors) => resolve({ errors }), complete: () => resolve(result) });
      });
    const loginResult = await once('mutation Entrer($input: LoginInput!) { login(input: $input) { __typename } }', {
      input: { realm: 'STAFF', login: 'dlpb', password: 'mot de passe DLPB' },
    });
    expect(loginResult.data.login.__typename).toBeDefined();
    await once('query Villes { libraries { id } }');
    await once('query Cassee { nimporte }');
    await client.dispose();
    await new Promise((r) => setTimeout(r, 100));

    const socketLines = lines.filter((l) => l.transport === 'websocket');
    expect(socketLines.map((l) => l.operation)).toEqual(['Entrer', 'Villes', 'Cassee']);
    expect(socketLines[0]).toMatchObject({ msg: 'requête', operationType: 'mutation', caller: { kind: 'visitor' }, errors: 0 });
    expect(socketLines[1]).toMatchObject({ operationType: 'query', errors: 0 });
    expect(socketLines[2]!.errors).toBe(1);
    for (const line of socketLines) {
      expect(line.reqId).toMatch(/^[0-9a-f-]{36}$/);
      expect(typeof line.responseTime).toBe('number');
    }
    expect(raw()).not.toContain('mot de passe DLPB');
  });
});

describe('metrics', () => {
  const scrape = async () => (await fetch(`${origin}/metrics`)).text();
  const value = (text: string, pattern: RegExp) => Number(pattern.exec(text)?.[1] ?? Number.NaN);

  it('move with a small workload: requests, registrations, e-mails, quotas, jobs, pools, outbox, licences', async () => {
    const token = await login(t, 'STAFF', 'dlpb', 'mot de passe DLPB');
    const provider = (await t.gql(`mutation { createResourceProvider(input: { name: "Presse", categories: [NEWSPAPER] }) { apiKey } }`, {}, { token })).data
      .createResourceProvider.apiKey;
    const before = await scrape();
    await registerAndConfirm(t, libraryId, { lastName: 'Mesurée' });
    await post({ query: 'query Libraries { libraries { code } }' });
    await post({ query: 'query NomChoisiParLeClient { libraries { code } }' });
    const consume = await post(
      {
        query: `mutation($i: ConsumeQuotaInput!) { consumeQuota(input: $i) { granted } }`,
        variables: {
          i: { patronId: encodeGlobalID('Patron', '00000000-0000-4000-8000-000000000000'), category: 'NEWSPAPER', resourceId: 'j', idempotencyKey: 'm1' },
        },
      },
      { authorization: `Bearer ${provider}` },
    );
    expect(consume.status).toBe(200);
    await runScheduledJob(t.app, t.app.schedules.find((j) => j.name === 'account.expiry')!, t.app.clock.now());
    await t.resend!.waitFor((sent) => sent.length >= 2);
    // Counted once the deliverer has recorded Resend's answer, a moment after the fake received it.
    await expect.poll(async () => value(await scrape(), /numos_emails_total\{[^}]*outcome="sent"[^}]*\} (\d+)/), { timeout: 10_000 }).toBeGreaterThanOrEqual(2);
    const after = await scrape();

    // A known document keeps its name; any other name is `other`.
    expect(value(after, /numos_graphql_operations_total\{[^}]*operation="Libraries",field="libraries",type="query",outcome="ok"[^}]*\} (\d+)/)).toBe(1);
    expect(
      value(after, /numos_graphql_operations_total\{[^}]*operation="other",field="libraries",type="query",outcome="ok"[^}]*\} (\d+)/),
    ).toBeGreaterThanOrEqual(1);
    expect(after).not.toMatch(/NomChoisiParLeClient/);
    expect(after).toMatch(/numos_graphql_operation_duration_seconds_count\{[^}]*field="libraries",type="query"/);
    expect(after).toMatch(/numos_http_request_duration_seconds_bucket\{[^}]*method="POST",status="200"/);
    // Probes are not API requests: they leave the HTTP histogram as it was; a GET of the API is counted.
    const gets = (text: string) => value(text, /numos_http_request_duration_seconds_count\{[^}]*method="GET"[^}]*\} (\d+)/) || 0;
    for (const path of ['/health', '/ready', '/health', '/ready']) await fetch(`${origin}${path}`).then((r) => r.arrayBuffer());
    await expect.poll(async () => gets(await scrape()) - gets(after), { timeout: 5_000 }).toBe(0);
    await fetch(`${origin}/graphql?query=${encodeURIComponent('{ libraries { code } }')}`).then((r) => r.arrayBuffer());
    await expect.poll(async () => gets(await scrape()) - gets(after), { timeout: 5_000 }).toBe(1);
    const steps = (text: string, step: string) => value(text, new RegExp(`numos_registration_steps_total\\{[^}]*step="${step}"[^}]*\\} (\\d+)`)) || 0;
    expect(steps(after, 'registered') - steps(before, 'registered')).toBe(1);
    expect(steps(after, 'confirmed') - steps(before, 'confirmed')).toBe(1);
    expect(value(after, /numos_quota_consumptions_total\{[^}]*category="NEWSPAPER"[^}]*outcome="NOT_FOUND"[^}]*\} (\d+)/)).toBe(1);
    expect(value(after, /numos_emails_total\{[^}]*outcome="sent"[^}]*\} (\d+)/)).toBeGreaterThanOrEqual(2);
    expect(value(after, /numos_emails_total\{[^}]*outcome="queued"[^}]*\} (\d+)/)).toBeGreaterThanOrEqual(2);
    expect(value(after, /numos_job_runs_total\{[^}]*job="account.expiry"[^}]*outcome="ok"[^}]*\} (\d+)/)).toBe(1);
    expect(after).toMatch(/numos_job_duration_seconds_count\{[^}]*job="account.expiry"/);
    expect(after).toMatch(/numos_pg_pool_connections\{[^}]*pool="numos"[^}]*state="in_use"/);
    expect(after).toMatch(/numos_outbox_pending\{[^}]*\} \d+/);
    expect(value(after, /numos_licences\{[^}]*kind="capacity"[^}]*\} (\d+)/)).toBe(20_000);
    expect(value(after, /numos_registration_requests_pending\{[^}]*state="AWAITING_DECISION"[^}]*\} (\d+)/)).toBeGreaterThanOrEqual(1);
  });

  it("count a client's mistakes under their own codes, not as server errors", async () => {
    const errors = (text: string, code: string) => value(text, new RegExp(`numos_graphql_errors_total\\{[^}]*code="${code}"[^}]*\\} (\\d+)`)) || 0;
    const before = await scrape();
    // A document the schema refuses, and a variable that is no e-mail address.
    await post({ query: '{ champInconnu }' });
    await post({ query: REGISTER, variables: { input: registerInput(libraryId, { email: 'paul@' }) } });
    const after = await scrape();
    expect(errors(after, 'GRAPHQL_VALIDATION_FAILED') - errors(before, 'GRAPHQL_VALIDATION_FAILED')).toBe(1);
    expect(errors(after, 'BAD_USER_INPUT') - errors(before, 'BAD_USER_INPUT')).toBe(1);
    expect(errors(after, 'INTERNAL_SERVER_ERROR') - errors(before, 'INTERNAL_SERVER_ERROR')).toBe(0);
  });
});

describe('metrics under a flood of names and addresses', () => {
  const scrape = async () => (await fetch(`${origin}/metrics`)).text();
  // Node's own metrics (nodejs_*, process_*) are a closed set that fills in as the process runs (a
  // kind of garbage collection seen for the first time): they are left out of the comparison.
  const series = (text: string) => text.split('\n').filter((line) => line && !line.startsWith('#') && !/^(nodejs|process)_/.test(line));

  it('keep the same series whatever operation names, URLs and variables clients send, and name no URL or value', async () => {
    // Every label value appears once first, so that only what the flood could add remains.
    const warmUp = async (i: number) => {
      await post({ query: `query Flood${i} { libraries(search: "x") { code } }` });
      await fetch(`${origin}/graphql?query=${encodeURIComponent(`query Get${i} { libraries { code } }`)}&junk=${i}`);
      await post({ query: `query Bad${i} { nothing }` });
      await post({ query: `{ libraries(search: "${'['.repeat(3)}") }` });
    };
    await warmUp(0);
    const before = await scrape();
    const batch = 50;
    for (let start = 1; start <= 2_000; start += batch) {
      await Promise.all(
        Array.from({ length: batch }, async (_, k) => {
          const i = start + k;
          await post({ query: `query Flood${i}($s: String) { libraries(search: $s) { code } }`, variables: { s: `secret.${i}@example.org` } });
          await fetch(`${origin}/graphql?query=${encodeURIComponent(`query Get${i} { libraries { code } }`)}&user=staff${i}@example.org`);
        }),
      );
    }
    await post({ query: 'query Bad2000 { nothing }' });
    const started = performance.now();
    const after = await scrape();
    const scrapeMs = performance.now() - started;
    const keys = (text: string) => new Set(series(text).map((line) => line.slice(0, line.lastIndexOf(' '))));
    expect([...keys(after)].filter((key) => !keys(before).has(key))).toEqual([]);
    expect(series(after).length).toBe(series(before).length);
    expect(after).not.toMatch(/Flood|Get\d|secret\.|staff\d|example\.org|\/graphql\?/);
    // Informative only: the scrape's time depends on the machine (npm run bench measures it).
    console.info(`scrape after 4,000 requests of distinct names: ${series(after).length} series, ${after.length} bytes, ${scrapeMs.toFixed(1)} ms`);
  }, 120_000);
});

describe('/ready', () => {
  it('says "degraded", with its reasons, when e-mails pile up beyond the threshold', async () => {
    expect(await (await fetch(`${origin}/ready`)).json()).toMatchObject({ status: 'ready' });
    await t.app.pool.query(
      `INSERT INTO email_outbox (template, from_address, to_addresses, cc_addresses, subject, html, text, secrets, status, created_at)
       SELECT 'Test', 'numos@numos.local', ARRAY['x@example.org'], '{}', 'Bouchon', '', '', '{}', 'PENDING', $1::timestamptz - interval '2 hours'
         FROM generate_series(1, 3)`,
      [t.app.clock.now()],
    );
    const ready = await fetch(`${origin}/ready`);
    expect(ready.status).toBe(200);
    expect(await ready.json()).toMatchObject({ status: 'degraded', reasons: ['outbox backlog', 'outbox age'], outboxPending: 3 });
    await t.app.pool.query(`DELETE FROM email_outbox WHERE subject = 'Bouchon'`);
  });
});

describe('development mailbox', () => {
  let mailbox: TestApp;
  let server: HttpServer;
  let url: string;
  beforeAll(async () => {
    // Without RESEND_API_KEY: the outbox is the mailbox.
    mailbox = await startTestApp({ env: { NUMOS_THROTTLE: '0' } });
    await seedLibrary(mailbox.app, { code: '5200002', name: 'Metz' });
    server = createHttpServer(mailbox.app);
    url = await listenOnLoopback(server.server);
  });
  afterAll(async () => {
    await server.close(1_000);
    await mailbox.close();
  });

  it('lists the e-mails newest first and shows each as HTML and text, with its working link', async () => {
    const library = (await mailbox.gql('{ libraries { id } }')).data.libraries[0].id;
    for (const lastName of ['Premier', 'Second']) {
      await mailbox.gql(REGISTER, { input: registerInput(library, { lastName }) });
      mailbox.clock.advance(1_000); // "newest" needs two instants
    }
    const page = await (await fetch(`${url}/dev/mailbox`)).text();
    const subjects = [...page.matchAll(/href="\/dev\/mailbox\/([0-9a-f-]{36})">([^<]+)</g)];
    expect(subjects.map((m) => m[2])).toEqual(['Confirmez votre inscription à NuMos', 'Confirmez votre inscription à NuMos']);
    const [newest] = subjects;
    const html = await (await fetch(`${url}/dev/mailbox/${newest![1]}`)).text();
    expect(html).toContain('Second');
    const link = /href="(http:\/\/localhost:3000\/confirmer\?token=[\w-]+)"/.exec(html)?.[1];
    expect(link).toBeDefined();
    const text = await (await fetch(`${url}/dev/mailbox/${newest![1]}.txt`)).text();
    expect(text).toContain(link!);
    // The link works: its token confirms the account.
    const token = new URL(link!).searchParams.get('token');
    const confirmed = await mailbox.gql(`mutation($t: String!) { confirm(input: { token: $t }) { account { status } } }`, { t: token });
    expect(confirmed.data.confirm.account.status).toBe('TEMPORARY');
  });

  it('prints the last e-mails and their links with `npm run cli -- mailbox`', () => {
    const cli = spawnSync('npm', ['run', '--silent', 'cli', '--', 'mailbox', '5'], {
      env: { ...process.env, DATABASE_URL: mailbox.database.url, NODE_ENV: 'test' },
      encoding: 'utf8',
    });
    expect(cli.status).toBe(0);
    expect(cli.stdout.match(/Confirmez votre inscription à NuMos/g)).toHaveLength(2);
    expect(cli.stdout).toMatch(/→ http:\/\/localhost:3000\/confirmer\?token=[\w-]+/);
  }, 60_000);

  it('exists in no production server', async () => {
    const production = await startTestApp({ database: mailbox.database, env: { NODE_ENV: 'production' } });
    const prod = createHttpServer(production.app);
    const prodUrl = await listenOnLoopback(prod.server);
    expect((await fetch(`${prodUrl}/dev/mailbox`)).status).toBe(404);
    // Nor /metrics without a token or a port of its own.
    expect((await fetch(`${prodUrl}/metrics`)).status).toBe(404);
    await prod.close(1_000);
    await production.close();
  });
});
