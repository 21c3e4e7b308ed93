// Library staff on patrons: the list, corrections, the end of an account, response texts.
import { encodeGlobalID } from '@pothos/plugin-relay';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { login, seedTwoLibraries, startTestApp, type TestApp } from '../../support/harness.js';
import { registerAndConfirm, waitForEmail } from '../../support/patrons.js';

const PATRONS = `query($filter: PatronsFilter, $orderBy: PatronOrder, $first: Int, $after: String) {
  patrons(filter: $filter, orderBy: $orderBy, first: $first, after: $after) {
    totalCount pageInfo { hasNextPage endCursor } edges { cursor node { id lastName firstName registeredAt library { code } account { status } } }
  }
}`;
const CORRECT = `mutation($input: CorrectPatronInput!) { correctPatron(input: $input) { patron { lastName firstName birthDate } errors { code message field } } }`;
const END = `mutation($input: EndAccessInput!) { endAccess(input: $input) { patron { account { status activeUntil } } errors { code message field } } }`;
const DECIDE = `mutation($input: DecideInput!) { decide(input: $input) { request { state responseMessage } errors { code field } } }`;
const SET_TEMPLATE = `mutation($input: SetResponseTemplateInput!) {
  setResponseTemplate(input: $input) { template { decision body updatedAt library { code } } errors { code message field } }
}`;

let t: TestApp;
let libA: { id: string; gid: string };
let libB: { id: string; gid: string };
let adminA: string;
let adminB: string;
let dlpb: string;

async function patron(library: { gid: string }, overrides: Record<string, unknown> = {}) {
  const { input } = await registerAndConfirm(t, library.gid, overrides);
  const row = await t.app.prisma.patron.findUniqueOrThrow({ where: { loginKey: input.login.toLowerCase() } });
  const request = await t.app.prisma.registrationRequest.findFirstOrThrow({ where: { patronId: row.id } });
  return { input, id: row.id, gid: encodeGlobalID('Patron', row.id), requestGid: encodeGlobalID('RegistrationRequest', request.id) };
}

async function accept(requestGid: string, token = adminA) {
  const { data } = await t.gql(DECIDE, { input: { requestId: requestGid, decision: 'ACCEPT' } }, { token });
  expect(data.decide.errors).toEqual([]);
  return data.decide.request;
}

beforeAll(async () => {
  t = await startTestApp({ resend: true, workers: true, env: { NUMOS_THROTTLE: '0' } });
  ({ libA, libB, adminA, adminB, dlpb } = await seedTwoLibraries(t, [
    { code: '5214001', name: 'Médiathèque de Thionville' },
    { code: '5214002', name: 'Bibliothèque de Sarreguemines' },
  ]));
});
afterAll(() => t.close());

describe('patrons', () => {
  it('lists every account of the library, searched, filtered, ordered and paged; the DLPB sees all', async () => {
    const names = ['Zimmermann', 'Åberg', 'Müller', 'Lefèvre', 'Becker'];
    for (const lastName of names) {
      await patron(libA, { lastName, firstName: 'Liste' });
      t.clock.advance(60_000);
    }
    const other = await patron(libB, { lastName: 'Autre', firstName: 'Liste' });
    await accept(other.requestGid, dlpb);

    const page1 = await t.gql(PATRONS, { filter: { search: 'liste' }, first: 2 }, { token: adminA });
    expect(page1.data.patrons.totalCount).toBe(5);
    expect(page1.data.patrons.edges.map((e: any) => e.node.lastName)).toEqual(['Åberg', 'Becker']);
    const page2 = await t.gql(PATRONS, { filter: { search: 'liste' }, first: 2, after: page1.data.patrons.pageInfo.endCursor }, { token: adminA });
    expect(page2.data.patrons.edges.map((e: any) => e.node.lastName)).toEqual(['Lefèvre', 'Müller']);
    // Backwards too: the last page, then the one before it.
    const LAST = `query($before: String) { patrons(filter: { search: "liste" }, last: 2, before: $before) { pageInfo { startCursor } edges { node { lastName } } } }`;
    const last = await t.gql(LAST, {}, { token: adminA });
    expect(last.data.patrons.edges.map((e: any) => e.node.lastName)).toEqual(['Müller', 'Zimmermann']);
    const before = await t.gql(LAST, { before: last.data.patrons.pageInfo.startCursor }, { token: adminA });
    expect(before.data.patrons.edges.map((e: any) => e.node.lastName)).toEqual(['Becker', 'Lefèvre']);
    // Accent- and case-insensitive, partial.
    const accents = await t.gql(PATRONS, { filter: { search: 'MULL' } }, { token: adminA });
    expect(accents.data.patrons.edges.map((e: any) => e.node.lastName)).toEqual(['Müller']);
    const newest = await t.gql(PATRONS, { filter: { search: 'liste' }, orderBy: { field: 'REGISTERED_AT', direction: 'DESC' }, first: 1 }, { token: adminA });
    expect(newest.data.patrons.edges[0].node.lastName).toBe('Becker');

    const all = await t.gql(PATRONS, { filter: { search: 'liste' } }, { token: dlpb });
    expect(all.data.patrons.totalCount).toBe(6);
    const active = await t.gql(PATRONS, { filter: { search: 'liste', statuses: ['ACTIVE'] } }, { token: dlpb });
    expect(active.data.patrons.edges.map((e: any) => [e.node.lastName, e.node.library.code])).toEqual([['Autre', '5214002']]);
    const oneLibrary = await t.gql(PATRONS, { filter: { search: 'liste', libraryId: libB.gid } }, { token: dlpb });
    expect(oneLibrary.data.patrons.totalCount).toBe(1);
  });

  it('finds a login or an e-mail searched whole, whichever of its pieces the index is asked for', async () => {
    for (const login of ['piece.4250', 'piece.42507', 'autre.4250']) await patron(libA, { login, email: `${login.replace('.', '-')}@exemple.fr` });
    const found = async (search: string) =>
      (await t.gql(`query($s: String) { patrons(filter: { search: $s }) { edges { node { login } } } }`, { s: search }, { token: adminA })).data.patrons.edges
        .map((e: any) => e.node.login)
        .sort();
    expect(await found('piece.4250')).toEqual(['piece.4250', 'piece.42507']);
    expect(await found('PIECE.4250 exemple')).toEqual(['piece.4250', 'piece.42507']);
    expect(await found('4250')).toEqual(['autre.4250', 'piece.4250', 'piece.42507']);
    expect(await found('autre-4250@exemple.fr')).toEqual(['autre.4250']);
    expect(await found('piece.425%')).toEqual([]);
  });

  it('refuses another library, patrons and visitors', async () => {
    expect((await t.gql(PATRONS, { filter: { libraryId: libB.gid } }, { token: adminA })).errors?.[0]?.extensions?.code).toBe('FORBIDDEN');
    expect((await t.gql(PATRONS, {})).errors?.[0]?.extensions?.code).toBe('UNAUTHENTICATED');
    const p = await patron(libA);
    const token = await login(t, 'PATRON', p.input.login, p.input.password);
    expect((await t.gql(PATRONS, {}, { token })).errors?.[0]?.extensions?.code).toBe('FORBIDDEN');
  });
});

describe('correctPatron', () => {
  it('fixes names and birth date, keeps the search in step and audits the fields changed, not their values', async () => {
    const p = await patron(libA, { lastName: 'Erreur', firstName: 'Typo', birthDate: '1990-01-01' });
    const refused = await t.gql(CORRECT, { input: { patronId: p.gid, birthDate: '2090-01-01', reason: 'Carte de lecteur' } }, { token: adminA });
    expect(refused.data.correctPatron).toMatchObject({ patron: null, errors: [{ code: 'INVALID_BIRTH_DATE', field: 'birthDate' }] });
    const noReason = await t.gql(CORRECT, { input: { patronId: p.gid, lastName: 'Exact', reason: '  ' } }, { token: adminA });
    expect(noReason.data.correctPatron.errors[0]).toMatchObject({ code: 'INVALID_INPUT', field: 'reason' });

    const { data } = await t.gql(
      CORRECT,
      { input: { patronId: p.gid, lastName: '  Exacte ', birthDate: '1991-02-03', reason: 'Vérifié sur la carte de lecteur' } },
      { token: adminA },
    );
    expect(data.correctPatron).toEqual({ patron: { lastName: 'Exacte', firstName: 'Typo', birthDate: '1991-02-03' }, errors: [] });
    const pending = await t.gql(`query { pendingRegistrations(filter: { search: "exacte" }) { totalCount } }`, {}, { token: adminA });
    expect(pending.data.pendingRegistrations.totalCount).toBe(1);
    const entry = await t.app.prisma.auditLog.findFirstOrThrow({ where: { action: 'CORRECT_PATRON', subjectId: p.id } });
    expect(entry.after).toEqual({ fields: ['lastName', 'birthDate'], reason: 'Vérifié sur la carte de lecteur' });
    expect(JSON.stringify({ ...entry, id: String(entry.id) })).not.toMatch(/Erreur|Exacte|1990|1991/);
  });

  it('answers FORBIDDEN for another library’s patron and NOT_FOUND for an unknown one, changing nothing', async () => {
    const p = await patron(libA, { lastName: 'Intouchable' });
    const other = await t.gql(CORRECT, { input: { patronId: p.gid, lastName: 'Pirate', reason: 'x' } }, { token: adminB });
    expect(other.errors?.[0]?.extensions?.code).toBe('FORBIDDEN');
    const unknown = await t.gql(
      CORRECT,
      { input: { patronId: encodeGlobalID('Patron', '00000000-0000-4000-8000-000000000000'), lastName: 'X', reason: 'x' } },
      { token: dlpb },
    );
    expect(unknown.data.correctPatron.errors[0]).toMatchObject({ code: 'NOT_FOUND', field: 'patronId' });
    expect((await t.app.prisma.patron.findUniqueOrThrow({ where: { id: p.id } })).lastName).toBe('Intouchable');
    // The DLPB acts for the library, on its behalf.
    const { data } = await t.gql(CORRECT, { input: { patronId: p.gid, firstName: 'Corrigée', reason: 'Demande de la bibliothèque' } }, { token: dlpb });
    expect(data.correctPatron.errors).toEqual([]);
    expect((await t.app.prisma.auditLog.findFirstOrThrow({ where: { action: 'CORRECT_PATRON', subjectId: p.id } })).onBehalf).toBe(true);
  });
});

describe('endAccess', () => {
  it('ends an account now: EXPIRED, sessions ended, licence freed, patron told why (sanitised); renewal possible later', async () => {
    const p = await patron(libA, { lastName: 'Partie', firstName: 'Lou' });
    await accept(p.requestGid);
    const token = await login(t, 'PATRON', p.input.login, p.input.password);
    const used = (await t.gql(`{ licencePool { used } }`, {}, { token: dlpb })).data.licencePool.used;

    const { data } = await t.gql(
      END,
      { input: { patronId: p.gid, reason: 'Vous avez quitté la bibliothèque.<script>alert(1)</script><img src="http://x/y.png">' } },
      { token: adminA },
    );
    expect(data.endAccess.errors).toEqual([]);
    expect(data.endAccess.patron.account).toEqual({ status: 'EXPIRED', activeUntil: t.clock.now().toISOString() });
    expect((await t.gql(`{ viewer { __typename } }`, {}, { token })).data.viewer).toBeNull();
    expect((await t.gql(`{ licencePool { used } }`, {}, { token: dlpb })).data.licencePool.used).toBe(used - 1);
    const email = await waitForEmail(t, p.input.email, 'Votre accès à NuMos a pris fin');
    expect(email.text).toContain('Vous avez quitté la bibliothèque.');
    expect(email.html).not.toMatch(/<script|alert\(1\)|y\.png/);
    expect(email.from).toBe('"Administration MÉDIATHÈQUE DE THIONVILLE" <numos@numos.local>');
    const entry = await t.app.prisma.auditLog.findFirstOrThrow({ where: { action: 'END_ACCESS', subjectId: p.id } });
    expect(entry.libraryId).toBe(libA.id);

    const again = await t.gql(END, { input: { patronId: p.gid, reason: 'Encore' } }, { token: adminA });
    expect(again.data.endAccess.errors[0]).toMatchObject({ code: 'INVALID_STATE', field: 'patronId' });
    // As any expired account, the person may log in and ask for a renewal.
    const back = await login(t, 'PATRON', p.input.login, p.input.password);
    const renewal = await t.gql(`mutation { requestRenewal(input: {}) { request { kind state } errors { code } } }`, {}, { token: back });
    expect(renewal.data.requestRenewal).toEqual({ request: { kind: 'RENEWAL', state: 'AWAITING_DECISION' }, errors: [] });
  });

  it('closes the pending request of a temporary account; another library gets FORBIDDEN', async () => {
    const p = await patron(libA, { lastName: 'Temporaire' });
    expect((await t.gql(END, { input: { patronId: p.gid, reason: 'x' } }, { token: adminB })).errors?.[0]?.extensions?.code).toBe('FORBIDDEN');
    const { data } = await t.gql(END, { input: { patronId: p.gid, reason: 'Inscription annulée' } }, { token: dlpb });
    expect(data.endAccess.patron.account).toEqual({ status: 'EXPIRED', activeUntil: null });
    const request = await t.app.prisma.registrationRequest.findFirstOrThrow({ where: { patronId: p.id } });
    expect(request.state).toBe('REFUSED');
  });
});

describe('response texts', () => {
  it('shows the draft `decide` would send, then uses the library’s own text once set', async () => {
    const p = await patron(libA, { lastName: 'Modèle', firstName: 'Nina' });
    const draft = await t.gql(`query($id: ID!) { registrationRequest(id: $id) { responseDraft(decision: ACCEPT) } }`, { id: p.requestGid }, { token: adminA });
    expect(draft.data.registrationRequest.responseDraft).toContain('Bonjour Nina Modèle');
    expect(draft.data.registrationRequest.responseDraft).toContain(`Identifiant : ${p.input.login}`);

    const set = await t.gql(
      SET_TEMPLATE,
      {
        input: {
          decision: 'ACCEPT',
          libraryId: libA.gid,
          body: '<p onclick="x()">Bienvenue [prenom] [nom_destinataire] !</p><script>alert(1)</script><img src="http://evil/x.png">',
        },
      },
      { token: adminA },
    );
    expect(set.data.setResponseTemplate.errors).toEqual([]);
    expect(set.data.setResponseTemplate.template).toMatchObject({
      decision: 'ACCEPT',
      body: '<p>Bienvenue [prenom] [nom_destinataire] !</p>',
      library: { code: '5214001' },
    });
    const templates = await t.gql(`{ responseTemplates { decision body library { code } } }`, {}, { token: adminA });
    expect(templates.data.responseTemplates).toEqual([
      { decision: 'ACCEPT', body: '<p>Bienvenue [prenom] [nom_destinataire] !</p>', library: { code: '5214001' } },
      { decision: 'REFUSE', body: expect.stringContaining('[prenom]'), library: null },
    ]);
    const newDraft = await t.gql(
      `query($id: ID!) { registrationRequest(id: $id) { responseDraft(decision: ACCEPT) } }`,
      { id: p.requestGid },
      { token: adminA },
    );
    expect(newDraft.data.registrationRequest.responseDraft).toBe('<p>Bienvenue Nina Modèle !</p>');
    const decided = await accept(p.requestGid);
    expect(decided.responseMessage).toBe('<p>Bienvenue Nina Modèle !</p>');
  });

  it('refuses unknown placeholders and other libraries; the DLPB sets the default; empty goes back to it', async () => {
    const unknown = await t.gql(
      SET_TEMPLATE,
      { input: { decision: 'REFUSE', libraryId: libB.gid, body: '<p>Bonjour [prenom] [civilite]</p>' } },
      { token: adminB },
    );
    expect(unknown.data.setResponseTemplate).toMatchObject({ template: null, errors: [{ code: 'INVALID_INPUT', field: 'body' }] });
    expect(unknown.data.setResponseTemplate.errors[0].message).toContain('[civilite]');
    expect(
      (await t.gql(SET_TEMPLATE, { input: { decision: 'REFUSE', libraryId: libA.gid, body: '<p>x</p>' } }, { token: adminB })).errors?.[0]?.extensions?.code,
    ).toBe('FORBIDDEN');
    expect((await t.gql(SET_TEMPLATE, { input: { decision: 'REFUSE', body: '<p>x</p>' } }, { token: adminB })).errors?.[0]?.extensions?.code).toBe('FORBIDDEN');
    const nowhere = encodeGlobalID('Library', '00000000-0000-4000-8000-000000000000');
    const unknownLibrary = await t.gql(SET_TEMPLATE, { input: { decision: 'REFUSE', libraryId: nowhere, body: '<p>x</p>' } }, { token: dlpb });
    expect(unknownLibrary.data.setResponseTemplate).toMatchObject({ template: null, errors: [{ code: 'NOT_FOUND', field: 'libraryId' }] });

    const byDefault = await t.gql(SET_TEMPLATE, { input: { decision: 'REFUSE', body: '<p>Désolés, [prenom].</p>' } }, { token: dlpb });
    expect(byDefault.data.setResponseTemplate.template).toMatchObject({ body: '<p>Désolés, [prenom].</p>', library: null });
    const p = await patron(libB, { firstName: 'Refusé' });
    const draft = await t.gql(`query($id: ID!) { registrationRequest(id: $id) { responseDraft(decision: REFUSE) } }`, { id: p.requestGid }, { token: adminB });
    expect(draft.data.registrationRequest.responseDraft).toBe('<p>Désolés, Refusé.</p>');
    const reset = await t.gql(SET_TEMPLATE, { input: { decision: 'REFUSE', body: '' } }, { token: dlpb });
    expect(reset.data.setResponseTemplate.template).toMatchObject({ library: null, updatedAt: null, body: expect.stringContaining('Nous avons le regret') });
    expect(await t.app.prisma.auditLog.count({ where: { action: { in: ['SET_RESPONSE_TEMPLATE', 'RESET_RESPONSE_TEMPLATE'] } } })).toBe(3);
  });
});
