// The rules of a membership check on the Paris calendar: each rule, each kind of system, the day
// boundaries (a year ago, expiry today, midnight in Paris, 29 February), the birth comparison, and
// the French sentences the librarian reads.
import { describe, expect, it } from 'vitest';
import type { ConnectorKind, Lookup, MemberFacts, MembershipMatch } from '../../../src/modules/membership/adapters/contract.js';
import { judgeMembership, type MembershipOutcome, type MembershipRule, unavailableMembership } from '../../../src/modules/membership/outcome.js';

const BIRTH = '1990-05-17';
/** 10:02 in Paris (winter time) on 6 December 2026. */
const NOON = '2026-12-06T09:02:00Z';
/** 00:30 on 7 December in Paris, still 6 December in UTC. */
const MIDNIGHT = '2026-12-06T23:30:00Z';

function facts(overrides: Partial<MemberFacts> = {}): MemberFacts {
  return { enrolledOn: null, renewedOn: null, expiresOn: null, birthDate: BIRTH, birthYear: 1990, valid: null, ...overrides };
}

const one = (overrides: Partial<MemberFacts> = {}, matchedBy: MembershipMatch = 'CARD_NUMBER'): Lookup => ({
  found: 'one',
  matchedBy,
  facts: facts(overrides),
});

function judge(
  lookup: Lookup,
  { kind = 'KOHA_REST', rule = 'ENROLLED_OR_RENEWED_WITHIN_A_YEAR', at = NOON } = {} as { kind?: ConnectorKind; rule?: MembershipRule; at?: string },
) {
  return judgeMembership({ lookup, kind, rule, applicantBirthDate: BIRTH, checkedAt: new Date(at) });
}

const WITHIN = 'ENROLLED_OR_RENEWED_WITHIN_A_YEAR';
const NOT_EXPIRED = 'NOT_EXPIRED';

describe('enrolled or renewed within a year', () => {
  it.each<[string, Partial<MemberFacts>, string, MembershipOutcome, string | null]>([
    ['enrolled 364 days ago', { enrolledOn: '2025-12-07' }, NOON, 'ACTIVE', '2025-12-07'],
    ['enrolled exactly a year (365 days) ago', { enrolledOn: '2025-12-06' }, NOON, 'INACTIVE', '2025-12-06'],
    ['enrolled 366 days ago', { enrolledOn: '2025-12-05' }, NOON, 'INACTIVE', '2025-12-05'],
    ['enrolled today', { enrolledOn: '2026-12-06' }, NOON, 'ACTIVE', '2026-12-06'],
    // At 00:30 in Paris it is already 7 December: 8 December 2025 is 364 days back, the 7th a year.
    ['near midnight: 364 days ago in Paris', { enrolledOn: '2025-12-08' }, MIDNIGHT, 'ACTIVE', '2025-12-08'],
    ['near midnight: a year ago in Paris (364 days in UTC)', { enrolledOn: '2025-12-07' }, MIDNIGHT, 'INACTIVE', '2025-12-07'],
    ['near midnight: 366 days ago in Paris', { enrolledOn: '2025-12-06' }, MIDNIGHT, 'INACTIVE', '2025-12-06'],
    ['renewed later than enrolled: the renewal counts', { enrolledOn: '2019-09-01', renewedOn: '2026-03-12' }, NOON, 'ACTIVE', '2026-03-12'],
    ['renewed more than a year ago', { enrolledOn: '2019-09-01', renewedOn: '2025-12-06' }, NOON, 'INACTIVE', '2025-12-06'],
    ['renewal older than the enrolment: the enrolment counts', { enrolledOn: '2026-03-12', renewedOn: '2024-01-01' }, NOON, 'ACTIVE', '2026-03-12'],
    ['renewal only', { renewedOn: '2026-01-10' }, NOON, 'ACTIVE', '2026-01-10'],
    ['recent, expired yesterday', { enrolledOn: '2026-03-12', expiresOn: '2026-12-05' }, NOON, 'INACTIVE', '2026-03-12'],
    ['recent, expires today', { enrolledOn: '2026-03-12', expiresOn: '2026-12-06' }, NOON, 'ACTIVE', '2026-03-12'],
    ['recent, expires tomorrow', { enrolledOn: '2026-03-12', expiresOn: '2026-12-07' }, NOON, 'ACTIVE', '2026-03-12'],
    ['near midnight: expiry of 6 December is yesterday in Paris', { enrolledOn: '2026-03-12', expiresOn: '2026-12-06' }, MIDNIGHT, 'INACTIVE', '2026-03-12'],
    ['stale and expired', { enrolledOn: '2024-01-10', expiresOn: '2025-01-09' }, NOON, 'INACTIVE', '2024-01-10'],
    ['stale, expiry still ahead', { enrolledOn: '2024-01-10', expiresOn: '2030-01-09' }, NOON, 'INACTIVE', '2024-01-10'],
    // One year before 29 February 2028 is 28 February 2027; 1 March 2027 is 365 days back, within the leap year.
    ['29 February: enrolled 28 February the year before', { enrolledOn: '2027-02-28' }, '2028-02-29T11:00:00Z', 'INACTIVE', '2027-02-28'],
    ['29 February: enrolled 1 March the year before', { enrolledOn: '2027-03-01' }, '2028-02-29T11:00:00Z', 'ACTIVE', '2027-03-01'],
    // Enrolled on 29 February: a year is complete on 1 March, as for a birthday (ageAt).
    ['enrolled 29 February, checked 28 February next year', { enrolledOn: '2028-02-29' }, '2029-02-28T11:00:00Z', 'ACTIVE', '2028-02-29'],
    ['enrolled 29 February, checked 1 March next year', { enrolledOn: '2028-02-29' }, '2029-03-01T11:00:00Z', 'INACTIVE', '2028-02-29'],
    ['summer time: a year ago on 1 July', { enrolledOn: '2026-07-01' }, '2027-06-30T22:30:00Z', 'INACTIVE', '2026-07-01'],
    ['summer time: the evening before in Paris', { enrolledOn: '2026-07-01' }, '2027-06-30T21:30:00Z', 'ACTIVE', '2026-07-01'],
  ])('Koha, %s', (_label, overrides, at, outcome, latest) => {
    const figures = judge(one(overrides), { at });
    expect(figures.outcome).toBe(outcome);
    expect(figures.enrolledOrRenewedOn).toBe(latest);
    expect(figures.memberUntil).toBe(overrides.expiresOn ?? null);
    expect(figures.matchedBy).toBe('CARD_NUMBER');
  });

  it.each<[string, ConnectorKind, Partial<MemberFacts>, MembershipOutcome]>([
    ['Koha without any date', 'KOHA_REST', {}, 'INCONCLUSIVE'],
    ['Koha with only an expiry ahead (the rule needs the enrolment)', 'KOHA_REST', { expiresOn: '2027-03-11' }, 'INCONCLUSIVE'],
    ['Koha with only an expiry today', 'KOHA_REST', { expiresOn: '2026-12-06' }, 'INCONCLUSIVE'],
    ['Koha with only an expiry past (fails "not expired" whatever the enrolment)', 'KOHA_REST', { expiresOn: '2026-12-05' }, 'INACTIVE'],
    ['Koha valid, no date', 'KOHA_REST', { valid: true }, 'INCONCLUSIVE'],
    ['SIP2 without expiry', 'SIP2', { valid: true }, 'INCONCLUSIVE'],
    ['SIP2, expiry tomorrow', 'SIP2', { valid: true, expiresOn: '2026-12-07' }, 'ACTIVE'],
    ['SIP2, expiry today', 'SIP2', { valid: true, expiresOn: '2026-12-06' }, 'ACTIVE'],
    ['SIP2, expired yesterday', 'SIP2', { valid: true, expiresOn: '2026-12-05' }, 'INACTIVE'],
    [
      'SIP2 with enrolment dates (were a server to send them): the rule applies in full',
      'SIP2',
      { valid: true, enrolledOn: '2025-01-01', expiresOn: '2027-01-01' },
      'INACTIVE',
    ],
  ])('%s', (_label, kind, overrides, outcome) => {
    const figures = judge(one(overrides), { kind });
    expect(figures.outcome).toBe(outcome);
    expect(figures.enrolledOrRenewedOn).toBe(overrides.enrolledOn ?? null);
    expect(figures.memberUntil).toBe(overrides.expiresOn ?? null);
  });
});

describe('not expired', () => {
  it.each<[string, ConnectorKind, Partial<MemberFacts>, string, MembershipOutcome]>([
    ['Koha, expired yesterday', 'KOHA_REST', { expiresOn: '2026-12-05' }, NOON, 'INACTIVE'],
    ['Koha, expires today', 'KOHA_REST', { expiresOn: '2026-12-06' }, NOON, 'ACTIVE'],
    ['Koha, expires tomorrow', 'KOHA_REST', { expiresOn: '2026-12-07' }, NOON, 'ACTIVE'],
    ['Koha, near midnight: 6 December is yesterday in Paris', 'KOHA_REST', { expiresOn: '2026-12-06' }, MIDNIGHT, 'INACTIVE'],
    ['Koha, enrolled long ago but not expired', 'KOHA_REST', { enrolledOn: '2010-01-01', expiresOn: '2027-01-01' }, NOON, 'ACTIVE'],
    ['Koha without any date', 'KOHA_REST', {}, NOON, 'INCONCLUSIVE'],
    ['Koha without expiry, even when valid', 'KOHA_REST', { valid: true, enrolledOn: '2026-01-01' }, NOON, 'INCONCLUSIVE'],
    ['SIP2 valid, no expiry: the server vouches for the card', 'SIP2', { valid: true }, NOON, 'ACTIVE'],
    ['SIP2 valid, expiry tomorrow', 'SIP2', { valid: true, expiresOn: '2026-12-07' }, NOON, 'ACTIVE'],
    ['SIP2 valid, expired yesterday', 'SIP2', { valid: true, expiresOn: '2026-12-05' }, NOON, 'INACTIVE'],
    ['SIP2 saying nothing of validity, no expiry', 'SIP2', { valid: null }, NOON, 'INCONCLUSIVE'],
  ])('%s', (_label, kind, overrides, at, outcome) => {
    expect(judge(one(overrides), { kind, rule: NOT_EXPIRED, at }).outcome).toBe(outcome);
  });
});

describe('what the system says of validity outweighs the dates', () => {
  it.each<[string, ConnectorKind, MembershipRule, Partial<MemberFacts>]>([
    ['Koha, restricted, recent and not expired', 'KOHA_REST', WITHIN, { enrolledOn: '2026-11-01', expiresOn: '2027-11-01' }],
    ['Koha, under "not expired"', 'KOHA_REST', NOT_EXPIRED, { expiresOn: '2027-11-01' }],
    ['SIP2, privileges denied, no expiry', 'SIP2', NOT_EXPIRED, {}],
    ['SIP2, privileges denied, expiry ahead', 'SIP2', WITHIN, { expiresOn: '2027-11-01' }],
  ])('%s', (_label, kind, rule, overrides) => {
    const figures = judge(one({ ...overrides, valid: false, invalidReason: 'carte signalée perdue' }), { kind, rule });
    expect(figures.outcome).toBe('INACTIVE');
    expect(figures.summary).toContain('Adhérent inactif : carte signalée perdue.');
    expect(figures.memberUntil).toBe(overrides.expiresOn ?? null);
  });
});

describe('not found and several matches', () => {
  it.each<[string, Lookup, MembershipOutcome, MembershipMatch | null]>([
    ['nobody', { found: 'none' }, 'NOT_FOUND', null],
    ['nobody, with a note', { found: 'none', note: 'Sans numéro de carte, le serveur SIP2 ne permet pas de rechercher.' }, 'NOT_FOUND', null],
    ['two by e-mail', { found: 'many', matchedBy: 'EMAIL', count: 2 }, 'AMBIGUOUS', 'EMAIL'],
    ['three by name and birth date', { found: 'many', matchedBy: 'NAME_AND_BIRTH_DATE', count: 3 }, 'AMBIGUOUS', 'NAME_AND_BIRTH_DATE'],
  ])('%s', (_label, lookup, outcome, matchedBy) => {
    for (const rule of [WITHIN, NOT_EXPIRED] as const) {
      const figures = judge(lookup, { rule });
      expect(figures).toMatchObject({
        outcome,
        matchedBy,
        enrolledOrRenewedOn: null,
        memberUntil: null,
        birthDateMatches: null,
        birthYearMatches: null,
      });
    }
  });
});

describe('birth date', () => {
  it.each<[string, Partial<MemberFacts>, boolean | null, boolean | null, string]>([
    ['same date', {}, true, true, 'Date de naissance identique.'],
    ['different date, same year', { birthDate: '1990-05-18' }, false, true, 'Date de naissance différente.'],
    ['different date and year', { birthDate: '1991-05-17', birthYear: 1991 }, false, false, 'Date de naissance différente.'],
    ['year only, same', { birthDate: null, birthYear: 1990 }, null, true, 'Année de naissance identique (date complète non fournie).'],
    ['year only, different', { birthDate: null, birthYear: 1989 }, null, false, 'Année de naissance différente.'],
    ['nothing given', { birthDate: null, birthYear: null }, null, null, 'Date de naissance non fournie par le système.'],
  ])('%s', (_label, overrides, dateMatches, yearMatches, sentence) => {
    const figures = judge(one({ enrolledOn: '2026-03-12', ...overrides }));
    expect(figures.birthDateMatches).toBe(dateMatches);
    expect(figures.birthYearMatches).toBe(yearMatches);
    expect(figures.summary).toContain(` ${sentence} (Koha, vérifié le 06/12/2026 à 10:02)`);
  });
});

describe('summaries', () => {
  it.each<[string, Lookup, { kind?: ConnectorKind; rule?: MembershipRule; at?: string }, string]>([
    [
      'active, renewed (the SPEC example)',
      one({ enrolledOn: '2015-09-01', renewedOn: '2026-03-12', expiresOn: '2027-03-11' }),
      {},
      "Adhérent actif : renouvelé le 12/03/2026, valide jusqu'au 11/03/2027. Date de naissance identique. (Koha, vérifié le 06/12/2026 à 10:02)",
    ],
    [
      'active, enrolled, no expiry, summer time',
      one({ enrolledOn: '2026-03-12' }),
      { at: '2026-07-01T08:15:00Z' },
      'Adhérent actif : inscrit le 12/03/2026. Date de naissance identique. (Koha, vérifié le 01/07/2026 à 10:15)',
    ],
    [
      'active over SIP2 by its expiry, birth year only',
      one({ valid: true, expiresOn: '2027-03-11', birthDate: null, birthYear: 1990 }),
      { kind: 'SIP2' },
      "Adhérent actif : valide jusqu'au 11/03/2027. Année de naissance identique (date complète non fournie). (SIP2, vérifié le 06/12/2026 à 10:02)",
    ],
    [
      'active over SIP2 on its word, no expiry',
      one({ valid: true, birthDate: null, birthYear: null }),
      { kind: 'SIP2', rule: NOT_EXPIRED },
      "Adhérent actif : carte valide selon le serveur SIP2 (sans date d'expiration). Date de naissance non fournie par le système. (SIP2, vérifié le 06/12/2026 à 10:02)",
    ],
    [
      'inactive, expired, near midnight',
      one({ enrolledOn: '2026-03-12', expiresOn: '2026-12-06', birthDate: '1990-05-18' }),
      { at: MIDNIGHT },
      'Adhérent inactif : adhésion expirée le 06/12/2026. Date de naissance différente. (Koha, vérifié le 07/12/2026 à 00:30)',
    ],
    [
      'inactive, stale',
      one({ enrolledOn: '2025-12-06' }),
      {},
      'Adhérent inactif : ni inscrit ni renouvelé depuis un an (dernière date : 06/12/2025). Date de naissance identique. (Koha, vérifié le 06/12/2026 à 10:02)',
    ],
    [
      'inactive, stale and expired',
      one({ enrolledOn: '2024-01-10', renewedOn: '2025-01-10', expiresOn: '2026-01-09' }),
      {},
      'Adhérent inactif : adhésion expirée le 09/01/2026 ; ni inscrit ni renouvelé depuis un an (dernière date : 10/01/2025). Date de naissance identique. (Koha, vérifié le 06/12/2026 à 10:02)',
    ],
    [
      "inactive on Koha's word (its reason is a capitalised sentence)",
      one({ enrolledOn: '2026-03-12', valid: false, invalidReason: 'Adhérent soumis à une restriction (suspension) dans Koha.' }),
      {},
      'Adhérent inactif : adhérent soumis à une restriction (suspension) dans Koha. Date de naissance identique. (Koha, vérifié le 06/12/2026 à 10:02)',
    ],
    [
      'inactive without a reason given',
      one({ valid: false }),
      { kind: 'SIP2' },
      'Adhérent inactif : adhésion non valide selon le système de la bibliothèque. Date de naissance identique. (SIP2, vérifié le 06/12/2026 à 10:02)',
    ],
    [
      'inconclusive, Koha without dates',
      one(),
      {},
      "Adhésion à vérifier à la main : le système ne donne ni date d'inscription, ni de renouvellement, ni d'expiration. Date de naissance identique. (Koha, vérifié le 06/12/2026 à 10:02)",
    ],
    [
      'inconclusive, Koha with only an expiry',
      one({ expiresOn: '2027-03-11' }),
      {},
      "Adhésion à vérifier à la main : le système ne donne ni date d'inscription ni date de renouvellement (valide jusqu'au 11/03/2027). Date de naissance identique. (Koha, vérifié le 06/12/2026 à 10:02)",
    ],
    [
      'inconclusive, SIP2 without expiry',
      one({ valid: true }),
      { kind: 'SIP2' },
      "Adhésion à vérifier à la main : le serveur SIP2 ne donne ni date d'inscription ni date d'expiration. Date de naissance identique. (SIP2, vérifié le 06/12/2026 à 10:02)",
    ],
    [
      'inconclusive, no expiry under "not expired"',
      one({ enrolledOn: '2026-03-12' }),
      { rule: NOT_EXPIRED },
      "Adhésion à vérifier à la main : le système ne donne pas de date d'expiration. Date de naissance identique. (Koha, vérifié le 06/12/2026 à 10:02)",
    ],
    ['not found', { found: 'none' }, {}, 'Aucun adhérent correspondant dans le système de la bibliothèque. (Koha, vérifié le 06/12/2026 à 10:02)'],
    [
      'not found, with the note',
      { found: 'none', note: 'Sans numéro de carte, le serveur SIP2 ne permet pas de rechercher' },
      { kind: 'SIP2' },
      'Sans numéro de carte, le serveur SIP2 ne permet pas de rechercher. (SIP2, vérifié le 06/12/2026 à 10:02)',
    ],
    [
      'two matches',
      { found: 'many', matchedBy: 'EMAIL', count: 2 },
      {},
      "2 adhérents correspondent à l'adresse e-mail : un bibliothécaire doit vérifier dans le système de la bibliothèque. (Koha, vérifié le 06/12/2026 à 10:02)",
    ],
    [
      'three matches by name',
      { found: 'many', matchedBy: 'NAME_AND_BIRTH_DATE', count: 3 },
      {},
      '3 adhérents correspondent aux nom, prénom et date de naissance : un bibliothécaire doit vérifier dans le système de la bibliothèque. (Koha, vérifié le 06/12/2026 à 10:02)',
    ],
  ])('%s', (_label, lookup, options, summary) => {
    expect(judge(lookup, options).summary).toBe(summary);
  });

  it('keeps a long reason from the system under 300 characters', () => {
    const reason = `droits suspendus dans le système de la bibliothèque (prêt, renouvellement, rappel, réservation), qui signale un abonnement expiré ; carte signalée perdue ; ${'x'.repeat(300)}`;
    const figures = judge(one({ valid: false, invalidReason: reason, birthDate: null, birthYear: 1990 }), { kind: 'SIP2' });
    expect(figures.summary.length).toBeLessThan(300);
    expect(figures.summary).toMatch(
      /^Adhérent inactif : droits suspendus .*… Année de naissance identique \(date complète non fournie\)\. \(SIP2, vérifié le 06\/12\/2026 à 10:02\)$/,
    );
    const note = judge({ found: 'none', note: 'n'.repeat(500) }).summary;
    expect(note.length).toBeLessThan(300);
  });

  it('never carries the birth date the system gave', () => {
    const figures = judge(one({ enrolledOn: '2026-03-12', birthDate: '1990-05-18' }));
    expect(figures.summary).not.toMatch(/1990|18\/05/);
  });
});

describe('unavailable', () => {
  it.each<[string, ConnectorKind, string, string, string]>([
    [
      'time limit',
      'KOHA_REST',
      'délai dépassé',
      NOON,
      'Système de la bibliothèque injoignable : délai dépassé. La bibliothèque vérifie à la main. (Koha, tentative du 06/12/2026 à 10:02)',
    ],
    [
      'a capitalised sentence from the adapter, near midnight',
      'SIP2',
      'La connexion au serveur SIP2 a été refusée.',
      MIDNIGHT,
      'Système de la bibliothèque injoignable : la connexion au serveur SIP2 a été refusée. La bibliothèque vérifie à la main. (SIP2, tentative du 07/12/2026 à 00:30)',
    ],
    [
      'an acronym first stays as it is',
      'SIP2',
      'TLS refusé par le serveur',
      NOON,
      'Système de la bibliothèque injoignable : TLS refusé par le serveur. La bibliothèque vérifie à la main. (SIP2, tentative du 06/12/2026 à 10:02)',
    ],
  ])('%s', (_label, kind, reason, at, summary) => {
    expect(unavailableMembership({ kind, reason, checkedAt: new Date(at) })).toEqual({
      outcome: 'UNAVAILABLE',
      matchedBy: null,
      enrolledOrRenewedOn: null,
      memberUntil: null,
      birthDateMatches: null,
      birthYearMatches: null,
      summary,
    });
  });
});
