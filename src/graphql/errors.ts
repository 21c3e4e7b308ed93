// Business-rule failures: returned in a payload's `errors`, never thrown. Each has a stable code
// and a French message fit to show to the person.
import type { FieldMap } from '@pothos/core';
import { GraphQLError } from 'graphql';
import { builder } from './builder.js';
import { ERRORS, type ErrorCode, type UserError } from '../domain/errors.js';

export { ERROR_CODES, Refusal, userError, type ErrorCode, type UserError } from '../domain/errors.js';

export const ErrorCodeEnum = builder.enumType('ErrorCode', {
  description: 'What went wrong with a mutation, for the program; `message` says it to the person.',
  values: Object.fromEntries(Object.entries(ERRORS).map(([code, description]) => [code, { description }])) as Record<ErrorCode, { description: string }>,
});

export const UserErrorType = builder.objectRef<UserError>('UserError').implement({
  description: "A business rule refused (part of) a mutation: nothing was changed. A payload's `errors` is empty on success.",
  fields: (t) => ({
    code: t.field({ type: ErrorCodeEnum, description: 'Stable code, for the program.', resolve: (e) => e.code }),
    message: t.exposeString('message', { description: 'French, fit to show to the person.' }),
    field: t.string({
      nullable: true,
      description: 'Name of the input field at fault, when there is one (e.g. "birthDate").',
      resolve: (e) => e.field ?? null,
    }),
    retryAfterSeconds: t.int({
      nullable: true,
      description: 'RATE_LIMITED: seconds to wait before trying again; null otherwise.',
      resolve: (e) => e.retryAfterSeconds ?? null,
    }),
  }),
});

type Types = typeof builder extends PothosSchemaTypes.SchemaBuilder<infer T> ? T : never;

/** What each payload answers when its mutation is refused before it runs, `errors` aside. */
const refusals = new Map<string, object>();

/**
 * A mutation payload of the contract: its own fields, plus the business `errors` every payload has.
 * `refused` gives its non-null fields a value for a mutation refused before it ran (its input, by
 * src/graphql/input-guard.ts); the others are null then.
 */
export function payloadType<T extends { errors: UserError[] }>(
  name: string,
  description: string,
  fields: (t: PothosSchemaTypes.ObjectFieldBuilder<Types, T>) => FieldMap,
  refused: Partial<Omit<T, 'errors'>> = {},
) {
  refusals.set(name, refused);
  return builder.objectRef<T>(name).implement({
    description,
    fields: (t) => ({
      ...fields(t),
      errors: t.field({ type: [UserErrorType], description: 'Why the mutation was refused; empty when it succeeded.', resolve: (p) => p.errors }),
    }),
  });
}

export const OkPayload = payloadType<{ ok: boolean; errors: UserError[] }>(
  'OkPayload',
  'The answer of a mutation that has nothing to return but whether it was taken.',
  (t) => ({ ok: t.exposeBoolean('ok', { description: 'True when the mutation was taken (then `errors` is empty).' }) }),
  { ok: false },
);

/** The answer of a payload type (by name) to a mutation refused before it ran. */
export const refusedPayload = (payloadName: string, errors: UserError[]) => ({ ...refusals.get(payloadName), errors });

/**
 * A business refusal of a query (which has no payload): a top-level error with its code, and for
 * RATE_LIMITED the wait in seconds, which the server answers as HTTP 429 with Retry-After when it
 * is the only kind of error (src/server/errors.ts).
 */
export function queryRefused(error: UserError): GraphQLError {
  const http =
    error.code === 'RATE_LIMITED' && error.retryAfterSeconds ? { status: 429, headers: { 'Retry-After': String(error.retryAfterSeconds) } } : undefined;
  return new GraphQLError(error.message, {
    extensions: { code: error.code, ...(error.retryAfterSeconds ? { retryAfterSeconds: error.retryAfterSeconds } : {}), ...(http ? { http } : {}) },
  });
}
