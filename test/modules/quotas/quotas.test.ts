import { encodeGlobalID } from '@pothos/plugin-relay';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { hashSecret } from '../../../src/lib/secrets.js';
import { METERED_CATEGORIES } from '../../../src/modules/quotas/store.js';
import { rollUpFinishedMonth } from '../../../src/modules/stats/service.js';
import { login, seedLibrary, seedPatron, seedStaff, startTestApp, type TestApp } from '../../support/harness.js';

const CONSUME = `mutation($input: ConsumeQuotaInput!) {
  consumeQuota(input: $input) { granted consumptionId replayed balance { period resetsAt lines { category limit used remaining } } errors { code message field } }
}`;
const CANCEL = `mutation($id: ID!) { cancelConsumption(input: { consumptionId: $id }) { balance { lines { category used } } errors { code } } }`;
const BALANCE = `query($id: ID!) { quotaBalance(patronId: $id) { period lines { category limit used remaining } } }`;
const CREATE_PROVIDER = `mutation($input: CreateResourceProviderInput!) { createResourceProvider(input: $input) { provider { id name categories } apiKey errors { code field } } }`;

let t: TestApp;
let library: { id: string };
let other: { id: string };
let dlpb: string;
let adminA: string;
let adminB: string;
let provider: string;
let filmOnly: string;
let seq = 0;

async function patron(fields: { status?: 'ACTIVE' | 'TEMPORARY' | 'EXPIRED'; birthDate?: string; libraryId?: string } = {}) {
  seq += 1;
  const login = `lecteur.${seq}`;
  const row = await seedPatron(t.app, { ...fields, login, libraryId: fields.libraryId ?? library.id });
  return { id: encodeGlobalID('Patron', row.id), login, uuid: row.id };
}

const consume = (token: string, patronId: string, category: string, key: string, extra: Record<string, unknown> = {}) =>
  t.gql(CONSUME, { input: { patronId, category, resourceId: 'doc-1', idempotencyKey: key, ...extra } }, { token });

beforeAll(async () => {
  t = await startTestApp({ resend: true, workers: true, now: '2027-03-10T10:00:00Z', env: { NUMOS_THROTTLE: '0', SUPPORT_EMAIL: 'support@numos.example' } });
  library = await seedLibrary(t.app, { code: '5212345', name: 'Médiathèque de Nilvange', email: 'bib@nilvange.example' });
  other = await seedLibrary(t.app, { code: '5212346', name: 'Bibliothèque de Metz' });
  await seedStaff(t.app, { login: 'dlpb', password: 'mot de passe DLPB' });
  await seedStaff(t.app, { login: '5212345', password: 'mot de passe A', role: 'LIBRARY_ADMIN', libraryId: library.id });
  await seedStaff(t.app, { login: '5212346', password: 'mot de passe B', role: 'LIBRARY_ADMIN', libraryId: other.id });
  dlpb = await login(t, 'STAFF', 'dlpb', 'mot de passe DLPB');
  adminA = await login(t, 'STAFF', '5212345', 'mot de passe A');
  adminB = await login(t, 'STAFF', '5212346', 'mot de passe B');
  const created = await t.gql(CREATE_PROVIDER, { input: { name: 'Plateforme PNB', categories: ['UNLIMITED', 'FILM', 'BOOK', 'NEWSPAPER'] } }, { token: dlpb });
  provider = created.data.createResourceProvider.apiKey;
  filmOnly = (await t.gql(CREATE_PROVIDER, { input: { name: 'Cinéma', categories: ['FILM'] } }, { token: dlpb })).data.createResourceProvider.apiKey;
});
afterAll(() => t.close());

describe('resource providers', () => {
  it('get an API key once, stored only as a hash; only the DLPB creates them', async () => {
    expect(provider).toMatch(/^nmk_[\w-]{43}$/);
    const stored = await t.app.prisma.resourceProvider.findMany();
    expect(stored.some((p) => p.apiKeyHash === hashSecret(provider))).toBe(true);
    expect(JSON.stringify(stored)).not.toContain(provider.slice(12));
    expect((await t.gql(CREATE_PROVIDER, { input: { name: 'X', categories: ['FILM'] } }, { token: adminA })).errors?.[0]?.extensions?.code).toBe('FORBIDDEN');
    expect(
      (await t.gql(CREATE_PROVIDER, { input: { name: ' ', categories: [] } }, { token: dlpb })).data.createResourceProvider.errors.map((e: any) => e.field),
    ).toEqual(['name', 'categories']);
  });
});

describe('consumeQuota', () => {
  it('grants exactly 7 of 30 concurrent calls against a remaining 7', async () => {
    const p = await patron();
    const results = await Promise.all(Array.from({ length: 30 }, (_, i) => consume(provider, p.id, 'BOOK', `book-${p.login}-${i}`)));
    const granted = results.filter((r) => r.data.consumeQuota.granted);
    expect(granted).toHaveLength(7);
    for (const r of results.filter((r) => !r.data.consumeQuota.granted)) {
      expect(r.data.consumeQuota.errors).toEqual([{ code: 'QUOTA_EXCEEDED', message: 'Le forfait mensuel de cette catégorie est épuisé.', field: null }]);
    }
    const balance = (await t.gql(BALANCE, { id: p.id }, { token: provider })).data.quotaBalance;
    expect(balance.lines.find((l: any) => l.category === 'BOOK')).toEqual({ category: 'BOOK', limit: 7, used: 7, remaining: 0 });
    expect(await t.app.prisma.consumption.count({ where: { patronId: p.uuid } })).toBe(30);
  });

  it('answers a replay as the first time and counts once, even when replays run together', async () => {
    const p = await patron();
    const first = await consume(provider, p.id, 'FILM', 'rejeu-1');
    expect(first.data.consumeQuota).toMatchObject({ granted: true, balance: { period: '2027-03', resetsAt: '2027-03-31T22:00:00.000Z' } });
    const again = await consume(provider, p.id, 'FILM', 'rejeu-1');
    expect(again.data.consumeQuota.consumptionId).toBe(first.data.consumeQuota.consumptionId);
    expect(again.data.consumeQuota.balance.lines.find((l: any) => l.category === 'FILM').used).toBe(1);

    const together = await Promise.all(Array.from({ length: 10 }, () => consume(provider, p.id, 'FILM', 'rejeu-2')));
    expect(new Set(together.map((r) => r.data.consumeQuota.consumptionId)).size).toBe(1);
    expect(together.every((r) => r.data.consumeQuota.granted)).toBe(true);
    const balance = (await t.gql(BALANCE, { id: p.id }, { token: provider })).data.quotaBalance;
    expect(balance.lines.find((l: any) => l.category === 'FILM').used).toBe(2);

    const reused = await consume(provider, p.id, 'FILM', 'rejeu-1', { resourceId: 'autre-doc' });
    expect(reused.data.consumeQuota).toMatchObject({ granted: false, errors: [{ code: 'IDEMPOTENCY_KEY_REUSED' }] });
    // Keys belong to a provider: another provider may use the same one.
    expect((await consume(filmOnly, p.id, 'FILM', 'rejeu-1')).data.consumeQuota.granted).toBe(true);
  });

  it('answers a replay word for word, even after a cancellation, later calls or a new month (Stripe’s rule)', async () => {
    const p = await patron();
    const first = (await consume(provider, p.id, 'NEWSPAPER', 'mot-a-mot')).data.consumeQuota;
    expect(first).toMatchObject({ granted: true, replayed: false });
    await consume(provider, p.id, 'NEWSPAPER', 'autre-appel');
    expect((await t.gql(CANCEL, { id: first.consumptionId }, { token: provider })).data.cancelConsumption.errors).toEqual([]);
    const saved = t.clock.now();
    t.clock.set('2027-04-02T10:00:00Z');
    const replay = (await consume(provider, p.id, 'NEWSPAPER', 'mot-a-mot')).data.consumeQuota;
    t.clock.set(saved);
    expect(replay).toEqual({ ...first, replayed: true });
    // The current state is quotaBalance's: the cancelled unit is back, the other call counted.
    const now = (await t.gql(BALANCE, { id: p.id }, { token: provider })).data.quotaBalance;
    expect(now.lines.find((l: any) => l.category === 'NEWSPAPER').used).toBe(1);
  });

  it('shows a provider the balance lines of its own categories only', async () => {
    const p = await patron();
    const consumed = (await consume(filmOnly, p.id, 'FILM', 'film-seul')).data.consumeQuota;
    expect(consumed.balance.lines.map((l: any) => l.category)).toEqual(['FILM']);
    const read = (await t.gql(BALANCE, { id: p.id }, { token: filmOnly })).data.quotaBalance;
    expect(read.lines.map((l: any) => l.category)).toEqual(['FILM']);
    const press = (await t.gql(BALANCE, { id: p.id }, { token: provider })).data.quotaBalance;
    expect(press.lines.map((l: any) => l.category)).toEqual(['FILM', 'BOOK', 'NEWSPAPER']);
  });

  it.each([
    ['winter', '2027-01-31T22:59:59.999Z', '2027-01', '2027-01-31T23:00:00.000Z', '2027-02'],
    ['summer', '2027-06-30T21:59:59.999Z', '2027-06', '2027-06-30T22:00:00.000Z', '2027-07'],
  ])('counts 23:59:59.999 and 00:00:00.000 Paris time in their own months (%s)', async (_season, before, periodBefore, after, periodAfter) => {
    const saved = t.clock.now();
    const p = await patron();
    t.clock.set(before);
    for (let i = 0; i < 4; i++) expect((await consume(provider, p.id, 'FILM', `${before}-${i}`)).data.consumeQuota.granted).toBe(true);
    const full = await consume(provider, p.id, 'FILM', `${before}-full`);
    expect(full.data.consumeQuota).toMatchObject({ granted: false, balance: { period: periodBefore, resetsAt: after } });
    t.clock.set(after);
    const fresh = await consume(provider, p.id, 'FILM', `${after}-0`);
    expect(fresh.data.consumeQuota.granted).toBe(true);
    expect(fresh.data.consumeQuota.balance.period).toBe(periodAfter);
    expect(fresh.data.consumeQuota.balance.lines.find((l: any) => l.category === 'FILM')).toMatchObject({ used: 1, remaining: 3 });
    t.clock.set(saved);
  });

  it('checks account status, age and the provider’s categories', async () => {
    const temporary = await patron({ status: 'TEMPORARY' });
    expect((await consume(provider, temporary.id, 'UNLIMITED', 'tmp-1')).data.consumeQuota.granted).toBe(true);
    expect((await consume(provider, temporary.id, 'FILM', 'tmp-2')).data.consumeQuota.errors[0].code).toBe('ACCOUNT_NOT_ACTIVE');
    const expired = await patron({ status: 'EXPIRED' });
    expect((await consume(provider, expired.id, 'UNLIMITED', 'exp-1')).data.consumeQuota.errors[0].code).toBe('ACCOUNT_NOT_ACTIVE');

    const child = await patron({ birthDate: '2015-01-01' });
    expect((await consume(provider, child.id, 'FILM', 'age-1', { minimumAge: 16 })).data.consumeQuota.errors[0].code).toBe('AGE_RESTRICTED');
    expect((await consume(provider, child.id, 'FILM', 'age-2', { minimumAge: 12 })).data.consumeQuota.granted).toBe(true);

    const adult = await patron();
    const refused = await consume(filmOnly, adult.id, 'BOOK', 'cat-1');
    expect(refused.data.consumeQuota).toMatchObject({ granted: false, errors: [{ code: 'CATEGORY_NOT_ALLOWED', field: 'category' }] });
    expect((await consume(provider, encodeGlobalID('Patron', '00000000-0000-4000-8000-000000000000'), 'FILM', 'nobody')).data.consumeQuota.errors[0].code).toBe(
      'NOT_FOUND',
    );
    // Only providers consume.
    expect((await consume(dlpb, adult.id, 'FILM', 'staff')).errors?.[0]?.extensions?.code).toBe('FORBIDDEN');
    expect((await consume('', adult.id, 'FILM', 'anon')).errors?.[0]?.extensions?.code).toBe('UNAUTHENTICATED');
  });
});

describe('consumeQuota in one round trip', () => {
  it('makes one SQL statement per call, the key checked in it: a revoked key is refused from the next call on', async () => {
    const p = await patron();
    const created = await t.gql(CREATE_PROVIDER, { input: { name: 'Éphémère', categories: ['NEWSPAPER'] } }, { token: dlpb });
    const key = created.data.createResourceProvider.apiKey;
    const statements: string[] = [];
    const query = t.app.pool.query.bind(t.app.pool);
    t.app.pool.query = ((config: unknown, ...rest: unknown[]) => {
      statements.push(typeof config === 'string' ? config : (config as { text: string }).text);
      return (query as (...a: unknown[]) => unknown)(config, ...rest);
    }) as typeof t.app.pool.query;
    try {
      expect((await consume(key, p.id, 'NEWSPAPER', 'un-aller-retour')).data.consumeQuota.granted).toBe(true);
    } finally {
      t.app.pool.query = query;
    }
    expect(statements).toHaveLength(1);
    expect(statements[0]).toContain('consume_for_provider');
    const revoked = await t.gql(
      `mutation($id: ID!) { revokeProvider(input: { providerId: $id }) { errors { code } } }`,
      {
        id: created.data.createResourceProvider.provider.id,
      },
      { token: dlpb },
    );
    expect(revoked.data.revokeProvider.errors).toEqual([]);
    const refused = await consume(key, p.id, 'NEWSPAPER', 'apres-revocation');
    expect(refused.errors?.[0]?.extensions?.code).toBe('UNAUTHENTICATED');
    expect(await t.app.prisma.consumption.count({ where: { idempotencyKey: 'apres-revocation' } })).toBe(0);
    expect((await consume('nmk_inconnue', p.id, 'NEWSPAPER', 'cle-inconnue')).errors?.[0]?.extensions?.code).toBe('UNAUTHENTICATED');
    // Staff and patrons are not providers: FORBIDDEN, as before.
    expect((await consume(dlpb, p.id, 'NEWSPAPER', 'agent')).errors?.[0]?.extensions?.code).toBe('FORBIDDEN');
    expect(
      (await t.gql(CONSUME, { input: { patronId: p.id, category: 'NEWSPAPER', resourceId: 'x', idempotencyKey: 'anonyme' } })).errors?.[0]?.extensions?.code,
    ).toBe('UNAUTHENTICATED');
  });
});

describe('cancelConsumption', () => {
  it('gives the unit back within 24 hours, for the provider that made it only', async () => {
    const p = await patron();
    const { consumptionId } = (await consume(provider, p.id, 'FILM', 'annule-1')).data.consumeQuota;
    expect((await t.gql(CANCEL, { id: consumptionId }, { token: filmOnly })).data.cancelConsumption.errors[0].code).toBe('NOT_FOUND');
    const cancelled = await t.gql(CANCEL, { id: consumptionId }, { token: provider });
    expect(cancelled.data.cancelConsumption.balance.lines.find((l: any) => l.category === 'FILM').used).toBe(0);
    expect((await t.gql(CANCEL, { id: consumptionId }, { token: provider })).data.cancelConsumption.errors[0].code).toBe('INVALID_STATE');

    const late = (await consume(provider, p.id, 'FILM', 'annule-2')).data.consumeQuota.consumptionId;
    t.clock.advance(24 * 3_600_000);
    expect((await t.gql(CANCEL, { id: late }, { token: provider })).data.cancelConsumption.errors[0].code).toBe('CANCELLATION_WINDOW_CLOSED');
    t.clock.advance(-24 * 3_600_000);
  });
});

describe('quotaBalance and quota limits', () => {
  it('knows the metered categories and seed limits as the database defines them (quota_seed_limits)', async () => {
    const { rows } = await t.app.db.query<{ category: string; limit: number; effective_from: string }>(
      'SELECT category, "limit", effective_from FROM quota_seed_limits()',
    );
    expect(rows.map((r) => r.category)).toEqual([...METERED_CATEGORIES]);
    expect(Object.fromEntries(rows.map((r) => [r.category, r.limit]))).toEqual({ FILM: 4, BOOK: 7, MAGAZINE: 15, NEWSPAPER: 31 });
    expect(new Set(rows.map((r) => r.effective_from))).toEqual(new Set(['2023-05']));
  });

  it('shows a balance to the patron, providers, their library and the DLPB only', async () => {
    const p = await patron();
    const q = await patron({ libraryId: other.id });
    const own = await login(t, 'PATRON', p.login, 'mot de passe lecteur');
    expect((await t.gql(BALANCE, { id: p.id }, { token: own })).data.quotaBalance.period).toBe('2027-03');
    expect((await t.gql(BALANCE, { id: q.id }, { token: own })).errors?.[0]?.extensions?.code).toBe('FORBIDDEN');
    expect((await t.gql(BALANCE, { id: p.id }, { token: adminA })).data.quotaBalance.lines).toHaveLength(4);
    expect((await t.gql(BALANCE, { id: p.id }, { token: adminB })).errors?.[0]?.extensions?.code).toBe('FORBIDDEN');
    expect((await t.gql(BALANCE, { id: q.id }, { token: dlpb })).data.quotaBalance.lines.map((l: any) => l.category)).toEqual([
      'FILM',
      'BOOK',
      'MAGAZINE',
      'NEWSPAPER',
    ]);
    expect((await t.gql(BALANCE, { id: p.id })).errors?.[0]?.extensions?.code).toBe('UNAUTHENTICATED');
  });

  it('lets the DLPB change limits from the current or a later month, audited; what was used stays used', async () => {
    const SET = `mutation($input: SetQuotaLimitsInput!) { setQuotaLimits(input: $input) { policy { effectiveFrom limits { category limit } } errors { code field } } }`;
    const p = await patron();
    for (let i = 0; i < 3; i++) await consume(provider, p.id, 'FILM', `avant-${i}`);
    const past = await t.gql(SET, { input: { effectiveFrom: '2027-02', limits: [{ category: 'FILM', limit: 2 }] } }, { token: dlpb });
    expect(past.data.setQuotaLimits.errors).toEqual([{ code: 'INVALID_INPUT', field: 'effectiveFrom' }]);
    expect(
      (await t.gql(SET, { input: { effectiveFrom: '2027-03', limits: [{ category: 'FILM', limit: 2 }] } }, { token: adminA })).errors?.[0]?.extensions?.code,
    ).toBe('FORBIDDEN');

    const set = await t.gql(SET, { input: { effectiveFrom: '2027-03', limits: [{ category: 'FILM', limit: 2 }] } }, { token: dlpb });
    expect(set.data.setQuotaLimits.policy).toEqual({
      effectiveFrom: '2027-03',
      limits: [
        { category: 'FILM', limit: 2 },
        { category: 'BOOK', limit: 7 },
        { category: 'MAGAZINE', limit: 15 },
        { category: 'NEWSPAPER', limit: 31 },
      ],
    });
    expect((await t.gql(`{ quotaPolicy { effectiveFrom limits { category limit } } }`)).data.quotaPolicy.limits[0]).toEqual({ category: 'FILM', limit: 2 });
    const balance = (await t.gql(BALANCE, { id: p.id }, { token: provider })).data.quotaBalance.lines[0];
    expect(balance).toEqual({ category: 'FILM', limit: 2, used: 3, remaining: 0 });
    expect((await consume(provider, p.id, 'FILM', 'apres')).data.consumeQuota.errors[0].code).toBe('QUOTA_EXCEEDED');
    expect(await t.app.prisma.auditLog.count({ where: { action: 'SET_QUOTA_LIMITS' } })).toBe(1);
    await t.gql(SET, { input: { effectiveFrom: '2027-04', limits: [{ category: 'FILM', limit: 4 }] } }, { token: dlpb });
  });
});

describe('stats', () => {
  const STATS = `query($f: StatsFilter!) { stats(filter: $f) {
    registrations { submitted confirmed accepted refused lapsed escalated renewalsRequested medianHoursToDecision }
    activeAccounts temporaryAccounts licencePool { capacity used }
    consumption { period category count } saturation { period category share }
  } }`;

  it('keeps library staff to their own library and counts consumption and saturation per month', async () => {
    expect(
      (await t.gql(STATS, { f: { from: '2027-03-01', to: '2027-03-31', libraryId: encodeGlobalID('Library', other.id) } }, { token: adminA })).errors?.[0]
        ?.extensions?.code,
    ).toBe('FORBIDDEN');
    const p = await t.app.prisma.patron.findMany({ where: { libraryId: library.id, status: 'ACTIVE' } });
    const mine = await t.gql(STATS, { f: { from: '2027-03-01', to: '2027-03-31' } }, { token: adminA });
    const stats = mine.data.stats;
    expect(stats.activeAccounts).toBe(p.length);
    const books = stats.consumption.find((c: any) => c.period === '2027-03' && c.category === 'BOOK');
    expect(books.count).toBe(7);
    const bookSaturation = stats.saturation.find((s: any) => s.period === '2027-03' && s.category === 'BOOK');
    expect(bookSaturation.share).toBeCloseTo(1 / p.length, 5);
    const all = await t.gql(STATS, { f: { from: '2027-03-01', to: '2027-03-31' } }, { token: dlpb });
    expect(all.data.stats.consumption.find((c: any) => c.category === 'FILM' && c.period === '2027-03').count).toBeGreaterThan(0);

    // After the monthly roll-up, the same figures come from the roll-up tables.
    const before = JSON.stringify(all.data.stats.consumption);
    expect(await rollUpFinishedMonth(t.app, new Date('2027-04-01T00:15:00+02:00'))).toBeGreaterThan(0);
    expect(await rollUpFinishedMonth(t.app, new Date('2027-04-01T00:15:00+02:00'))).toBeGreaterThan(0);
    await t.app.pool.query(`DELETE FROM consumption WHERE period = '2027-03'`);
    const after = await t.gql(STATS, { f: { from: '2027-03-01', to: '2027-03-31' } }, { token: dlpb });
    expect(JSON.stringify(after.data.stats.consumption)).toBe(before);
  });
});

describe('sendMessage', () => {
  const SEND = `mutation($input: SendMessageInput!) { sendMessage(input: $input) { ok errors { code field } } }`;

  it('forwards a visitor’s message to support and a patron’s to their library, reply-to the sender', async () => {
    const toSupport = await t.gql(SEND, {
      input: { to: 'SUPPORT', email: 'visiteur@example.org', subject: 'Lecture impossible', body: 'Le lecteur ne démarre pas.' },
    });
    expect(toSupport.data.sendMessage).toEqual({ ok: true, errors: [] });
    const support = await t.resend!.waitFor(() => t.resend!.to('support@numos.example').length === 1).then(() => t.resend!.to('support@numos.example')[0]!);
    expect(support.subject).toBe('[NuMos] Lecture impossible');
    expect([support.reply_to].flat()).toEqual(['visiteur@example.org']);
    expect(support.text).toContain('Le lecteur ne démarre pas.');

    const noLibrary = await t.gql(SEND, { input: { to: 'LIBRARY', email: 'visiteur@example.org', subject: 'Bonjour', body: 'Question' } });
    expect(noLibrary.data.sendMessage.errors).toEqual([{ code: 'UNKNOWN_LIBRARY', field: 'libraryId' }]);

    const p = await patron();
    const session = await login(t, 'PATRON', p.login, 'mot de passe lecteur');
    const toLibrary = await t.gql(
      SEND,
      { input: { to: 'LIBRARY', email: `${p.login}@example.org`, subject: 'Adhésion', body: 'Mon adhésion est-elle à jour ?' } },
      { token: session },
    );
    expect(toLibrary.data.sendMessage.ok).toBe(true);
    const forwarded = await t
      .resend!.waitFor(() => t.resend!.to('bib@nilvange.example').some((e) => e.subject === '[NuMos] Adhésion'))
      .then(() => t.resend!.to('bib@nilvange.example').find((e) => e.subject === '[NuMos] Adhésion')!);
    expect(forwarded.text).toContain(`identifiant NuMos : ${p.login}`);
    expect(await t.app.prisma.message.count()).toBe(2);
  });
});
