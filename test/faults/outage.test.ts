// A PostgreSQL outage under load, as a reliability tester causes one: kill -9 of the server and
// every backend while two instances serve quota calls and subscriptions, then a restart on the
// same port. What must survive: the processes, a bounded number of connections, a clean coded
// answer during the outage, every acknowledged write, and within seconds of the return
// everything again (requests, jobs and e-mail, subscriptions with each event delivered once).
import { encodeGlobalID } from '@pothos/plugin-relay';
import { createClient } from 'graphql-ws';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { applyMigrations } from '../../src/db/migrate.js';
import { hashPassword } from '../../src/lib/password.js';
import { createHttpServer, type HttpServer } from '../../src/server/http.js';
import { captureLogs, type LogLine } from '../support/logs.js';
import { FakeResend } from '../support/fake-resend.js';
import { login, seedLibrary, seedStaff, startTestApp, type TestApp, listenOnLoopback } from '../support/harness.js';
import { openFiles, socketsTo, startOwnPostgres, type OwnPostgres } from '../support/own-postgres.js';
import { CONFIRM, REGISTER, registerInput, tokenFrom, waitForEmail } from '../support/patrons.js';
import { subscribeSse, type Subscription } from '../support/subscriptions.js';

const DATABASE = 'numos_outage';
const POOL_MAX = 10; // src/db/prisma.ts
const BOSS_MAX = 4; // src/jobs/boss.ts
/** Per instance: the application's pool, pg-boss's pool, the event bus's and pg-boss's LISTEN connections. */
const PER_INSTANCE = POOL_MAX + BOSS_MAX + 2;

const CONSUME = `mutation($input: ConsumeQuotaInput!) { consumeQuota(input: $input) { granted consumptionId errors { code } } }`;
const CANCEL = `mutation($id: ID!) { cancelConsumption(input: { consumptionId: $id }) { errors { code } } }`;
const EVENTS = `subscription { registrationEvents { type request { id patron { lastName } } } }`;
const VIEWER = `{ viewer { __typename } }`;

interface Outcome {
  at: number;
  ms: number;
  status: number;
  codes: string[];
  messages: string[];
  granted?: boolean;
  consumptionId?: string;
  cancelled?: boolean;
  network?: string;
}

let pgServer: OwnPostgres;
let resend: FakeResend;
const instances: { t: TestApp; http: HttpServer; url: string }[] = [];
let providerKey: string;
let dlpbToken: string;
let libraryId: string;
const patrons: string[] = [];

async function post(url: string, query: string, variables: object, token?: string): Promise<{ status: number; body: any }> {
  const response = await fetch(`${url}/graphql`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...(token ? { authorization: `Bearer ${token}` } : {}) },
    body: JSON.stringify({ query, variables }),
  });
  return { status: response.status, body: await response.json() };
}

/** The log lines (JSON) the instances write, with when they were written. */
let logLines: LogLine[];

beforeAll(async () => {
  ({ lines: logLines } = captureLogs());
  pgServer = await startOwnPostgres();
  const url = await pgServer.createDatabase(DATABASE);
  await applyMigrations(url);
  resend = await new FakeResend().start();
  const database = { url, drop: async () => {} };
  const env = { NUMOS_THROTTLE: '0', NUMOS_SHUTDOWN_GRACE_SECONDS: '2' };
  for (let i = 0; i < 2; i++) {
    const t = await startTestApp({ database, resend, workers: true, env });
    const http = createHttpServer(t.app);
    instances.push({ t, http, url: await listenOnLoopback(http.server) });
  }
  const { t } = instances[0]!;
  const library = await seedLibrary(t.app, { code: '5200001', name: 'Médiathèque de Nilvange', email: 'bib@nilvange.example' });
  libraryId = encodeGlobalID('Library', library.id);
  await seedStaff(t.app, { login: 'dlpb', password: 'mot de passe DLPB' });
  dlpbToken = await login(t, 'STAFF', 'dlpb', 'mot de passe DLPB');
  const created = await t.gql(`mutation { createResourceProvider(input: { name: "Presse", categories: [NEWSPAPER] }) { apiKey } }`, {}, { token: dlpbToken });
  providerKey = created.data.createResourceProvider.apiKey;
  const passwordHash = await hashPassword('mot de passe lecteur');
  for (let i = 0; i < 8; i++) {
    const row = await t.app.prisma.patron.create({
      data: {
        libraryId: library.id,
        lastName: 'Lecteur',
        firstName: `N${i}`,
        birthDate: new Date('1990-05-05T00:00:00Z'),
        email: `lecteur${i}@example.org`,
        login: `lecteur.${i}`,
        loginKey: `lecteur.${i}`,
        passwordHash,
        newsletter: false,
        identityKey: `lecteur|${i}`,
        searchText: `lecteur${i}`,
        status: 'ACTIVE',
      },
    });
    patrons.push(encodeGlobalID('Patron', row.id));
  }
}, 120_000);

afterAll(async () => {
  for (const { t, http } of instances) {
    await http.close(1_000);
    await t.close();
  }
  await resend?.stop();
  await pgServer?.stop();
});

describe('a PostgreSQL outage under load (kill -9, restart on the same port)', () => {
  it('fails fast with SERVICE_UNAVAILABLE, keeps connections bounded and recovers within seconds, each event delivered once', async () => {
    const subscribers: Subscription[] = [await subscribeSse(`${instances[1]!.url}/graphql`, EVENTS, {}, dlpbToken)];
    const socketEvents: any[] = [];
    const ws = createClient({
      url: `${instances[0]!.url.replace('http', 'ws')}/graphql`,
      webSocketImpl: WebSocket,
      connectionParams: { authorization: `Bearer ${dlpbToken}` },
    });
    ws.subscribe({ query: EVENTS }, { next: (value) => socketEvents.push(value), error: () => {}, complete: () => {} });
    await new Promise((r) => setTimeout(r, 300));

    // Load: each worker consumes a unit and cancels one in two, on both instances.
    const outcomes: Outcome[] = [];
    let loading = true;
    let seq = 0;
    const worker = async (w: number) => {
      const { url } = instances[w % 2]!;
      while (loading) {
        const started = performance.now();
        const outcome: Outcome = { at: Date.now(), ms: 0, status: 0, codes: [], messages: [] };
        try {
          const key = `k-${w}-${seq++}`;
          const { status, body } = await post(
            url,
            CONSUME,
            { input: { patronId: patrons[w % patrons.length], category: 'NEWSPAPER', resourceId: 'journal', idempotencyKey: key } },
            providerKey,
          );
          outcome.status = status;
          outcome.codes = (body.errors ?? []).map((e: any) => e.extensions?.code);
          outcome.messages = (body.errors ?? []).map((e: any) => e.message);
          outcome.granted = body.data?.consumeQuota?.granted;
          outcome.consumptionId = body.data?.consumeQuota?.consumptionId ?? undefined;
          if (outcome.granted && seq % 2) {
            const cancel = await post(url, CANCEL, { id: outcome.consumptionId }, providerKey);
            outcome.cancelled = cancel.status === 200 && cancel.body.data?.cancelConsumption?.errors?.length === 0;
          }
        } catch (error) {
          outcome.network = String(error);
        }
        outcome.ms = performance.now() - started;
        outcomes.push(outcome);
        await new Promise((r) => setTimeout(r, 5));
      }
    };
    const load = Array.from({ length: 8 }, (_, w) => worker(w));
    await new Promise((r) => setTimeout(r, 1_000));
    const filesBefore = await openFiles();

    // The outage: six seconds without a database.
    await pgServer.kill();
    const killedAt = Date.now();
    const samples: { sockets: number; files: number; health: number[]; ready: { status: number; body: string }[] }[] = [];
    while (Date.now() - killedAt < 6_000) {
      samples.push({
        sockets: await socketsTo(pgServer.port),
        files: await openFiles(),
        health: await Promise.all(instances.map(async ({ url }) => (await fetch(`${url}/health`)).status)),
        ready: await Promise.all(
          instances.map(async ({ url }) => {
            const response = await fetch(`${url}/ready`);
            return { status: response.status, body: await response.text() };
          }),
        ),
      });
      await new Promise((r) => setTimeout(r, 200));
    }
    await pgServer.restart();
    const restartedAt = Date.now();

    // Back: seconds until an instance answers a DB-backed query, and until it is ready again
    // (database, job queue and its LISTEN connection).
    const secondsUntil = async (ok: () => Promise<boolean>) => {
      while (!(await ok())) {
        if (Date.now() - restartedAt > 20_000) return Number.POSITIVE_INFINITY;
        await new Promise((r) => setTimeout(r, 50));
      }
      return (Date.now() - restartedAt) / 1_000;
    };
    const recovery = await Promise.all(
      instances.map(({ url }) =>
        secondsUntil(async () => {
          const { status, body } = await post(url, VIEWER, {}, dlpbToken);
          return status === 200 && body.data?.viewer?.__typename === 'StaffAccount';
        }),
      ),
    );
    const readyAgain = await Promise.all(instances.map(({ url }) => secondsUntil(async () => (await fetch(`${url}/ready`)).status === 200)));
    await new Promise((r) => setTimeout(r, 1_000));
    loading = false;
    await Promise.all(load);

    const during = outcomes.filter((o) => o.at > killedAt + 500 && o.at + o.ms < restartedAt);
    console.log(
      JSON.stringify({
        requests: outcomes.length,
        duringOutage: during.length,
        slowestDuringOutageMs: Math.round(Math.max(...during.map((o) => o.ms))),
        maxSocketsDuringOutage: Math.max(...samples.map((s) => s.sockets)),
        filesBefore,
        maxFilesDuringOutage: Math.max(...samples.map((s) => s.files)),
        warningsOrErrorsLoggedDuringOutage: logLines.filter((l) => l.level >= 40 && l.at >= killedAt && l.at < restartedAt).length,
        secondsToAnswer: recovery,
        secondsToReady: readyAgain,
        connectionsAfter: await pgServer.connections(DATABASE),
      }),
    );

    // During the outage: a clean, coded, fast refusal; health answers, readiness says why, no address.
    expect(during.length).toBeGreaterThan(20);
    for (const o of during) {
      expect(o.network).toBeUndefined();
      expect(o.codes).toEqual(['SERVICE_UNAVAILABLE']);
      expect(o.status).toBe(503);
      // Refused instead of hanging (a lost server's TCP timeout is minutes); the bound leaves a busy machine room.
      expect(o.ms).toBeLessThan(15_000);
    }
    expect(outcomes.flatMap((o) => o.messages)).not.toContain('Unexpected error.');
    for (const s of samples) {
      expect(s.health).toEqual([200, 200]);
      for (const ready of s.ready.slice(0)) {
        if (ready.status !== 200)
          expect({ status: ready.status, body: JSON.parse(ready.body) }).toEqual({
            status: 503,
            body: { status: 'unavailable', reason: 'database unavailable' },
          });
      }
    }
    expect(samples.at(-1)!.ready.map((r) => r.status)).toEqual([503, 503]);
    expect(JSON.stringify(samples)).not.toContain(String(pgServer.port));
    expect(Math.max(...samples.map((s) => s.sockets))).toBeLessThanOrEqual(2 * PER_INSTANCE);
    expect(Math.max(...samples.map((s) => s.files))).toBeLessThan(filesBefore + 50);
    // Thousands of failed requests and polls, a handful of lines: each cause once (then counted).
    const logged = logLines.filter((l) => l.level >= 40 && l.at >= killedAt && l.at < restartedAt);
    expect(logged.length, logged.map((l) => l.msg).join('\n')).toBeLessThanOrEqual(10);

    // After: back within seconds, within the pools' sizes, one LISTEN connection each.
    for (const seconds of [...recovery, ...readyAgain]) expect(seconds).toBeLessThan(30);
    const connections = await pgServer.connections(DATABASE);
    expect(connections['numos-events']).toBe(2);
    expect(connections.numos ?? 0).toBeLessThanOrEqual(2 * POOL_MAX);
    // pg-boss's pool, and the connection that listens for its jobs' notifications.
    expect(connections['numos-jobs'] ?? 0).toBeLessThanOrEqual(2 * (BOSS_MAX + 1));
    for (const { url } of instances) expect((await fetch(`${url}/ready`)).status).toBe(200);

    // Every acknowledged write is there, and the counters agree with the log.
    const { t } = instances[0]!;
    const acknowledged = outcomes.filter((o) => o.granted);
    expect(acknowledged.length).toBeGreaterThan(20);
    const stored = new Map(
      (await t.app.prisma.consumption.findMany({ select: { id: true, granted: true, cancelledAt: true } })).map((c) => [
        encodeGlobalID('Consumption', c.id),
        c,
      ]),
    );
    for (const o of acknowledged) {
      const row = stored.get(o.consumptionId!);
      expect(row?.granted).toBe(true);
      if (o.cancelled) expect(row?.cancelledAt).not.toBeNull();
    }
    const { rows: drift } = await t.app.pool.query(
      `SELECT u.patron_id FROM quota_usage u
        WHERE u.used <> (SELECT count(*) FROM consumption c WHERE c.patron_id = u.patron_id AND c.period = u.period
                           AND c.category = u.category AND c.granted AND c.cancelled_at IS NULL)`,
    );
    expect(drift).toEqual([]);

    // Jobs and e-mail work again, and a new event reaches each subscriber once.
    const input = registerInput(libraryId, { lastName: 'Retour' });
    expect((await post(instances[1]!.url, REGISTER, { input })).body.data.register.errors).toEqual([]);
    const token = tokenFrom(await waitForEmail(instances[0]!.t, input.email, 'Confirmez votre inscription à NuMos'), '/confirmer');
    expect((await post(instances[0]!.url, CONFIRM, { token })).body.data.confirm.errors).toEqual([]);
    const confirmed = await subscribers[0]!.next(10_000);
    expect(confirmed.data.registrationEvents).toMatchObject({ type: 'CONFIRMED', request: { patron: { lastName: 'Retour' } } });
    await new Promise((r) => setTimeout(r, 1_500));
    expect(subscribers[0]!.pending()).toEqual([]);
    expect(socketEvents.map((e) => e.data?.registrationEvents?.request?.patron?.lastName)).toEqual(['Retour']);
    for (const s of subscribers) s.close();
    await ws.dispose();
  }, 90_000);

  it('stops within its grace when the database is gone', async () => {
    const extra = await startTestApp({
      database: { url: pgServer.urlFor(DATABASE), drop: async () => {} },
      resend,
      workers: true,
      env: { NUMOS_SHUTDOWN_GRACE_SECONDS: '2' },
    });
    const http = createHttpServer(extra.app);
    await listenOnLoopback(http.server);
    await pgServer.kill();
    const started = Date.now();
    await http.close(2_000);
    await extra.app.close();
    const seconds = (Date.now() - started) / 1_000;
    await pgServer.restart();
    console.log(JSON.stringify({ secondsToStopWithoutDatabase: seconds }));
    // Not hung on a database that is gone (its grace is 2 s; the bound leaves a busy machine room).
    expect(seconds).toBeLessThan(20);
  }, 60_000);
});
