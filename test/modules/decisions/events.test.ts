// The live feed: registration events over SSE and WebSocket, across two server instances on one
// database, each subscriber seeing only what it may see.
import { decodeGlobalID, encodeGlobalID } from '@pothos/plugin-relay';
import { createClient } from 'graphql-ws';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { escalateOverdueRequests } from '../../../src/modules/decisions/jobs.js';
import { createHttpServer, type HttpServer } from '../../../src/server/http.js';
import { login, seedLibrary, seedStaff, startTestApp, type TestApp, listenOnLoopback } from '../../support/harness.js';
import { registerAndConfirm } from '../../support/patrons.js';
import { subscribeSse } from '../../support/subscriptions.js';

const EVENTS = `subscription($libraryId: ID) {
  registrationEvents(libraryId: $libraryId) { type occurredAt request { id state patron { lastName } library { code } } }
}`;
const DECIDE = `mutation($input: DecideInput!) { decide(input: $input) { errors { code } } }`;

let one: TestApp;
let two: TestApp;
let libA: string;
let libB: string;

beforeAll(async () => {
  one = await startTestApp({ resend: true, workers: true, env: { NUMOS_THROTTLE: '0' } });
  two = await startTestApp({ database: one.database, env: { NUMOS_THROTTLE: '0' } });
  const a = await seedLibrary(one.app, { code: '5212345', name: 'Nilvange' });
  const b = await seedLibrary(one.app, { code: '5212346', name: 'Metz' });
  libA = encodeGlobalID('Library', a.id);
  libB = encodeGlobalID('Library', b.id);
  await seedStaff(one.app, { login: '5212345', password: 'mot de passe A', role: 'LIBRARY_ADMIN', libraryId: a.id });
  await seedStaff(one.app, { login: '5212346', password: 'mot de passe B', role: 'LIBRARY_ADMIN', libraryId: b.id });
  await seedStaff(one.app, { login: 'dlpb', password: 'mot de passe DLPB' });
});
afterAll(async () => {
  await two.close();
  await one.close();
});

describe('registrationEvents over SSE', () => {
  it('delivers an event of instance 1 to subscribers of instance 2, filtered by library', async () => {
    const adminA = await login(two, 'STAFF', '5212345', 'mot de passe A');
    const adminB = await login(two, 'STAFF', '5212346', 'mot de passe B');
    const dlpb = await login(two, 'STAFF', 'dlpb', 'mot de passe DLPB');
    const forA = await subscribeSse(two, EVENTS, {}, adminA);
    const forB = await subscribeSse(two, EVENTS, {}, adminB);
    const forDlpb = await subscribeSse(two, EVENTS, {}, dlpb);
    const forDlpbOnB = await subscribeSse(two, EVENTS, { libraryId: libB }, dlpb);
    await new Promise((r) => setTimeout(r, 300)); // let the subscriptions start

    // The patron registers and confirms through instance 1.
    await registerAndConfirm(one, libA, { lastName: 'Événement' });
    const confirmed = await forA.next();
    expect(confirmed.data.registrationEvents).toMatchObject({
      type: 'CONFIRMED',
      request: { state: 'AWAITING_DECISION', patron: { lastName: 'Événement' }, library: { code: '5212345' } },
    });
    expect((await forDlpb.next()).data.registrationEvents.type).toBe('CONFIRMED');

    // Instance 1 decides; instance 2's subscribers hear it.
    const adminAOnOne = await login(one, 'STAFF', '5212345', 'mot de passe A');
    const { data } = await one.gql(DECIDE, { input: { requestId: confirmed.data.registrationEvents.request.id, decision: 'ACCEPT' } }, { token: adminAOnOne });
    expect(data.decide.errors).toEqual([]);
    const decided = await forA.next();
    expect(decided.data.registrationEvents).toMatchObject({ type: 'DECIDED', request: { state: 'ACCEPTED' } });
    expect((await forDlpb.next()).data.registrationEvents.type).toBe('DECIDED');

    // Library B's staff and the DLPB's Metz-only feed heard nothing of Nilvange.
    await registerAndConfirm(one, libB, { lastName: 'Messin' });
    expect((await forB.next()).data.registrationEvents.request.patron.lastName).toBe('Messin');
    expect((await forDlpbOnB.next()).data.registrationEvents.request.patron.lastName).toBe('Messin');
    expect(forB.pending()).toEqual([]);
    expect(forDlpbOnB.pending()).toEqual([]);

    for (const s of [forA, forB, forDlpb, forDlpbOnB]) s.close();
  });

  it('delivers one event per request when a job escalates many at once (published in packed notifications)', async () => {
    const libraryId = decodeGlobalID(libB).id;
    const now = one.app.clock.now();
    const COUNT = 120; // about 17 KB of events: three notifications
    await one.app.prisma.patron.createMany({
      data: Array.from({ length: COUNT }, (_, i) => ({
        libraryId,
        lastName: `Retard${i}`,
        firstName: 'Lot',
        birthDate: new Date('1980-01-01'),
        email: `retard${i}@example.org`,
        login: `retard.${i}`,
        loginKey: `retard.${i}`,
        passwordHash: 'x',
        newsletter: false,
        identityKey: `retard|${i}`,
        searchText: `retard${i}`,
        status: 'TEMPORARY' as const,
      })),
    });
    const patrons = await one.app.prisma.patron.findMany({ where: { loginKey: { startsWith: 'retard.' } } });
    await one.app.prisma.registrationRequest.createMany({
      data: patrons.map((p) => ({
        kind: 'REGISTRATION' as const,
        state: 'AWAITING_DECISION' as const,
        patronId: p.id,
        libraryId,
        ageGroup: 'ADULT' as const,
        submittedAt: now,
        confirmedAt: now,
        decisionDueAt: new Date(now.getTime() - 1_000),
      })),
    });
    const dlpb = await login(two, 'STAFF', 'dlpb', 'mot de passe DLPB');
    const feed = await subscribeSse(two, EVENTS, { libraryId: libB }, dlpb);

    expect(await escalateOverdueRequests(one.app, now)).toBe(COUNT);

    const names = new Set<string>();
    for (let i = 0; i < COUNT; i++) {
      const event = (await feed.next()).data.registrationEvents;
      expect(event.type).toBe('ESCALATED');
      names.add(event.request.patron.lastName);
    }
    expect(names.size).toBe(COUNT);
    feed.close();
  });

  it('refuses visitors, and library staff asking for another library', async () => {
    const anonymous = await two.gql(EVENTS, {});
    expect(anonymous.errors?.[0]?.extensions?.code).toBe('UNAUTHENTICATED');
    const adminB = await login(two, 'STAFF', '5212346', 'mot de passe B');
    const other = await subscribeSse(two, EVENTS, { libraryId: libA }, adminB);
    const first = await other.next();
    expect(first.errors?.[0]?.extensions?.code).toBe('FORBIDDEN');
    other.close();
  });
});

describe('registrationEvents over WebSocket', () => {
  let http: HttpServer;
  let url: string;
  beforeAll(async () => {
    http = createHttpServer(two.app);
    url = `${(await listenOnLoopback(http.server)).replace('http', 'ws')}/graphql`;
  });
  afterAll(() => http.close(1_000));

  it('streams events with the token in the connection parameters', async () => {
    const adminA = await login(two, 'STAFF', '5212345', 'mot de passe A');
    const client = createClient({ url, webSocketImpl: WebSocket, connectionParams: { authorization: `Bearer ${adminA}` } });
    const received: any[] = [];
    const done = new Promise<void>((resolve, reject) => {
      client.subscribe(
        { query: EVENTS },
        {
          next: (value) => {
            received.push(value);
            resolve();
          },
          error: reject,
          complete: () => {},
        },
      );
    });
    await new Promise((r) => setTimeout(r, 300));
    await registerAndConfirm(one, libA, { lastName: 'Socket' });
    await done;
    expect(received[0].data.registrationEvents).toMatchObject({ type: 'CONFIRMED', request: { patron: { lastName: 'Socket' } } });
    await client.dispose();

    const anonymous = createClient({ url, webSocketImpl: WebSocket });
    const refused = await new Promise<any>((resolve) => {
      anonymous.subscribe({ query: EVENTS }, { next: resolve, error: resolve, complete: () => {} });
    });
    expect(JSON.stringify(refused)).toContain('UNAUTHENTICATED');
    await anonymous.dispose();
  });
});
