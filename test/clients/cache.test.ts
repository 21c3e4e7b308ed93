// What a front end's normalised cache makes of the answers, with no set-up but the cache itself:
// Apollo Client's InMemoryCache and urql's graphcache. After a mutation, the objects it changed are
// current in the cache without a refetch, because the payload returns them with the ids the queries
// gave them: a response text, the quota limits, a decided request and the queue's counts.
import { ApolloClient, gql, HttpLink, InMemoryCache } from '@apollo/client';
import { encodeGlobalID } from '@pothos/plugin-relay';
import { Client as UrqlClient, fetchExchange } from '@urql/core';
import { cacheExchange } from '@urql/exchange-graphcache';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it, vi } from 'vitest';
import { login, seedTwoLibraries, startTestApp, type TestApp, type TwoLibraries } from '../support/harness.js';
import { registerAndConfirm } from '../support/patrons.js';

let t: TestApp;
let scene: TwoLibraries;
/** Requests that reached the server, by operation name: a cache answer sends none. */
let sent: string[];

beforeAll(async () => {
  t = await startTestApp({ resend: true, workers: true, env: { NUMOS_THROTTLE: '0' } });
  scene = await seedTwoLibraries(t, [
    { code: '5218001', name: 'Médiathèque de Forbach' },
    { code: '5218002', name: 'Bibliothèque de Saint-Avold' },
  ]);
});
afterAll(() => t.close());

/** The server in process, counting what reaches it. */
const fetchThroughApp: typeof fetch = async (input, init) => {
  const url = typeof input === 'string' ? input : input instanceof URL ? input.href : input.url;
  const body = typeof init?.body === 'string' ? (JSON.parse(init.body) as { operationName?: string; query?: string }) : {};
  sent.push(body.operationName ?? new URL(url).searchParams.get('operationName') ?? '?');
  return t.app.yoga.fetch(new Request(url, init));
};

// Neither cache may warn (a type without a key, data lost on replacement…).
let warnings: ReturnType<typeof vi.spyOn>[];
beforeEach(() => {
  sent = [];
  warnings = [vi.spyOn(console, 'warn'), vi.spyOn(console, 'error')];
});
afterEach(() => {
  for (const spy of warnings) {
    expect(spy.mock.calls).toEqual([]);
    spy.mockRestore();
  }
});

async function pendingRequest(library: { gid: string }, overrides: Record<string, unknown> = {}) {
  const { input } = await registerAndConfirm(t, library.gid, overrides);
  const request = await t.app.prisma.registrationRequest.findFirstOrThrow({ where: { patron: { loginKey: input.login.toLowerCase() } } });
  return encodeGlobalID('RegistrationRequest', request.id);
}

const TEMPLATES = `query Templates { responseTemplates { id decision body updatedAt library { id name } } }`;
const SET_TEMPLATE = `mutation SetTemplate($input: SetResponseTemplateInput!) {
  setResponseTemplate(input: $input) { template { id decision body updatedAt library { id name } } errors { code message field } }
}`;
const POLICY = `query Policy { quotaPolicy { id effectiveFrom limits { id category limit } } }`;
const SET_LIMITS = `mutation SetLimits($input: SetQuotaLimitsInput!) {
  setQuotaLimits(input: $input) { policy { id effectiveFrom limits { id category limit } } errors { code message field } }
}`;
const QUEUE = `query Queue {
  pendingRegistrations { totalCount edges { cursor node { id state decision patron { id lastName } } } }
  pendingRegistrationCounts { id registrations renewals escalated all }
}`;
const DECIDE = `mutation Decide($input: DecideInput!) {
  decide(input: $input) {
    request { id state decision }
    pendingRegistrationCounts { id registrations renewals escalated all }
    errors { code message field }
  }
}`;

describe('Apollo Client 4, InMemoryCache without configuration', () => {
  const apollo = (token: string) =>
    new ApolloClient({
      link: new HttpLink({ uri: 'http://numos.test/graphql', fetch: fetchThroughApp, headers: { authorization: `Bearer ${token}` } }),
      cache: new InMemoryCache(),
    });

  it('shows a library’s new response text, then the default again after a reset, without a refetch', async () => {
    const client = apollo(scene.adminA);
    const before = await client.query<any>({ query: gql(TEMPLATES) });
    const accept = before.data.responseTemplates.find((r: { decision: string }) => r.decision === 'ACCEPT');
    expect(accept).toMatchObject({ library: null, updatedAt: null });

    const body = '<p>Bienvenue [prenom] [nom_destinataire] à Forbach !</p>';
    const set = await client.mutate<any>({ mutation: gql(SET_TEMPLATE), variables: { input: { decision: 'ACCEPT', libraryId: scene.libA.gid, body } } });
    expect(set.data.setResponseTemplate.errors).toEqual([]);
    expect(set.data.setResponseTemplate.template.id).toBe(accept.id);

    const cached = await client.query<any>({ query: gql(TEMPLATES), fetchPolicy: 'cache-only' });
    expect(cached.data.responseTemplates.find((r: { decision: string }) => r.decision === 'ACCEPT')).toMatchObject({
      id: accept.id,
      body,
      library: { id: scene.libA.gid, name: 'Médiathèque de Forbach' },
    });

    await client.mutate({ mutation: gql(SET_TEMPLATE), variables: { input: { decision: 'ACCEPT', libraryId: scene.libA.gid, body: '' } } });
    const reset = await client.query<any>({ query: gql(TEMPLATES), fetchPolicy: 'cache-only' });
    expect(reset.data.responseTemplates.find((r: { decision: string }) => r.decision === 'ACCEPT')).toEqual(accept);
    expect(sent).toEqual(['Templates', 'SetTemplate', 'SetTemplate']);
  });

  it('shows new quota limits from this month in the cached policy; limits from a later month leave it', async () => {
    const client = apollo(scene.dlpb);
    const before = await client.query<any>({ query: gql(POLICY) });
    expect(before.data.quotaPolicy.limits.find((l: { category: string }) => l.category === 'FILM').limit).toBe(4);

    const later = await client.mutate<any>({
      mutation: gql(SET_LIMITS),
      variables: { input: { effectiveFrom: '2027-01', limits: [{ category: 'FILM', limit: 9 }] } },
    });
    expect(later.data.setQuotaLimits.policy.id).not.toBe(before.data.quotaPolicy.id);
    expect((await client.query<any>({ query: gql(POLICY), fetchPolicy: 'cache-only' })).data).toEqual(before.data);

    const now = await client.mutate<any>({
      mutation: gql(SET_LIMITS),
      variables: { input: { effectiveFrom: '2026-11', limits: [{ category: 'FILM', limit: 6 }] } },
    });
    expect(now.data.setQuotaLimits.errors).toEqual([]);
    const cached = await client.query<any>({ query: gql(POLICY), fetchPolicy: 'cache-only' });
    expect(cached.data.quotaPolicy).toMatchObject({ id: before.data.quotaPolicy.id, effectiveFrom: '2026-11' });
    expect(cached.data.quotaPolicy.limits.find((l: { category: string }) => l.category === 'FILM').limit).toBe(6);
    expect(sent).toEqual(['Policy', 'SetLimits', 'SetLimits']);
    // Back to the seed's limits for the other tests.
    await client.mutate({ mutation: gql(SET_LIMITS), variables: { input: { effectiveFrom: '2026-11', limits: [{ category: 'FILM', limit: 4 }] } } });
  });

  it('keeps a decided request current and the tabs’ counts with it; the queue drops it from the payload alone', async () => {
    const first = await pendingRequest(scene.libA, { lastName: 'Schmitt' });
    await pendingRequest(scene.libA, { lastName: 'Weber' });
    const client = apollo(scene.adminA);
    const queue = await client.query<any>({ query: gql(QUEUE) });
    expect(queue.data.pendingRegistrationCounts).toMatchObject({ registrations: 2, all: 2 });
    expect(queue.data.pendingRegistrations.edges.map((e: any) => e.node.id)).toContain(first);

    await client.mutate<any>({
      mutation: gql(DECIDE),
      variables: { input: { requestId: first, decision: 'REFUSE' } },
      // What a queue screen does with the answer: the request no longer awaits a decision.
      update(cache, { data }) {
        const decided = data?.decide.request;
        if (!decided) return;
        cache.modify({
          fields: {
            pendingRegistrations(existing, { readField }) {
              const edges = existing.edges.filter((edge: { node: any }) => readField('id', edge.node) !== decided.id);
              return { ...existing, edges, totalCount: existing.totalCount - (existing.edges.length - edges.length) };
            },
          },
        });
      },
    });

    const cached = await client.query<any>({ query: gql(QUEUE), fetchPolicy: 'cache-only' });
    expect(cached.data.pendingRegistrationCounts).toMatchObject({ registrations: 1, all: 1 });
    expect(cached.data.pendingRegistrations.totalCount).toBe(1);
    expect(cached.data.pendingRegistrations.edges.map((e: any) => e.node.patron.lastName)).toEqual(['Weber']);
    expect((client.cache.extract() as Record<string, unknown>)[`RegistrationRequest:${first}`]).toMatchObject({ state: 'REFUSED', decision: 'REFUSE' });
    expect(sent).toEqual(['Queue', 'Decide']);
  });

  it('keys the statistics, their registration figures, a balance and its lines by id', async () => {
    const client = apollo(scene.dlpb);
    await client.query({
      query: gql(`query Stats { stats(filter: { from: "2026-11-01", to: "2026-11-30" }) { id registrations { id submitted } licencePool { id used } } }`),
    });
    const keys = Object.keys(client.cache.extract() as object);
    expect(keys.filter((k) => /^(Stats|RegistrationStats):/.test(k))).toHaveLength(2);

    const { input } = await registerAndConfirm(t, scene.libB.gid, { lastName: 'Solde' });
    const patron = apollo(await login(t, 'PATRON', input.login, input.password));
    await patron.query({ query: gql(`query Balance { viewer { ... on Patron { id quotaBalance { id period lines { id category remaining } } } } }`) });
    const lines = Object.keys(patron.cache.extract() as object).filter((k) => k.startsWith('QuotaLine:'));
    expect(lines).toHaveLength(4);
  });
});

describe('urql with graphcache (its defaults: `id` is the key)', () => {
  /** Types without an id: payloads, connections and their edges, values (README, "Caches"). */
  const noKey = () => null;
  const urql = (token: string) =>
    new UrqlClient({
      url: 'http://numos.test/graphql',
      fetch: fetchThroughApp,
      fetchOptions: { headers: { authorization: `Bearer ${token}` } },
      exchanges: [
        cacheExchange({
          keys: Object.fromEntries(
            [
              'ResponseTemplatePayload',
              'QuotaPolicyPayload',
              'DecidePayload',
              'UserError',
              'RegistrationRequestConnection',
              'RegistrationRequestEdge',
              'PageInfo',
            ].map((type) => [type, noKey]),
          ),
        }),
        fetchExchange,
      ],
    });

  it('updates a cached response text, the quota policy and a decided request from the mutations’ answers', async () => {
    const staff = urql(scene.adminB);
    const templates = await staff.query(TEMPLATES, {}).toPromise();
    expect(templates.error).toBeUndefined();
    const body = '<p>Bonjour [prenom], votre demande est refusée.</p>';
    const set = await staff.mutation(SET_TEMPLATE, { input: { decision: 'REFUSE', libraryId: scene.libB.gid, body } }).toPromise();
    expect(set.data.setResponseTemplate.errors).toEqual([]);
    const cachedTemplates = await staff.query(TEMPLATES, {}, { requestPolicy: 'cache-only' }).toPromise();
    expect(cachedTemplates.data.responseTemplates.find((r: { decision: string }) => r.decision === 'REFUSE').body).toBe(body);

    const request = await pendingRequest(scene.libB, { lastName: 'Muller' });
    const queue = await staff.query(QUEUE, {}).toPromise();
    const waiting = queue.data.pendingRegistrationCounts.all;
    expect(waiting).toBeGreaterThan(0);
    const decided = await staff.mutation(DECIDE, { input: { requestId: request, decision: 'ACCEPT' } }).toPromise();
    expect(decided.data.decide.errors).toEqual([]);
    const cachedQueue = await staff.query(QUEUE, {}, { requestPolicy: 'cache-only' }).toPromise();
    expect(cachedQueue.data.pendingRegistrationCounts).toMatchObject({ registrations: waiting - 1, all: waiting - 1 });
    expect(cachedQueue.data.pendingRegistrations.edges.find((e: any) => e.node.id === request).node).toMatchObject({ state: 'ACCEPTED' });

    const dlpb = urql(scene.dlpb);
    await dlpb.query(POLICY, {}).toPromise();
    await dlpb.mutation(SET_LIMITS, { input: { effectiveFrom: '2026-11', limits: [{ category: 'BOOK', limit: 8 }] } }).toPromise();
    const policy = await dlpb.query(POLICY, {}, { requestPolicy: 'cache-only' }).toPromise();
    expect(policy.data.quotaPolicy.limits.find((l: { category: string }) => l.category === 'BOOK').limit).toBe(8);
    expect(sent).toEqual(['Templates', 'SetTemplate', 'Queue', 'Decide', 'Policy', 'SetLimits']);
  });
});
