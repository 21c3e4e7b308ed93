// Persisted (trusted) documents as a front end built with `npm run codegen` sends them: the codegen
// of the sample operations writes a manifest, the server runs with NUMOS_TRUSTED_DOCUMENTS set to
// it, and each sample is sent by its hash (`documentId` with or without "sha256:", or Apollo's
// persisted-query extension; by POST and by GET). Apollo Client 4 with its PersistedQueryLink and
// default cache keeps normalised entries; a second instance without trust runs Apollo's
// PersistedQueryNotFound protocol.
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { ApolloClient, ApolloLink, CombinedGraphQLErrors, gql, HttpLink, InMemoryCache } from '@apollo/client';
import { PersistedQueryLink } from '@apollo/client/link/persisted-queries';
import { encodeGlobalID } from '@pothos/plugin-relay';
import type { DocumentNode } from 'graphql';
import { createClient } from 'graphql-ws';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { createHttpServer, type HttpServer } from '../../src/server/http.js';
import { createResourceProvider } from '../../src/modules/providers/service.js';
import { generatedPossibleTypes, type PossibleTypes, runCodegen } from '../support/codegen.js';
import { seedLibrary, seedStaff, startTestApp, type TestApp, listenOnLoopback } from '../support/harness.js';
import { registerInput } from '../support/patrons.js';

let t: TestApp;
let http: HttpServer;
let url: string;
/** Operation name → its hash ("sha256:<hex>"), from the manifest codegen wrote. */
const hashes = new Map<string, string>();
let possibleTypes: PossibleTypes;
let manifestFile: string;
/** codegen's typed documents (LibrariesDocument…), each with its hash in `__meta__`. */
let documents: Record<string, DocumentNode>;
let libraryId: string;
let staff: string;
let provider: string;

async function post(body: object, token?: string) {
  const response = await fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...(token ? { authorization: `Bearer ${token}` } : {}) },
    body: JSON.stringify(body),
  });
  return { status: response.status, body: (await response.json()) as { data?: any; errors?: { message: string; extensions?: { code?: string } }[] } };
}

beforeAll(async () => {
  // codegen's output folder: its typed documents (graphql.ts), manifest and possible-types.ts.
  const generated = await runCodegen();
  possibleTypes = await generatedPossibleTypes(generated);
  documents = (await import(join(generated, 'graphql.ts'))) as Record<string, DocumentNode>;
  manifestFile = join(generated, 'persisted-documents.json');
  for (const [hash, document] of Object.entries(JSON.parse(readFileSync(manifestFile, 'utf8')) as Record<string, string>)) {
    hashes.set(/^(?:query|mutation|subscription) (\w+)/.exec(document)![1]!, hash);
  }
  t = await startTestApp({ env: { NUMOS_TRUSTED_DOCUMENTS: manifestFile, NUMOS_THROTTLE: '0' } });
  http = createHttpServer(t.app);
  url = `${await listenOnLoopback(http.server)}/graphql`;
  const library = await seedLibrary(t.app, { code: '5212345', name: 'Nilvange' });
  libraryId = encodeGlobalID('Library', library.id);
  await seedStaff(t.app, { login: 'dlpb', password: 'mot de passe DLPB' });
  const logged = await post({ documentId: hashes.get('Login'), variables: { input: { realm: 'STAFF', login: 'dlpb', password: 'mot de passe DLPB' } } });
  staff = logged.body.data.login.token;
  // Staff are not exempt by default: a document of the staff's own is refused; the provider is made by the service.
  const created = await post({ query: 'mutation { createResourceProvider(input: { name: "Presse", categories: [NEWSPAPER] }) { apiKey } }' }, staff);
  expect(created.body.errors?.[0]?.extensions?.code).toBe('PERSISTED_QUERY_ONLY');
  const dlpb = await t.app.prisma.staffAccount.findFirstOrThrow();
  const made = await createResourceProvider(
    t.app,
    { kind: 'staff', sessionId: 'test', expiresAt: new Date(8.64e15), staffId: dlpb.id, role: 'DLPB_AGENT', libraryId: null },
    {
      name: 'Presse',
      categories: ['NEWSPAPER'],
    },
  );
  provider = made.apiKey!;
}, 120_000);

afterAll(async () => {
  await http.close(1_000);
  await t.close();
});

describe('trusted documents (NUMOS_TRUSTED_DOCUMENTS)', () => {
  it('runs each sample operation of codegen/ by its hash', async () => {
    const patron = registerInput(libraryId, { firstName: 'Hachée' });
    const samples: Record<string, { variables?: object; token?: () => string; expect: (data: any) => void }> = {
      Libraries: { variables: { search: 'nilvange' }, expect: (d) => expect(d.libraries[0].code).toBe('5212345') },
      Login: { variables: { input: { realm: 'STAFF', login: 'dlpb', password: 'mot de passe DLPB' } }, expect: (d) => expect(d.login.token).toMatch(/^nms_/) },
      Register: { variables: { input: patron }, expect: (d) => expect(d.register.ok).toBe(true) },
      Confirm: { variables: { token: 'inconnu' }, expect: (d) => expect(d.confirm.errors[0].code).toBe('INVALID_TOKEN') },
      MyAccount: { token: () => staff, expect: (d) => expect(d.viewer.__typename).toBe('StaffAccount') },
      RequestRenewal: { variables: { token: 'inconnu' }, expect: (d) => expect(d.requestRenewal.errors[0].code).toBe('INVALID_TOKEN') },
      PendingRegistrations: { variables: { first: 5 }, token: () => staff, expect: (d) => expect(d.pendingRegistrations.totalCount).toBe(0) },
      Decide: {
        variables: { input: { requestId: encodeGlobalID('RegistrationRequest', '00000000-0000-4000-8000-000000000000'), decision: 'ACCEPT' } },
        token: () => staff,
        expect: (d) => expect(d.decide.errors[0].code).toBe('NOT_FOUND'),
      },
      ConsumeQuota: {
        variables: {
          input: {
            patronId: encodeGlobalID('Patron', '00000000-0000-4000-8000-000000000000'),
            category: 'NEWSPAPER',
            resourceId: 'journal',
            idempotencyKey: 'k1',
          },
        },
        token: () => provider,
        expect: (d) => expect(d.consumeQuota.errors[0].code).toBe('NOT_FOUND'),
      },
      QuotaBalance: { variables: { patronId: encodeGlobalID('Patron', '00000000-0000-4000-8000-000000000000') }, token: () => staff, expect: () => undefined },
    };
    const sent: string[] = [];
    for (const [name, sample] of Object.entries(samples)) {
      const hash = hashes.get(name);
      expect(hash, name).toBeDefined();
      const { body } = await post({ documentId: hash, variables: sample.variables }, sample.token?.());
      if (name === 'QuotaBalance')
        expect(body.errors?.[0]?.extensions?.code).toBe('FORBIDDEN'); // ran: nobody's balance
      else {
        expect(body.errors, name).toBeUndefined();
        sample.expect(body.data);
      }
      sent.push(name);
    }
    // Every query and mutation of the manifest was sent; its subscription goes over WebSocket below.
    expect(sent.sort()).toEqual([...hashes.keys()].filter((n) => n !== 'RegistrationEvents').sort());
  });

  it('takes Apollo’s persisted-query extension too, and answers PersistedQueryNotFound to an unknown hash', async () => {
    const hash = hashes.get('Libraries')!.replace(/^sha256:/, '');
    const apollo = await post({ variables: { search: 'nilvange' }, extensions: { persistedQuery: { version: 1, sha256Hash: hash } } });
    expect(apollo.body.data.libraries[0].code).toBe('5212345');
    const unknown = await post({ extensions: { persistedQuery: { version: 1, sha256Hash: 'f'.repeat(64) } } });
    expect(unknown.body.errors?.[0]).toMatchObject({ message: 'PersistedQueryNotFound', extensions: { code: 'PERSISTED_QUERY_NOT_FOUND' } });
  });

  it('refuses any other document, but from resource providers (exempt by default)', async () => {
    const visitor = await post({ query: '{ libraries { code } }' });
    expect(visitor.status).toBe(400);
    expect(visitor.body.errors?.[0]?.extensions?.code).toBe('PERSISTED_QUERY_ONLY');
    const providerCall = await post(
      {
        query: `query($id: ID!) { quotaBalance(patronId: $id) { period } }`,
        variables: { id: encodeGlobalID('Patron', '00000000-0000-4000-8000-000000000000') },
      },
      provider,
    );
    expect(providerCall.body.errors?.[0]?.extensions?.code).toBe('FORBIDDEN'); // it ran
  });

  it('subscribes by hash over WebSocket, and refuses another document there too', async () => {
    const client = createClient({ url: url.replace('http', 'ws'), webSocketImpl: WebSocket, connectionParams: { authorization: `Bearer ${staff}` } });
    const answer = (payload: { query: string; extensions?: Record<string, unknown> }) =>
      new Promise<unknown>((resolve) => {
        const timer = setTimeout(() => resolve('started'), 500);
        client.subscribe(payload, {
          next: () => {},
          error: (e) => {
            clearTimeout(timer);
            resolve(e);
          },
          complete: () => {},
        });
      });
    const hash = hashes.get('RegistrationEvents')!.replace(/^sha256:/, '');
    expect(await answer({ query: '', extensions: { persistedQuery: { version: 1, sha256Hash: hash } } })).toBe('started');
    const refused = (await answer({ query: 'subscription { registrationEvents { type } }' })) as { extensions?: { code?: string } }[];
    expect(refused[0]!.extensions?.code).toBe('PERSISTED_QUERY_ONLY');
    await client.dispose();
  });
});

/** A request as it left a client, and the answer it got. */
interface Sent {
  method: string;
  url: URL;
  body: { query?: string; documentId?: string; extensions?: { persistedQuery?: { sha256Hash: string } } } | undefined;
  answer: { data?: any; errors?: { message: string; extensions?: { code?: string } }[] };
}

/** A fetch that notes what goes through it (by default the real one, over HTTP). */
function recording(sent: Sent[], target: typeof fetch = fetch): typeof fetch {
  return async (input, init) => {
    const response = await target(input, init);
    sent.push({
      method: init?.method ?? 'GET',
      url: new URL(String(input)),
      body: typeof init?.body === 'string' ? JSON.parse(init.body) : undefined,
      answer: await response.clone().json(),
    });
    return response;
  };
}

/** What each request carried: the document's text, or only its hash. */
const carried = (sent: Sent[]) => sent.map((request) => ((request.body?.query ?? request.url.searchParams.get('query')) ? 'text' : 'hash'));

/** The hash the client preset embeds in each document it writes ("sha256:<hex>"). */
const codegenHash = (document: DocumentNode) => (document as DocumentNode & { __meta__: { hash: string } }).__meta__.hash;

/**
 * Apollo Client 4 as a front end sets it up: PersistedQueryLink in front of HttpLink, the default
 * InMemoryCache given codegen's possibleTypes. `hash`: codegen's own (as its documentation shows
 * it: `generateHash` returns `__meta__.hash`), the same without its prefix, or Apollo's SHA-256 of
 * the printed document (automatic persisted queries: only a server that accepts any document
 * knows those).
 */
function apollo(options: { hash: 'codegen' | 'bare' | 'apq'; token?: string; get?: boolean; uri?: string; fetch?: typeof fetch }) {
  const persisted = new PersistedQueryLink({
    ...(options.hash === 'apq'
      ? { sha256: (text: string) => createHash('sha256').update(text).digest('hex') }
      : { generateHash: (document: DocumentNode) => (options.hash === 'bare' ? codegenHash(document).replace(/^sha256:/, '') : codegenHash(document)) }),
    useGETForHashedQueries: options.get ?? false,
  });
  const http = new HttpLink({ uri: options.uri ?? url, headers: options.token ? { authorization: `Bearer ${options.token}` } : {}, fetch: options.fetch });
  return new ApolloClient({ link: ApolloLink.from([persisted, http]), cache: new InMemoryCache({ possibleTypes }) });
}

describe('Apollo Client 4 with codegen’s documents (PersistedQueryLink, InMemoryCache), trusted mode', () => {
  it('walks a patron through by hashes only, and its cache holds normalised entries', async () => {
    const sent: Sent[] = [];
    const visitor = apollo({ hash: 'codegen', fetch: recording(sent) });
    const input = registerInput(libraryId, { firstName: 'Apolline' });
    const registered = await visitor.mutate<any>({ mutation: documents.RegisterDocument!, variables: { input } });
    expect(registered.data.register.ok).toBe(true);
    // The confirmation link, from the development mailbox as an end-to-end test reads it.
    const { emails } = (await (await fetch(new URL('/dev/mailbox.json', url))).json()) as { emails: { to: string[]; links: string[] }[] };
    const link = emails.find((email) => email.to.includes(input.email))!.links.find((l) => l.includes('/confirmer?token='))!;
    const confirmed = await visitor.mutate<any>({ mutation: documents.ConfirmDocument!, variables: { token: new URL(link).searchParams.get('token') } });
    expect(confirmed.data.confirm.account.status).toBe('TEMPORARY');
    const logged = await visitor.mutate<any>({
      mutation: documents.LoginDocument!,
      variables: { input: { realm: 'PATRON', login: input.login, password: input.password } },
    });
    expect(logged.data.login.viewer).toMatchObject({ __typename: 'Patron', firstName: 'Apolline' });

    const patron = apollo({ hash: 'codegen', token: logged.data.login.token, fetch: recording(sent) });
    const { data } = await patron.query<any>({ query: documents.MyAccountDocument! });
    await patron.query({ query: documents.LibrariesDocument!, variables: { search: 'nilvange' } });
    // Every operation went by its hash alone, "sha256:<hex>" as codegen wrote it, and ran.
    expect(carried(sent)).toEqual(['hash', 'hash', 'hash', 'hash', 'hash']);
    expect(sent.every((request) => request.method === 'POST' && request.body?.extensions?.persistedQuery?.sha256Hash.startsWith('sha256:'))).toBe(true);
    expect(sent.flatMap((request) => request.answer.errors ?? [])).toEqual([]);

    const cache = patron.cache.extract() as Record<string, any>;
    const patronKey = `Patron:${data.viewer.id}`;
    // One entry per object with an id (without __typename in the manifest's documents: Patron and ROOT_QUERY only).
    expect(Object.keys(cache).sort()).toEqual(
      [
        patronKey,
        `Account:${data.viewer.account.id}`,
        `Library:${libraryId}`,
        `QuotaBalance:${data.viewer.quotaBalance.id}`,
        `RegistrationRequest:${data.viewer.requests[0].id}`,
        'ROOT_QUERY',
      ].sort(),
    );
    expect(cache.ROOT_QUERY.viewer).toEqual({ __ref: patronKey });
    expect(cache.ROOT_QUERY['libraries({"search":"nilvange"})']).toEqual([{ __ref: `Library:${libraryId}` }]);
    expect(cache[patronKey]).toMatchObject({ __typename: 'Patron', firstName: 'Apolline', library: { __ref: `Library:${libraryId}` } });
    // The account the visitor confirmed is normalised in its cache too.
    expect(visitor.cache.extract()).toHaveProperty([`Account:${data.viewer.account.id}`, 'status'], 'TEMPORARY');
  });

  it('takes `documentId` by POST and by GET, with or without "sha256:"', async () => {
    const hash = hashes.get('Libraries')!;
    const variables = encodeURIComponent(JSON.stringify({ search: 'nilvange' }));
    for (const id of [hash, hash.replace(/^sha256:/, '')]) {
      const posted = await post({ documentId: id, variables: { search: 'nilvange' } });
      expect(posted.body.data.libraries[0]).toEqual({ __typename: 'Library', id: libraryId, code: '5212345', name: 'Nilvange', town: null });
      const got = await fetch(`${url}?documentId=${encodeURIComponent(id)}&variables=${variables}`);
      expect(got.status).toBe(200);
      expect(((await got.json()) as any).data.libraries[0].code).toBe('5212345');
    }
    // GET stays for queries; an id it does not know is not found.
    const mutation = await fetch(`${url}?documentId=${encodeURIComponent(hashes.get('Confirm')!)}&variables=${encodeURIComponent('{"token":"x"}')}`);
    expect(mutation.status).toBe(405);
    const unknown = await fetch(`${url}?documentId=sha256:${'0'.repeat(64)}`);
    expect(((await unknown.json()) as any).errors[0].extensions.code).toBe('PERSISTED_QUERY_NOT_FOUND');
  });

  it('answers Apollo’s GET (useGETForHashedQueries), the bare hash in `extensions`', async () => {
    const sent: Sent[] = [];
    const client = apollo({ hash: 'bare', get: true, fetch: recording(sent) });
    const { data } = await client.query<any>({ query: documents.LibrariesDocument!, variables: { search: 'nilvange' } });
    expect(data.libraries).toEqual([{ __typename: 'Library', id: libraryId, code: '5212345', name: 'Nilvange', town: null }]);
    expect(sent).toHaveLength(1);
    expect(sent[0]!.method).toBe('GET');
    expect(carried(sent)).toEqual(['hash']);
    expect(JSON.parse(sent[0]!.url.searchParams.get('extensions')!).persistedQuery.sha256Hash).toBe(hashes.get('Libraries')!.replace(/^sha256:/, ''));
    expect(Object.keys(client.cache.extract() as object)).toContain(`Library:${libraryId}`);
  });

  it('refuses a document not in the manifest, after Apollo’s retry with its text', async () => {
    const sent: Sent[] = [];
    const client = apollo({ hash: 'apq', fetch: recording(sent) });
    const error = await client.query({ query: gql`query Other { libraries { code } }` }).then(
      () => null,
      (e: unknown) => e,
    );
    expect(CombinedGraphQLErrors.is(error)).toBe(true);
    expect((error as CombinedGraphQLErrors).errors[0]!.extensions?.code).toBe('PERSISTED_QUERY_ONLY');
    // The unknown hash first (PersistedQueryNotFound), then the text, refused.
    expect(carried(sent)).toEqual(['hash', 'text']);
    expect(sent[0]!.answer.errors?.[0]).toMatchObject({ message: 'PersistedQueryNotFound', extensions: { code: 'PERSISTED_QUERY_NOT_FOUND' } });
  });
});

describe('Apollo’s persisted-query protocol without trust (NUMOS_PERSISTED_DOCUMENTS)', () => {
  let open: TestApp;
  const uri = 'http://numos.test/graphql';
  beforeAll(async () => {
    open = await startTestApp({ database: t.database, env: { NUMOS_PERSISTED_DOCUMENTS: manifestFile, NUMOS_THROTTLE: '0' } });
  });
  afterAll(async () => {
    await open.close();
  });

  it('answers PersistedQueryNotFound to a hash it does not know, then runs the text Apollo sends with it', async () => {
    const sent: Sent[] = [];
    const inProcess: typeof fetch = async (input, init) => open.app.yoga.fetch(String(input), init ?? {});
    const client = apollo({ hash: 'apq', uri, fetch: recording(sent, inProcess) });
    const { data } = await client.query<any>({ query: gql`query Codes { libraries { id code } }` });
    expect(data.libraries).toEqual([{ __typename: 'Library', id: libraryId, code: '5212345' }]);
    expect(carried(sent)).toEqual(['hash', 'text']);
    expect(sent[0]!.answer.errors?.[0]).toMatchObject({ message: 'PersistedQueryNotFound', extensions: { code: 'PERSISTED_QUERY_NOT_FOUND' } });
    // codegen's documents go by their hash alone, as in trusted mode.
    const again: Sent[] = [];
    const codegen = apollo({ hash: 'codegen', uri, fetch: recording(again, inProcess) });
    await codegen.query({ query: documents.LibrariesDocument!, variables: { search: 'nilvange' } });
    expect(carried(again)).toEqual(['hash']);
    expect(again[0]!.answer.errors).toBeUndefined();
  });
});
