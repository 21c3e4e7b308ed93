// A patron's own account, as an identity provider's account console offers it: password, e-mail
// address, newsletter, a copy of everything stored (GDPR access and portability) and erasure.
// Every change that needs the current password counts a wrong one like a failed login.
import { createElement } from 'react';
import { AccountDeleted } from '../../../emails/AccountDeleted.js';
import { ConfirmEmailChange } from '../../../emails/ConfirmEmailChange.js';
import { EmailChangeRequested } from '../../../emails/EmailChangeRequested.js';
import { PasswordChanged } from '../../../emails/PasswordChanged.js';
import type { App } from '../../instance.js';
import type { Caller } from '../../auth/caller.js';
import { unitOfWork } from '../unit-of-work.js';
import { lockPatron, lockRequestsOf } from '../patrons/service.js';
import type { Patron } from '../../generated/prisma/client.js';
import { forbidden } from '../../domain/errors.js';
import { refuseIfAny, Refusal, userError, type UserError } from '../../domain/errors.js';
import { formatFrenchDateTime, isoDate } from '../../lib/calendar.js';
import { hashPassword, verifyPassword } from '../../lib/password.js';
import { THROTTLE_RULES } from '../../lib/throttle.js';
import { links } from '../../links.js';
import { erasePeople } from '../lifecycle/service.js';
import { checkLicenceAlert, lockLicencePool } from '../licences/service.js';
import { passwordErrors } from '../passwords/policy.js';
import { RECIPIENT_FLOODED } from '../registration/service.js';
import { birthDateOf, patronSearchText } from '../../domain/person.js';
import { revokeSessions } from '../sessions/service.js';
import { findToken, issueToken, useToken } from '../tokens/service.js';

/** What this module uses of the application instance. */
type Services = Pick<App, 'boss' | 'clock' | 'config' | 'db' | 'outbox' | 'prisma' | 'settings' | 'throttle'>;

type Ok = { ok: boolean; errors: UserError[] };

/** The link to a new address is valid this long, and serves once. */
const EMAIL_CHANGE_HOURS = 24;

/** The account behind a patron or staff session, with what a password check needs. */
async function sessionAccount(app: Services, caller: Caller) {
  if (caller.kind === 'patron') {
    const patron = await app.prisma.patron.findUniqueOrThrow({ where: { id: caller.patronId } });
    return { realm: 'PATRON', key: patron.loginKey, passwordHash: patron.passwordHash, owner: { patronId: patron.id }, patron } as const;
  }
  if (caller.kind === 'staff') {
    const staff = await app.prisma.staffAccount.findUniqueOrThrow({ where: { id: caller.staffId } });
    return { realm: 'STAFF', key: staff.login, passwordHash: staff.passwordHash, owner: { staffId: staff.id }, staff } as const;
  }
  throw forbidden();
}

/**
 * Checks the current password given with a change (refused when wrong), counted per account:
 * guessing through these mutations is no faster than logging in, and shares nothing with the
 * login's own counters (a stranger failing to log in cannot block the owner's change, nor the
 * other way round).
 */
async function checkCurrentPassword(
  app: Services,
  account: { realm: string; owner: { patronId: string } | { staffId: string }; passwordHash: string | null },
  password: string,
): Promise<void> {
  const throttleKey = `${account.realm}:${'patronId' in account.owner ? account.owner.patronId : account.owner.staffId}`;
  const blocked = await app.throttle.hit(THROTTLE_RULES.passwordChecksPerAccount, throttleKey);
  if (blocked) throw new Refusal(blocked);
  const ok = account.passwordHash ? await verifyPassword(account.passwordHash, password) : false;
  if (!ok) throw new Refusal(userError('WRONG_PASSWORD', 'Le mot de passe actuel est incorrect.', 'currentPassword'));
  await app.throttle.refund(THROTTLE_RULES.passwordChecksPerAccount, throttleKey);
}

export interface ChangePasswordInput {
  currentPassword: string;
  password: string;
  passwordConfirmation: string;
}

/** Patron or staff: a new password; every other session of the account ends; an e-mail says so. */
export async function changePassword(app: Services, caller: Caller, input: ChangePasswordInput): Promise<Ok> {
  const account = await sessionAccount(app, caller);
  refuseIfAny(passwordErrors(input.password, input.passwordConfirmation));
  await checkCurrentPassword(app, account, input.currentPassword);
  const passwordHash = await hashPassword(input.password);
  const sessionId = caller.kind === 'patron' || caller.kind === 'staff' ? caller.sessionId : undefined;
  const [displayName, email] = account.patron
    ? [`${account.patron.firstName} ${account.patron.lastName}`, account.patron.email]
    : [account.staff.displayName, account.staff.email];
  await unitOfWork(app, { actor: caller }, async (work) => {
    const { tx, now } = work;
    if (account.patron) await tx.patron.update({ where: { id: account.patron.id }, data: { passwordHash } });
    else await tx.staffAccount.update({ where: { id: account.staff.id }, data: { passwordHash } });
    await revokeSessions(work, account.owner, sessionId);
    await work.email({
      template: 'PasswordChanged',
      to: [email],
      subject: 'Votre mot de passe NuMos a été modifié',
      body: createElement(PasswordChanged, {
        displayName,
        changedAt: formatFrenchDateTime(now),
        resetLink: links(app.config).forgotPassword,
      }),
      patronId: account.patron?.id,
    });
  });
  return { ok: true, errors: [] };
}

/** Patron: the newsletter choice (names and birth date are the library's, the address has its own flow). */
export async function updateProfile(
  app: Services,
  caller: Caller,
  input: { newsletter?: boolean | null },
): Promise<{ patron: Patron | null; errors: UserError[] }> {
  if (caller.kind !== 'patron') throw forbidden();
  const patron = await app.prisma.patron.update({
    where: { id: caller.patronId },
    data: input.newsletter == null ? {} : { newsletter: input.newsletter },
  });
  return { patron, errors: [] };
}

/**
 * Patron: a link to the new address (24 hours, single use), a notice to the current one. The
 * current address stays in force until the link is followed; a newer request replaces the link.
 */
export async function requestEmailChange(app: Services, caller: Caller, input: { email: string; currentPassword: string }): Promise<Ok> {
  if (caller.kind !== 'patron') throw forbidden();
  const account = await sessionAccount(app, caller);
  const patron = account.patron!;
  const email = input.email.trim();
  if (email.toLowerCase() === patron.email.toLowerCase())
    throw new Refusal(userError('INVALID_INPUT', 'Cette adresse est déjà celle de votre compte.', 'email'));
  const throttled = await app.throttle.hit(THROTTLE_RULES.emailChangesPerAccount, patron.id);
  if (throttled) throw new Refusal(throttled);
  await checkCurrentPassword(app, account, input.currentPassword);
  const flooded = await app.throttle.hit(THROTTLE_RULES.emailsPerRecipient, email, RECIPIENT_FLOODED);
  if (flooded) throw new Refusal(flooded);
  await unitOfWork(app, { actor: caller }, async (work) => {
    const { tx, now } = work;
    const expiresAt = new Date(now.getTime() + EMAIL_CHANGE_HOURS * 3_600_000);
    await tx.patron.update({ where: { id: patron.id }, data: { pendingEmail: email } });
    const token = await issueToken(tx, 'EMAIL_CHANGE', { patronId: patron.id }, now, expiresAt);
    await work.email({
      template: 'ConfirmEmailChange',
      to: [email],
      subject: 'Confirmez votre nouvelle adresse e-mail NuMos',
      body: createElement(ConfirmEmailChange, {
        firstName: patron.firstName,
        lastName: patron.lastName,
        link: links(app.config).confirmEmail(token),
        expiresAt: formatFrenchDateTime(expiresAt),
      }),
      secrets: [token],
      patronId: patron.id,
    });
    await work.email({
      template: 'EmailChangeRequested',
      to: [patron.email],
      subject: "Changement d'adresse e-mail demandé sur votre compte NuMos",
      body: createElement(EmailChangeRequested, { firstName: patron.firstName, lastName: patron.lastName, requestedAt: formatFrenchDateTime(now) }),
      patronId: patron.id,
    });
  });
  return { ok: true, errors: [] };
}

/** From the link sent to the new address: it becomes the account's. No session needed. */
export async function confirmEmailChange(app: Services, rawToken: string): Promise<{ patron: Patron | null; errors: UserError[] }> {
  const invalid = () => new Refusal(userError('INVALID_TOKEN', "Ce lien de confirmation d'adresse n'est pas valide ou a déjà servi.", 'token'));
  const { token, error } = await findToken(app.prisma, 'EMAIL_CHANGE', rawToken, app.clock.now());
  if (error) throw new Refusal(error);
  const patron = await unitOfWork(app, {}, async ({ tx, now }) => {
    if (!(await useToken(tx, token.id, now))) throw invalid();
    const current = await tx.patron.findUnique({ where: { id: token.patronId! } });
    if (!current?.pendingEmail) throw invalid();
    const searchText = patronSearchText({ ...current, email: current.pendingEmail });
    const updated = await tx.patron.update({ where: { id: current.id }, data: { email: current.pendingEmail, pendingEmail: null, searchText } });
    await tx.registrationRequest.updateMany({ where: { patronId: current.id, searchText: { not: null } }, data: { searchText } });
    return updated;
  });
  return { patron, errors: [] };
}

const iso = (date: Date | null) => date?.toISOString() ?? null;

/**
 * Patron: everything stored about the caller, as one JSON document (GDPR articles 15 and 20). Built
 * field by field, never from whole rows: no hash, token or key can slip in. Audited, throttled.
 */
export async function personalDataExport(app: Services, caller: Caller): Promise<string> {
  if (caller.kind !== 'patron') throw forbidden();
  const throttled = await app.throttle.hit(THROTTLE_RULES.exportsPerAccount, caller.patronId);
  if (throttled) throw new Refusal(throttled);
  const now = app.clock.now();
  const patron = await app.prisma.patron.findUniqueOrThrow({
    where: { id: caller.patronId },
    include: {
      library: true,
      requests: { orderBy: { submittedAt: 'asc' }, include: { membershipChecks: { orderBy: { checkedAt: 'asc' } } } },
      consumptions: { orderBy: { occurredAt: 'asc' } },
      usages: { orderBy: [{ period: 'asc' }, { category: 'asc' }] },
      messages: { orderBy: { createdAt: 'asc' } },
      sessions: { where: { revokedAt: null, expiresAt: { gt: now } }, orderBy: { createdAt: 'asc' } },
    },
  });
  const document = {
    exportedAt: now.toISOString(),
    identity: { lastName: patron.lastName, firstName: patron.firstName, birthDate: birthDateOf(patron) },
    email: patron.email,
    pendingEmail: patron.pendingEmail,
    login: patron.login,
    newsletter: patron.newsletter,
    library: { code: patron.library.code, name: patron.library.name, town: patron.library.town },
    account: {
      status: patron.status,
      registeredAt: iso(patron.registeredAt),
      confirmedAt: iso(patron.confirmedAt),
      temporaryUntil: iso(patron.temporaryUntil),
      activeUntil: iso(patron.activeUntil),
      statusChangedAt: iso(patron.statusChangedAt),
    },
    requests: patron.requests.map((r) => ({
      kind: r.kind,
      state: r.state,
      submittedAt: iso(r.submittedAt),
      confirmedAt: iso(r.confirmedAt),
      decision: r.decision,
      decidedAt: iso(r.decidedAt),
      decidedAutomatically: r.decidedAutomatically,
      responseText: r.responseMessage,
      libraryCardNumber: r.libraryCardNumber,
      // What NuMos found in the library's own system (figures only: NuMos never keeps its record).
      membershipChecks: r.membershipChecks.map((c) => ({
        checkedAt: iso(c.checkedAt),
        system: c.connector,
        outcome: c.outcome,
        matchedBy: c.matchedBy,
        enrolledOrRenewedOn: c.enrolledOrRenewedOn && isoDate(c.enrolledOrRenewedOn),
        memberUntil: c.memberUntil && isoDate(c.memberUntil),
        birthDateMatches: c.birthDateMatches,
        birthYearMatches: c.birthYearMatches,
        summary: c.summary,
      })),
    })),
    consumptions: patron.consumptions.map((c) => ({
      occurredAt: iso(c.occurredAt),
      category: c.category,
      resourceId: c.resourceId,
      granted: c.granted,
      cancelledAt: iso(c.cancelledAt),
    })),
    monthlyUse: patron.usages.map((u) => ({ period: u.period, category: u.category, used: u.used })),
    messages: patron.messages.map((m) => ({ sentAt: iso(m.createdAt), to: m.recipient, from: m.senderEmail, subject: m.subject, body: m.body })),
    openSessions: patron.sessions.map((s) => ({ openedAt: iso(s.createdAt), expiresAt: iso(s.expiresAt) })),
  };
  await unitOfWork(app, { actor: caller }, (work) =>
    work.audit({ action: 'PERSONAL_DATA_EXPORT', subjectType: 'Patron', libraryId: patron.libraryId, anonymousActor: true }),
  );
  return JSON.stringify(document, null, 2);
}

/**
 * Patron: erased now, exactly as the purge erases (every table, job payloads included), after the
 * pending requests are closed and the sessions ended. A last e-mail confirms it; its outbox row
 * goes once Resend has it. Anonymous statistics stay.
 */
export async function deleteMyAccount(app: Services, caller: Caller, input: { currentPassword: string }): Promise<Ok> {
  if (caller.kind !== 'patron') throw forbidden();
  const account = await sessionAccount(app, caller);
  await checkCurrentPassword(app, account, input.currentPassword);
  const patronId = caller.patronId;
  await unitOfWork(app, { actor: caller }, async (work) => {
    const { tx, sql, now } = work;
    // The locks in the order `decide` takes them (licences, requests, patron): a decision on the
    // same person's request waits for the erasure or the erasure for it, never both at once.
    const pool = await lockLicencePool(tx, app.settings.licenceCapacity);
    await lockRequestsOf(sql, patronId);
    const patron = await lockPatron(sql, patronId);
    if (!patron) return; // Erased a moment ago by a twin request.
    const closed = await tx.registrationRequest.updateManyAndReturn({
      where: { patronId, state: { in: ['AWAITING_CONFIRMATION', 'AWAITING_DECISION'] } },
      data: { state: 'LAPSED', lapsedAt: now },
      select: { id: true, libraryId: true },
    });
    await work.publish(...closed.map((r) => ({ type: 'LAPSED' as const, occurredAt: now.toISOString(), requestId: r.id, libraryId: r.libraryId })));
    await revokeSessions(work, { patronId });
    await erasePeople(app.boss, sql, [patronId]);
    await work.lastEmail({
      template: 'AccountDeleted',
      to: [patron.email],
      subject: 'Votre compte NuMos a été supprimé',
      body: createElement(AccountDeleted, { firstName: patron.first_name, lastName: patron.last_name }),
    });
    await work.audit({
      action: 'DELETE_ACCOUNT',
      subjectType: 'Patron',
      libraryId: patron.library_id,
      anonymousActor: true,
      after: { closedRequests: closed.length },
    });
    await checkLicenceAlert(app, work, pool.alertLevel);
  });
  return { ok: true, errors: [] };
}
