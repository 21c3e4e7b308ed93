// Staff accounts: library admins (login = their library's Moselia code) and DLPB agents.
import type { App } from '../../app.js';
import type { Caller } from '../../auth/caller.js';
import type { Config } from '../../config.js';
import type { StaffRole } from '../../generated/prisma/enums.js';
import { userError, type UserError } from '../../graphql/errors.js';
import { idOf } from '../../graphql/ids.js';
import { audit } from '../audit/service.js';
import { sendPasswordLink } from '../passwords/service.js';
import type { PrismaClient } from '../../db/prisma.js';
import { hashPassword } from '../../lib/password.js';
import { normalizeLogin } from '../../lib/text.js';


/**
 * Creates the first DLPB agent from NUMOS_BOOTSTRAP_DLPB_* when no DLPB agent exists yet.
 * Several instances may start at once: the check and the insert share one advisory lock.
 */
export async function bootstrapDlpbAgent(prisma: PrismaClient, config: Config): Promise<'created' | 'exists' | 'unset'> {
  const bootstrap = config.bootstrapDlpb;
  if (!bootstrap) return 'unset';
  const passwordHash = await hashPassword(bootstrap.password);
  return prisma.$transaction(async (tx) => {
    await tx.$executeRaw`SELECT pg_advisory_xact_lock(72707002)`;
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
export async function createStaffAccount(app: App, caller: Caller, input: CreateStaffInput) {
  const errors: UserError[] = [];
  const login = normalizeLogin(input.login);
  const displayName = input.displayName.replace(/\s+/g, ' ').trim();
  if (!displayName) errors.push(userError('INVALID_INPUT', 'Le nom affiché est obligatoire.', 'displayName'));
  let libraryId: string | null = null;
  if (input.role === 'LIBRARY_ADMIN') {
    const id = idOf('Library', input.libraryId);
    const library = id ? await app.prisma.library.findUnique({ where: { id } }) : null;
    if (!library) {
      errors.push(userError('UNKNOWN_LIBRARY', "Un administrateur de bibliothèque doit être rattaché à une bibliothèque existante.", 'libraryId'));
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
      errors.push(userError('INVALID_INPUT', "L'identifiant doit compter de 3 à 32 caractères : lettres sans accents, chiffres, point, tiret ou tiret bas.", 'login'));
    }
  }
  if (errors.length) return { staffAccount: null, errors };
  try {
    const staffAccount = await app.prisma.$transaction(async (tx) => {
      const staff = await tx.staffAccount.create({
        data: { login, displayName, email: input.email.trim(), role: input.role, libraryId },
      });
      await audit(tx, caller, app.clock.now(), {
        action: 'staff.create',
        subjectType: 'StaffAccount',
        subjectId: staff.id,
        libraryId,
        after: { login, role: input.role, libraryId },
      });
      await sendPasswordLink(app, tx, { owner: { staffId: staff.id }, displayName, login, email: staff.email }, { firstPassword: true });
      return staff;
    });
    return { staffAccount, errors: [] };
  } catch (error) {
    if ((error as { code?: string }).code === 'P2002') {
      return { staffAccount: null, errors: [userError('LOGIN_TAKEN', 'Cet identifiant est déjà utilisé par un autre compte.', 'login')] };
    }
    throw error;
  }
}
