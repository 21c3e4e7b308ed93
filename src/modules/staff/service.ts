// Staff accounts: library admins (login = their library's Moselia code) and DLPB agents.
import type { Config } from '../../config.js';
import type { PrismaClient } from '../../db/prisma.js';
import { hashPassword } from '../../lib/password.js';

/** Staff logins are case-insensitive; they are stored lower-case. */
export const normalizeStaffLogin = (login: string) => login.trim().toLowerCase();

/**
 * Creates the first DLPB agent from NUMOS_BOOTSTRAP_DLPB_* when no DLPB agent exists yet.
 * Several instances may start at once: the check and the insert share one advisory lock.
 */
export async function bootstrapDlpbAgent(prisma: PrismaClient, config: Config): Promise<boolean> {
  const bootstrap = config.bootstrapDlpb;
  if (!bootstrap) return false;
  const passwordHash = await hashPassword(bootstrap.password);
  return prisma.$transaction(async (tx) => {
    await tx.$executeRaw`SELECT pg_advisory_xact_lock(72707002)`;
    if (await tx.staffAccount.findFirst({ where: { role: 'DLPB_AGENT' }, select: { id: true } })) return false;
    await tx.staffAccount.create({
      data: {
        login: normalizeStaffLogin(bootstrap.login),
        displayName: 'DLPB',
        email: bootstrap.email,
        role: 'DLPB_AGENT',
        passwordHash,
      },
    });
    return true;
  });
}
