// The append-only audit log (a trigger forbids UPDATE and DELETE). Entries name people by id only.
import type { Tx } from '../../db/prisma.js';
import type { Caller } from '../../auth/caller.js';

export interface AuditEntry {
  action: string;
  subjectType: string;
  subjectId?: string | null;
  libraryId?: string | null;
  onBehalf?: boolean;
  before?: Record<string, unknown> | null;
  after?: Record<string, unknown> | null;
  /** A patron acting on their own data: the entry keeps no id of them (it must outlive them). */
  anonymousActor?: boolean;
}

/** Who acted: a caller, or NuMos itself (null: a job, an acceptance on a library's behalf). */
export async function audit(tx: Tx, caller: Caller | null, at: Date, entry: AuditEntry): Promise<void> {
  const actor =
    caller?.kind === 'staff'
      ? caller.staffId
      : caller?.kind === 'patron'
        ? caller.patronId
        : caller?.kind === 'provider'
          ? (caller.known?.providerId ?? null)
          : null;
  await tx.auditLog.create({
    data: {
      occurredAt: at,
      actorKind: caller === null ? 'SYSTEM' : caller.kind === 'staff' ? caller.role : caller.kind.toUpperCase(),
      actorId: entry.anonymousActor ? null : actor,
      action: entry.action,
      subjectType: entry.subjectType,
      subjectId: entry.subjectId ?? null,
      libraryId: entry.libraryId ?? null,
      onBehalf: entry.onBehalf ?? false,
      before: (entry.before ?? undefined) as object | undefined,
      after: (entry.after ?? undefined) as object | undefined,
    },
  });
}
