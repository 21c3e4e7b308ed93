// The rules of a membership check, apart from the network and the clock: what a lookup in the
// library's system means under the library's rule, on the Paris calendar date of the check, and the
// French sentence the librarian reads. Only these figures are stored (SPEC, "Membership checks"):
// never the library's record, never its birth date.
import { addParisYears, parisDate, parisStartOfDay, TIME_ZONE } from '../../lib/calendar.js';
import type { ConnectorKind, Lookup, MemberFacts, MembershipMatch } from './adapters/contract.js';

export type MembershipRule = 'ENROLLED_OR_RENEWED_WITHIN_A_YEAR' | 'NOT_EXPIRED';

export type MembershipOutcome = 'ACTIVE' | 'INACTIVE' | 'NOT_FOUND' | 'AMBIGUOUS' | 'INCONCLUSIVE' | 'UNAVAILABLE';

/** Exactly what NuMos stores of a check. */
export interface MembershipFigures {
  outcome: MembershipOutcome;
  matchedBy: MembershipMatch | null;
  /** YYYY-MM-DD, the later of enrolment and last renewal. */
  enrolledOrRenewedOn: string | null;
  /** YYYY-MM-DD, the expiry in the library's system. */
  memberUntil: string | null;
  /** Null when the system gives no full birth date. */
  birthDateMatches: boolean | null;
  /** Null when the system gives no birth year. */
  birthYearMatches: boolean | null;
  /** One or two French sentences for the librarian, then the system and the time of the check. */
  summary: string;
}

export interface JudgeMembershipInput {
  lookup: Lookup;
  kind: ConnectorKind;
  rule: MembershipRule;
  /** YYYY-MM-DD, as the applicant declared it; null when there is none to compare (a staff's test). */
  applicantBirthDate: string | null;
  checkedAt: Date;
}

export function judgeMembership({ lookup, kind, rule, applicantBirthDate, checkedAt }: JudgeMembershipInput): MembershipFigures {
  const stamp = `(${SYSTEM_NAMES[kind]}, vérifié le ${frenchShortDateTime(checkedAt)})`;
  const noFacts = { enrolledOrRenewedOn: null, memberUntil: null, birthDateMatches: null, birthYearMatches: null };

  if (lookup.found === 'none') {
    const text = lookup.note?.trim()
      ? sentence(shorten(lookup.note, TEXT_FROM_SYSTEM_MAX))
      : 'Aucun adhérent correspondant dans le système de la bibliothèque.';
    return { outcome: 'NOT_FOUND', matchedBy: null, ...noFacts, summary: `${text} ${stamp}` };
  }
  if (lookup.found === 'many') {
    const count = lookup.count >= 2 ? String(lookup.count) : 'Plusieurs';
    const text = `${count} adhérents correspondent ${MATCH_PHRASES[lookup.matchedBy]} : un bibliothécaire doit vérifier dans le système de la bibliothèque.`;
    return { outcome: 'AMBIGUOUS', matchedBy: lookup.matchedBy, ...noFacts, summary: `${text} ${stamp}` };
  }

  const { facts } = lookup;
  const today = parisDate(checkedAt);
  const latest = latestOf(facts);
  const verdict = decide(facts, latest, kind, rule, today);
  const birth = birthComparison(facts, applicantBirthDate);
  return {
    outcome: verdict.outcome,
    matchedBy: lookup.matchedBy,
    enrolledOrRenewedOn: latest?.date ?? null,
    memberUntil: facts.expiresOn,
    ...birth.figures,
    summary: `${verdict.text} ${birth.text} ${stamp}`,
  };
}

export interface UnavailableMembershipInput {
  kind: ConnectorKind;
  checkedAt: Date;
  /** French, e.g. « délai dépassé ». */
  reason: string;
}

export function unavailableMembership({ kind, checkedAt, reason }: UnavailableMembershipInput): MembershipFigures {
  const why = shorten(clause(reason), TEXT_FROM_SYSTEM_MAX) || 'erreur inconnue';
  return {
    outcome: 'UNAVAILABLE',
    matchedBy: null,
    enrolledOrRenewedOn: null,
    memberUntil: null,
    birthDateMatches: null,
    birthYearMatches: null,
    summary: `${sentence(`Système de la bibliothèque injoignable : ${why}`)} La bibliothèque vérifie à la main. (${SYSTEM_NAMES[kind]}, tentative du ${frenchShortDateTime(checkedAt)})`,
  };
}

// ---------------------------------------------------------------------------------------------
// The rule.
// ---------------------------------------------------------------------------------------------

interface Latest {
  date: string;
  /** Which date it is, for « inscrit le » or « renouvelé le ». */
  renewal: boolean;
}

function latestOf(facts: MemberFacts): Latest | null {
  const { enrolledOn, renewedOn } = facts;
  // A renewal on the enrolment day is the enrolment itself (dates compare as YYYY-MM-DD text).
  if (renewedOn && (!enrolledOn || renewedOn > enrolledOn)) return { date: renewedOn, renewal: true };
  return enrolledOn ? { date: enrolledOn, renewal: false } : null;
}

/** The day a year before `today` (YYYY-MM-DD); 29 February falls back to 28 February. */
function oneYearBefore(today: string): string {
  // Paris midnight always exists (the clocks change at 02:00 and 03:00), so the date is exact.
  return parisDate(addParisYears(parisStartOfDay(today), -1));
}

function decide(
  facts: MemberFacts,
  latest: Latest | null,
  kind: ConnectorKind,
  rule: MembershipRule,
  today: string,
): { outcome: MembershipOutcome; text: string } {
  const active = (parts: string[]) => ({ outcome: 'ACTIVE' as const, text: sentence(`Adhérent actif : ${parts.join(', ')}`) });
  const inactive = (reasons: string[]) => ({ outcome: 'INACTIVE' as const, text: sentence(`Adhérent inactif : ${reasons.join(' ; ')}`) });
  const inconclusive = (missing: string) => ({ outcome: 'INCONCLUSIVE' as const, text: sentence(`Adhésion à vérifier à la main : ${missing}`) });

  // The system's own word that the membership is not valid outweighs any date.
  if (facts.valid === false) {
    return inactive([shorten(clause(facts.invalidReason ?? ''), TEXT_FROM_SYSTEM_MAX) || 'adhésion non valide selon le système de la bibliothèque']);
  }

  const expiry = facts.expiresOn;
  // An expiry date of today is still valid: the membership ends at the end of that day.
  const expired = expiry !== null && expiry < today;
  const since = latest ? `${latest.renewal ? 'renouvelé' : 'inscrit'} le ${frenchShortDate(latest.date)}` : null;
  const until = expiry ? `valide jusqu'au ${frenchShortDate(expiry)}` : null;
  const expiredOn = expiry ? `adhésion expirée le ${frenchShortDate(expiry)}` : '';
  const present = (...parts: (string | null)[]) => parts.filter((part): part is string => part !== null);

  if (rule === 'NOT_EXPIRED') {
    if (expiry) return expired ? inactive([expiredOn]) : active(present(since, until));
    // SIP2's BL=Y with no privileges denied is the server's own statement that the card is valid.
    if (kind === 'SIP2' && facts.valid === true) return active(present(since, "carte valide selon le serveur SIP2 (sans date d'expiration)"));
    return inconclusive("le système ne donne pas de date d'expiration");
  }

  if (latest) {
    const stale = latest.date <= oneYearBefore(today);
    const reasons = [expired ? expiredOn : null, stale ? `ni inscrit ni renouvelé depuis un an (dernière date : ${frenchShortDate(latest.date)})` : null];
    return stale || expired ? inactive(present(...reasons)) : active(present(since, until));
  }
  // Without enrolment or renewal, a past expiry still fails the rule's "and not expired" half.
  if (expired) return inactive([expiredOn]);
  if (kind === 'SIP2') {
    // SIP2 never gives the enrolment: the expiry the library's SIP server sends stands for the rule.
    return expiry ? active([until as string]) : inconclusive("le serveur SIP2 ne donne ni date d'inscription ni date d'expiration");
  }
  return inconclusive(
    expiry
      ? `le système ne donne ni date d'inscription ni date de renouvellement (${until})`
      : "le système ne donne ni date d'inscription, ni de renouvellement, ni d'expiration",
  );
}

function birthComparison(
  facts: MemberFacts,
  applicantBirthDate: string | null,
): { figures: Pick<MembershipFigures, 'birthDateMatches' | 'birthYearMatches'>; text: string } {
  if (applicantBirthDate === null) return { figures: { birthDateMatches: null, birthYearMatches: null }, text: 'Date de naissance non comparée.' };
  const birthDateMatches = facts.birthDate ? facts.birthDate === applicantBirthDate : null;
  const birthYearMatches = facts.birthYear != null ? facts.birthYear === Number(applicantBirthDate.slice(0, 4)) : null;
  const text =
    birthDateMatches !== null
      ? birthDateMatches
        ? 'Date de naissance identique.'
        : 'Date de naissance différente.'
      : birthYearMatches !== null
        ? birthYearMatches
          ? 'Année de naissance identique (date complète non fournie).'
          : 'Année de naissance différente.'
        : 'Date de naissance non fournie par le système.';
  return { figures: { birthDateMatches, birthYearMatches }, text };
}

// ---------------------------------------------------------------------------------------------
// French text.
// ---------------------------------------------------------------------------------------------

const SYSTEM_NAMES: Record<ConnectorKind, string> = { KOHA_REST: 'Koha', SIP2: 'SIP2' };

const MATCH_PHRASES: Record<MembershipMatch, string> = {
  CARD_NUMBER: 'au numéro de carte',
  EMAIL: "à l'adresse e-mail",
  NAME_AND_BIRTH_DATE: 'aux nom, prénom et date de naissance',
};

/**
 * The longest text taken from an adapter (a note, a reason): the summary stays under 300
 * characters with the verdict, the birth sentence and the parenthesis around it.
 */
const TEXT_FROM_SYSTEM_MAX = 150;

const hourMinute = new Intl.DateTimeFormat('fr-FR', { hour: '2-digit', minute: '2-digit', hourCycle: 'h23', timeZone: TIME_ZONE });

/** YYYY-MM-DD as DD/MM/YYYY: a calendar date, no time zone involved. */
function frenchShortDate(date: string): string {
  const [year, month, day] = date.split('-');
  return `${day}/${month}/${year}`;
}

/** « 06/12/2026 à 10:02 », Paris time. */
function frenchShortDateTime(instant: Date): string {
  return `${frenchShortDate(parisDate(instant))} à ${hourMinute.format(instant)}`;
}

/** A text from an adapter made a clause to follow « : »: no final full stop, lower-case start unless a name or an acronym. */
function clause(text: string): string {
  const trimmed = text.trim().replace(/\.+$/, '');
  const firstWord = trimmed.split(/[\s'’,:;()]/)[0] ?? '';
  if (firstWord === 'Koha' || /[A-Z0-9]/.test(firstWord.slice(1))) return trimmed;
  return trimmed.charAt(0).toLowerCase() + trimmed.slice(1);
}

function shorten(text: string, max: number): string {
  const trimmed = text.trim();
  return trimmed.length <= max ? trimmed : `${trimmed.slice(0, max - 1).trimEnd()}…`;
}

/** Ends a sentence with a full stop unless it already has a final mark. */
function sentence(text: string): string {
  return /[.!?…]$/.test(text) ? text : `${text}.`;
}

/** How long a check stands for an acceptance on the library's behalf. */
export const FRESH_CHECK_HOURS = 24;

/**
 * Whether NuMos may accept on the library's behalf (the library opted in): the latest check is
 * fresh, ACTIVE, found by card number or e-mail (not by name alone), with the birth date matching
 * (or, when the system gives only a year, the birth year). The licence pool is checked by the
 * acceptance itself. NuMos never refuses on its own.
 */
export function mayAcceptAutomatically(
  check: Pick<MembershipFigures, 'outcome' | 'matchedBy' | 'birthDateMatches' | 'birthYearMatches'> & { checkedAt: Date },
  now: Date,
): boolean {
  const fresh = now.getTime() - check.checkedAt.getTime() < FRESH_CHECK_HOURS * 3_600_000;
  const birth = check.birthDateMatches === true || (check.birthDateMatches === null && check.birthYearMatches === true);
  return fresh && check.outcome === 'ACTIVE' && (check.matchedBy === 'CARD_NUMBER' || check.matchedBy === 'EMAIL') && birth;
}
