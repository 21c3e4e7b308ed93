// The append-only audit log (a trigger forbids UPDATE and DELETE). Entries name people by id only.
import type { Tx } from '../../db/prisma.js';
import type { Caller } from '../../auth/caller.js';
import { badArgument } from '../../domain/errors.js';

/** Every action the log records: an entry's `action`, and what auditLog's filter may name. */
export const AUDIT_ACTIONS = [
  'DECIDE',
  'AUTO_ACCEPT',
  'SET_RESPONSE_TEMPLATE',
  'RESET_RESPONSE_TEMPLATE',
  'CORRECT_PATRON',
  'END_ACCESS',
  'CREATE_STAFF_ACCOUNT',
  'SET_STAFF_ACCOUNT_DISABLED',
  'CREATE_RESOURCE_PROVIDER',
  'ROTATE_PROVIDER_KEY',
  'REVOKE_PROVIDER',
  'SET_QUOTA_LIMITS',
  'SET_LICENCE_CAPACITY',
  'SAVE_LIBRARY',
  'SAVE_MEMBERSHIP_CONNECTOR',
  'REMOVE_MEMBERSHIP_CONNECTOR',
  'PERSONAL_DATA_EXPORT',
  'DELETE_ACCOUNT',
] as const;

export type AuditAction = (typeof AUDIT_ACTIONS)[number];

/**
 * The action a filter names, as a person types it: any case, spaces or dashes for underscores
 * ("decide", "end-access"). Another word is refused with the list, rather than finding nothing.
 */
export function auditActionNamed(written: string, field: string): AuditAction {
  const wanted = written
    .trim()
    .toUpperCase()
    .replace(/[\s-]+/g, '_');
  const action = AUDIT_ACTIONS.find((known) => known === wanted);
  if (!action) throw badArgument(`Action inconnue : « ${written} ». Actions possibles : ${AUDIT_ACTIONS.join(', ')}.`, field);
  return action;
}

export interface AuditEntry {
  action: AuditAction;
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
