// The library's decision: accept or refuse a request awaiting it. Library admins
// decide for their own library, DLPB agents for any (on the library's behalf).
import { createElement } from 'react';
import { DecisionResponse } from '../../../emails/DecisionResponse.js';
import type { App } from '../../instance.js';
import type { Caller } from '../../auth/caller.js';
import { canSeeLibraryData } from '../../auth/visibility.js';
import { publish } from '../../events/bus.js';
import type { Decision, Patron, RegistrationKind, RegistrationRequest } from '../../generated/prisma/client.js';
import { forbidden } from '../../domain/errors.js';
import { Refusal, userError, type UserError } from '../../domain/errors.js';
import { addParisYears, formatFrenchDate } from '../../lib/calendar.js';
import { audit } from '../audit/service.js';
import { checkLicenceAlert, lockLicencePool } from '../licences/service.js';
import { templateInForce } from './responses.js';
import { renderResponse, type PlaceholderValues } from './templates.js';

/** What this module uses of the application instance. */
type Services = Pick<App, 'clock' | 'config' | 'db' | 'metrics' | 'outbox' | 'prisma' | 'settings'>;

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
  const fail = (error: UserError): DecideResult => ({ request: null, errors: [error] });
  const id = input.requestId;
  const found = id ? await app.prisma.registrationRequest.findUnique({ where: { id }, select: { libraryId: true, patronId: true } }) : null;
  if (!found?.patronId) return fail(userError('NOT_FOUND', 'Demande introuvable.', 'requestId'));
  if (!canSeeLibraryData(caller, found.libraryId)) throw forbidden();
  const written = input.message?.trim() ? input.message : null;
  const onBehalf = caller.role === 'DLPB_AGENT';

  try {
    const request = await app.prisma.$transaction(async (tx) => {
      const now = app.clock.now();
      const current = await tx.registrationRequest.findUniqueOrThrow({ where: { id: id! }, include: { patron: true, library: true } });
      // Erased a moment ago (the patron deleted their account): nothing left to decide.
      if (!current.patron) throw new Refusal(userError('NOT_FOUND', 'Demande introuvable.', 'requestId'));
      const patron = current.patron;
      const takesLicence = input.decision === 'ACCEPT' && patron.status !== 'ACTIVE';
      const pool = input.decision === 'ACCEPT' ? await lockLicencePool(tx, app.settings.licenceCapacity) : null;

      // The conditional update decides: of simultaneous decisions, exactly one finds the request
      // still awaiting one.
      const moved = await tx.registrationRequest.updateMany({
        where: { id: current.id, state: 'AWAITING_DECISION' },
        data: {
          state: input.decision === 'ACCEPT' ? 'ACCEPTED' : 'REFUSED',
          decision: input.decision,
          decidedAt: now,
          decidedById: caller.staffId,
          decidedOnBehalfOfLibrary: onBehalf,
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

      const activeUntil = activeUntilAfter(app, input.decision, current.kind, patron.activeUntil, now);
      if (input.decision === 'ACCEPT') {
        await tx.patron.update({
          where: { id: patron.id },
          data: { status: 'ACTIVE', activeUntil, statusChangedAt: patron.status === 'ACTIVE' ? undefined : now },
        });
      } else if (current.kind === 'REGISTRATION') {
        await tx.patron.update({ where: { id: patron.id }, data: { status: 'REFUSED', statusChangedAt: now } });
      } // A refused renewal: the account runs to its end.

      const template = written ?? (await templateInForce(app, tx, current.library, input.decision)).body;
      const html = renderResponse(template, placeholderValues(patron, activeUntil));
      const decided = await tx.registrationRequest.update({ where: { id: current.id }, data: { responseMessage: html } });
      const accepted = input.decision === 'ACCEPT';
      await app.outbox.queue(tx, {
        template: accepted ? 'DecisionAccepted' : 'DecisionRefused',
        to: [patron.email],
        fromName: `Administration ${current.library.name.toUpperCase()}`,
        subject: accepted ? 'Votre compte NuMos est activé' : "Votre demande d'accès à NuMos",
        body: createElement(DecisionResponse, { preview: accepted ? 'Votre compte NuMos est activé' : "Votre demande d'accès à NuMos", html }),
        patronId: patron.id,
        secrets: [],
      });
      await audit(tx, caller, now, {
        action: 'DECIDE',
        subjectType: 'RegistrationRequest',
        subjectId: current.id,
        libraryId: current.libraryId,
        onBehalf,
        before: { state: current.state, accountStatus: patron.status, activeUntil: patron.activeUntil },
        after: {
          state: decided.state,
          decision: input.decision,
          activeUntil,
          accountStatus: accepted ? 'ACTIVE' : current.kind === 'REGISTRATION' ? 'REFUSED' : patron.status,
        },
      });
      await publish(tx, [{ type: 'DECIDED', occurredAt: now.toISOString(), requestId: current.id, libraryId: current.libraryId }]);
      if (pool) await checkLicenceAlert(app, tx, pool.alertLevel);
      return decided;
    });
    app.metrics.registrations.inc({ step: input.decision === 'ACCEPT' ? 'accepted' : 'refused' });
    return { request, errors: [] };
  } catch (error) {
    if (error instanceof Refusal) return fail(error.error);
    throw error;
  }
}
