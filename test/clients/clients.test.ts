// The API as a front-end team meets it on its first day: Apollo Client, urql, graphql-request and
// Relay, each with its default setup, against the server over real HTTP. The normalised caches get
// what `npm run codegen` writes for them (Apollo's InMemoryCache its possibleTypes, urql's graphcache
// its schema): the Viewer union and the Node interface are then matched exactly, with no warning.
import { spawnSync } from 'node:child_process';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { ApolloClient, CombinedGraphQLErrors, gql, HttpLink, InMemoryCache } from '@apollo/client';
import { encodeGlobalID } from '@pothos/plugin-relay';
import { Client as UrqlClient, cacheExchange, fetchExchange } from '@urql/core';
import { cacheExchange as graphcacheExchange } from '@urql/exchange-graphcache';
import { ClientError, GraphQLClient } from 'graphql-request';
import type { IntrospectionQuery } from 'graphql';
import { Environment, fetchQuery, Network, RecordSource, Store, commitMutation, type ConcreteRequest } from 'relay-runtime';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { createHttpServer, type HttpServer } from '../../src/server/http.js';
import { generatedPossibleTypes, generatedUrqlSchema, type PossibleTypes, runCodegen } from '../support/codegen.js';
import { login, seedLibrary, seedStaff, startTestApp, type TestApp, listenOnLoopback } from '../support/harness.js';
import { registerAndConfirm } from '../support/patrons.js';

const RELAY_DIR = join(import.meta.dirname, 'relay');

let t: TestApp;
let http: HttpServer;
let url: string;
let libraryId: string;
let patron: { login: string; password: string; firstName: string };
let staffId: string;
let possibleTypes: PossibleTypes;
let urqlSchema: IntrospectionQuery;

beforeAll(async () => {
  // codegen's output is not committed: generated meanwhile, as a front end's build does.
  const codegen = runCodegen();
  t = await startTestApp({ resend: true, workers: true, env: { NUMOS_THROTTLE: '0' } });
  http = createHttpServer(t.app);
  url = `${await listenOnLoopback(http.server)}/graphql`;
  const library = await seedLibrary(t.app, { code: '5212345', name: 'Médiathèque de Nilvange', town: 'Nilvange' });
  libraryId = encodeGlobalID('Library', library.id);
  staffId = encodeGlobalID(
    'StaffAccount',
    (await seedStaff(t.app, { login: '5212345', password: 'mot de passe A', role: 'LIBRARY_ADMIN', libraryId: library.id })).id,
  );
  const { input } = await registerAndConfirm(t, libraryId, { firstName: 'Inès' });
  patron = { login: input.login, password: input.password, firstName: 'Inès' };
  // Relay's artifacts, as `relay-compiler` writes them from the operations of the front end.
  mkdirSync(join(RELAY_DIR, '__generated__'), { recursive: true });
  const compiler = join(process.cwd(), 'node_modules', '.bin', 'relay-compiler');
  const compiled = spawnSync(compiler, ['relay.config.json'], { cwd: RELAY_DIR, encoding: 'utf8' });
  if (compiled.status !== 0) throw new Error(`relay-compiler : ${compiled.stderr}${compiled.stdout}`);
  possibleTypes = await generatedPossibleTypes(await codegen);
  urqlSchema = await generatedUrqlSchema(await codegen);
}, 60_000);

afterAll(async () => {
  await http.close(1_000);
  await t.close();
});

const LOGIN = `mutation Login($input: LoginInput!) {
  login(input: $input) {
    token
    viewer { __typename ... on Patron { id firstName account { id status } } ... on StaffAccount { id login } }
    errors { code message field }
  }
}`;

describe('Apollo Client (HttpLink, InMemoryCache with codegen’s possibleTypes, default error policy)', () => {
  const apollo = (token?: string) =>
    new ApolloClient({
      link: new HttpLink({ uri: url, headers: token ? { authorization: `Bearer ${token}` } : {} }),
      cache: new InMemoryCache({ possibleTypes }),
    });

  it('logs a patron in and reads the viewer in the same answer', async () => {
    const { data } = await apollo().mutate<any>({
      mutation: gql(LOGIN),
      variables: { input: { realm: 'PATRON', login: patron.login, password: patron.password } },
    });
    expect(data.login.errors).toEqual([]);
    expect(data.login.token).toMatch(/^nms_/);
    expect(data.login.viewer).toMatchObject({ __typename: 'Patron', firstName: patron.firstName, account: { status: 'TEMPORARY' } });
  });

  it('normalises the patron, its account and its balance by their ids', async () => {
    const token = await login(t, 'PATRON', patron.login, patron.password);
    const client = apollo(token);
    await client.query({ query: gql(`{ viewer { ... on Patron { id account { id status } quotaBalance { id period lines { category remaining } } } } }`) });
    const keys = Object.keys(client.cache.extract() as object);
    expect(keys.some((k) => k.startsWith('Patron:'))).toBe(true);
    expect(keys.some((k) => k.startsWith('Account:'))).toBe(true);
    expect(keys.some((k) => k.startsWith('QuotaBalance:'))).toBe(true);
  });

  it('refuses a staff account to a visitor and to a patron', async () => {
    const query = gql(`query($id: ID!) { node(id: $id) { ... on StaffAccount { login email displayName } } }`);
    for (const token of [undefined, await login(t, 'PATRON', patron.login, patron.password)]) {
      const error = await apollo(token)
        .query({ query, variables: { id: staffId } })
        .then(
          () => null,
          (e) => e,
        );
      expect(CombinedGraphQLErrors.is(error)).toBe(true);
      expect(['UNAUTHENTICATED', 'FORBIDDEN']).toContain((error as CombinedGraphQLErrors).errors[0]!.extensions!.code);
    }
    const staff = await login(t, 'STAFF', '5212345', 'mot de passe A');
    const own = await apollo(staff).query<any>({ query, variables: { id: staffId } });
    expect(own.data.node.login).toBe('5212345');
  });
});

describe('urql (its defaults: queries over GET within the URL limit)', () => {
  it('runs queries over GET and mutations over POST', async () => {
    const client = new UrqlClient({ url, exchanges: [cacheExchange, fetchExchange] });
    const libraries = await client.query(`query($s: String) { libraries(search: $s) { code } }`, { s: 'nilvange' }).toPromise();
    expect(libraries.error).toBeUndefined();
    expect(libraries.data.libraries).toEqual([{ __typename: 'Library', code: '5212345' }]);
    const logged = await client.mutation(LOGIN, { input: { realm: 'PATRON', login: patron.login, password: patron.password } }).toPromise();
    expect(logged.data.login.viewer.firstName).toBe(patron.firstName);
  });

  it('normalises with graphcache given codegen’s schema: the viewer union is matched, not guessed', async () => {
    const warn = vi.spyOn(console, 'warn');
    try {
      const token = await login(t, 'PATRON', patron.login, patron.password);
      const client = new UrqlClient({
        url,
        exchanges: [graphcacheExchange({ schema: urqlSchema }), fetchExchange],
        fetchOptions: { headers: { authorization: `Bearer ${token}` } },
      });
      const query = `{ viewer { __typename ... on Patron { id firstName account { id status } } ... on StaffAccount { id login } } }`;
      const fetched = await client.query(query, {}).toPromise();
      expect(fetched.error).toBeUndefined();
      expect(fetched.data.viewer).toMatchObject({ __typename: 'Patron', firstName: patron.firstName, account: { status: 'TEMPORARY' } });
      // Read back from the normalised cache alone: the fragments on the union's members match.
      const cached = await client.query(query, {}, { requestPolicy: 'cache-only' }).toPromise();
      expect(cached.data).toEqual(fetched.data);
      expect(warn).not.toHaveBeenCalled();
    } finally {
      warn.mockRestore();
    }
  });

  it('still refuses a cross-site form post (text/plain), which needs no preflight', async () => {
    const response = await fetch(url, {
      method: 'POST',
      headers: { 'content-type': 'text/plain' },
      body: JSON.stringify({ query: 'mutation { logout { ok } }' }),
    });
    expect(response.status).toBe(403);
  });
});

describe('graphql-request (throws on any error)', () => {
  let client: GraphQLClient;
  beforeAll(() => {
    client = new GraphQLClient(url);
  });

  it('logs a patron in with the viewer', async () => {
    const data = await client.request<any>(LOGIN, { input: { realm: 'PATRON', login: patron.login, password: patron.password } });
    expect(data.login.viewer).toMatchObject({ __typename: 'Patron', firstName: patron.firstName });
  });

  it('answers null for an ID of nothing, and a coded error for one that is not an ID', async () => {
    const gone = await client.request<any>(`query($id: ID!) { node(id: $id) { id } }`, {
      id: encodeGlobalID('Patron', '00000000-0000-4000-8000-000000000000'),
    });
    expect(gone.node).toBeNull();
    expect((await client.request<any>(`query($id: ID!) { node(id: $id) { id } }`, { id: encodeGlobalID('Nothing', 'x') })).node).toBeNull();
    const malformed = await client.request(`query($id: ID!) { node(id: $id) { id } }`, { id: 'pas un identifiant' }).catch((e) => e);
    expect(malformed).toBeInstanceOf(ClientError);
    expect((malformed as ClientError).response.errors![0]!.extensions).toMatchObject({ code: 'BAD_USER_INPUT' });
  });

  it.each([
    ['too many aliases', `{ ${Array.from({ length: 20 }, (_, i) => `a${i}: libraries { code }`).join(' ')} }`, {}, 'QUERY_TOO_COMPLEX', undefined],
    ['too deep', `{ viewer { ... on Patron { ${'requests { patron { '.repeat(7)} id ${'} } '.repeat(7)} } } }`, {}, 'QUERY_TOO_COMPLEX', undefined],
    [
      'an invalid e-mail in an input',
      `mutation($i: ResendConfirmationInput!) { resendConfirmation(input: $i) { ok } }`,
      { i: { email: 'pas-un-email' } },
      'BAD_USER_INPUT',
      'email',
    ],
    [
      'an unknown enum value',
      `mutation($i: LoginInput!) { login(input: $i) { token } }`,
      { i: { realm: 'STAF', login: 'a', password: 'b' } },
      'BAD_USER_INPUT',
      'realm',
    ],
    ['an unknown field', `{ libraries { cod } }`, {}, 'GRAPHQL_VALIDATION_FAILED', undefined],
  ])('gives a stable code to %s', async (_label, query, variables, code, field) => {
    const error = (await client.request(query, variables).catch((e) => e)) as ClientError;
    expect(error).toBeInstanceOf(ClientError);
    const [first] = error.response.errors!;
    expect(first!.extensions).toMatchObject({ code, ...(field && { field }) });
  });

  it('serves a resource provider with its API key: a unit consumed, replayed, the balance of its own categories, an unknown category refused on its field', async () => {
    await seedStaff(t.app, { login: 'dlpb', password: 'mot de passe DLPB' });
    const dlpb = await login(t, 'STAFF', 'dlpb', 'mot de passe DLPB');
    const created = await t.gql(
      `mutation { createResourceProvider(input: { name: "Presse", categories: [UNLIMITED, NEWSPAPER] }) { apiKey } }`,
      {},
      { token: dlpb },
    );
    const provider = new GraphQLClient(url, { headers: { authorization: `Bearer ${created.data.createResourceProvider.apiKey}` } });
    const row = await t.app.prisma.patron.findFirstOrThrow({ where: { login: patron.login } });
    const patronId = encodeGlobalID('Patron', row.id);
    const consume = `mutation Consume($i: ConsumeQuotaInput!) { consumeQuota(input: $i) { granted replayed consumptionId errors { code field } } }`;
    const input = { patronId, category: 'UNLIMITED', resourceId: 'journal-du-jour', idempotencyKey: 'client-1' };
    const first = await provider.request<any>(consume, { i: input });
    expect(first.consumeQuota).toMatchObject({ granted: true, replayed: false, errors: [] });
    expect((await provider.request<any>(consume, { i: input })).consumeQuota).toEqual({ ...first.consumeQuota, replayed: true });
    const balance = await provider.request<any>(`query($id: ID!) { quotaBalance(patronId: $id) { lines { category } } }`, { id: patronId });
    expect(balance.quotaBalance.lines.map((l: { category: string }) => l.category)).toEqual(['NEWSPAPER']);
    const refused = (await provider.request(consume, { i: { ...input, category: 'JEU' } }).catch((e) => e)) as ClientError;
    expect(refused).toBeInstanceOf(ClientError);
    expect(refused.response.errors![0]).toMatchObject({
      message: 'Valeur inconnue pour ContentCategory.',
      extensions: { code: 'BAD_USER_INPUT', field: 'category' },
    });
  });

  it('gives BAD_USER_INPUT to an invalid cursor', async () => {
    const token = await login(t, 'STAFF', '5212345', 'mot de passe A');
    const staff = new GraphQLClient(url, { headers: { authorization: `Bearer ${token}` } });
    const error = (await staff.request(`{ pendingRegistrations(after: "zzz") { totalCount } }`).catch((e) => e)) as ClientError;
    expect(error.response.errors![0]!.extensions).toMatchObject({ code: 'BAD_USER_INPUT' });
  });
});

describe('Relay (relay-runtime with relay-compiler artifacts)', () => {
  const environment = (token?: string) =>
    new Environment({
      network: Network.create(async (operation, variables) => {
        const response = await fetch(url, {
          method: 'POST',
          headers: { 'content-type': 'application/json', ...(token ? { authorization: `Bearer ${token}` } : {}) },
          body: JSON.stringify({ query: operation.text, variables }),
        });
        return response.json();
      }),
      store: new Store(new RecordSource()),
    });
  const artifact = async (name: string) => (await import(join(RELAY_DIR, '__generated__', `${name}.graphql.ts`))).default as ConcreteRequest;

  it('refetches a node by its global ID, and gets null for one that is gone', async () => {
    const query = await artifact('operationsLibraryNodeQuery');
    const found = await fetchQuery<any>(environment(), query, { id: libraryId }).toPromise();
    expect(found.node).toMatchObject({ __typename: 'Library', code: '5212345' });
    const gone = await fetchQuery<any>(environment(), query, { id: encodeGlobalID('Library', '00000000-0000-4000-8000-000000000000') }).toPromise();
    expect(gone.node).toBeNull();
  });

  it('pages through a connection with first/after', async () => {
    await registerAndConfirm(t, libraryId, { lastName: 'Deuxième' });
    const token = await login(t, 'STAFF', '5212345', 'mot de passe A');
    const query = await artifact('operationsPendingPageQuery');
    const first = await fetchQuery<any>(environment(token), query, { first: 1 }).toPromise();
    expect(first.pendingRegistrations.totalCount).toBeGreaterThanOrEqual(2);
    expect(first.pendingRegistrations.pageInfo.hasNextPage).toBe(true);
    const next = await fetchQuery<any>(environment(token), query, { first: 1, after: first.pendingRegistrations.pageInfo.endCursor }).toPromise();
    expect(next.pendingRegistrations.edges[0].node.id).not.toBe(first.pendingRegistrations.edges[0].node.id);
  });

  it('commits the login mutation and stores the viewer', async () => {
    const mutation = await artifact('operationsLoginMutation');
    const env = environment();
    const response = await new Promise<any>((resolve, reject) =>
      commitMutation(env, {
        mutation,
        variables: { input: { realm: 'PATRON', login: patron.login, password: patron.password } },
        onCompleted: resolve,
        onError: reject,
      }),
    );
    expect(response.login.viewer.firstName).toBe(patron.firstName);
    expect(env.getStore().getSource().get(response.login.viewer.id)).toMatchObject({ firstName: patron.firstName });
  });
});
