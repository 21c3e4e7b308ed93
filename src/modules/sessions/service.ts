// Login sessions: opaque random tokens, stored hashed, one per login, revoked by logout.
import type { App } from '../../instance.js';
import { unitOfWork, type Work } from '../unit-of-work.js';
import { SESSION_PREFIX } from '../../auth/caller.js';
import { userError, type UserError } from '../../domain/errors.js';
import { verifyAgainstDummy, verifyPassword } from '../../lib/password.js';
import { hashSecret, newSecret } from '../../lib/secrets.js';
import { normalizeLogin } from '../../lib/text.js';
import { setTimeout as sleep } from 'node:timers/promises';
import { slowDownMs, THROTTLE_RULES } from '../../lib/throttle.js';

/** What this module uses of the application instance. */
type Services = Pick<App, 'boss' | 'clock' | 'outbox' | 'prisma' | 'settings' | 'throttle'>;

export type Realm = 'PATRON' | 'STAFF';

export type LoginResult = { ok: true; token: string; expiresAt: Date; viewer: { kind: 'patron' | 'staff'; id: string } } | { ok: false; errors: UserError[] };

const invalidCredentials = (): LoginResult => ({
  ok: false,
  errors: [userError('INVALID_CREDENTIALS', 'Identifiant ou mot de passe incorrect.')],
});

/**
 * Same answer, and the same Argon2 work, whether the login exists or not: a wrong login cannot be
 * told from a wrong password.
 *
 * Every attempt is counted before the password is checked, atomically, so that concurrent attempts
 * cannot pass a limit: per (login, address) and per address, which refuse for a short window
 * (RATE_LIMITED); and per login from every address, which never refuses but slows each further
 * attempt down. So failures from elsewhere never close an account to its owner: from an address
 * that has not failed, the right password gets in, at worst a few seconds later. A success gives
 * its points back.
 */
export async function login(app: Services, realm: Realm, loginName: string, password: string, clientIp: string): Promise<LoginResult> {
  const key = normalizeLogin(loginName);
  const account = `${realm}:${key}`;
  const pair = `${account}|${clientIp}`;
  const blocked =
    (await app.throttle.hit(THROTTLE_RULES.loginFailuresPerLoginAndAddress, pair)) ??
    (await app.throttle.hit(THROTTLE_RULES.loginFailuresPerAddress, clientIp));
  if (blocked) return { ok: false, errors: [blocked] };
  const wait = slowDownMs(await app.throttle.count(THROTTLE_RULES.loginAttemptsPerLogin, account));
  // Real time, not the application clock: this is the attacker's pace.
  if (wait) await sleep(wait);
  const result = await attemptLogin(app, realm, key, password);
  if (result.ok) {
    await app.throttle.reset(THROTTLE_RULES.loginFailuresPerLoginAndAddress, pair);
    await app.throttle.reset(THROTTLE_RULES.loginAttemptsPerLogin, account);
    await app.throttle.refund(THROTTLE_RULES.loginFailuresPerAddress, clientIp);
  }
  return result;
}

async function attemptLogin(app: Services, realm: Realm, key: string, password: string): Promise<LoginResult> {
  const { prisma, clock, settings } = app;
  if (realm === 'STAFF') {
    const staff = await prisma.staffAccount.findUnique({ where: { login: key } });
    const ok = staff?.passwordHash ? await verifyPassword(staff.passwordHash, password) : await verifyAgainstDummy(password);
    if (!ok || !staff) return invalidCredentials();
    // Said only to whoever knows the password: a disabled account is not revealed to a guesser.
    if (staff.disabledAt)
      return { ok: false, errors: [userError('ACCOUNT_DISABLED', 'Ce compte a été désactivé par la DLPB : contactez-la pour le rétablir.')] };
    const now = clock.now();
    const expiresAt = new Date(now.getTime() + settings.staffSessionHours * 3_600_000);
    const token = await openSession(app, { staffId: staff.id }, expiresAt);
    await prisma.staffAccount.update({ where: { id: staff.id }, data: { lastLoginAt: now } });
    return { ok: true, token, expiresAt, viewer: { kind: 'staff', id: staff.id } };
  }
  const patron = await prisma.patron.findUnique({ where: { loginKey: key } });
  // Unconfirmed accounts cannot log in; expired ones can, to ask for their renewal.
  const ok = patron && patron.status !== 'UNCONFIRMED' ? await verifyPassword(patron.passwordHash, password) : await verifyAgainstDummy(password);
  if (!ok || !patron) return invalidCredentials();
  const expiresAt = new Date(clock.now().getTime() + settings.patronSessionDays * 86_400_000);
  const token = await openSession(app, { patronId: patron.id }, expiresAt);
  return { ok: true, token, expiresAt, viewer: { kind: 'patron', id: patron.id } };
}

async function openSession(app: Services, owner: { patronId: string } | { staffId: string }, expiresAt: Date) {
  const token = newSecret(SESSION_PREFIX);
  await app.prisma.session.create({
    data: { ...owner, tokenHash: hashSecret(token), createdAt: app.clock.now(), expiresAt },
  });
  return token;
}

export async function logout(app: Services, sessionId: string): Promise<void> {
  await unitOfWork(app, {}, (work) => revokeSessions(work, { sessionId }));
}

/**
 * Ends sessions now, all of an account's (but `except`, the caller's own) or one: their tokens stop
 * working, and every instance ends their subscriptions once the transaction commits.
 */
export async function revokeSessions(work: Work, which: { sessionId: string } | { patronId: string } | { staffId: string }, except?: string): Promise<number> {
  const owner = 'sessionId' in which ? { id: which.sessionId } : which;
  const revoked = await work.tx.session.updateManyAndReturn({
    where: { ...owner, revokedAt: null, ...(except && { NOT: { id: except } }) },
    data: { revokedAt: work.now },
    select: { id: true },
  });
  await work.control(...revoked.map(({ id }) => ({ kind: 'session-ended' as const, sessionId: id })));
  return revoked.length;
}
