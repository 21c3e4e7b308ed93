// Every list's cursors belong to it: a cursor of one list given to another is BAD_USER_INPUT
// naming the argument (never "Unexpected error.", never a page of the wrong list), for every pair
// of connections, forwards and backwards; `first` with `last` is refused the same way.
import { encodeGlobalID } from '@pothos/plugin-relay';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { login, seedLibrary, seedStaff, startTestApp, type TestApp } from '../support/harness.js';
import { registerAndConfirm } from '../support/patrons.js';

let t: TestApp;
let dlpb: string;

/** Each connection of the schema, with a query that pages it. */
const LISTS = {
  patrons: `query($first: Int, $last: Int, $after: String, $before: String) { list: patrons(first: $first, last: $last, after: $after, before: $before) { edges { cursor } pageInfo { startCursor endCursor } } }`,
  staffAccounts: `query($first: Int, $last: Int, $after: String, $before: String) { list: staffAccounts(first: $first, last: $last, after: $after, before: $before) { edges { cursor } pageInfo { startCursor endCursor } } }`,
  pendingRegistrations: `query($first: Int, $last: Int, $after: String, $before: String) { list: pendingRegistrations(first: $first, last: $last, after: $after, before: $before) { edges { cursor } pageInfo { startCursor endCursor } } }`,
  auditLog: `query($first: Int, $last: Int, $after: String, $before: String) { list: auditLog(first: $first, last: $last, after: $after, before: $before) { edges { cursor } pageInfo { startCursor endCursor } } }`,
  // The same connection type as pendingRegistrations: a list of its own all the same.
  registrationRequests: `query($first: Int, $last: Int, $after: String, $before: String) { list: registrationRequests(first: $first, last: $last, after: $after, before: $before) { edges { cursor } pageInfo { startCursor endCursor } } }`,
};
type List = keyof typeof LISTS;
const cursors = {} as Record<List, string>;

beforeAll(async () => {
  t = await startTestApp({ resend: true, workers: true, env: { NUMOS_THROTTLE: '0' } });
  const library = await seedLibrary(t.app, { code: '5216001', name: 'Médiathèque de Metz' });
  await seedStaff(t.app, { login: 'dlpb', password: 'mot de passe DLPB', role: 'DLPB_AGENT' });
  dlpb = await login(t, 'STAFF', 'dlpb', 'mot de passe DLPB');
  const libraryId = encodeGlobalID('Library', library.id);
  // Two rows at least in each list: patrons awaiting a decision (patrons, pending requests), two staff accounts, audit entries.
  await registerAndConfirm(t, libraryId);
  await registerAndConfirm(t, libraryId);
  // Two decided requests (registrationRequests); their decisions are two more audit entries.
  for (const _ of [1, 2]) {
    const { input } = await registerAndConfirm(t, libraryId);
    const request = await t.app.prisma.registrationRequest.findFirstOrThrow({ where: { patron: { loginKey: input.login.toLowerCase() } } });
    const { data } = await t.gql(
      `mutation($input: DecideInput!) { decide(input: $input) { errors { code } } }`,
      { input: { requestId: encodeGlobalID('RegistrationRequest', request.id), decision: 'REFUSE' } },
      { token: dlpb },
    );
    expect(data.decide.errors).toEqual([]);
  }
  for (const name of ['agent.un', 'agent.deux']) {
    const { data } = await t.gql(
      `mutation($input: CreateStaffAccountInput!) { createStaffAccount(input: $input) { errors { code } } }`,
      { input: { login: name, displayName: name, email: `${name}@example.org`, role: 'DLPB_AGENT' } },
      { token: dlpb },
    );
    expect(data.createStaffAccount.errors).toEqual([]);
  }
  for (const list of Object.keys(LISTS) as List[]) {
    const { data, errors } = await t.gql(LISTS[list], { first: 1 }, { token: dlpb });
    expect(errors, list).toBeUndefined();
    cursors[list] = data.list.pageInfo.endCursor;
    expect(cursors[list], list).toEqual(expect.any(String));
  }
});
afterAll(() => t.close());

describe('cursors', () => {
  it('page each list forwards and backwards with its own cursors', async () => {
    for (const list of Object.keys(LISTS) as List[]) {
      const next = await t.gql(LISTS[list], { first: 1, after: cursors[list] }, { token: dlpb });
      expect(next.errors, list).toBeUndefined();
      expect(next.data.list.edges).toHaveLength(1);
      const back = await t.gql(LISTS[list], { last: 1, before: next.data.list.pageInfo.startCursor }, { token: dlpb });
      expect(back.errors, list).toBeUndefined();
      expect(back.data.list.edges.map((e: { cursor: string }) => e.cursor)).toEqual([cursors[list]]);
    }
  });

  const pairs = (Object.keys(LISTS) as List[]).flatMap((from) => (Object.keys(LISTS) as List[]).filter((to) => to !== from).map((to) => [from, to] as const));
  it.each(pairs)('refuses a cursor of %s given to %s, after and before', async (from, to) => {
    for (const [argument, variables] of [
      ['after', { first: 1, after: cursors[from] }],
      ['before', { last: 1, before: cursors[from] }],
    ] as const) {
      const { data, errors } = await t.gql(LISTS[to], variables, { token: dlpb });
      expect(data).toBeNull();
      expect(errors).toEqual([
        expect.objectContaining({
          message: 'Curseur de pagination invalide : il ne vient pas de cette liste.',
          extensions: { code: 'BAD_USER_INPUT', field: argument },
        }),
      ]);
    }
  });

  it('refuses a cursor that is not one, and `first` with `last`', async () => {
    for (const after of ['pas-un-curseur', Buffer.from('GPC:S:00000000-0000-4000-8000-000000000000').toString('base64')]) {
      const { errors } = await t.gql(LISTS.patrons, { first: 1, after }, { token: dlpb });
      expect(errors?.[0]?.extensions).toEqual({ code: 'BAD_USER_INPUT', field: 'after' });
    }
    const both = await t.gql(LISTS.auditLog, { first: 1, last: 1 }, { token: dlpb });
    expect(both.errors).toEqual([
      expect.objectContaining({ message: 'Indiquez `first` ou `last`, pas les deux.', extensions: { code: 'BAD_USER_INPUT', field: 'last' } }),
    ]);
  });
});
