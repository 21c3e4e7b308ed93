// The connectors' secrets (Koha's client secret or password, SIP2's password, a wrong one typed by
// mistake) never leave NuMos: after checks that succeed and fail, over HTTP, they are in no GraphQL
// answer, no log line, no metric, no trace, no audit entry, no e-mail, no table but sealed. What
// the library's system is asked about a person (card, address) stays out of traces too. The calls
// are counted by kind and outcome.
import { spans } from '../../support/tracing.js';
import { SpanKind } from '@opentelemetry/api';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createHttpServer, type HttpServer } from '../../../src/server/http.js';
import { dumpEverything } from '../../support/dump.js';
import { FakeKoha } from '../../support/fake-koha.js';
import { FakeSip2 } from '../../support/fake-sip2.js';
import { seedTwoLibraries, startTestApp, type TestApp, type TwoLibraries, listenOnLoopback } from '../../support/harness.js';
import { captureLogs } from '../../support/logs.js';
import { allDelivered } from '../../support/patrons.js';
import { checksSettled, confirmAndCheck, connectorEnv, kohaInput, kohaMember, newSecretsKey, SAVE, sip2Input, TEST } from './scene.js';

const KOHA_SECRET = 'Secr3t-OAuth-Ne-Doit-Jamais-Sortir';
const KOHA_PASSWORD = 'Mot2Passe-Basic-Ne-Doit-Jamais-Sortir';
const SIP_PASSWORD = 'Mot2Passe-SIP2-Ne-Doit-Jamais-Sortir';
const WRONG_SECRET = 'Faux-Secret-Tape-Par-Erreur-0042';
const SECRETS = [KOHA_SECRET, KOHA_PASSWORD, SIP_PASSWORD, WRONG_SECRET];
/** What a person gives that NuMos sends to the library's system. */
const CARD = 'CARTE-PRIVEE-7788';
const EMAIL = 'personne.privee@example.org';

const logs = captureLogs('debug');
let t: TestApp;
let http: HttpServer;
let origin: string;
let scene: TwoLibraries;
let koha: FakeKoha;
let sip: FakeSip2;
const answers: string[] = [];

/** GraphQL over HTTP, as a browser sends it: the request log and the HTTP spans see it all. */
async function gql(query: string, variables: Record<string, unknown>, token?: string) {
  const response = await fetch(`${origin}/graphql`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...(token ? { authorization: `Bearer ${token}` } : {}) },
    body: JSON.stringify({ query, variables }),
  });
  const text = await response.text();
  answers.push(text);
  return JSON.parse(text);
}

const scrape = async () => (await fetch(`${origin}/metrics`)).text();
const calls = (text: string, kind: string, outcome: string) =>
  Number(new RegExp(`numos_membership_calls_total\\{(?=[^}]*kind="${kind}")(?=[^}]*outcome="${outcome}")[^}]*\\} (\\d+)`).exec(text)?.[1] ?? 0);

beforeAll(async () => {
  koha = new FakeKoha();
  koha.oauthClients.push({ id: 'numos', secret: KOHA_SECRET });
  koha.basicUsers.push({ id: 'numos-basic', secret: KOHA_PASSWORD });
  koha.add(kohaMember({ cardnumber: CARD }), kohaMember({ email: EMAIL, firstname: 'Privée' }));
  await koha.start({ tls: true });
  sip = new FakeSip2({
    accounts: [{ username: 'numos', password: SIP_PASSWORD, institution: 'MED57' }],
    patrons: { [CARD]: { name: 'Personne Privée', birthDate: '1990-07-14', expiresOn: '2027-06-30' } },
    today: '2026-11-28',
  });
  await sip.start({ tls: true });
  t = await startTestApp({ resend: true, workers: true, env: connectorEnv(newSecretsKey(), { NUMOS_CONNECTOR_TIMEOUT_MS: '500' }) });
  http = createHttpServer(t.app);
  origin = await listenOnLoopback(http.server);
  scene = await seedTwoLibraries(t, [
    { code: '5235001', name: 'Médiathèque de Sarralbe' },
    { code: '5235002', name: 'Bibliothèque de Saint-Avold' },
  ]);
});

afterAll(async () => {
  await http.close(1_000);
  await t.close();
  await koha.stop();
  await sip.stop();
});

describe('checks that succeed and fail', () => {
  let before: string;

  it('runs Koha (OAuth2, a wrong secret, Basic) and SIP2 (right and wrong password) checks', { timeout: 60_000 }, async () => {
    before = await scrape();
    const save = async (token: string, input: Record<string, unknown>) => {
      const answer = await gql(SAVE, { input }, token);
      expect(answer.data.saveMembershipConnector.errors).toEqual([]);
    };
    const check = async (library: string, overrides: Record<string, unknown>) => (await confirmAndCheck(t, library, overrides)).check.outcome;

    // Koha with OAuth2: a check by card, a test by e-mail
    await save(scene.adminA, kohaInput(scene.libA.gid, koha, { secret: KOHA_SECRET }));
    expect(await check(scene.libA.gid, { libraryCardNumber: CARD })).toBe('ACTIVE');
    const tested = await gql(TEST, { input: { libraryId: scene.libA.gid, email: EMAIL } }, scene.adminA);
    expect(tested.data.testMembershipConnector.check.outcome).toBe('ACTIVE');

    // A wrong secret typed by the DLPB: Koha refuses, the check says so without repeating it
    await save(scene.dlpb, kohaInput(scene.libA.gid, koha, { secret: WRONG_SECRET }));
    expect(await check(scene.libA.gid, { libraryCardNumber: CARD })).toBe('UNAVAILABLE');

    // Basic authentication
    await save(scene.adminA, kohaInput(scene.libA.gid, koha, { kohaAuthentication: 'BASIC', username: 'numos-basic', secret: KOHA_PASSWORD }));
    expect(await check(scene.libA.gid, { libraryCardNumber: CARD })).toBe('ACTIVE');

    // SIP2 over TLS, then a wrong password
    await save(scene.adminB, sip2Input(scene.libB.gid, sip.endpoint, { secret: SIP_PASSWORD }));
    expect(await check(scene.libB.gid, { libraryCardNumber: CARD })).toBe('ACTIVE');
    await save(scene.adminB, sip2Input(scene.libB.gid, sip.endpoint, { secret: WRONG_SECRET }));
    expect(await check(scene.libB.gid, { libraryCardNumber: CARD })).toBe('UNAVAILABLE');

    await checksSettled(t);
    await allDelivered(t);
  });

  it('counts the calls by kind and outcome', async () => {
    await expect.poll(async () => calls(await scrape(), 'KOHA_REST', 'found') - calls(before, 'KOHA_REST', 'found')).toBe(3);
    const after = await scrape();
    expect(calls(after, 'KOHA_REST', 'failed') - calls(before, 'KOHA_REST', 'failed')).toBe(1);
    expect(calls(after, 'SIP2', 'found') - calls(before, 'SIP2', 'found')).toBe(1);
    expect(calls(after, 'SIP2', 'failed') - calls(before, 'SIP2', 'failed')).toBe(1);
    expect(after).toMatch(/numos_membership_call_duration_seconds_count\{[^}]*kind="KOHA_REST"[^}]*\} \d+/);
    expect(after).toMatch(/numos_membership_call_duration_seconds_count\{[^}]*kind="SIP2"[^}]*\} \d+/);
  });
});

describe('the secrets', () => {
  it('are in no GraphQL answer', () => {
    const text = answers.join('\n');
    expect(text).toContain('secretConfigured');
    for (const secret of SECRETS) expect(text).not.toContain(secret);
  });

  it('are in no log line', () => {
    const text = logs.text();
    expect(logs.lines.filter((line) => line.msg === 'requête').length).toBeGreaterThanOrEqual(6);
    for (const secret of SECRETS) expect(text).not.toContain(secret);
  });

  it('are in no metric', async () => {
    const text = await scrape();
    for (const secret of SECRETS) expect(text).not.toContain(secret);
  });

  it('are in no trace, nor is what NuMos asked the library’s system about a person', () => {
    // The fake Koha runs in this process: its own server spans are not NuMos's.
    const all = spans.getFinishedSpans().filter((span) => !(span.kind === SpanKind.SERVER && String(span.attributes['url.path']).startsWith('/api/v1/')));
    expect(all.filter((span) => span.name === 'membership.lookup').length).toBeGreaterThanOrEqual(6);
    const text = JSON.stringify(all.map((span) => ({ name: span.name, attributes: span.attributes, events: span.events, status: span.status })));

    for (const value of [...SECRETS, CARD, EMAIL, encodeURIComponent(EMAIL)]) expect(text).not.toContain(value);
  });

  it('are in no audit entry, no e-mail, no table (only sealed)', async () => {
    const audit = await t.app.pool.query(`SELECT row_to_json(a)::text AS row FROM audit_log a`);
    const outbox = await t.app.pool.query(`SELECT row_to_json(o)::text AS row FROM email_outbox o`);
    expect(audit.rows.some((r) => r.row.includes('SAVE_MEMBERSHIP_CONNECTOR'))).toBe(true);
    for (const secret of SECRETS) {
      expect(audit.rows.map((r) => r.row).join('\n')).not.toContain(secret);
      expect(outbox.rows.map((r) => r.row).join('\n')).not.toContain(secret);
    }
    const lastErrors = await t.app.prisma.membershipConnector.findMany({ select: { lastError: true } });
    expect(lastErrors.map((c) => c.lastError).join(' ')).toMatch(/refuse/);
    const dump = await dumpEverything(t);
    expect(dump).toContain('5235001');
    for (const secret of SECRETS) expect(dump).not.toContain(secret.toLowerCase());
  });
});

describe('a secret in an input GraphQL itself refuses', () => {
  const refuse = () =>
    gql(SAVE, { input: { ...kohaInput(scene.libA.gid, koha, { secret: KOHA_SECRET }), champInconnu: true } }, scene.adminA).then((answer) => {
      // graphql-js quotes the refused input back to whoever sent it: that answer is the sender's own.
      answers.pop();
      return answer;
    });

  it('is in no log line and no metric', async () => {
    const refused = await refuse();
    expect(refused.errors?.[0]?.message).toContain('champInconnu');
    expect(logs.text()).not.toContain(KOHA_SECRET);
    expect(await scrape()).not.toContain(KOHA_SECRET);
  });

  // @envelop/opentelemetry records the execution's errors on the operation's span: they are
  // refined first (src/server/yoga.ts), graphql-js's message quoting the whole input replaced.
  it('is in no trace', async () => {
    spans.reset();
    await refuse();
    const text = JSON.stringify(spans.getFinishedSpans().map((span) => ({ attributes: span.attributes, events: span.events, status: span.status })));
    expect(text).not.toContain(KOHA_SECRET);
  });
});
