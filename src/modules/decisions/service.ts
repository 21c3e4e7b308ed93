// The library's decision: accept or refuse a request awaiting it. Library admins
// decide for their own library, DLPB agents for any (on the library's behalf).
import { createElement } from 'react';
import { DecisionResponse } from '../../../emails/DecisionResponse.js';
import type { App } from '../../instance.js';
import type { Caller } from '../../auth/caller.js';
import { canSeeLibraryData } from '../../auth/visibility.js';
import type { Decision, Patron, RegistrationKind, RegistrationRequest } from '../../generated/prisma/client.js';
import { forbidden } from '../../domain/errors.js';
import { Refusal, refuseIfAny, userError, type UserError } from '../../domain/errors.js';
import { addParisYears, formatFrenchDate } from '../../lib/calendar.js';
import { unitOfWork, type Work } from '../unit-of-work.js';
import { libraryAdministration } from '../../email/outbox.js';
import { checkLicenceAlert, lockLicencePool } from '../licences/service.js';
import { responseTextErrors, templateInForce } from './responses.js';
import { renderResponse, type PlaceholderValues } from './templates.js';

/** What this module uses of the application instance. */
type Services = Pick<App, 'boss' | 'clock' | 'config' | 'db' | 'metrics' | 'outbox' | 'prisma' | 'settings'>;

export interface DecideInput {
  /** As decoded by the GraphQL layer: undefined or NO_MATCH name no request. */
  requestId?: string;
  decision: Decision;
  message?: string | null;
}

export interface DecideResult {
  request: RegistrationRequest | null;
  errors: UserError[];
}

export const MESSAGE_MAX = 20_000;

/** The end of access a decision gives: a renewal runs one year beyond the later of today and the current end. */
export function activeUntilAfter(app: Services, decision: Decision, kind: RegistrationKind, current: Date | null, now: Date): Date | null {
  if (decision !== 'ACCEPT') return current;
  const from = kind === 'RENEWAL' && current && current > now ? current : now;
  return addParisYears(from, app.settings.activeYears);
}

export const placeholderValues = (patron: Patron, activeUntil: Date | null): PlaceholderValues => ({
  firstName: patron.firstName,
  lastName: patron.lastName,
  activeUntil: activeUntil ? formatFrenchDate(activeUntil) : '',
  login: patron.login,
});

/** Staff: the response `decide` would send now for this request and decision, placeholders filled. */
export async function responseDraft(app: Services, caller: Caller, request: RegistrationRequest, decision: Decision): Promise<string> {
  if (caller.kind !== 'staff' || !canSeeLibraryData(caller, request.libraryId)) throw forbidden();
  const current = await app.prisma.registrationRequest.findUnique({ where: { id: request.id }, include: { patron: true, library: true } });
  if (!current?.patron) return '';
  const template = await templateInForce(app, app.prisma, current.library, decision);
  const activeUntil = activeUntilAfter(app, decision, current.kind, current.patron.activeUntil, app.clock.now());
  return renderResponse(template.body, placeholderValues(current.patron, activeUntil));
}

export async function decide(app: Services, caller: Caller, input: DecideInput): Promise<DecideResult> {
  if (caller.kind !== 'staff') throw forbidden();
  const id = input.requestId;
  const found = id ? await app.prisma.registrationRequest.findUnique({ where: { id }, select: { libraryId: true, patronId: true } }) : null;
  if (!found?.patronId) throw new Refusal(requestNotFound());
  if (!canSeeLibraryData(caller, found.libraryId)) throw forbidden();
  // The decider's text follows the rules of the library's texts (setResponseTemplate).
  const message = input.message?.trim() ? input.message : null;
  if (message) refuseIfAny(responseTextErrors(message, 'message'));
  const request = await unitOfWork(app, { actor: caller }, (work) =>
    settle(app, work, {
      requestId: id!,
      decision: input.decision,
      message,
      decidedById: caller.staffId,
      onBehalf: caller.role === 'DLPB_AGENT',
      automatically: false,
    }),
  );
  return { request, errors: [] };
}

const requestNotFound = () => userError('NOT_FOUND', 'Demande introuvable.', 'requestId');

export interface Settlement {
  requestId: string;
  decision: Decision;
  /** The decider's own text (sanitised), else the library's response text. */
  message: string | null;
  /** Null when NuMos settles on its own (an acceptance on the library's behalf). */
  decidedById: string | null;
  onBehalf: boolean;
  automatically: boolean;
}

/**
 * Settles a request awaiting a decision, within a unit of work: the path of every decision, a
 * person's or NuMos's own acceptance on a library's behalf. Takes the locks in this order:
 * licence pool (to accept), request (its conditional update), patron.
 */
export async function settle(app: Services, work: Work, settlement: Settlement): Promise<RegistrationRequest> {
  const { tx, now } = work;
  const { decision } = settlement;
  const current = await tx.registrationRequest.findUniqueOrThrow({ where: { id: settlement.requestId }, include: { patron: true, library: true } });
  // Erased a moment ago (the patron deleted their account): nothing left to decide.
  if (!current.patron) throw new Refusal(requestNotFound());
  const patron = current.patron;
  const accepted = decision === 'ACCEPT';
  const takesLicence = accepted && patron.status !== 'ACTIVE';
  const pool = accepted ? await lockLicencePool(tx, app.settings.licenceCapacity) : null;

  // The conditional update decides: of simultaneous decisions, exactly one finds the request
  // still awaiting one.
  const moved = await tx.registrationRequest.updateMany({
    where: { id: current.id, state: 'AWAITING_DECISION' },
    data: {
      state: accepted ? 'ACCEPTED' : 'REFUSED',
      decision,
      decidedAt: now,
      decidedById: settlement.decidedById,
      decidedOnBehalfOfLibrary: settlement.onBehalf,
      decidedAutomatically: settlement.automatically,
    },
  });
  if (moved.count === 0) {
    // Read again: another decision may have committed since `current` was read.
    const { state } = await tx.registrationRequest.findUniqueOrThrow({ where: { id: current.id }, select: { state: true } });
    throw new Refusal(
      state === 'ACCEPTED' || state === 'REFUSED'
        ? userError('ALREADY_DECIDED', 'Cette demande a déjà été traitée.', 'requestId')
        : userError('INVALID_STATE', "Cette demande n'attend pas de décision (elle n'a pas été confirmée ou a expiré).", 'requestId'),
    );
  }
  if (takesLicence && pool!.used >= pool!.capacity) {
    throw new Refusal(
      userError(
        'LICENCE_POOL_EXHAUSTED',
        'Toutes les licences NuMos sont utilisées : la DLPB doit en augmenter le nombre avant toute nouvelle acceptation.',
        'decision',
      ),
    );
  }

  const activeUntil = activeUntilAfter(app, decision, current.kind, patron.activeUntil, now);
  if (accepted) {
    await tx.patron.update({
      where: { id: patron.id },
      data: { status: 'ACTIVE', activeUntil, statusChangedAt: patron.status === 'ACTIVE' ? undefined : now },
    });
  } else if (current.kind === 'REGISTRATION') {
    await tx.patron.update({ where: { id: patron.id }, data: { status: 'REFUSED', statusChangedAt: now } });
  } // A refused renewal: the account runs to its end.

  const template = settlement.message ?? (await templateInForce(app, tx, current.library, decision)).body;
  const html = renderResponse(template, placeholderValues(patron, activeUntil));
  const decided = await tx.registrationRequest.update({ where: { id: current.id }, data: { responseMessage: html } });
  const subject = accepted ? 'Votre compte NuMos est activé' : "Votre demande d'accès à NuMos";
  await work.email({
    template: accepted ? 'DecisionAccepted' : 'DecisionRefused',
    to: [patron.email],
    fromName: libraryAdministration(current.library.name),
    subject,
    body: createElement(DecisionResponse, { preview: subject, html }),
    patronId: patron.id,
    secrets: [],
  });
  await work.audit({
    action: settlement.automatically ? 'AUTO_ACCEPT' : 'DECIDE',
    subjectType: 'RegistrationRequest',
    subjectId: current.id,
    libraryId: current.libraryId,
    onBehalf: settlement.onBehalf,
    before: { state: current.state, accountStatus: patron.status, activeUntil: patron.activeUntil },
    after: {
      state: decided.state,
      decision,
      activeUntil,
      accountStatus: accepted ? 'ACTIVE' : current.kind === 'REGISTRATION' ? 'REFUSED' : patron.status,
    },
  });
  await work.publish({ type: 'DECIDED', occurredAt: now.toISOString(), requestId: current.id, libraryId: current.libraryId });
  if (pool) await checkLicenceAlert(app, work, pool.alertLevel);
  work.afterCommit(() => app.metrics.registrations.inc({ step: accepted ? 'accepted' : 'refused' }));
  return decided;
}
