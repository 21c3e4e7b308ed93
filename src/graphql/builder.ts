// The Pothos schema builder: plugins, scalars and root types only. Types live in src/modules/*.
import SchemaBuilder from '@pothos/core';
import PrismaPlugin from '@pothos/plugin-prisma';
import RelayPlugin from '@pothos/plugin-relay';
import ScopeAuthPlugin from '@pothos/plugin-scope-auth';
import { isObjectType } from 'graphql';
import type PrismaTypes from '../generated/pothos-prisma-types.js';
import { getDatamodel } from '../generated/pothos-prisma-types.js';
import { forbidden, unauthenticated } from '../domain/errors.js';
import type { Context } from './context.js';
import { nodeEnvironment } from '../config.js';
import { UUID } from './ids.js';
import { DateTimeScalar, EmailAddressScalar, LocalDateScalar } from './scalars.js';

export const builder = new SchemaBuilder<{
  Context: Context;
  PrismaTypes: PrismaTypes;
  DefaultFieldNullability: false;
  Scalars: {
    DateTime: { Input: Date; Output: Date };
    LocalDate: { Input: string; Output: string };
    EmailAddress: { Input: string; Output: string };
    ID: { Input: string; Output: string };
  };
  AuthScopes: {
    /** A patron session. */
    patron: boolean;
    /** Any staff session (library admin or DLPB agent). */
    staff: boolean;
    /** A DLPB agent. */
    dlpb: boolean;
    /** A resource provider's API key. */
    provider: boolean;
  };
}>({
  plugins: [ScopeAuthPlugin, PrismaPlugin, RelayPlugin],
  defaultFieldNullability: false,
  scopeAuth: {
    // Evaluated once per request, at its first scope check: a provider's key is looked up there
    // (consumeQuota has none: it checks the key in the statement that consumes).
    authScopes: async ({ caller }) => ({
      patron: caller.kind === 'patron',
      staff: caller.kind === 'staff',
      dlpb: caller.kind === 'staff' && caller.role === 'DLPB_AGENT',
      provider: caller.kind === 'provider' && (await caller.identity()) !== null,
    }),
    unauthorizedError: (_parent, { caller }) =>
      caller.kind === 'visitor' || (caller.kind === 'provider' && caller.known === null) ? unauthenticated() : forbidden(),
  },
  prisma: {
    client: (ctx) => ctx.prisma,
    dmmf: getDatamodel(),
    exposeDescriptions: false,
    filterConnectionTotalCount: true,
    onUnusedQuery: nodeEnvironment() === 'production' ? null : 'warn',
  },
  relay: {
    clientMutationId: 'omit',
    cursorType: 'String',
    nodeQueryOptions: {
      nullable: true,
      description: 'Any object by its global ID; null when it does not exist (any more: personal data is erased on schedule).',
      // An ID of a type that has no nodes, or whose key is not a UUID, names nothing: null, as for
      // a row that is gone. Only an ID that is not a global ID at all is an error (BAD_USER_INPUT).
      resolve: async (_root, { id }, _context, info, resolveNode) => {
        const type = info.schema.getType(id.typename);
        const isNode = isObjectType(type) && type.getInterfaces().some((i) => i.name === 'Node');
        // Keys are UUIDs, but for the audit log's sequence numbers.
        if (!isNode || !(UUID.test(String(id.id)) || /^\d{1,18}$/.test(String(id.id)))) return null;
        try {
          return await resolveNode(id);
        } catch (error) {
          // plugin-prisma loads a node with findUniqueOrThrow: a row that is gone.
          if ((error as { code?: string }).code === 'P2025') return null;
          throw error;
        }
      },
      args: { id: { description: 'A global ID, as any `id` field of a node gives it.' } },
    },
    nodesQueryOptions: false,
    nodeTypeOptions: { description: 'An object that can be fetched again by its global ID (`node(id:)`).' },
    idFieldOptions: { description: "Global ID: opaque, stable, the key of clients' caches." },
    pageInfoTypeOptions: { description: 'Where a page stands in the whole list (Relay cursor connections).' },
    hasNextPageFieldOptions: { description: 'More items follow: ask again with `after: endCursor`.' },
    hasPreviousPageFieldOptions: { description: 'Items come before this page (when paging backwards with `before`).' },
    startCursorFieldOptions: { description: 'Cursor of the first item of the page.' },
    endCursorFieldOptions: { description: 'Cursor of the last item of the page: pass it as `after` for the next page.' },
    firstArgOptions: { description: 'How many items from the start (or after `after`); 20 by default, 100 at most.' },
    lastArgOptions: { description: 'How many items from the end (or before `before`); 100 at most.' },
    afterArgOptions: { description: 'Cursor after which the page starts (an `endCursor`). At most 200 characters.' },
    beforeArgOptions: { description: 'Cursor before which the page ends (a `startCursor`). At most 200 characters.' },
    cursorFieldOptions: { description: 'Cursor of this item, for `after` or `before`.' },
    nodeFieldOptions: { description: 'The item.' },
    edgesFieldOptions: { description: 'The items of the page, each with its cursor.' },
    pageInfoFieldOptions: { description: 'Where this page stands in the whole list.' },
    defaultConnectionTypeOptions: { description: 'A page of a list (Relay cursor connection).' },
    defaultEdgeTypeOptions: { description: 'An item of a page, with its cursor.' },
  },
});

// Refusals of access are domain errors (src/domain/errors.ts); src/server/errors.ts gives them their
// top-level code. Re-exported for the GraphQL layer's own checks.
export { forbidden, unauthenticated };

builder.addScalarType('DateTime', DateTimeScalar);
builder.addScalarType('LocalDate', LocalDateScalar);
builder.addScalarType('EmailAddress', EmailAddressScalar);

/** The schema's own description: GraphiQL shows it at the root of its documentation. */
export const SCHEMA_DESCRIPTION = [
  'NuMos, the free digital media library of the Département de la Moselle: registration requests and their decisions by the libraries (or the DLPB), yearly renewals, and the monthly quotas that resource providers check and consume.',
  'Authentication: `Authorization: Bearer <token>`, a session token from `login` (patrons and staff) or a provider’s API key; visitors may list libraries, register and confirm.',
  'Errors: a business refusal comes back in the mutation payload’s `errors` (a stable `code`, a French `message`, the `field` at fault); missing rights are a top-level UNAUTHENTICATED or FORBIDDEN.',
  'Lists are Relay connections (at most 100 items a page, `totalCount`). Objects that clients’ caches keep and mutations change have an `id`, their cache key.',
].join('\n\n');

builder.queryType({ description: 'Reading. Visitors may list libraries and read the quota policy; everything else needs a session or an API key.' });
builder.mutationType({
  description: "Changes. Business refusals come back in each payload's `errors`; missing rights as a top-level UNAUTHENTICATED or FORBIDDEN.",
});
