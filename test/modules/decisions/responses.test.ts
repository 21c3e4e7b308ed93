// A decider's own text follows the rules of the library's texts: the same placeholders, readable
// through the API, and the same refusal for anything else.
import { encodeGlobalID } from '@pothos/plugin-relay';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { seedTwoLibraries, startTestApp, type TestApp } from '../../support/harness.js';
import { allDelivered, registerAndConfirm } from '../../support/patrons.js';

const DECIDE = `mutation($input: DecideInput!) {
  decide(input: $input) { request { state responseMessage } errors { code message field } }
}`;
const SET_TEMPLATE = `mutation($input: SetResponseTemplateInput!) {
  setResponseTemplate(input: $input) { template { body } errors { code message field } }
}`;

let t: TestApp;
let libA: { id: string; gid: string };
let adminA: string;
let dlpb: string;

beforeAll(async () => {
  t = await startTestApp({ resend: true, workers: true, env: { NUMOS_THROTTLE: '0' } });
  ({ libA, adminA, dlpb } = await seedTwoLibraries(t, [
    { code: '5217001', name: 'Médiathèque de Sarrebourg' },
    { code: '5217002', name: 'Bibliothèque de Boulay' },
  ]));
});
afterAll(() => t.close());

async function pendingRequest(overrides: Record<string, unknown> = {}) {
  const { input } = await registerAndConfirm(t, libA.gid, overrides);
  const request = await t.app.prisma.registrationRequest.findFirstOrThrow({ where: { patron: { loginKey: input.login.toLowerCase() } } });
  return { input, id: encodeGlobalID('RegistrationRequest', request.id) };
}

describe('responsePlaceholders', () => {
  it('lists the four placeholders with their descriptions, to staff only', async () => {
    const { data } = await t.gql(`{ responsePlaceholders { name description } }`, {}, { token: adminA });
    expect(data.responsePlaceholders.map((p: { name: string }) => p.name)).toEqual(['[prenom]', '[nom_destinataire]', '[actif-jusquau]', '[identifiant]']);
    for (const placeholder of data.responsePlaceholders) expect(placeholder.description).toMatch(/^[A-ZÀ-Ý].{10,}\.$/u);
    expect((await t.gql(`{ responsePlaceholders { name } }`)).errors?.[0]?.extensions?.code).toBe('UNAUTHENTICATED');
  });
});

describe('decide with an edited message', () => {
  it('refuses an unknown placeholder exactly as setResponseTemplate does, and decides nothing', async () => {
    const { input, id } = await pendingRequest({ firstName: 'Éloïse' });
    const text = '<p>Bonjour [prenom], [inconnu] ! Votre [civilite] compte est actif.</p>';
    const template = await t.gql(SET_TEMPLATE, { input: { decision: 'ACCEPT', libraryId: libA.gid, body: text } }, { token: adminA });
    const decided = await t.gql(DECIDE, { input: { requestId: id, decision: 'ACCEPT', message: text } }, { token: adminA });
    expect(decided.data.decide).toEqual({
      request: null,
      errors: [{ ...template.data.setResponseTemplate.errors[0], field: 'message' }],
    });
    expect(decided.data.decide.errors[0]).toMatchObject({ code: 'INVALID_INPUT', message: expect.stringContaining('[inconnu], [civilite]') });

    // Nothing happened: the request still awaits a decision and the patron got no answer.
    const { data } = await t.gql(`query($id: ID!) { registrationRequest(id: $id) { state } }`, { id }, { token: adminA });
    expect(data.registrationRequest.state).toBe('AWAITING_DECISION');
    await allDelivered(t);
    expect(t.resend!.to(input.email).map((e) => e.subject)).toEqual(['Confirmez votre inscription à NuMos']);

    // The four placeholders pass, filled for the patron.
    const ok = await t.gql(
      DECIDE,
      { input: { requestId: id, decision: 'ACCEPT', message: '<p>Bonjour [prenom] [nom_destinataire] ([identifiant]), actif jusqu’au [actif-jusquau].</p>' } },
      { token: dlpb },
    );
    expect(ok.data.decide.errors).toEqual([]);
    expect(ok.data.decide.request.responseMessage).toBe(`<p>Bonjour Éloïse Martin (${input.login}), actif jusqu’au 28 novembre 2027.</p>`);
  });

  it('refuses a message left empty by the sanitiser, as a template', async () => {
    const { id } = await pendingRequest();
    const decided = await t.gql(DECIDE, { input: { requestId: id, decision: 'REFUSE', message: '<script>alert(1)</script><img src="x">' } }, { token: adminA });
    expect(decided.data.decide).toEqual({
      request: null,
      errors: [{ code: 'INVALID_INPUT', message: 'Le texte est vide une fois les éléments non autorisés retirés.', field: 'message' }],
    });
  });

  it('keeps a value that looks like a placeholder as it is', async () => {
    const { id } = await pendingRequest({ firstName: '[identifiant]' });
    const decided = await t.gql(DECIDE, { input: { requestId: id, decision: 'REFUSE', message: '<p>Bonjour [prenom].</p>' } }, { token: adminA });
    expect(decided.data.decide.request.responseMessage).toBe('<p>Bonjour [identifiant].</p>');
  });
});
