// Relay connections of the schema: what plugin-prisma adds without a description.
import { builder } from './builder.js';

type Types = typeof builder extends PothosSchemaTypes.SchemaBuilder<infer T> ? T : never;

/**
 * A connection type's options: its name, its description, and `totalCount` described (the field
 * plugin-prisma adds when the connection has a `totalCount` resolver, computed only when asked).
 */
export function connectionOptions(name: string, items: string) {
  return {
    name,
    description: `A page of ${items}.`,
    fields: (t: PothosSchemaTypes.ObjectFieldBuilder<Types, object>) => ({
      totalCount: t.int({
        description: `How many ${items} match, in all pages.`,
        extensions: { pothosPrismaTotalCount: true },
        resolve: (connection) => (connection as { totalCount?: () => number }).totalCount?.() ?? 0,
      }),
    }),
  };
}

export const edgeOptions = (name: string, item: string) => ({ name, description: `${item} of a page, with its cursor.` });

export const SortDirectionEnum = builder.enumType('SortDirection', {
  description: 'Order of a list.',
  values: { ASC: { description: 'Smallest (earliest, A) first.' }, DESC: { description: 'Largest (latest, Z) first.' } } as const,
});
