// Registration: the seed's form, the confirmation e-mail, the confirmation that
// opens temporary access and tells the home library.
import { createElement } from 'react';
import { AccountAlreadyExists } from '../../../emails/AccountAlreadyExists.js';
import { ConfirmRegistration } from '../../../emails/ConfirmRegistration.js';
import { NewRegistrationRequest } from '../../../emails/NewRegistrationRequest.js';
import type { App } from '../../instance.js';
import type { Library, Patron, RegistrationRequest } from '../../generated/prisma/client.js';
import { refuseIfAny, Refusal, userError, type UserError } from '../../domain/errors.js';
import { birthDateError, birthDateOf, cleanName, identityKeyOf, patronSearchText } from '../../domain/person.js';
import { libraryAdministration } from '../../email/outbox.js';
import { addParisDays, addParisMonths, ageAt, ageGroupOf, formatFrenchDate, formatFrenchDateTime } from '../../lib/calendar.js';
import { hashPassword } from '../../lib/password.js';
import { THROTTLE_RULES } from '../../lib/throttle.js';
import { links } from '../../links.js';
import { RESEND_CONFIRMATION_QUEUE } from '../../jobs/queues.js';
import { passwordErrors } from '../passwords/policy.js';
import { issueToken, findToken } from '../tokens/service.js';
import { unitOfWork, type Work } from '../unit-of-work.js';
import { lockIdentity } from './store.js';
import { queueMembershipCheck } from '../membership/service.js';

export { NAME_MAX } from '../../domain/person.js';

/** What this module uses of the application instance. */
type Services = Pick<App, 'boss' | 'clock' | 'config' | 'metrics' | 'outbox' | 'prisma' | 'settings' | 'throttle'>;

/** How a refusal for too many e-mails to one address reads (RATE_LIMITED on the `email` field). */
export const RECIPIENT_FLOODED = { field: 'email', what: "Trop d'e-mails ont déjà été envoyés à cette adresse." };

export const LOGIN_PATTERN = /^[A-Za-z0-9._-]{3,32}$/;
/** A library card number as libraries print them (barcodes): letters, digits, dashes. */
export const CARD_NUMBER = /^[A-Za-z0-9-]{1,32}$/;

export interface RegisterInput {
  lastName: string;
  firstName: string;
  birthDate: string;
  email: string;
  login: string;
  password: string;
  passwordConfirmation: string;
  /** As decoded by the GraphQL layer: undefined or NO_MATCH name no library. */
  libraryId?: string;
  newsletter: boolean;
  /** Optional: the library's system is searched by it first. */
  libraryCardNumber?: string | null;
}

export interface RegisterResult {
  ok: boolean;
  confirmationExpiresAt: Date | null;
  errors: UserError[];
}

const frenchNumericDate = (isoDate: string) => isoDate.split('-').reverse().join('/');

function formErrors(app: Services, input: RegisterInput, fields: { lastName: string; firstName: string; login: string }): UserError[] {
  const errors: UserError[] = [];
  for (const [field, value, label] of [
    ['lastName', fields.lastName, 'Le nom'],
    ['firstName', fields.firstName, 'Le prénom'],
  ] as const) {
    if (!value) errors.push(userError('INVALID_INPUT', `${label} est obligatoire.`, field));
  }
  const birthDate = birthDateError(input.birthDate, app.clock.now());
  if (birthDate) errors.push(birthDate);
  if (!LOGIN_PATTERN.test(fields.login)) {
    errors.push(
      userError(
        'INVALID_INPUT',
        "L'identifiant doit compter de 3 à 32 caractères : lettres sans accents, chiffres, point, tiret ou tiret bas, sans espace.",
        'login',
      ),
    );
  }
  errors.push(...passwordErrors(input.password, input.passwordConfirmation));
  return errors;
}

export async function register(app: Services, input: RegisterInput, clientIp: string): Promise<RegisterResult> {
  const throttled =
    (await app.throttle.hit(THROTTLE_RULES.registrationsPerAddress, clientIp)) ??
    (await app.throttle.hit(THROTTLE_RULES.registrationsPerAddressDaily, clientIp));
  if (throttled) throw new Refusal(throttled);

  const fields = { lastName: cleanName(input.lastName), firstName: cleanName(input.firstName), login: input.login.trim() };
  const email = input.email.trim();
  const cardNumber = input.libraryCardNumber?.trim() || null;
  const errors = formErrors(app, input, fields);
  if (cardNumber && !CARD_NUMBER.test(cardNumber)) {
    errors.push(
      userError('INVALID_INPUT', 'Le numéro de carte ne contient que des lettres, des chiffres et des tirets (au plus 32 caractères).', 'libraryCardNumber'),
    );
  }
  const libraryId = input.libraryId;
  const library = libraryId ? await app.prisma.library.findUnique({ where: { id: libraryId } }) : null;
  if (!library) {
    errors.push(userError('UNKNOWN_LIBRARY', 'Bibliothèque inconnue : choisissez votre bibliothèque dans la liste.', 'libraryId'));
  } else if (library.closedAt) {
    errors.push(userError('UNKNOWN_LIBRARY', 'Cette bibliothèque ne propose plus NuMos : choisissez-en une autre dans la liste.', 'libraryId'));
  }
  const identityKey = identityKeyOf(fields.lastName, fields.firstName, input.birthDate);
  const loginKey = fields.login.toLowerCase();
  if (LOGIN_PATTERN.test(fields.login)) {
    const owner = await app.prisma.patron.findUnique({ where: { loginKey }, select: { identityKey: true } });
    // The login of the same person is not "taken": their refused account gives way to the new
    // request, and any other is answered below as the same person registering again.
    if (owner && owner.identityKey !== identityKey) errors.push(loginTaken());
  }
  refuseIfAny(errors);
  // Whoever registers, an e-mail goes to this address (a confirmation, or "you already have an
  // account"): a mailbox gets a handful an hour, whatever a script sends from however many addresses.
  const flooded = await app.throttle.hit(THROTTLE_RULES.emailsPerRecipient, email, RECIPIENT_FLOODED);
  if (flooded) throw new Refusal(flooded);

  // Hashed whatever happens next, so that a known person and a new one take the same time.
  const passwordHash = await hashPassword(input.password);
  try {
    return await unitOfWork(app, {}, async (work): Promise<RegisterResult> => {
      const { tx, now } = work;
      const confirmationDueAt = addParisDays(now, app.settings.confirmationDays);
      // Two submissions for one person at once: the second waits and sees the first.
      await lockIdentity(work.sql, identityKey);
      const existing = await tx.patron.findFirst({ where: { identityKey, status: { not: 'REFUSED' } }, include: { library: true } });
      if (existing) {
        const replayOf = await tellExistingPerson(app, work, existing, { loginKey, email });
        return { ok: true, confirmationExpiresAt: replayOf ?? confirmationDueAt, errors: [] };
      }
      // A refused person may ask again: the old refused account (personal data) is replaced; its
      // requests stay, anonymous, for the statistics.
      await tx.patron.deleteMany({ where: { identityKey, status: 'REFUSED' } });
      const patron = await tx.patron.create({
        data: {
          libraryId: library!.id,
          lastName: fields.lastName,
          firstName: fields.firstName,
          birthDate: new Date(`${input.birthDate}T00:00:00Z`),
          email,
          login: fields.login,
          loginKey,
          passwordHash,
          newsletter: input.newsletter,
          identityKey,
          searchText: patronSearchText({ ...fields, email }),
          status: 'UNCONFIRMED',
          statusChangedAt: now,
          registeredAt: now,
        },
      });
      const request = await tx.registrationRequest.create({
        data: {
          kind: 'REGISTRATION',
          state: 'AWAITING_CONFIRMATION',
          patronId: patron.id,
          libraryId: library!.id,
          ageGroup: ageGroupOf(ageAt(input.birthDate, now)),
          submittedAt: now,
          confirmationDueAt,
          searchText: patron.searchText,
          libraryCardNumber: cardNumber,
        },
      });
      await sendConfirmation(app, work, patron, library!, request);
      work.afterCommit(() => app.metrics.registrations.inc({ step: 'registered' }));
      return { ok: true, confirmationExpiresAt: confirmationDueAt, errors: [] };
    });
  } catch (error) {
    // The same login chosen by two people at the same moment: the unique index decides.
    if ((error as { code?: string }).code === 'P2002') throw new Refusal(loginTaken());
    throw error;
  }
}

const loginTaken = () => userError('LOGIN_TAKEN', 'Cet identifiant est déjà pris : choisissez-en un autre.', 'login');

/** The confirmation e-mail, with a new link that replaces any earlier one. */
async function sendConfirmation(app: Services, work: Work, patron: Patron, library: Library, request: RegistrationRequest) {
  const expiresAt = request.confirmationDueAt!;
  const token = await issueToken(work.tx, 'CONFIRMATION', { patronId: patron.id, requestId: request.id }, work.now, expiresAt);
  await work.email({
    template: 'ConfirmRegistration',
    to: [patron.email],
    fromName: libraryAdministration(library.name),
    subject: 'Confirmez votre inscription à NuMos',
    body: createElement(ConfirmRegistration, {
      firstName: patron.firstName,
      lastName: patron.lastName,
      login: patron.login,
      libraryName: library.name,
      link: links(app.config).confirm(token),
      expiresAt: formatFrenchDate(expiresAt),
    }),
    secrets: [token],
    patronId: patron.id,
  });
}

/**
 * A registration for a person who already has an account: nothing new is created. An account still
 * awaiting confirmation gets its confirmation e-mail again; any other is told it exists, with its
 * login and a password reset link.
 *
 * The very same registration sent again (same login and address, not yet confirmed), as a client
 * does when the first answer was lost, is a replay: it sends nothing and returns the first answer's
 * confirmation deadline, so the link already sent keeps working.
 */
async function tellExistingPerson(
  app: Services,
  work: Work,
  patron: Patron & { library: Library },
  asked: { loginKey: string; email: string },
): Promise<Date | null> {
  const { tx, now } = work;
  if (patron.status === 'UNCONFIRMED') {
    const request = await tx.registrationRequest.findFirst({
      where: { patronId: patron.id, state: 'AWAITING_CONFIRMATION', confirmationDueAt: { gt: now } },
    });
    if (!request) return null;
    if (patron.loginKey === asked.loginKey && patron.email.toLowerCase() === asked.email.toLowerCase()) return request.confirmationDueAt;
    await sendConfirmation(app, work, patron, patron.library, request);
    return null;
  }
  const expiresAt = new Date(now.getTime() + app.settings.passwordResetMinutes * 60_000);
  const token = await issueToken(tx, 'PASSWORD_RESET', { patronId: patron.id }, now, expiresAt);
  await work.email({
    template: 'AccountAlreadyExists',
    to: [patron.email],
    fromName: libraryAdministration(patron.library.name),
    subject: 'Vous avez déjà un compte NuMos',
    body: createElement(AccountAlreadyExists, {
      firstName: patron.firstName,
      lastName: patron.lastName,
      login: patron.login,
      resetLink: links(app.config).resetPassword(token),
      resetExpiresAt: formatFrenchDateTime(expiresAt),
    }),
    secrets: [token],
    patronId: patron.id,
  });
  return null;
}

/** Tells the home library (copy to the DLPB) that a request awaits its decision. */
export async function notifyLibrary(app: Pick<App, 'config'>, work: Work, request: RegistrationRequest, patron: Patron, library: Library) {
  const birthDate = birthDateOf(patron);
  await work.email({
    template: 'NewRegistrationRequest',
    to: [library.email],
    cc: [app.config.dlpbEmail],
    subject:
      request.kind === 'RENEWAL'
        ? `NuMos : réinscription à valider – ${patron.firstName} ${patron.lastName}`
        : `NuMos : inscription à valider – ${patron.firstName} ${patron.lastName}`,
    body: createElement(NewRegistrationRequest, {
      kind: request.kind,
      libraryName: library.name,
      firstName: patron.firstName,
      lastName: patron.lastName,
      birthDate: frenchNumericDate(birthDate),
      age: ageAt(birthDate, work.now),
      email: patron.email,
      login: patron.login,
      submittedAt: formatFrenchDateTime(request.submittedAt),
      escalatesAt: request.decisionDueAt ? formatFrenchDateTime(request.decisionDueAt) : null,
      link: links(app.config).request(request.id),
    }),
    patronId: patron.id,
  });
}

export interface ConfirmResult {
  account: Pick<Patron, 'id' | 'status' | 'temporaryUntil' | 'activeUntil'> | null;
  errors: UserError[];
}

/**
 * AWAITING_CONFIRMATION → AWAITING_DECISION, the account TEMPORARY for a month, the library told.
 * Confirming again within the link's window answers with the current account.
 */
export async function confirm(app: Services, rawToken: string): Promise<ConfirmResult> {
  return unitOfWork(app, {}, async (work) => {
    const { tx, now } = work;
    const { token, error } = await findToken(tx, 'CONFIRMATION', rawToken, now, { allowUsed: true });
    if (error || !token.patronId || !token.requestId)
      throw new Refusal(error ?? userError('INVALID_TOKEN', "Ce lien de confirmation n'est pas valide.", 'token'));
    // The conditional update decides: of two confirmations at once, one moves the request.
    const moved = await tx.registrationRequest.updateMany({
      where: { id: token.requestId, state: 'AWAITING_CONFIRMATION' },
      data: { state: 'AWAITING_DECISION', confirmedAt: now, decisionDueAt: addParisDays(now, app.settings.escalationDays) },
    });
    if (moved.count === 0) return { account: await tx.patron.findUnique({ where: { id: token.patronId } }), errors: [] };
    await tx.oneTimeToken.update({ where: { id: token.id }, data: { usedAt: now } });
    const patron = await tx.patron.update({
      where: { id: token.patronId },
      data: { status: 'TEMPORARY', statusChangedAt: now, confirmedAt: now, temporaryUntil: addParisMonths(now, app.settings.temporaryMonths) },
      include: { library: true },
    });
    const request = await tx.registrationRequest.findUniqueOrThrow({ where: { id: token.requestId } });
    await notifyLibrary(app, work, request, patron, patron.library);
    await queueMembershipCheck(work, request);
    await work.publish({ type: 'CONFIRMED', occurredAt: now.toISOString(), requestId: request.id, libraryId: request.libraryId });
    work.afterCommit(() => app.metrics.registrations.inc({ step: 'confirmed' }));
    return { account: patron, errors: [] };
  });
}

/**
 * `resendConfirmation`: throttled per client address and per e-mail address, then left to a job,
 * so that the answer (and its timing) is the same whether or not anyone registered with it.
 */
export async function askConfirmationResend(app: Services, email: string, clientIp: string): Promise<{ ok: boolean; errors: UserError[] }> {
  const throttled = (await app.throttle.hit(THROTTLE_RULES.resendsPerAddress, clientIp)) ?? (await app.throttle.hit(THROTTLE_RULES.resendsPerEmail, email));
  if (throttled) return { ok: false, errors: [throttled] };
  await app.boss.send(RESEND_CONFIRMATION_QUEUE, { email: email.trim().toLowerCase() });
  return { ok: true, errors: [] };
}

/** A new confirmation e-mail for each request of this address still waiting for confirmation. */
export async function resendConfirmationTo(app: Services, email: string): Promise<number> {
  const now = app.clock.now();
  const requests = await app.prisma.registrationRequest.findMany({
    where: {
      state: 'AWAITING_CONFIRMATION',
      confirmationDueAt: { gt: now },
      patron: { email: { equals: email.trim(), mode: 'insensitive' }, status: 'UNCONFIRMED' },
    },
    include: { patron: true, library: true },
  });
  // Asked anonymously (resendConfirmation): the address's own limit decides, silently.
  if (!requests.length || (await app.throttle.hit(THROTTLE_RULES.emailsPerRecipient, email))) return 0;
  for (const request of requests) await unitOfWork(app, {}, (work) => sendConfirmation(app, work, request.patron!, request.library, request));
  return requests.length;
}
