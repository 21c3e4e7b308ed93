import { encodeGlobalID } from '@pothos/plugin-relay';
import type { Prisma } from '../../generated/prisma/client.js';
import type { Caller } from '../../auth/caller.js';
import { grantKey, libraryScope } from '../../auth/visibility.js';
import { builder } from '../../graphql/builder.js';
import { connectionOptions, edgeOptions } from '../../graphql/connections.js';
import { decodeId } from '../../graphql/ids.js';
import { maxChars } from '../../graphql/input-guard.js';
import { LibraryType } from '../libraries/types.js';
import { StaffAccountType } from '../staff/types.js';
import { AUDIT_ACTIONS, auditActionNamed } from './service.js';

const STAFF_ACTORS = ['LIBRARY_ADMIN', 'DLPB_AGENT'];

/** The DLPB reads every entry, a library admin those about their library. */
const canSeeEntry = (caller: Caller, entry: { libraryId: string | null }) =>
  caller.kind === 'staff' && (caller.role === 'DLPB_AGENT' || (entry.libraryId !== null && entry.libraryId === caller.libraryId));

const AuditEntryType = builder.prismaNode('AuditLog', {
  variant: 'AuditEntry',
  description: 'A change made by staff (or a patron’s erasure), as the append-only audit log keeps it: ids and values, no personal data.',
  id: { resolve: (entry) => entry.id.toString() },
  findUnique: (id) => ({ id: BigInt(id) }),
  authScopes: (entry, { caller }) => canSeeEntry(caller, entry),
  fields: (t) => ({
    occurredAt: t.expose('occurredAt', { type: 'DateTime', description: 'When it was done.' }),
    action: t.exposeString('action', { description: `What was done, one of: ${AUDIT_ACTIONS.join(', ')}.` }),
    actor: t.field({
      type: StaffAccountType,
      nullable: true,
      description: 'The staff account that acted; null for the system’s own jobs, for a patron, or when the account was deleted.',
      resolve: async (entry, _args, { prisma, granted }) => {
        if (!entry.actorId || !STAFF_ACTORS.includes(entry.actorKind)) return null;
        // Whoever may read the entry may read who made it.
        granted.add(grantKey('staff', entry.actorId));
        return prisma.staffAccount.findUnique({ where: { id: entry.actorId } });
      },
    }),
    library: t.field({
      type: LibraryType,
      nullable: true,
      description: 'The library concerned, when there is one.',
      resolve: (entry, _args, { prisma }) => (entry.libraryId ? prisma.library.findUnique({ where: { id: entry.libraryId } }) : null),
    }),
    subjectId: t.id({
      nullable: true,
      description: 'Global ID of the object changed, when it still exists or existed (none for an erased person).',
      resolve: (entry) => (entry.subjectId ? encodeGlobalID(entry.subjectType, entry.subjectId) : null),
    }),
    onBehalfOfLibrary: t.exposeBoolean('onBehalf', { description: 'True when a DLPB agent acted in a library’s place.' }),
    changes: t.string({
      nullable: true,
      description: 'The values before and after, as a JSON text ({"before":…,"after":…}), without personal data.',
      resolve: (entry) => (entry.before === null && entry.after === null ? null : JSON.stringify({ before: entry.before, after: entry.after })),
    }),
  }),
});

const AuditLogFilter = builder.inputType('AuditLogFilter', {
  description: 'Which audit entries to list.',
  fields: (t) => ({
    libraryId: t.id({ required: false, description: 'Library admins: their own library only. DLPB: one library, or all when null.' }),
    action: t.string({
      required: false,
      ...maxChars(
        60,
        `Only this action, in any case ("decide" is DECIDE; dashes or spaces for underscores): one of ${AUDIT_ACTIONS.join(', ')}. Another word is BAD_USER_INPUT listing them.`,
      ),
    }),
    actorId: t.id({ required: false, description: 'Only what this staff account did.' }),
    from: t.field({ type: 'DateTime', required: false, description: 'From this instant (included).' }),
    to: t.field({ type: 'DateTime', required: false, description: 'Until this instant (excluded).' }),
  }),
});

type AuditFilter = { libraryId?: string | null; action?: string | null; actorId?: string | null; from?: Date | null; to?: Date | null };

function auditWhere(caller: Caller, filter: AuditFilter | null | undefined): Prisma.AuditLogWhereInput {
  const libraryId = libraryScope(caller, decodeId('Library', filter?.libraryId));
  return {
    ...(libraryId ? { libraryId } : {}),
    ...(filter?.action ? { action: auditActionNamed(filter.action, 'filter.action') } : {}),
    ...(filter?.actorId ? { actorId: decodeId('StaffAccount', filter.actorId) } : {}),
    ...(filter?.from || filter?.to ? { occurredAt: { ...(filter.from ? { gte: filter.from } : {}), ...(filter.to ? { lt: filter.to } : {}) } } : {}),
  };
}

builder.queryField('auditLog', (t) =>
  t.prismaConnection(
    {
      type: AuditEntryType,
      cursor: 'id',
      defaultSize: 20,
      maxSize: 100,
      description: 'DLPB: every entry; library admins: the entries about their library. Newest first. Patrons and providers: FORBIDDEN.',
      authScopes: { staff: true },
      args: { filter: t.arg({ type: AuditLogFilter, required: false, description: 'Which entries; all when null.' }) },
      resolve: (query, _root, { filter }, { prisma, caller }) =>
        prisma.auditLog.findMany({ ...query, where: auditWhere(caller, filter), orderBy: [{ occurredAt: 'desc' }, { id: 'desc' }] }),
      totalCount: (_connection, { filter }, { prisma, caller }) => prisma.auditLog.count({ where: auditWhere(caller, filter) }),
    },
    connectionOptions('AuditEntryConnection', 'audit entries'),
    edgeOptions('AuditEntryEdge', 'An audit entry'),
  ),
);
