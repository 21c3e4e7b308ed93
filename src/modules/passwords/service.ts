// "Mot de passe oublié" for both realms, and the first password of new staff members.
import { createElement } from 'react';
import { PasswordReset } from '../../../emails/PasswordReset.js';
import type { App } from '../../instance.js';
import { unitOfWork, type Work } from '../unit-of-work.js';
import { refuseIfAny, Refusal, userError, type UserError } from '../../domain/errors.js';
import { formatFrenchDateTime } from '../../lib/calendar.js';
import { hashPassword } from '../../lib/password.js';
import { links } from '../../links.js';
import { revokeSessions, type Realm } from '../sessions/service.js';
import { normalizeLogin } from '../../lib/text.js';
import { findToken, issueToken, useToken } from '../tokens/service.js';
import { passwordErrors } from './policy.js';
import { THROTTLE_RULES } from '../../lib/throttle.js';
import { PASSWORD_RESET_QUEUE } from '../../jobs/queues.js';

/** What this module uses of the application instance. */
type Services = Pick<App, 'boss' | 'clock' | 'config' | 'outbox' | 'prisma' | 'settings' | 'throttle'>;

export interface ResetRecipient {
  owner: { patronId: string } | { staffId: string };
  displayName: string;
  login: string;
  email: string;
}

/** Issues a reset token and queues its e-mail, in the caller's unit of work. */
export async function sendPasswordLink(
  app: Pick<App, 'config' | 'settings'>,
  work: Work,
  recipient: ResetRecipient,
  options: { firstPassword?: boolean } = {},
) {
  const { now } = work;
  const expiresAt = options.firstPassword
    ? new Date(now.getTime() + app.settings.staffInvitationDays * 86_400_000)
    : new Date(now.getTime() + app.settings.passwordResetMinutes * 60_000);
  const token = await issueToken(work.tx, 'PASSWORD_RESET', recipient.owner, now, expiresAt);
  await work.email({
    template: 'PasswordReset',
    to: [recipient.email],
    subject: options.firstPassword ? 'Choisissez votre mot de passe NuMos' : 'Réinitialisez votre mot de passe NuMos',
    body: createElement(PasswordReset, {
      displayName: recipient.displayName,
      login: recipient.login,
      link: links(app.config).resetPassword(token),
      expiresAt: formatFrenchDateTime(expiresAt),
      firstPassword: options.firstPassword ?? false,
    }),
    secrets: [token],
    patronId: 'patronId' in recipient.owner ? recipient.owner.patronId : undefined,
  });
}

/**
 * `requestPasswordReset`: throttled per client address and per login, then left to a job, so that
 * the answer (and its timing) is the same whether or not the login exists.
 */
export async function askPasswordReset(app: Services, realm: Realm, login: string, clientIp: string): Promise<{ ok: boolean; errors: UserError[] }> {
  const throttled =
    (await app.throttle.hit(THROTTLE_RULES.resetsPerAddress, clientIp)) ?? (await app.throttle.hit(THROTTLE_RULES.resetsPerLogin, `${realm}:${login.trim()}`));
  if (throttled) return { ok: false, errors: [throttled] };
  await app.boss.send(PASSWORD_RESET_QUEUE, { realm, login: normalizeLogin(login) });
  return { ok: true, errors: [] };
}

/**
 * Runs in a job, after `requestPasswordReset` has answered: the answer (and its timing) is the
 * same whether or not the login exists. Patrons must have confirmed their account.
 */
export async function sendPasswordReset(app: Services, realm: Realm, login: string): Promise<boolean> {
  const key = normalizeLogin(login);
  let recipient: ResetRecipient | undefined;
  if (realm === 'STAFF') {
    const staff = await app.prisma.staffAccount.findUnique({ where: { login: key } });
    if (staff && !staff.disabledAt) recipient = { owner: { staffId: staff.id }, displayName: staff.displayName, login: staff.login, email: staff.email };
  } else {
    const patron = await app.prisma.patron.findUnique({ where: { loginKey: key } });
    if (patron && patron.status !== 'UNCONFIRMED') {
      recipient = { owner: { patronId: patron.id }, displayName: `${patron.firstName} ${patron.lastName}`, login: patron.login, email: patron.email };
    }
  }
  // Asked anonymously: the address's own limit decides, silently (the answer was given already).
  if (!recipient || (await app.throttle.hit(THROTTLE_RULES.emailsPerRecipient, recipient.email))) return false;
  await unitOfWork(app, {}, (work) => sendPasswordLink(app, work, recipient));
  return true;
}

/** Sets a new password from a reset link; the link dies and every session of the account ends. */
export async function resetPassword(app: Services, rawToken: string, password: string, confirmation: string): Promise<void> {
  const errors = passwordErrors(password, confirmation);
  const { token, error } = await findToken(app.prisma, 'PASSWORD_RESET', rawToken, app.clock.now());
  if (error) errors.unshift(error);
  refuseIfAny(errors);
  const passwordHash = await hashPassword(password);
  await unitOfWork(app, {}, async (work) => {
    const { tx, now } = work;
    if (!(await useToken(tx, token!.id, now)))
      throw new Refusal(userError('INVALID_TOKEN', "Ce lien n'est pas valide ou a déjà servi : demandez-en un nouveau.", 'token'));
    const owner = token!.staffId ? { staffId: token!.staffId } : { patronId: token!.patronId! };
    if (token!.staffId) await tx.staffAccount.update({ where: { id: token!.staffId }, data: { passwordHash } });
    else await tx.patron.update({ where: { id: token!.patronId! }, data: { passwordHash } });
    await revokeSessions(work, owner);
  });
}
