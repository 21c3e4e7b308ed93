// The providers' calls run compiled (graphql-jit, src/server/compiled.ts): each call here is sent
// to NuMos as it runs and to the same NuMos with every operation on the standard executor, each
// with its own patron in the same state, and the two answers must be the same, byte for byte once
// the ids that differ by construction are set aside. Granted, replayed, refused in the payload,
// refused at the top level (no key, a revoked key, staff), refused variables, aliases, literals.
import { encodeGlobalID } from '@pothos/plugin-relay';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createYogaServer, type Yoga } from '../../src/server/yoga.js';
import { getSchema } from '../../src/wiring/schema.js';
import { login, seedLibrary, seedPatron, seedStaff, startTestApp, type TestApp } from '../support/harness.js';
import { captureLogs, type LogLine } from '../support/logs.js';

const CONSUME = `mutation Consume($input: ConsumeQuotaInput!) {
  consumeQuota(input: $input) { granted consumptionId replayed balance { period resetsAt lines { category limit used remaining } } errors { code message field } }
}`;
const CANCEL = `mutation Cancel($id: ID!) { cancelConsumption(input: { consumptionId: $id }) { balance { lines { category used remaining } } errors { code message field } } }`;
const BALANCE = `query Balance($id: ID!) { quotaBalance(patronId: $id) { period resetsAt lines { category limit used remaining } } }`;
const CREATE_PROVIDER = `mutation($input: CreateResourceProviderInput!) { createResourceProvider(input: $input) { provider { id } apiKey } }`;

let t: TestApp;
let standard: Yoga;
let logs: LogLine[];
let library: string;
let dlpb: string;
let provider: string;
let filmOnly: string;
let revoked: string;
let seq = 0;

type Answer = { status: number; body: string };

async function send(yoga: Yoga, query: string, variables: Record<string, unknown>, token?: string): Promise<Answer> {
  const response = await yoga.fetch('http://numos.test/graphql', {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...(token ? { authorization: `Bearer ${token}` } : {}) },
    body: JSON.stringify({ query, variables }),
  });
  return { status: response.status, body: await response.text() };
}

async function patron(fields: { status?: 'ACTIVE' | 'EXPIRED'; birthDate?: string } = {}) {
  seq += 1;
  return encodeGlobalID('Patron', (await seedPatron(t.app, { ...fields, login: `parite.${seq}`, libraryId: library })).id);
}

/** What a call answers once the patron's id and the consumptions' ids (new rows, different by construction) are set aside. */
const normalised = ({ status, body }: Answer, patronId: string) => ({
  status,
  body: body.replaceAll(patronId, '<patron>').replace(/"consumptionId":"[^"]+"/g, '"consumptionId":"<id>"'),
});

/**
 * The same steps on both servers, each with a new patron in the same state; every step's answers
 * are compared. A step gets the server, its patron, and what the steps before it answered there.
 */
async function sameAnswers(
  steps: ((yoga: Yoga, patronId: string, before: any[], run: string) => Promise<Answer>)[],
  patronFields?: Parameters<typeof patron>[0],
): Promise<Answer[]> {
  const runs = await Promise.all(
    [t.app.yoga, standard].map(async (yoga) => {
      const patronId = await patron(patronFields);
      // Idempotency keys are the provider's, whatever the patron: each run has its own.
      seq += 1;
      const run = `run-${seq}`;
      const answers: Answer[] = [];
      for (const step of steps) {
        answers.push(
          await step(
            yoga,
            patronId,
            answers.map((answer) => JSON.parse(answer.body)),
            run,
          ),
        );
      }
      return answers.map((answer) => normalised(answer, patronId));
    }),
  );
  expect(runs[0]).toEqual(runs[1]);
  return runs[0]!;
}

/** A consumeQuota step; its idempotency key (unless blank) is made the run's own. */
const consume =
  (input: Record<string, unknown>, token = provider) =>
  (yoga: Yoga, patronId: string, _before: unknown[], run: string) => {
    const key = String(input.idempotencyKey ?? 'cle-1');
    const idempotencyKey = key.trim() ? `${key}-${run}` : key;
    return send(yoga, CONSUME, { input: { patronId, category: 'FILM', resourceId: 'film-1', ...input, idempotencyKey } }, token);
  };

beforeAll(async () => {
  ({ lines: logs } = captureLogs('debug'));
  t = await startTestApp({ now: '2027-03-10T10:00:00Z', env: { NUMOS_THROTTLE: '0' } });
  standard = createYogaServer(t.app, { schema: getSchema(false), compiled: false });
  library = (await seedLibrary(t.app, { code: '5219999', name: 'Médiathèque de Yutz', email: 'bib@yutz.example' })).id;
  await seedStaff(t.app, { login: 'dlpb', password: 'mot de passe DLPB' });
  dlpb = await login(t, 'STAFF', 'dlpb', 'mot de passe DLPB');
  const create = async (name: string, categories: string[]) =>
    (await t.gql(CREATE_PROVIDER, { input: { name, categories } }, { token: dlpb })).data.createResourceProvider;
  provider = (await create('Plateforme PNB', ['UNLIMITED', 'FILM', 'BOOK', 'NEWSPAPER'])).apiKey;
  filmOnly = (await create('Cinéma', ['FILM'])).apiKey;
  const gone = await create('Ancienne plateforme', ['FILM']);
  revoked = gone.apiKey;
  await t.gql(`mutation($id: ID!) { revokeProvider(input: { providerId: $id }) { errors { code } } }`, { id: gone.provider.id }, { token: dlpb });
});
afterAll(() => t?.close());

describe('the providers’ calls, compiled, answer as the standard executor does', () => {
  it('runs them compiled, and nothing else', async () => {
    const patronId = await patron();
    await send(t.app.yoga, CONSUME, { input: { patronId, category: 'BOOK', resourceId: 'livre', idempotencyKey: 'vu' } }, provider);
    await send(t.app.yoga, `query { quotaPolicy { effectiveFrom } }`, {}, dlpb);
    await send(t.app.yoga, `query($id: ID!) { quotaBalance(patronId: $id) { period } quotaPolicy { effectiveFrom } }`, { id: patronId }, dlpb);
    const compiled = logs.filter((line) => line.msg === 'appel des fournisseurs compilé');
    expect(compiled.map((line) => line.operation)).toEqual(['Consume']);
  });

  it('grants, replays, refuses a reused key, then a spent quota', async () => {
    const answers = await sameAnswers([
      consume({}),
      consume({}),
      consume({ resourceId: 'film-2' }),
      consume({ idempotencyKey: 'cle-2' }),
      consume({ idempotencyKey: 'cle-3' }),
      consume({ idempotencyKey: 'cle-4' }),
      consume({ idempotencyKey: 'cle-5' }),
    ]);
    const bodies = answers.map((answer) => JSON.parse(answer.body).data.consumeQuota);
    expect(bodies.map((body) => body.granted)).toEqual([true, true, false, true, true, true, false]);
    expect(bodies[1].replayed).toBe(true);
    expect(bodies[2].errors[0].code).toBe('IDEMPOTENCY_KEY_REUSED');
    expect(bodies[6].errors[0].code).toBe('QUOTA_EXCEEDED');
  });

  it('refuses in the payload: a category the provider may not meter, an age, an account not active, bad input', async () => {
    await sameAnswers([consume({ category: 'BOOK' }, filmOnly)]);
    await sameAnswers([consume({ minimumAge: 16 })], { birthDate: '2015-01-01' });
    await sameAnswers([consume({})], { status: 'EXPIRED' });
    const [blank, long] = await sameAnswers([consume({ idempotencyKey: '   ' }), consume({ resourceId: 'x'.repeat(5_000) })]);
    expect(JSON.parse(blank!.body).data.consumeQuota.errors[0].code).toBe('INVALID_INPUT');
    expect(JSON.parse(long!.body).data.consumeQuota.errors[0].code).toBe('INVALID_INPUT');
    await sameAnswers([consume({ patronId: encodeGlobalID('Patron', '00000000-0000-4000-8000-000000000000') })]);
    await sameAnswers([consume({ patronId: 'pas-un-identifiant' })]);
  });

  it('refuses at the top level: no key, a revoked key, staff', async () => {
    const [none, gone, staff] = await sameAnswers([
      (yoga, patronId, _before, run) => send(yoga, CONSUME, { input: { patronId, category: 'FILM', resourceId: 'f', idempotencyKey: run } }),
      consume({}, revoked),
      consume({}, dlpb),
    ]);
    expect(JSON.parse(none!.body).errors[0]).toMatchObject({
      extensions: { code: 'UNAUTHENTICATED' },
      locations: [{ line: 2, column: 3 }],
      path: ['consumeQuota'],
    });
    expect(JSON.parse(gone!.body).errors[0].extensions.code).toBe('UNAUTHENTICATED');
    expect(JSON.parse(staff!.body).errors[0].extensions.code).toBe('FORBIDDEN');
  });

  it('refuses variables in the words of the standard executor, with their code and field', async () => {
    const [category, missing, typed] = await sameAnswers([
      consume({ category: 'GAME' }),
      (yoga, patronId) => send(yoga, CONSUME, { input: { patronId, category: 'FILM', resourceId: 'f' } }, provider),
      consume({ minimumAge: 'seize' }),
    ]);
    expect(JSON.parse(category!.body).errors[0]).toMatchObject({
      message: 'Valeur inconnue pour ContentCategory.',
      extensions: { code: 'BAD_USER_INPUT', field: 'category' },
    });
    expect(JSON.parse(missing!.body).errors[0].extensions).toMatchObject({ code: 'BAD_USER_INPUT', field: 'input' });
    expect(JSON.parse(typed!.body).errors[0].extensions).toMatchObject({ code: 'BAD_USER_INPUT', field: 'minimumAge' });
  });

  it('cancels, reads balances, and takes aliases, __typename and literal arguments', async () => {
    const literal = (patronId: string, key: string) =>
      `mutation { __typename a: consumeQuota(input: { patronId: "${patronId}", category: BOOK, resourceId: "r", idempotencyKey: "${key}" }) { __typename granted g: granted errors { code } } b: consumeQuota(input: { patronId: "${patronId}", category: BOOK, resourceId: "r", idempotencyKey: "${key}" }) { replayed } }`;
    const consumptionOf = (before: any[]) => before[0].data.consumeQuota.consumptionId;
    const answers = await sameAnswers([
      consume({ category: 'NEWSPAPER', idempotencyKey: 'journal' }),
      (yoga, _patronId, before) => send(yoga, CANCEL, { id: consumptionOf(before) }, provider),
      (yoga, _patronId, before) => send(yoga, CANCEL, { id: consumptionOf(before) }, provider),
      (yoga) => send(yoga, CANCEL, { id: 'pas-un-identifiant' }, provider),
      (yoga, patronId) => send(yoga, BALANCE, { id: patronId }, provider),
      (yoga, patronId, _before, run) => send(yoga, literal(patronId, run), {}, provider),
      (yoga) => send(yoga, BALANCE, { id: encodeGlobalID('Patron', '00000000-0000-4000-8000-000000000000') }, provider),
      (yoga, patronId) => send(yoga, BALANCE, { id: patronId }),
    ]);
    expect(JSON.parse(answers[1]!.body).data.cancelConsumption.errors).toEqual([]);
    expect(JSON.parse(answers[5]!.body).data).toMatchObject({
      __typename: 'Mutation',
      a: { __typename: 'ConsumeQuotaPayload', granted: true },
      b: { replayed: true },
    });
  });
});
