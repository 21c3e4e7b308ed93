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
  type GraphQLInputObjectType,
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

/** Why a value is refused, and where inside the argument: the path innermost first, as the check unwinds (reversed to be read). */
interface Refused {
  reason: 'length' | 'character' | 'items';
  max: number;
  path: (string | number)[];
}

/** The declared maximums of an argument or input field. */
interface Limits {
  chars?: number;
  items?: number;
}

const limitsOf = (definition: { extensions?: { maxChars?: unknown; maxItems?: unknown } | null }): Limits => ({
  chars: typeof definition.extensions?.maxChars === 'number' ? definition.extensions.maxChars : undefined,
  items: typeof definition.extensions?.maxItems === 'number' ? definition.extensions.maxItems : undefined,
});

/** An input type's fields with their limits, read once per type rather than on every call (the providers' consumeQuota among them). */
const fieldsOf = new WeakMap<GraphQLInputObjectType, { name: string; type: GraphQLInputType; limits: Limits }[]>();
function inputFields(type: GraphQLInputObjectType) {
  let fields = fieldsOf.get(type);
  if (!fields) {
    fields = Object.values(type.getFields()).map((field) => ({ name: field.name, type: field.type, limits: limitsOf(field) }));
    fieldsOf.set(type, fields);
  }
  return fields;
}

function checkString(value: string, max: number): Refused | null {
  if (value.length > max) return { reason: 'length', max, path: [] };
  if (value.includes('\0') || !value.isWellFormed()) return { reason: 'character', max, path: [] };
  return null;
}

function checkValue(value: unknown, type: GraphQLInputType, chars: number | undefined, items: number | undefined): Refused | null {
  if (value == null) return null;
  if (isNonNullType(type)) return checkValue(value, type.ofType, chars, items);
  if (isListType(type)) {
    const list = value as unknown[];
    const most = items ?? LIST_MAX;
    if (list.length > most) return { reason: 'items', max: most, path: [] };
    for (let index = 0; index < list.length; index += 1) {
      const refused = checkValue(list[index], type.ofType, chars, undefined);
      if (refused) {
        refused.path.push(index);
        return refused;
      }
    }
    return null;
  }
  if (isInputObjectType(type)) {
    for (const field of inputFields(type)) {
      const refused = checkValue((value as Record<string, unknown>)[field.name], field.type, field.limits.chars, field.limits.items);
      if (refused) {
        refused.path.push(field.name);
        return refused;
      }
    }
    return null;
  }
  if (typeof value !== 'string') return null;
  // Other scalars (EmailAddress, dates) check their own lengths and shapes.
  const bounded = type.name === 'String' || type.name === 'ID';
  return checkString(value, bounded ? (chars ?? ID_MAX) : Number.POSITIVE_INFINITY);
}

/** A refusal in words: the field named from the argument down, as `input.limits.0.category`. */
function described(argument: string, refused: Refused): { field: string; message: string } {
  const field = [argument, ...refused.path.reverse()].join('.');
  const message =
    refused.reason === 'items'
      ? `Cette liste (${field}) ne peut pas compter plus de ${refused.max} éléments.`
      : refused.reason === 'length'
        ? `Ce champ (${field}) ne peut pas dépasser ${refused.max} caractères.`
        : `Ce champ (${field}) contient un caractère invalide.`;
  return { field, message };
}

/** Wraps every field that takes arguments (resolve and subscribe) with the check. */
export function guardInputs(schema: GraphQLSchema): GraphQLSchema {
  for (const type of Object.values(schema.getTypeMap())) {
    if (!isObjectType(type) || type.name.startsWith('__')) continue;
    for (const field of Object.values(type.getFields())) {
      if (!field.args.length) continue;
      const args = field.args.map((arg) => ({ name: arg.name, type: arg.type, limits: limitsOf(arg) }));
      const check = (values: Record<string, unknown>): { field: string; message: string } | null => {
        for (const arg of args) {
          const refused = checkValue(values[arg.name], arg.type, arg.limits.chars, arg.limits.items);
          if (!refused) continue;
          const { field, message } = described(arg.name, refused);
          // `input.lastName` is reported as `lastName`, as the services name fields.
          return { field: field.replace(/^input\./, ''), message };
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
