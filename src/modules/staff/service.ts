// Staff accounts: library admins (login = their library's Moselia code) and DLPB agents.
import type { App } from '../../instance.js';
import type { Caller } from '../../auth/caller.js';
import type { Config } from '../../config.js';
import type { Prisma, StaffAccount } from '../../generated/prisma/client.js';
import type { StaffRole } from '../../generated/prisma/enums.js';
import { forbidden } from '../../domain/errors.js';
import { refuseIfAny, Refusal, userError, type UserError } from '../../domain/errors.js';
import { lockKey, prismaSql } from '../../db/sql.js';
import { lockDlpbAgents } from './store.js';
import { unitOfWork } from '../unit-of-work.js';
import { sendPasswordLink } from '../passwords/service.js';
import type { PrismaClient } from '../../db/prisma.js';
import { hashPassword } from '../../lib/password.js';
import { normalizeLogin, SEARCH_WORDS_MAX } from '../../lib/text.js';
import { revokeSessions } from '../sessions/service.js';

/** What this module uses of the application instance. */
type Services = Pick<App, 'boss' | 'clock' | 'config' | 'outbox' | 'prisma' | 'settings'>;

/**
 * Creates the first DLPB agent from NUMOS_BOOTSTRAP_DLPB_* when no DLPB agent exists yet.
 * Several instances may start at once: the check and the insert share one advisory lock.
 */
export async function bootstrapDlpbAgent(prisma: PrismaClient, config: Config): Promise<'created' | 'exists' | 'unset'> {
  const bootstrap = config.bootstrapDlpb;
  if (!bootstrap) return 'unset';
  const passwordHash = await hashPassword(bootstrap.password);
  return prisma.$transaction(async (tx) => {
    await lockKey(prismaSql(tx), 72_707_002);
    if (await tx.staffAccount.findFirst({ where: { role: 'DLPB_AGENT' }, select: { id: true } })) return 'exists';
    await tx.staffAccount.create({
      data: {
        login: normalizeLogin(bootstrap.login),
        displayName: 'DLPB',
        email: bootstrap.email,
        role: 'DLPB_AGENT',
        passwordHash,
      },
    });
    return 'created';
  });
}

export interface CreateStaffInput {
  login: string;
  displayName: string;
  email: string;
  role: StaffRole;
  libraryId?: string | null;
}

const STAFF_LOGIN = /^[A-Za-z0-9._-]{3,32}$/;
export const DISPLAY_NAME_MAX = 200;

/**
 * DLPB only. A library admin's login is their library's Moselia code; a DLPB agent has no
 * library. The new staff member receives a "choose your password" link.
 */
export async function createStaffAccount(app: Services, caller: Caller, input: CreateStaffInput) {
  const errors: UserError[] = [];
  const login = normalizeLogin(input.login);
  const displayName = input.displayName.replace(/\s+/g, ' ').trim();
  if (!displayName) errors.push(userError('INVALID_INPUT', 'Le nom affiché est obligatoire.', 'displayName'));
  let libraryId: string | null = null;
  if (input.role === 'LIBRARY_ADMIN') {
    const library = input.libraryId ? await app.prisma.library.findUnique({ where: { id: input.libraryId } }) : null;
    if (!library) {
      errors.push(userError('UNKNOWN_LIBRARY', 'Un administrateur de bibliothèque doit être rattaché à une bibliothèque existante.', 'libraryId'));
    } else if (login !== library.code) {
      errors.push(
        userError('INVALID_INPUT', `L'identifiant d'un administrateur de bibliothèque est le code Moselia de sa bibliothèque (${library.code}).`, 'login'),
      );
    } else {
      libraryId = library.id;
    }
  } else {
    if (input.libraryId) errors.push(userError('INVALID_INPUT', "Un agent de la DLPB n'est rattaché à aucune bibliothèque.", 'libraryId'));
    if (!STAFF_LOGIN.test(login)) {
      errors.push(
        userError('INVALID_INPUT', "L'identifiant doit compter de 3 à 32 caractères : lettres sans accents, chiffres, point, tiret ou tiret bas.", 'login'),
      );
    }
  }
  refuseIfAny(errors);
  try {
    const staffAccount = await unitOfWork(app, { actor: caller }, async (work) => {
      const staff = await work.tx.staffAccount.create({ data: { login, displayName, email: input.email.trim(), role: input.role, libraryId } });
      await work.audit({
        action: 'CREATE_STAFF_ACCOUNT',
        subjectType: 'StaffAccount',
        subjectId: staff.id,
        libraryId,
        after: { login, role: input.role, libraryId },
      });
      await sendPasswordLink(app, work, { owner: { staffId: staff.id }, displayName, login, email: staff.email }, { firstPassword: true });
      return staff;
    });
    return { staffAccount, errors: [] };
  } catch (error) {
    if ((error as { code?: string }).code === 'P2002')
      throw new Refusal(userError('LOGIN_TAKEN', 'Cet identifiant est déjà utilisé par un autre compte.', 'login'));
    throw error;
  }
}

export interface StaffAccountsFilter {
  libraryId?: string | null;
  role?: StaffRole | null;
  search?: string | null;
  disabled?: boolean | null;
}

/** The DLPB's list of staff accounts: by library, role, state, and words of login, name or e-mail. */
export function staffAccountsWhere(filter: StaffAccountsFilter | null | undefined): Prisma.StaffAccountWhereInput {
  const terms = (filter?.search ?? '').split(/\s+/).filter(Boolean).slice(0, SEARCH_WORDS_MAX);
  return {
    ...(filter?.libraryId ? { libraryId: filter.libraryId } : {}),
    ...(filter?.role ? { role: filter.role } : {}),
    ...(filter?.disabled != null ? { disabledAt: filter.disabled ? { not: null } : null } : {}),
    ...(terms.length
      ? {
          AND: terms.map((term) => ({
            OR: [
              { login: { contains: term, mode: 'insensitive' as const } },
              { displayName: { contains: term, mode: 'insensitive' as const } },
              { email: { contains: term, mode: 'insensitive' as const } },
            ],
          })),
        }
      : {}),
  };
}

/**
 * DLPB: disables or enables a staff account. Disabling ends its sessions and subscriptions at
 * once, on every instance. An agent cannot disable themself, nor the last enabled DLPB agent: the
 * DLPB agents' rows are locked first, so two agents disabling each other cannot both succeed.
 */
export async function setStaffAccountDisabled(
  app: Services,
  caller: Caller,
  input: { staffAccountId?: string; disabled: boolean },
): Promise<{ staffAccount: StaffAccount | null; errors: UserError[] }> {
  if (caller.kind !== 'staff' || caller.role !== 'DLPB_AGENT') throw forbidden();
  const id = input.staffAccountId;
  if (!id || !(await app.prisma.staffAccount.findUnique({ where: { id }, select: { id: true } }))) {
    throw new Refusal(userError('NOT_FOUND', 'Compte introuvable.', 'staffAccountId'));
  }
  if (input.disabled && id === caller.staffId)
    throw new Refusal(userError('INVALID_STATE', 'Vous ne pouvez pas désactiver votre propre compte.', 'staffAccountId'));
  const staffAccount = await unitOfWork(app, { actor: caller }, async (work) => {
    const { tx, now } = work;
    await lockDlpbAgents(work.sql);
    const target = await tx.staffAccount.findUniqueOrThrow({ where: { id } });
    if (input.disabled && target.role === 'DLPB_AGENT') {
      const others = await tx.staffAccount.count({ where: { role: 'DLPB_AGENT', disabledAt: null, NOT: { id } } });
      if (others === 0) throw new Refusal(userError('INVALID_STATE', 'Le dernier agent actif de la DLPB ne peut pas être désactivé.', 'staffAccountId'));
    }
    if ((target.disabledAt !== null) === input.disabled) return target; // Already so: nothing to do.
    const updated = await tx.staffAccount.update({ where: { id }, data: { disabledAt: input.disabled ? now : null } });
    if (input.disabled) await revokeSessions(work, { staffId: id });
    await work.audit({
      action: 'SET_STAFF_ACCOUNT_DISABLED',
      subjectType: 'StaffAccount',
      subjectId: id,
      libraryId: target.libraryId,
      before: { disabled: target.disabledAt !== null },
      after: { disabled: input.disabled },
    });
    return updated;
  });
  return { staffAccount, errors: [] };
}
