// Durations and limits of the life cycle. Defaults here; a row of the `setting` table
// with the same key overrides one (read at start-up), so operators can tune without a release.
import type { PrismaClient } from './db/prisma.js';

export const DEFAULT_SETTINGS = {
  /** Days to confirm a registration before it lapses. */
  confirmationDays: 15,
  /** Months of temporary access after confirmation. */
  temporaryMonths: 1,
  /** Days after confirmation before an undecided request escalates to the DLPB. */
  escalationDays: 5,
  /** Years of access after an acceptance. */
  activeYears: 1,
  /** Days before `activeUntil` when the reminder goes and renewal opens. */
  renewalNoticeDays: 15,
  /** Years after expiry or refusal before personal data is purged. */
  purgeAfterYears: 1,
  /** Minutes a password reset link stays valid. */
  passwordResetMinutes: 60,
  /** Days a staff invitation ("choose your password") link stays valid. */
  staffInvitationDays: 7,
  patronSessionDays: 30,
  staffSessionHours: 12,
  /** Default licence pool capacity. */
  licenceCapacity: 20_000,
  /** Hours a provider may cancel a consumption; idempotency keys are kept at least that long. */
  cancellationHours: 24,
};

export type Settings = typeof DEFAULT_SETTINGS;

export async function loadSettings(prisma: PrismaClient): Promise<Settings> {
  const rows = await prisma.setting.findMany({ where: { key: { in: Object.keys(DEFAULT_SETTINGS) } } });
  const settings = { ...DEFAULT_SETTINGS };
  for (const { key, value } of rows) {
    if (typeof value === 'number' && Number.isFinite(value) && value > 0) settings[key as keyof Settings] = value;
  }
  return settings;
}
