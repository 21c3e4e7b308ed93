// Cursors that belong to their list. plugin-prisma's cursors say only which key a row had, so a
// cursor of one list given to another was either a Prisma validation error ("Unexpected error.")
// or, worse, silently a page of the wrong list. Each connection field's cursors are tagged with the
// field (`Query.pendingRegistrations`: two lists of one connection type keep apart) here, once for
// the whole schema: a cursor from elsewhere, or a malformed one, is BAD_USER_INPUT naming the
// argument; so is asking for `first` and `last` at once (as Relay and GitHub refuse it).
import { decodeBase64, encodeBase64 } from '@pothos/core';
import { getNamedType, isObjectType, type GraphQLFieldResolver, type GraphQLSchema } from 'graphql';
import { badArgument } from '../domain/errors.js';

interface Connection {
  edges?: ({ cursor?: string } | null)[];
  pageInfo?: { startCursor?: string | null; endCursor?: string | null };
}

const SEPARATOR = '|';

export const tagCursor = (tag: string, cursor: string) => encodeBase64(`${tag}${SEPARATOR}${cursor}`);

/** The list's own cursor inside a tagged one; BAD_USER_INPUT when it is malformed or another list's. */
export function untagCursor(tag: string, cursor: string, argument: string): string {
  let decoded = '';
  try {
    decoded = decodeBase64(cursor);
  } catch {
    // Reported below, as any cursor that is not one of this list's.
  }
  if (!decoded.startsWith(`${tag}${SEPARATOR}`)) throw badArgument('Curseur de pagination invalide : il ne vient pas de cette liste.', argument);
  return decoded.slice(tag.length + SEPARATOR.length);
}

function tagged(connection: Connection, tag: string): Connection {
  for (const edge of connection.edges ?? []) if (edge?.cursor) edge.cursor = tagCursor(tag, edge.cursor);
  const info = connection.pageInfo;
  if (info?.startCursor) info.startCursor = tagCursor(tag, info.startCursor);
  if (info?.endCursor) info.endCursor = tagCursor(tag, info.endCursor);
  return connection;
}

/** Wraps every connection field of the schema (its type ends in Connection and has edges and pageInfo). */
export function typedCursors(schema: GraphQLSchema): GraphQLSchema {
  for (const type of Object.values(schema.getTypeMap())) {
    if (!isObjectType(type) || type.name.startsWith('__')) continue;
    for (const field of Object.values(type.getFields())) {
      const returned = getNamedType(field.type);
      if (!isObjectType(returned) || !returned.name.endsWith('Connection') || !returned.getFields().edges || !returned.getFields().pageInfo) continue;
      const tag = `${type.name}.${field.name}`;
      const resolve: GraphQLFieldResolver<unknown, unknown> | undefined = field.resolve;
      if (!resolve) continue;
      field.resolve = async (source, args: Record<string, unknown>, context, info) => {
        if (args.first != null && args.last != null) throw badArgument('Indiquez `first` ou `last`, pas les deux.', 'last');
        const inner = { ...args };
        for (const argument of ['after', 'before'] as const) {
          if (typeof args[argument] === 'string') inner[argument] = untagCursor(tag, args[argument], argument);
        }
        const connection = (await resolve(source, inner, context, info)) as Connection | null;
        return connection && tagged(connection, tag);
      };
    }
  }
  return schema;
}
