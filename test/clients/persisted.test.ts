// Persisted (trusted) documents as a front end built with `npm run codegen` sends them: the codegen
// of the sample operations writes a manifest, the server runs with NUMOS_TRUSTED_DOCUMENTS set to
// it, and each sample is sent by its hash (`documentId`, or Apollo's persisted-query extension).
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { encodeGlobalID } from '@pothos/plugin-relay';
import { createClient } from 'graphql-ws';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { createHttpServer, type HttpServer } from '../../src/server/http.js';
import { createResourceProvider } from '../../src/modules/providers/service.js';
import { seedLibrary, seedStaff, startTestApp, type TestApp } from '../support/harness.js';
import { registerInput } from '../support/patrons.js';

let t: TestApp;
let http: HttpServer;
let url: string;
/** Operation name → its hash ("sha256:<hex>"), from the manifest codegen wrote. */
const hashes = new Map<string, string>();
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
  const out = `${mkdtempSync(join(tmpdir(), 'numos-codegen-'))}/`;
  const codegen = spawnSync(join('node_modules', '.bin', 'graphql-codegen'), ['--config', 'codegen.ts'], {
    env: { ...process.env, CODEGEN_OUTPUT: out },
    encoding: 'utf8',
  });
  if (codegen.status !== 0) throw new Error(`graphql-codegen : ${codegen.stderr}${codegen.stdout}`);
  const manifestFile = join(out, 'persisted-documents.json');
  for (const [hash, document] of Object.entries(JSON.parse(readFileSync(manifestFile, 'utf8')) as Record<string, string>)) {
    hashes.set(/^(?:query|mutation|subscription) (\w+)/.exec(document)![1]!, hash);
  }
  t = await startTestApp({ env: { NUMOS_TRUSTED_DOCUMENTS: manifestFile, NUMOS_THROTTLE: '0' } });
  http = createHttpServer(t.app);
  await new Promise<void>((resolve) => http.server.listen(0, '127.0.0.1', resolve));
  url = `http://127.0.0.1:${(http.server.address() as AddressInfo).port}/graphql`;
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
