// Subscriptions as browsers and dashboards hold them, through the clients front ends use:
// graphql-ws (WebSocket) and graphql-sse (Server-Sent Events, distinct connections), on two
// server instances over real HTTP. A bad document costs only itself; a session's end ends its
// subscriptions everywhere within a second.
import { encodeGlobalID } from '@pothos/plugin-relay';
import { createClient as createSseClient } from 'graphql-sse';
import { createClient as createWsClient, type Client as WsClient } from 'graphql-ws';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { lapseUnconfirmedRequests } from '../../src/modules/lifecycle/jobs.js';
import { createHttpServer, type HttpServer } from '../../src/server/http.js';
import { login, seedLibrary, seedStaff, startTestApp, type TestApp, listenOnLoopback } from '../support/harness.js';
import { REGISTER, registerAndConfirm, registerInput, tokenFrom, waitForEmail } from '../support/patrons.js';

const EVENTS = `subscription { registrationEvents { type request { id state patron { lastName } } } }`;

interface Instance {
  t: TestApp;
  http: HttpServer;
  url: string;
}

let one: Instance;
let two: Instance;
let libraryId: string;

async function serve(t: TestApp): Promise<Instance> {
  const http = createHttpServer(t.app);
  return { t, http, url: `${await listenOnLoopback(http.server)}/graphql` };
}

/** A subscription's values, errors and end, as its client reports them. */
interface Seen {
  values: any[];
  errors: unknown[];
  completedAt?: number;
  next(timeoutMs?: number): Promise<any>;
}

function observer(): { seen: Seen; sink: { next(v: any): void; error(e: unknown): void; complete(): void } } {
  let taken = 0;
  const seen: Seen = {
    values: [],
    errors: [],
    /** The next value not taken yet, waiting for it if need be. */
    async next(timeoutMs = 5_000) {
      const deadline = Date.now() + timeoutMs;
      while (seen.values.length <= taken) {
        if (Date.now() > deadline) throw new Error('aucun événement reçu à temps');
        await new Promise((r) => setTimeout(r, 20));
      }
      return seen.values[taken++];
    },
  };
  return {
    seen,
    sink: {
      next: (value) => seen.values.push(value),
      error: (error) => seen.errors.push(error),
      complete: () => (seen.completedAt = Date.now()),
    },
  };
}

const wsClient = (instance: Instance, token: string) =>
  createWsClient({ url: instance.url.replace('http', 'ws'), webSocketImpl: WebSocket, connectionParams: { authorization: `Bearer ${token}` }, lazy: false });

const sseClient = (instance: Instance, token: string) =>
  createSseClient({ url: instance.url, headers: { authorization: `Bearer ${token}` }, retryAttempts: 0 });

async function until(predicate: () => boolean, timeoutMs = 5_000) {
  const deadline = Date.now() + timeoutMs;
  while (!predicate()) {
    if (Date.now() > deadline) throw new Error('condition jamais remplie');
    await new Promise((r) => setTimeout(r, 20));
  }
}

beforeAll(async () => {
  const a = await startTestApp({ resend: true, workers: true, env: { NUMOS_THROTTLE: '0' } });
  const b = await startTestApp({ database: a.database, env: { NUMOS_THROTTLE: '0' } });
  one = await serve(a);
  two = await serve(b);
  const library = await seedLibrary(a.app, { code: '5212345', name: 'Nilvange' });
  libraryId = encodeGlobalID('Library', library.id);
  await seedStaff(a.app, { login: 'dlpb', password: 'mot de passe DLPB', email: 'dlpb.agent@example.org' });
  await seedStaff(a.app, { login: '5212345', password: 'mot de passe A', role: 'LIBRARY_ADMIN', libraryId: library.id });
});

afterAll(async () => {
  for (const { t, http } of [two, one]) {
    await http.close(1_000);
    await t.close();
  }
});

describe('one WebSocket, several subscriptions', () => {
  it('answers each bad document with its own error and keeps the socket and the other subscriptions alive', async () => {
    const token = await login(one.t, 'STAFF', 'dlpb', 'mot de passe DLPB');
    const client = wsClient(one, token);
    let closed: unknown;
    client.on('closed', (event) => (closed = event));
    const healthy = observer();
    client.subscribe({ query: EVENTS }, healthy.sink);
    await new Promise((r) => setTimeout(r, 200));

    const bad = {
      syntax: 'subscription { registrationEvents { type ',
      tooDeep: `subscription { registrationEvents { request { ${'patron { requests { '.repeat(6)} id ${'} } '.repeat(6)} } } }`,
      tooManyAliases: `subscription { ${Array.from({ length: 20 }, (_, i) => `a${i}: registrationEvents { type }`).join(' ')} }`,
      unknownField: 'subscription { registrationEvent { type } }',
      mutation: 'mutation { confirm(input: { token: "inconnu" }) { errors { code } } }',
      badVariable: { query: 'subscription($id: ID) { registrationEvents(libraryId: $id) { type } }', variables: { id: { pas: 'un identifiant' } } },
    };
    const answers: Record<string, Seen> = {};
    for (const [name, document] of Object.entries(bad)) {
      const o = observer();
      answers[name] = o.seen;
      client.subscribe(typeof document === 'string' ? { query: document } : document, o.sink);
    }
    await until(() => Object.values(answers).every((s) => s.errors.length || s.completedAt)).catch((error) => {
      throw new Error(`${error.message} : ${JSON.stringify(answers)}`);
    });
    // An error message for the subscription, or (variables are checked when it runs) a result with errors.
    const codes = (name: string) => {
      const answer = answers[name]!;
      const errors = (answer.errors[0] ?? answer.values[0]?.errors) as { extensions?: { code?: string } }[];
      return errors.map((e) => e.extensions?.code);
    };
    expect(codes('syntax')).toEqual(['GRAPHQL_PARSE_FAILED']);
    expect(codes('tooDeep')).toEqual(['QUERY_TOO_COMPLEX']);
    expect(codes('tooManyAliases')).toEqual(['QUERY_TOO_COMPLEX']);
    expect(codes('unknownField')).toEqual(['GRAPHQL_VALIDATION_FAILED']);
    expect(codes('badVariable')).toEqual(['BAD_USER_INPUT']);
    // A mutation over the socket is run as one, and answered once.
    expect(answers.mutation!.values).toEqual([{ data: { confirm: { errors: [{ code: 'INVALID_TOKEN' }] } } }]);

    // The socket lives on, and so does the healthy subscription.
    await registerAndConfirm(one.t, libraryId, { lastName: 'Vivace' });
    expect((await healthy.seen.next()).data.registrationEvents.request.patron.lastName).toBe('Vivace');
    expect(closed).toBeUndefined();
    await client.dispose();
  });
});

describe('the end of a session ends its subscriptions, on every instance, within a second', () => {
  async function openEverywhere(token: string) {
    const ws = wsClient(one, token);
    const sse = sseClient(two, token);
    const overWs = observer();
    const overSse = observer();
    ws.subscribe({ query: EVENTS }, overWs.sink);
    sse.subscribe({ query: EVENTS }, overSse.sink);
    await new Promise((r) => setTimeout(r, 300));
    expect(overWs.seen.completedAt).toBeUndefined();
    expect(overSse.seen.completedAt).toBeUndefined();
    return { ws, sse, seen: [overWs.seen, overSse.seen] };
  }

  async function expectEndedPromptly(seen: Seen[], since: number, clients: { ws: WsClient; sse: { dispose(): void } }) {
    await until(() => seen.every((s) => s.completedAt !== undefined || s.errors.length > 0), 10_000);
    // Ended promptly (sessions are swept twice a second); the bound leaves a busy machine room.
    for (const s of seen) expect((s.completedAt ?? Date.now()) - since).toBeLessThan(5_000);
    await clients.ws.dispose();
    clients.sse.dispose();
  }

  it('on logout (over WebSocket on one instance, SSE on the other)', async () => {
    const token = await login(one.t, 'STAFF', '5212345', 'mot de passe A');
    const open = await openEverywhere(token);
    const { data } = await two.t.gql('mutation { logout { ok } }', {}, { token });
    expect(data.logout.ok).toBe(true);
    await expectEndedPromptly(open.seen, Date.now(), open);
    // And a new subscription with that token is refused.
    const again = observer();
    const client = sseClient(one, token);
    client.subscribe({ query: EVENTS }, again.sink);
    await until(() => again.seen.values.length > 0 || again.seen.errors.length > 0);
    expect(JSON.stringify([again.seen.values, again.seen.errors])).toContain('UNAUTHENTICATED');
    client.dispose();
  });

  it('when the password is reset', async () => {
    const token = await login(one.t, 'STAFF', 'dlpb', 'mot de passe DLPB');
    const open = await openEverywhere(token);
    await one.t.gql('mutation { requestPasswordReset(input: { realm: STAFF, login: "dlpb" }) { ok } }');
    const link = tokenFrom(await waitForEmail(one.t, 'dlpb.agent@example.org', 'Réinitialisez votre mot de passe NuMos'), '/mot-de-passe');
    const reset = await one.t.gql(
      `mutation($t: String!) { resetPassword(input: { token: $t, password: "mot de passe DLPB", passwordConfirmation: "mot de passe DLPB" }) { ok } }`,
      { t: link },
    );
    expect(reset.data.resetPassword.ok).toBe(true);
    await expectEndedPromptly(open.seen, Date.now(), open);
  });

  it('when the session expires', async () => {
    const token = await login(one.t, 'STAFF', '5212345', 'mot de passe A');
    const open = await openEverywhere(token);
    const hours13 = 13 * 3_600_000;
    one.t.clock.advance(hours13);
    two.t.clock.advance(hours13);
    try {
      await expectEndedPromptly(open.seen, Date.now(), open);
    } finally {
      one.t.clock.advance(-hours13);
      two.t.clock.advance(-hours13);
    }
  });
});

describe('events of erased people', () => {
  it('delivers a LAPSED event to subscribers, the erased person null where the schema allows it', async () => {
    const token = await login(two.t, 'STAFF', 'dlpb', 'mot de passe DLPB');
    const client = sseClient(two, token);
    const safe = observer();
    const naive = observer();
    client.subscribe({ query: 'subscription { registrationEvents { type requestId patron { lastName } library { code } } }' }, safe.sink);
    client.subscribe({ query: EVENTS }, naive.sink);
    await new Promise((r) => setTimeout(r, 300));
    const input = registerInput(libraryId, { lastName: 'Oubli' });
    expect((await one.t.gql(REGISTER, { input })).data.register.ok).toBe(true);
    await lapseUnconfirmedRequests(one.t.app, new Date(one.t.clock.now().getTime() + 16 * 86_400_000));
    const event = (
      await safe.seen.next().catch((error) => {
        throw new Error(`${error.message} : ${JSON.stringify([safe.seen, naive.seen])}`);
      })
    ).data.registrationEvents;
    expect(event).toMatchObject({ type: 'LAPSED', patron: null, library: { code: '5212345' } });
    expect(event.requestId).toMatch(/^[A-Za-z0-9=]+$/);
    // `request.patron` is non-null in the contract: that selection gets the event as an error that
    // still says what happened.
    const naiveEvent = await naive.seen.next().catch((error) => {
      throw new Error(`${error.message} : ${JSON.stringify(naive.seen)}`);
    });
    expect(naiveEvent.errors[0].extensions).toMatchObject({ code: 'PERSONAL_DATA_ERASED', eventType: 'LAPSED' });
    client.dispose();
  });
});
