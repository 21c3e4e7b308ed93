// Membership checks in the library's own system (SIGB): what step 3 of the seed asks each library
// to check by hand (an active member, the declared birth date), asked by NuMos itself of every
// library that connects its system (Koha's REST API, SIP2), and shown to the librarian, who keeps
// the decision. A library may let NuMos accept on its behalf when everything matches; NuMos never
// refuses on its own.
//
// A check runs as a job after each confirmation and renewal request, and on a librarian's recheck.
// Calls to one library's system are limited across instances (2 at once, 60 a minute: they are
// small servers), each has a 5-second limit (NUMOS_CONNECTOR_TIMEOUT_MS) and up to 3 tries; after 5 failed checks in a row the
// calls pause for 15 minutes and the library and the DLPB are told once. A failed check is
// UNAVAILABLE: the request follows the manual path, unchanged.
import { randomUUID } from 'node:crypto';
import { lookup as dnsLookup } from 'node:dns/promises';
import { readFileSync } from 'node:fs';
import { isIP } from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';
import { context, ROOT_CONTEXT, SpanStatusCode, trace } from '@opentelemetry/api';
import { createElement } from 'react';
import { ConnectorPaused } from '../../../emails/ConnectorPaused.js';
import type { Caller } from '../../auth/caller.js';
import { canSeeLibraryData } from '../../auth/visibility.js';
import { forbidden, Refusal, refuseIfAny, userError, type UserError } from '../../domain/errors.js';
import type { MembershipConnector, Patron, RegistrationRequest } from '../../generated/prisma/client.js';
import type { App } from '../../instance.js';
import { MEMBERSHIP_CHECK_QUEUE } from '../../jobs/queues.js';
import { formatFrenchDateTime, isoDate } from '../../lib/calendar.js';
import { needsResealing, seal, unseal } from '../../lib/sealed.js';
import { birthDateOf } from '../../domain/person.js';
import { settle } from '../decisions/service.js';
import { unitOfWork, type Work } from '../unit-of-work.js';
import { ConnectorFailure, type ApplicantQuery, type ConnectorKind, type ConnectorSettings, type Lookup, type MembershipAdapter } from './adapters/contract.js';
import { createKohaAdapter } from './adapters/koha.js';
import { checkAddress, checkEncrypted, checkHost } from './adapters/network.js';
import { createSip2Adapter, parseEndpoint } from './adapters/sip2.js';
import { judgeMembership, mayAcceptAutomatically, unavailableMembership, type MembershipFigures, type MembershipRule } from './outcome.js';
import { acquireCall, insertCheck, recordCall, releaseCall } from './store.js';
import { log } from '../../observability/logger.js';

/** What this module uses of the application instance. */
type Services = Pick<App, 'boss' | 'clock' | 'config' | 'db' | 'metrics' | 'outbox' | 'prisma' | 'settings'>;

const TRIES = 3;
/** Answers larger than this are failures. */
const MAX_ANSWER_BYTES = 1024 * 1024;
/** Calls to one library's system: at once, and per minute, across every instance. */
export const CALLS_AT_ONCE = 2;
export const CALLS_PER_MINUTE = 60;
/** Failed checks in a row before the calls pause, and for how long. */
export const PAUSE_AFTER_FAILURES = 5;
export const PAUSE_MINUTES = 15;
/** Pauses between tries: 200 ms, then 400 ms. */
const RETRY_PAUSE_MS = 200;

/**
 * How long a call's slot is held at most: every try of a call and their pauses fit in it, with a
 * margin, whatever NUMOS_CONNECTOR_TIMEOUT_MS says (up to a minute a try). A slot outlives its
 * holder only when the process died mid-call.
 */
function leaseSeconds(app: Services): number {
  const longest = TRIES * app.config.connectors.timeoutMs + RETRY_PAUSE_MS * ((TRIES * (TRIES - 1)) / 2);
  return Math.max(30, Math.ceil(longest / 1000) + 10);
}

/** One adapter per kind of system for the process: Koha's OAuth2 tokens are kept there until they expire. */
const adapters: Record<ConnectorKind, MembershipAdapter> = { KOHA_REST: createKohaAdapter(), SIP2: createSip2Adapter() };

const SYSTEM_NAMES: Record<ConnectorKind, string> = { KOHA_REST: 'Koha', SIP2: 'SIP2' };

/** The extra certificate authorities of NUMOS_CONNECTOR_CA_FILE, read once. */
const authorities = new Map<string, string[]>();
function extraAuthorities(file: string | undefined): string[] | undefined {
  if (!file) return undefined;
  let pems = authorities.get(file);
  if (!pems) {
    pems = [readFileSync(file, 'utf8')];
    authorities.set(file, pems);
  }
  return pems;
}

/** The checked figures with when and with what. */
export interface MembershipCheckView extends MembershipFigures {
  connector: ConnectorKind;
  checkedAt: Date;
}

// --------------------------------------------------------------------------------------------
// Calling a library's system
// --------------------------------------------------------------------------------------------

function settingsOf(app: Services, connector: MembershipConnector): ConnectorSettings {
  let secret: string | null = null;
  if (connector.secretSealed) {
    try {
      secret = unseal(app.config.connectors.keys, connector.secretSealed, connector.libraryId);
    } catch {
      throw new ConnectorFailure('Le secret du connecteur ne peut pas être lu avec la clé NUMOS_SECRETS_KEY en service : enregistrez-le à nouveau.', false);
    }
  }
  return {
    libraryId: connector.libraryId,
    kind: connector.kind,
    endpoint: connector.endpoint,
    tls: connector.tls,
    username: connector.username,
    secret,
    kohaAuthentication: connector.kohaAuthentication,
    institutionId: connector.institutionId,
    locationCode: connector.locationCode,
    expiryField: connector.expiryField,
  };
}

/**
 * During a change of NUMOS_SECRETS_KEY (the old one in NUMOS_SECRETS_KEY_PREVIOUS), a secret still
 * sealed under the old key is sealed again under the new one as it is used, so that the old key
 * can be retired. Only if nobody changed it meanwhile; a failure here never fails the check.
 */
async function resealIfNeeded(app: Services, connector: MembershipConnector, secret: string | null): Promise<void> {
  const sealed = connector.secretSealed;
  if (secret === null || !sealed || !needsResealing(app.config.connectors.keys, sealed)) return;
  await app.prisma.membershipConnector
    .updateMany({
      where: { libraryId: connector.libraryId, secretSealed: sealed },
      data: { secretSealed: seal(app.config.connectors.keys, secret, connector.libraryId) },
    })
    .catch(() => undefined);
}

/**
 * One lookup in the library's system, with up to 3 tries on what another try may mend (network,
 * time limit, a server error): the lookup, or why it failed (French, without any secret).
 */
async function lookUp(app: Services, connector: MembershipConnector, query: ApplicantQuery): Promise<{ lookup: Lookup } | { failure: string }> {
  const kind = connector.kind;
  const stopTimer = app.metrics.connectorCallDuration.startTimer({ kind });
  return trace.getTracer('numos').startActiveSpan('membership.lookup', { attributes: { 'numos.membership.kind': kind } }, async (span) => {
    try {
      const settings = settingsOf(app, connector);
      await resealIfNeeded(app, connector, settings.secret);
      const options = {
        network: { allowedHosts: app.config.connectors.allowedHosts, allowPlaintext: app.config.connectors.allowPlaintext },
        timeoutMs: app.config.connectors.timeoutMs,
        maxBytes: MAX_ANSWER_BYTES,
        ca: extraAuthorities(app.config.connectors.caFile),
        now: app.clock.now(),
      };
      for (let attempt = 1; ; attempt++) {
        try {
          // Outside any trace: the HTTP client's spans would record the URL, whose query string
          // carries the person's card number, address or names (and would send our trace ids to
          // the library's server). This span says what was called, how long, and how it ended.
          const lookup = await context.with(ROOT_CONTEXT, () => adapters[kind].lookup(settings, query, options));
          app.metrics.connectorCalls.inc({ kind, outcome: lookup.found === 'one' ? 'found' : lookup.found === 'many' ? 'ambiguous' : 'not_found' });
          return { lookup };
        } catch (error) {
          if (!(error instanceof ConnectorFailure) || !error.retryable || attempt >= TRIES) throw error;
          span.addEvent('retry', { attempt });
          await sleep(RETRY_PAUSE_MS * attempt);
        }
      }
    } catch (error) {
      // An unexpected error's text may say anything: only the adapters' own failures are shown.
      const failure = error instanceof ConnectorFailure ? error.message : 'erreur inattendue pendant la vérification';
      app.metrics.connectorCalls.inc({ kind, outcome: 'failed' });
      // For the operators: which library's system, and why (the adapters' messages hold no secret).
      log().warn({ libraryId: connector.libraryId, kind, failure }, 'appel au SIGB en échec');
      span.setStatus({ code: SpanStatusCode.ERROR, message: failure });
      return { failure };
    } finally {
      stopTimer();
      span.end();
    }
  });
}

// --------------------------------------------------------------------------------------------
// Checks of requests
// --------------------------------------------------------------------------------------------

export interface CheckJob {
  requestId: string;
  /** One check per event: `confirmation:<request>`, `renewal:<request>`, `recheck:<request>:<uuid>`. */
  eventKey: string;
}

/** After a confirmation or a renewal request, in its unit of work: a check is queued if the library has an active connector. */
export async function queueMembershipCheck(work: Work, request: Pick<RegistrationRequest, 'id' | 'libraryId' | 'kind'>): Promise<void> {
  const connector = await work.tx.membershipConnector.findUnique({ where: { libraryId: request.libraryId }, select: { enabled: true } });
  if (!connector?.enabled) return;
  const eventKey = `${request.kind === 'RENEWAL' ? 'renewal' : 'confirmation'}:${request.id}`;
  await work.send(MEMBERSHIP_CHECK_QUEUE, { requestId: request.id, eventKey } satisfies CheckJob);
}

type RequestToCheck = RegistrationRequest & {
  patron: Patron | null;
  library: { id: string; name: string; email: string; connector: MembershipConnector | null };
};

async function requestToCheck(app: Services, requestId: string): Promise<RequestToCheck | null> {
  return app.prisma.registrationRequest.findUnique({
    where: { id: requestId },
    include: { patron: true, library: { select: { id: true, name: true, email: true, connector: true } } },
  });
}

/** Who to look for: the person of the request, by the card number given with the form (or an earlier request of theirs). */
async function applicantOf(app: Services, request: RequestToCheck & { patron: Patron }): Promise<ApplicantQuery> {
  let cardNumber = request.libraryCardNumber;
  if (!cardNumber) {
    const earlier = await app.prisma.registrationRequest.findFirst({
      where: { patronId: request.patron.id, libraryCardNumber: { not: null } },
      orderBy: { submittedAt: 'desc' },
      select: { libraryCardNumber: true },
    });
    cardNumber = earlier?.libraryCardNumber ?? null;
  }
  const { patron } = request;
  return { cardNumber, email: patron.email, lastName: patron.lastName, firstName: patron.firstName, birthDate: birthDateOf(patron) };
}

/**
 * The job of a check: nothing when the request no longer awaits a decision (decided, erased) or
 * the library has no active connector; else the library's system is asked (or, paused, not), the
 * figures stored once per event and published, and NuMos accepts on the library's behalf when the
 * library opted in and everything matches. When the library's calls are all taken (2 at once, 60
 * a minute), says how long to wait: the job comes back then.
 */
export async function runMembershipCheck(app: Services, job: CheckJob): Promise<{ retryAfterSeconds: number } | null> {
  const request = await requestToCheck(app, job.requestId);
  const connector = request?.library.connector;
  if (!request?.patron || request.state !== 'AWAITING_DECISION' || !connector?.enabled) return null;
  // A job run again (its first run failed after storing the check, or a twin delivery) does not
  // call the library's system again for the same event: the stored check stands, and the
  // acceptance its first run may not have finished is tried again (settle lets one through).
  const stored = await app.prisma.membershipCheck.findUnique({ where: { eventKey: job.eventKey } });
  let check: MembershipCheckView | null;
  if (stored) {
    check = checkView(stored);
  } else {
    const outcome = await checkRequest(app, request as RequestToCheck & { patron: Patron }, connector, job.eventKey);
    if ('waitSeconds' in outcome) return { retryAfterSeconds: outcome.waitSeconds };
    check = outcome.check;
  }
  if (check && connector.autoAccept && mayAcceptAutomatically(check, app.clock.now())) await acceptOnBehalf(app, request.id);
  return null;
}

/**
 * Asks the library's system about a request's person and stores what it found (once per event).
 * `check` is null when this event's check was stored already (a retried job, a twin instance).
 */
async function checkRequest(
  app: Services,
  request: RequestToCheck & { patron: Patron },
  connector: MembershipConnector,
  eventKey: string,
): Promise<{ check: MembershipCheckView | null } | { waitSeconds: number }> {
  const now = app.clock.now();
  let figures: MembershipFigures;
  let call: { ok: boolean; error: string | null } | null = null;
  if (connector.pausedUntil && connector.pausedUntil > now) {
    figures = unavailableMembership({
      kind: connector.kind,
      checkedAt: now,
      reason: `appels suspendus jusqu'au ${formatFrenchDateTime(connector.pausedUntil)} après ${PAUSE_AFTER_FAILURES} échecs de suite`,
    });
  } else {
    const holder = randomUUID();
    // Who to look for is read before a slot is taken: the slot's time is the call's.
    const applicant = await applicantOf(app, request);
    const taken = await acquireCall(app.db, {
      libraryId: connector.libraryId,
      holder,
      leaseSeconds: leaseSeconds(app),
      slots: CALLS_AT_ONCE,
      perMinute: CALLS_PER_MINUTE,
    });
    if ('waitSeconds' in taken) return taken;
    let result: Awaited<ReturnType<typeof lookUp>>;
    try {
      result = await lookUp(app, connector, applicant);
    } finally {
      await releaseCall(app.db, connector.libraryId, taken, holder);
    }
    const checkedAt = app.clock.now();
    if ('lookup' in result) {
      figures = judgeMembership({
        lookup: result.lookup,
        kind: connector.kind,
        rule: connector.rule,
        applicantBirthDate: birthDateOf(request.patron),
        checkedAt,
      });
      call = { ok: true, error: null };
    } else {
      figures = unavailableMembership({ kind: connector.kind, checkedAt, reason: result.failure });
      call = { ok: false, error: result.failure };
    }
  }
  const checkedAt = app.clock.now();
  return unitOfWork(app, {}, async (work) => {
    if (call) {
      const recorded = await recordCall(work.sql, {
        libraryId: connector.libraryId,
        at: checkedAt,
        ok: call.ok,
        error: call.error,
        pauseAfter: PAUSE_AFTER_FAILURES,
        pauseMinutes: PAUSE_MINUTES,
      });
      if (recorded.announce) await announcePause(app, work, request.library, connector, call.error ?? '', recorded.pausedUntil);
    }
    const stored = await insertCheck(work.sql, {
      ...figures,
      requestId: request.id,
      libraryId: request.libraryId,
      eventKey,
      connector: connector.kind,
      checkedAt,
    });
    if (!stored) return { check: null };
    await work.publish({ type: 'MEMBERSHIP_CHECKED', occurredAt: checkedAt.toISOString(), requestId: request.id, libraryId: request.libraryId });
    return { check: { ...figures, connector: connector.kind, checkedAt } };
  });
}

/** Told once per outage: the library and the DLPB, when the calls pause. */
async function announcePause(
  app: Services,
  work: Work,
  library: { name: string; email: string },
  connector: MembershipConnector,
  lastError: string,
  pausedUntil: Date | null,
): Promise<void> {
  await work.email({
    template: 'ConnectorPaused',
    to: [library.email],
    cc: [app.config.dlpbEmail],
    subject: `NuMos : le système de ${library.name} ne répond plus aux vérifications d'adhésion`,
    body: createElement(ConnectorPaused, {
      libraryName: library.name,
      system: SYSTEM_NAMES[connector.kind],
      failures: PAUSE_AFTER_FAILURES,
      pausedUntil: pausedUntil ? formatFrenchDateTime(pausedUntil) : '',
      lastError,
    }),
  });
}

/**
 * NuMos accepts on the library's behalf: `decide(ACCEPT)`'s own path (locks, the library's text,
 * e-mail, event), recorded as automatic, by nobody, audited AUTO_ACCEPT. What a person's decision
 * would be refused (decided meanwhile, no licence left) leaves the request to a person.
 */
async function acceptOnBehalf(app: Services, requestId: string): Promise<void> {
  try {
    await unitOfWork(app, { actor: null }, (work) =>
      settle(app, work, { requestId, decision: 'ACCEPT', message: null, decidedById: null, onBehalf: true, automatically: true }),
    );
  } catch (error) {
    if (!(error instanceof Refusal)) throw error;
  }
}

/** Staff who may decide the request: its person is looked up again now; the new check is the request's latest. */
export async function recheckMembership(app: Services, caller: Caller, requestId: string | undefined): Promise<RegistrationRequest> {
  if (caller.kind !== 'staff') throw forbidden();
  const request = requestId ? await requestToCheck(app, requestId) : null;
  if (!request?.patron) throw new Refusal(userError('NOT_FOUND', 'Demande introuvable.', 'requestId'));
  if (!canSeeLibraryData(caller, request.libraryId)) throw forbidden();
  if (request.state !== 'AWAITING_DECISION') throw new Refusal(userError('INVALID_STATE', "Cette demande n'attend plus de décision.", 'requestId'));
  const connector = request.library.connector;
  if (!connector?.enabled) throw new Refusal(userError('INVALID_CONNECTOR', "Cette bibliothèque n'a pas de connecteur actif vers son système.", 'requestId'));
  const outcome = await checkRequest(app, request as RequestToCheck & { patron: Patron }, connector, `recheck:${request.id}:${randomUUID()}`);
  if ('waitSeconds' in outcome) throw new Refusal(callsTaken(outcome.waitSeconds));
  return app.prisma.registrationRequest.findUniqueOrThrow({ where: { id: request.id } });
}

const callsTaken = (waitSeconds: number): UserError => ({
  ...userError('RATE_LIMITED', 'Le système de la bibliothèque reçoit déjà le maximum d’appels : réessayez dans un instant.', 'requestId'),
  retryAfterSeconds: Math.max(1, Math.ceil(waitSeconds)),
});

// --------------------------------------------------------------------------------------------
// Connectors
// --------------------------------------------------------------------------------------------

export interface SaveConnectorInput {
  /** As decoded by the GraphQL layer. */
  libraryId?: string;
  kind: ConnectorKind;
  enabled: boolean;
  rule?: MembershipRule | null;
  autoAccept?: boolean | null;
  endpoint: string;
  tls?: boolean | null;
  username?: string | null;
  /** Write-only; omitted: the stored secret is kept. */
  secret?: string | null;
  kohaAuthentication?: 'OAUTH2' | 'BASIC' | null;
  institutionId?: string | null;
  locationCode?: string | null;
  expiryField?: string | null;
}

/** The library of a connector, if the caller is its staff or the DLPB: FORBIDDEN otherwise, NOT_FOUND when there is none. */
async function managedLibrary(app: Services, caller: Caller, libraryId: string | undefined) {
  if (caller.kind !== 'staff') throw forbidden();
  const staff = caller;
  const library = libraryId ? await app.prisma.library.findUnique({ where: { id: libraryId }, include: { connector: true } }) : null;
  if (!library) throw new Refusal(userError('NOT_FOUND', 'Bibliothèque introuvable.', 'libraryId'));
  if (!canSeeLibraryData(caller, library.id)) throw forbidden();
  return { ...library, staff };
}

const invalid = (message: string, field: string) => userError('INVALID_CONNECTOR', message, field);
const blank = (value: string | null | undefined) => value?.trim() || null;

/** Where the connector points, checked as a call would be (HTTPS/TLS, no private address unless allowed). */
async function endpointErrors(app: Services, kind: ConnectorKind, endpoint: string, tls: boolean): Promise<UserError[]> {
  const policy = { allowedHosts: app.config.connectors.allowedHosts, allowPlaintext: app.config.connectors.allowPlaintext };
  let host: string;
  try {
    if (kind === 'KOHA_REST') {
      const url = new URL(endpoint);
      if (url.username || url.password || url.search || url.hash)
        return [invalid("L'adresse ne doit contenir ni identifiant, ni mot de passe, ni paramètres.", 'endpoint')];
      if (url.protocol !== 'https:' && url.protocol !== 'http:') throw new Error();
      checkEncrypted(policy, url.protocol === 'https:', "L'accès à Koha");
      host = url.hostname.replace(/^\[|\]$/g, '');
    } else {
      host = parseEndpoint(endpoint).host;
      checkEncrypted(policy, tls, 'SIP2');
    }
  } catch (error) {
    if (error instanceof ConnectorFailure)
      return [invalid(error.message, error.message.includes('chiffrement') ? (kind === 'SIP2' ? 'tls' : 'endpoint') : 'endpoint')];
    return [
      invalid(
        kind === 'KOHA_REST'
          ? "L'adresse de l'API de Koha est une URL comme https://koha.exemple.fr/api/v1."
          : "L'adresse du serveur SIP2 s'écrit hôte:port, par exemple sip.exemple.fr:6001.",
        'endpoint',
      ),
    ];
  }
  try {
    if (isIP(host)) checkHost(policy, host);
    else for (const { address } of await dnsLookup(host, { all: true })) checkAddress(policy, host, address);
  } catch (error) {
    if (error instanceof ConnectorFailure) return [invalid(error.message, 'endpoint')];
    return [invalid(`Le nom ${host} ne correspond à aucune adresse.`, 'endpoint')];
  }
  return [];
}

/** Staff of the library, or the DLPB: creates or replaces the library's connector. Audited without its secret. */
export async function saveMembershipConnector(app: Services, caller: Caller, input: SaveConnectorInput): Promise<MembershipConnector> {
  const library = await managedLibrary(app, caller, input.libraryId);
  const kind = input.kind;
  const tls = input.tls ?? true;
  const endpoint = input.endpoint.trim().replace(/\/+$/, '');
  const username = blank(input.username);
  const secret = input.secret ?? null;
  const institutionId = blank(input.institutionId);
  const locationCode = blank(input.locationCode);
  const expiryField = blank(input.expiryField)?.toUpperCase() ?? null;
  const kohaAuthentication = input.kohaAuthentication ?? 'OAUTH2';
  const errors = await endpointErrors(app, kind, endpoint, tls);
  const keepsSecret = secret === null && library.connector?.secretSealed != null;
  if (secret !== null && !app.config.connectors.keys.current) {
    errors.push(invalid("Aucun secret ne peut être enregistré : l'exploitant n'a pas configuré NUMOS_SECRETS_KEY.", 'secret'));
  }
  if (secret !== null && !secret) errors.push(invalid('Le secret ne peut pas être vide (omettez-le pour garder celui enregistré).', 'secret'));
  if (kind === 'KOHA_REST') {
    if (!username) errors.push(invalid("Indiquez l'identifiant client OAuth2 (ou l'utilisateur, en authentification Basic).", 'username'));
    if (secret === null && !keepsSecret) errors.push(invalid('Indiquez le secret client OAuth2 (ou le mot de passe, en authentification Basic).', 'secret'));
  } else {
    if (!institutionId) errors.push(invalid("Indiquez l'identifiant d'institution (AO) attendu par le serveur SIP2.", 'institutionId'));
    if (username && secret === null && !keepsSecret) errors.push(invalid("Indiquez le mot de passe de l'utilisateur SIP2 (CO).", 'secret'));
    if (expiryField && !/^[A-Z][A-Z0-9]$/.test(expiryField))
      errors.push(invalid("Le champ d'expiration est un code SIP2 de deux caractères (par exemple DE).", 'expiryField'));
  }
  refuseIfAny(errors);

  const data = {
    kind,
    enabled: input.enabled,
    rule: input.rule ?? 'ENROLLED_OR_RENEWED_WITHIN_A_YEAR',
    autoAccept: input.autoAccept ?? false,
    endpoint,
    tls: kind === 'KOHA_REST' ? endpoint.startsWith('https:') : tls,
    username,
    kohaAuthentication,
    institutionId: kind === 'SIP2' ? institutionId : null,
    locationCode: kind === 'SIP2' ? locationCode : null,
    expiryField: kind === 'SIP2' ? expiryField : null,
    // New settings, a new start: the failures of the old ones are forgotten.
    consecutiveFailures: 0,
    pausedUntil: null,
    pauseAnnounced: false,
    ...(secret !== null ? { secretSealed: seal(app.config.connectors.keys, secret, library.id) } : {}),
  };
  return unitOfWork(app, { actor: caller }, async ({ tx, now, audit }) => {
    const saved = await tx.membershipConnector.upsert({
      where: { libraryId: library.id },
      create: { libraryId: library.id, ...data, updatedAt: now, updatedById: library.staff.staffId },
      update: { ...data, updatedAt: now, updatedById: library.staff.staffId },
    });
    await audit({
      action: 'SAVE_MEMBERSHIP_CONNECTOR',
      subjectType: 'Library',
      subjectId: library.id,
      libraryId: library.id,
      onBehalf: library.staff.role === 'DLPB_AGENT',
      before: library.connector && connectorFigures(library.connector),
      after: { ...connectorFigures(saved), secretChanged: secret !== null },
    });
    return saved;
  });
}

/** What the audit log keeps of a connector: its settings, never its secret. */
const connectorFigures = (c: MembershipConnector) => ({
  kind: c.kind,
  enabled: c.enabled,
  rule: c.rule,
  autoAccept: c.autoAccept,
  endpoint: c.endpoint,
  tls: c.tls,
  username: c.username,
  kohaAuthentication: c.kohaAuthentication,
  institutionId: c.institutionId,
  locationCode: c.locationCode,
  expiryField: c.expiryField,
  secretConfigured: c.secretSealed !== null,
});

/** Staff of the library, or the DLPB: the settings and the stored secret are deleted. */
export async function removeMembershipConnector(app: Services, caller: Caller, libraryId: string | undefined): Promise<void> {
  const library = await managedLibrary(app, caller, libraryId);
  if (!library.connector) throw new Refusal(userError('NOT_FOUND', "Cette bibliothèque n'a pas de connecteur.", 'libraryId'));
  await unitOfWork(app, { actor: caller }, async ({ tx, audit }) => {
    await tx.membershipConnector.deleteMany({ where: { libraryId: library.id } });
    await audit({
      action: 'REMOVE_MEMBERSHIP_CONNECTOR',
      subjectType: 'Library',
      subjectId: library.id,
      libraryId: library.id,
      onBehalf: caller.kind === 'staff' && caller.role === 'DLPB_AGENT',
      before: connectorFigures(library.connector!),
    });
  });
}

export interface TestConnectorInput {
  libraryId?: string;
  cardNumber?: string | null;
  email?: string | null;
  lastName?: string | null;
  firstName?: string | null;
  birthDate?: string | null;
}

/** Staff of the library, or the DLPB: looks a person up with the library's connector, as a check would, and stores nothing. */
export async function testMembershipConnector(app: Services, caller: Caller, input: TestConnectorInput): Promise<MembershipCheckView> {
  const library = await managedLibrary(app, caller, input.libraryId);
  const connector = library.connector;
  if (!connector) throw new Refusal(userError('NOT_FOUND', "Cette bibliothèque n'a pas de connecteur.", 'libraryId'));
  const query: ApplicantQuery = {
    cardNumber: blank(input.cardNumber),
    email: blank(input.email),
    lastName: blank(input.lastName),
    firstName: blank(input.firstName),
    birthDate: input.birthDate ?? null,
  };
  if (!query.cardNumber && !query.email && !(query.lastName && query.firstName && query.birthDate)) {
    throw new Refusal(invalid('Indiquez un numéro de carte, une adresse e-mail, ou les nom, prénom et date de naissance.', 'cardNumber'));
  }
  const holder = randomUUID();
  const taken = await acquireCall(app.db, {
    libraryId: library.id,
    holder,
    leaseSeconds: leaseSeconds(app),
    slots: CALLS_AT_ONCE,
    perMinute: CALLS_PER_MINUTE,
  });
  if ('waitSeconds' in taken) throw new Refusal({ ...callsTaken(taken.waitSeconds), field: 'libraryId' });
  let result: Awaited<ReturnType<typeof lookUp>>;
  try {
    result = await lookUp(app, connector, query);
  } finally {
    await releaseCall(app.db, library.id, taken, holder);
  }
  const checkedAt = app.clock.now();
  const figures =
    'lookup' in result
      ? judgeMembership({ lookup: result.lookup, kind: connector.kind, rule: connector.rule, applicantBirthDate: query.birthDate ?? null, checkedAt })
      : unavailableMembership({ kind: connector.kind, checkedAt, reason: result.failure });
  return { ...figures, connector: connector.kind, checkedAt };
}

/** A stored check as the API shows it (dates as calendar dates). */
export function checkView(check: {
  outcome: MembershipFigures['outcome'];
  connector: ConnectorKind;
  checkedAt: Date;
  matchedBy: MembershipFigures['matchedBy'];
  enrolledOrRenewedOn: Date | null;
  memberUntil: Date | null;
  birthDateMatches: boolean | null;
  birthYearMatches: boolean | null;
  summary: string;
}): MembershipCheckView {
  return {
    ...check,
    enrolledOrRenewedOn: check.enrolledOrRenewedOn ? isoDate(check.enrolledOrRenewedOn) : null,
    memberUntil: check.memberUntil ? isoDate(check.memberUntil) : null,
  };
}
