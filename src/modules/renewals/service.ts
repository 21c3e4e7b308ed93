// Yearly renewal: from the reminder's link or a patron session, from 15 days before
// the end of access until the purge. A RENEWAL request goes straight to the library's decision.
import type { App } from '../../instance.js';
import type { Caller } from '../../auth/caller.js';
import type { RegistrationRequest } from '../../generated/prisma/client.js';
import { Refusal, userError, type UserError } from '../../domain/errors.js';
import { addParisDays, addParisYears, ageAt, ageGroupOf, formatFrenchDate } from '../../lib/calendar.js';
import { notifyLibrary } from '../registration/service.js';
import { queueMembershipCheck } from '../membership/service.js';
import { birthDateOf } from '../../domain/person.js';
import { findToken } from '../tokens/service.js';
import { unauthenticated } from '../../domain/errors.js';
import { unitOfWork } from '../unit-of-work.js';
import { lockPatron } from '../patrons/service.js';

/** What this module uses of the application instance. */
type Services = Pick<App, 'boss' | 'clock' | 'config' | 'metrics' | 'outbox' | 'prisma' | 'settings' | 'throttle'>;

export interface RenewalResult {
  request: RegistrationRequest | null;
  errors: UserError[];
}

export async function requestRenewal(app: Services, caller: Caller, rawToken: string | null | undefined): Promise<RenewalResult> {
  const request = await unitOfWork(app, {}, async (work) => {
    const { tx, now } = work;
    let patronId: string;
    let tokenId: string | null = null;
    if (rawToken) {
      const { token, error } = await findToken(tx, 'RENEWAL', rawToken, now);
      if (error) throw new Refusal(error);
      patronId = token.patronId!;
      tokenId = token.id;
    } else if (caller.kind === 'patron') {
      patronId = caller.patronId;
    } else {
      throw unauthenticated();
    }
    // One renewal at a time: the patron's row is the lock two simultaneous requests queue on.
    await lockPatron(work.sql, patronId);
    const patron = await tx.patron.findUniqueOrThrow({ where: { id: patronId }, include: { library: true } });
    const opensAt = patron.activeUntil ? addParisDays(patron.activeUntil, -app.settings.renewalNoticeDays) : null;
    const purgeAt = patron.activeUntil ? addParisYears(patron.activeUntil, app.settings.purgeAfterYears) : null;
    const open = (patron.status === 'ACTIVE' || patron.status === 'EXPIRED') && opensAt && purgeAt && now >= opensAt && now < purgeAt;
    if (!open) {
      throw new Refusal(
        userError(
          'RENEWAL_NOT_OPEN',
          opensAt && patron.status === 'ACTIVE'
            ? `Le renouvellement sera possible à partir du ${formatFrenchDate(opensAt)}.`
            : "Le renouvellement n'est pas possible pour ce compte.",
        ),
      );
    }
    const pending = await tx.registrationRequest.findFirst({ where: { patronId, state: 'AWAITING_DECISION' } });
    if (pending) throw new Refusal(userError('INVALID_STATE', 'Une demande est déjà en attente de décision par votre bibliothèque.'));
    if (tokenId) await tx.oneTimeToken.update({ where: { id: tokenId }, data: { usedAt: now } });
    const created = await tx.registrationRequest.create({
      data: {
        kind: 'RENEWAL',
        state: 'AWAITING_DECISION',
        patronId,
        libraryId: patron.libraryId,
        ageGroup: ageGroupOf(ageAt(birthDateOf(patron), now)),
        submittedAt: now,
        confirmedAt: now,
        decisionDueAt: addParisDays(now, app.settings.escalationDays),
        searchText: patron.searchText,
      },
    });
    await notifyLibrary(app, work, created, patron, patron.library);
    await queueMembershipCheck(work, created);
    await work.publish({ type: 'RENEWAL_REQUESTED', occurredAt: now.toISOString(), requestId: created.id, libraryId: created.libraryId });
    work.afterCommit(() => app.metrics.registrations.inc({ step: 'renewal_requested' }));
    return created;
  });
  return { request, errors: [] };
}
