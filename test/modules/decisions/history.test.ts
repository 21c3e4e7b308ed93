// The back office's screens beside the queue: the requests already decided (registrationRequests),
// the counts of the queue's tabs (pendingRegistrationCounts), both scoped as the queue is.
import { encodeGlobalID } from '@pothos/plugin-relay';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { escalateOverdueRequests } from '../../../src/modules/decisions/jobs.js';
import { login, seedTwoLibraries, startTestApp, type TestApp } from '../../support/harness.js';
import { registerAndConfirm } from '../../support/patrons.js';

const HISTORY = `query($f: RegistrationRequestsFilter, $o: RegistrationRequestOrder, $first: Int, $after: String, $last: Int, $before: String) {
  registrationRequests(filter: $f, orderBy: $o, first: $first, after: $after, last: $last, before: $before) {
    totalCount
    pageInfo { hasNextPage hasPreviousPage startCursor endCursor }
    edges { cursor node { id state decision decidedAt escalated decidedOnBehalfOfLibrary decidedBy { login } patron { lastName } library { code } } }
  }
}`;
const COUNTS = `query($libraryId: ID) { pendingRegistrationCounts(libraryId: $libraryId) { id registrations renewals escalated all } }`;
const DECIDE = `mutation($input: DecideInput!) { decide(input: $input) { request { state } errors { code message field } } }`;

const HOUR = 3_600_000;
const T0 = new Date('2026-11-28T09:00:00Z');
const at = (hours: number) => new Date(T0.getTime() + hours * HOUR).toISOString();

let t: TestApp;
let libA: { id: string; gid: string };
let libB: { id: string; gid: string };
let adminA: string;
let adminB: string;
let dlpb: string;
const staffIds: Record<string, string> = {};

let patronLogin: { login: string; password: string };

async function pending(library: { gid: string }, lastName: string) {
  const { input } = await registerAndConfirm(t, library.gid, { lastName });
  patronLogin ??= { login: input.login, password: input.password };
  const request = await t.app.prisma.registrationRequest.findFirstOrThrow({ where: { patron: { loginKey: input.login.toLowerCase() } } });
  return encodeGlobalID('RegistrationRequest', request.id);
}

async function decide(requestId: string, decision: 'ACCEPT' | 'REFUSE', token: string) {
  const { data } = await t.gql(DECIDE, { input: { requestId, decision } }, { token });
  expect(data.decide.errors).toEqual([]);
}

const names = (result: { data?: any }) => result.data.registrationRequests.edges.map((e: { node: { patron: { lastName: string } } }) => e.node.patron.lastName);

beforeAll(async () => {
  t = await startTestApp({ resend: true, workers: true, now: T0.toISOString(), env: { NUMOS_THROTTLE: '0' } });
  ({ libA, libB, adminA, adminB, dlpb } = await seedTwoLibraries(t, [
    { code: '5219001', name: 'Médiathèque de Hayange' },
    { code: '5219002', name: 'Bibliothèque de Bitche' },
  ]));
  for (const staff of await t.app.prisma.staffAccount.findMany()) staffIds[staff.login] = encodeGlobalID('StaffAccount', staff.id);
  const [schmitt, klein, becker, muller, zimmer] = [
    await pending(libA, 'Schmitt'),
    await pending(libA, 'Klein'),
    await pending(libA, 'Becker'),
    await pending(libB, 'Müller'),
    await pending(libB, 'Zimmer'),
  ];
  await pending(libB, 'Roth');
  t.clock.set(at(1));
  await decide(schmitt!, 'ACCEPT', adminA);
  t.clock.set(at(2));
  await decide(klein!, 'REFUSE', adminA);
  t.clock.set(at(3));
  await decide(becker!, 'REFUSE', dlpb);
  t.clock.set(at(4));
  await decide(muller!, 'ACCEPT', adminB);
  // Six days on: Zimmer and Roth escalate; the DLPB refuses Zimmer (sessions are renewed: staff ones last 12 hours).
  t.clock.set(at(6 * 24));
  expect(await escalateOverdueRequests(t.app, t.clock.now())).toBe(2);
  [adminA, adminB, dlpb] = [
    await login(t, 'STAFF', '5219001', 'mot de passe A'),
    await login(t, 'STAFF', '5219002', 'mot de passe B'),
    await login(t, 'STAFF', 'dlpb', 'mot de passe DLPB'),
  ];
  t.clock.set(at(6 * 24 + 1));
  await decide(zimmer!, 'REFUSE', dlpb);
  await pending(libA, 'Weber');
});
afterAll(() => t.close());

describe('registrationRequests', () => {
  it('lists a library’s decided requests to its staff, newest decision first; the DLPB every library’s', async () => {
    const own = await t.gql(HISTORY, {}, { token: adminA });
    expect(own.errors).toBeUndefined();
    expect(own.data.registrationRequests.totalCount).toBe(3);
    expect(own.data.registrationRequests.edges.map((e: any) => e.node)).toEqual([
      expect.objectContaining({
        state: 'REFUSED',
        decision: 'REFUSE',
        decidedAt: at(3),
        decidedOnBehalfOfLibrary: true,
        decidedBy: null,
        patron: { lastName: 'Becker' },
      }),
      expect.objectContaining({ state: 'REFUSED', decidedAt: at(2), decidedBy: { login: '5219001' }, patron: { lastName: 'Klein' } }),
      expect.objectContaining({ state: 'ACCEPTED', decision: 'ACCEPT', decidedAt: at(1), patron: { lastName: 'Schmitt' } }),
    ]);
    expect(names(await t.gql(HISTORY, {}, { token: adminB }))).toEqual(['Zimmer', 'Müller']);
    const all = await t.gql(HISTORY, {}, { token: dlpb });
    expect(names(all)).toEqual(['Zimmer', 'Müller', 'Becker', 'Klein', 'Schmitt']);
    expect(names(await t.gql(HISTORY, { f: { libraryId: libB.gid } }, { token: dlpb }))).toEqual(['Zimmer', 'Müller']);
  });

  it('never shows a library admin another library’s requests', async () => {
    const other = await t.gql(HISTORY, { f: { libraryId: libB.gid } }, { token: adminA });
    expect(other.data).toBeNull();
    expect(other.errors?.[0]?.extensions?.code).toBe('FORBIDDEN');
    // Searching or filtering by another library's decider finds nothing of theirs either.
    expect((await t.gql(HISTORY, { f: { search: 'Müller' } }, { token: adminA })).data.registrationRequests.totalCount).toBe(0);
    expect((await t.gql(HISTORY, { f: { decidedById: staffIds['5219002'] } }, { token: adminA })).data.registrationRequests.totalCount).toBe(0);
    // Read one by one, another library's request is FORBIDDEN as well.
    const ids = (await t.gql(HISTORY, {}, { token: adminB })).data.registrationRequests.edges.map((e: any) => e.node.id);
    const read = await t.gql(`query($id: ID!) { registrationRequest(id: $id) { id } }`, { id: ids[0] }, { token: adminA });
    expect(read.errors?.[0]?.extensions?.code).toBe('FORBIDDEN');
  });

  it('refuses patrons and visitors', async () => {
    const patron = await login(t, 'PATRON', patronLogin.login, patronLogin.password);
    expect((await t.gql(HISTORY, {}, { token: patron })).errors?.[0]?.extensions?.code).toBe('FORBIDDEN');
    expect((await t.gql(HISTORY, {})).errors?.[0]?.extensions?.code).toBe('UNAUTHENTICATED');
    expect((await t.gql(COUNTS, {}, { token: patron })).errors?.[0]?.extensions?.code).toBe('FORBIDDEN');
  });

  it('filters by decision, decider, dates, kind, escalation and the queue’s search', async () => {
    const filtered = async (f: Record<string, unknown>, token = dlpb) => names(await t.gql(HISTORY, { f }, { token }));
    expect(await filtered({ decision: 'ACCEPT' })).toEqual(['Müller', 'Schmitt']);
    expect(await filtered({ decision: 'REFUSE' }, adminA)).toEqual(['Becker', 'Klein']);
    expect(await filtered({ decidedById: staffIds['5219001'] })).toEqual(['Klein', 'Schmitt']);
    expect(await filtered({ decidedById: staffIds.dlpb })).toEqual(['Zimmer', 'Becker']);
    // A library's staff do not learn who decided in their place.
    expect(await filtered({ decidedById: staffIds.dlpb }, adminA)).toEqual([]);
    expect(await filtered({ decidedFrom: at(2), decidedTo: at(4) })).toEqual(['Becker', 'Klein']);
    expect(await filtered({ decidedFrom: at(4) })).toEqual(['Zimmer', 'Müller']);
    expect(await filtered({ kind: 'RENEWAL' })).toEqual([]);
    expect(await filtered({ kind: 'REGISTRATION', escalated: true })).toEqual(['Zimmer']);
    // Case- and accent-insensitive, partial, each word.
    expect(await filtered({ search: 'MULL' })).toEqual(['Müller']);
    expect(await filtered({ search: 'kle camille' })).toEqual(['Klein']);
    expect(await filtered({ search: 'weber' })).toEqual([]);
    const unknownStaff = encodeGlobalID('StaffAccount', '00000000-0000-4000-8000-000000000000');
    expect(await filtered({ decidedById: unknownStaff })).toEqual([]);
  });

  it('pages forwards and backwards with totalCount on every page, in any order asked', async () => {
    const first = await t.gql(HISTORY, { first: 2, o: { field: 'LAST_NAME', direction: 'ASC' } }, { token: dlpb });
    expect(names(first)).toEqual(['Becker', 'Klein']);
    expect(first.data.registrationRequests).toMatchObject({ totalCount: 5, pageInfo: { hasNextPage: true } });
    const second = await t.gql(
      HISTORY,
      { first: 2, after: first.data.registrationRequests.pageInfo.endCursor, o: { field: 'LAST_NAME', direction: 'ASC' } },
      { token: dlpb },
    );
    expect(names(second)).toEqual(['Müller', 'Schmitt']);
    expect(second.data.registrationRequests.totalCount).toBe(5);
    const third = await t.gql(
      HISTORY,
      { first: 2, after: second.data.registrationRequests.pageInfo.endCursor, o: { field: 'LAST_NAME', direction: 'ASC' } },
      { token: dlpb },
    );
    expect(names(third)).toEqual(['Zimmer']);
    expect(third.data.registrationRequests.pageInfo.hasNextPage).toBe(false);
    const back = await t.gql(
      HISTORY,
      { last: 2, before: third.data.registrationRequests.pageInfo.startCursor, o: { field: 'LAST_NAME', direction: 'ASC' } },
      { token: dlpb },
    );
    expect(names(back)).toEqual(['Müller', 'Schmitt']);
    const oldest = await t.gql(HISTORY, { first: 1, o: { field: 'DECIDED_AT', direction: 'ASC' } }, { token: dlpb });
    expect(names(oldest)).toEqual(['Schmitt']);
  });

  it('refuses a cursor of the queue: each list’s cursors are its own', async () => {
    const queue = await t.gql(`{ pendingRegistrations(first: 1) { pageInfo { endCursor } } }`, {}, { token: dlpb });
    const cursor = queue.data.pendingRegistrations.pageInfo.endCursor;
    const { data, errors } = await t.gql(HISTORY, { first: 1, after: cursor }, { token: dlpb });
    expect(data).toBeNull();
    expect(errors?.[0]?.extensions).toEqual({ code: 'BAD_USER_INPUT', field: 'after' });
  });
});

describe('pendingRegistrationCounts', () => {
  it('counts the queue’s tabs for a library’s staff, for the DLPB, and for one library the DLPB picks', async () => {
    const own = await t.gql(COUNTS, {}, { token: adminA });
    expect(own.data.pendingRegistrationCounts).toEqual({
      id: encodeGlobalID('PendingRegistrationCounts', libA.id),
      registrations: 1,
      renewals: 0,
      escalated: 0,
      all: 1,
    });
    expect((await t.gql(COUNTS, {}, { token: adminB })).data.pendingRegistrationCounts).toMatchObject({ registrations: 1, escalated: 1, all: 1 });
    const all = await t.gql(COUNTS, {}, { token: dlpb });
    expect(all.data.pendingRegistrationCounts).toEqual({
      id: encodeGlobalID('PendingRegistrationCounts', 'all'),
      registrations: 2,
      renewals: 0,
      escalated: 1,
      all: 2,
    });
    const picked = await t.gql(COUNTS, { libraryId: libB.gid }, { token: dlpb });
    expect(picked.data.pendingRegistrationCounts).toEqual({ ...(await t.gql(COUNTS, {}, { token: adminB })).data.pendingRegistrationCounts });
    // Each count is what the queue's tab lists.
    const tab = await t.gql(`{ pendingRegistrations(filter: { escalated: true }) { totalCount } }`, {}, { token: dlpb });
    expect(tab.data.pendingRegistrations.totalCount).toBe(1);
  });

  it('never counts another library for a library admin', async () => {
    const other = await t.gql(COUNTS, { libraryId: libB.gid }, { token: adminA });
    expect(other.data).toBeNull();
    expect(other.errors?.[0]?.extensions?.code).toBe('FORBIDDEN');
  });
});
