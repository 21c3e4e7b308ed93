// Every string a client sends is checked before any resolver runs: a documented maximum length
// (`maxChars` on the argument or input field; IDs and cursors share one), no NUL byte, no lone
// surrogate (PostgreSQL stores neither). Every list too: a documented maximum number of items
// (`maxItems`; LIST_MAX when a list declares none), so that no list can make a request costly. A refused value changes nothing and costs nothing: a
// mutation answers INVALID_INPUT in its payload's `errors` with the field at fault, anything else
// a top-level error with the same code and `extensions.field`.
import {
  GraphQLError,
  isInputObjectType,
  isListType,
  isNonNullType,
  isObjectType,
  type GraphQLFieldResolver,
  type GraphQLInputType,
  type GraphQLSchema,
} from 'graphql';
import { refusedPayload, userError, type UserError } from './errors.js';
import { payloadOf } from './refusals.js';

/** IDs (global ids are about 60 characters), pagination cursors and the tokens of links. */
export const ID_MAX = 200;
/** Logins as typed at login or password reset (the rules of each account kind are stricter). */
export const LOGIN_MAX = 100;
/** Search boxes: enough for a name, a first name and an address. */
export const SEARCH_MAX = 100;

/** The most items a list argument or input field takes when it declares no maximum of its own. */
export const LIST_MAX = 50;

/** Options of a string argument or input field: its maximum, in its description and checked. */
export const maxChars = (max: number, description?: string) => ({
  description: [description, `At most ${max} characters.`].filter(Boolean).join(' '),
  extensions: { maxChars: max },
});

/** Options of a list argument or input field: its maximum number of items, in its description and checked. */
export const maxItems = (max: number, description?: string) => ({
  description: [description, `At most ${max} items.`].filter(Boolean).join(' '),
  extensions: { maxItems: max },
});

interface Refused {
  field: string;
  message: string;
}

function checkString(value: string, max: number, field: string): Refused | null {
  if (value.length > max) return { field, message: `Ce champ (${field}) ne peut pas dépasser ${max} caractères.` };
  if (value.includes('\0') || !value.isWellFormed()) {
    return { field, message: `Ce champ (${field}) contient un caractère invalide.` };
  }
  return null;
}

/** The declared maximums of an argument or input field. */
interface Limits {
  chars?: number;
  items?: number;
}

function checkValue(value: unknown, type: GraphQLInputType, limits: Limits, field: string): Refused | null {
  if (value == null) return null;
  if (isNonNullType(type)) return checkValue(value, type.ofType, limits, field);
  if (isListType(type)) {
    const items = value as unknown[];
    const most = limits.items ?? LIST_MAX;
    if (items.length > most) return { field, message: `Cette liste (${field}) ne peut pas compter plus de ${most} éléments.` };
    for (const [index, item] of items.entries()) {
      const refused = checkValue(item, type.ofType, { chars: limits.chars }, `${field}.${index}`);
      if (refused) return refused;
    }
    return null;
  }
  if (isInputObjectType(type)) {
    for (const inner of Object.values(type.getFields())) {
      const refused = checkValue((value as Record<string, unknown>)[inner.name], inner.type, limitsOf(inner), `${field}.${inner.name}`);
      if (refused) return refused;
    }
    return null;
  }
  const max = limits.chars;
  if (typeof value !== 'string') return null;
  // Other scalars (EmailAddress, dates) check their own lengths and shapes.
  const bounded = type.name === 'String' || type.name === 'ID';
  return checkString(value, bounded ? (max ?? ID_MAX) : Number.POSITIVE_INFINITY, field);
}

const limitsOf = (definition: { extensions?: { maxChars?: unknown; maxItems?: unknown } | null }): Limits => ({
  chars: typeof definition.extensions?.maxChars === 'number' ? definition.extensions.maxChars : undefined,
  items: typeof definition.extensions?.maxItems === 'number' ? definition.extensions.maxItems : undefined,
});

/** Wraps every field that takes arguments (resolve and subscribe) with the check. */
export function guardInputs(schema: GraphQLSchema): GraphQLSchema {
  for (const type of Object.values(schema.getTypeMap())) {
    if (!isObjectType(type) || type.name.startsWith('__')) continue;
    for (const field of Object.values(type.getFields())) {
      if (!field.args.length) continue;
      const check = (args: Record<string, unknown>): Refused | null => {
        for (const arg of field.args) {
          // `input.lastName` is reported as `lastName`, as the services name fields.
          const refused = checkValue(args[arg.name], arg.type, limitsOf(arg), arg.name);
          if (refused) return { ...refused, field: refused.field.replace(/^input\./, '') };
        }
        return null;
      };
      const payload = payloadOf(field.type);
      const guard = (resolver: GraphQLFieldResolver<unknown, unknown> | undefined): GraphQLFieldResolver<unknown, unknown> | undefined =>
        resolver &&
        ((source, args, context, info) => {
          const refused = check(args);
          if (!refused) return resolver(source, args, context, info);
          const error: UserError = userError('INVALID_INPUT', refused.message, refused.field);
          if (payload) return refusedPayload(payload, [error]);
          throw new GraphQLError(error.message, { extensions: { code: 'INVALID_INPUT', field: refused.field } });
        });
      field.resolve = guard(field.resolve);
      field.subscribe = guard(field.subscribe);
    }
  }
  return schema;
}
