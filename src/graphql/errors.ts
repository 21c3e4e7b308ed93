// Business-rule failures: returned in a payload's `errors`, never thrown. Each has a stable code
// and a French message fit to show to the person.
import type { FieldMap } from '@pothos/core';
import { builder } from './builder.js';

export const ERROR_CODES = [
  'INVALID_INPUT',
  'LOGIN_TAKEN',
  'PASSWORD_TOO_SHORT',
  'PASSWORD_TOO_COMMON',
  'PASSWORD_MISMATCH',
  'INVALID_BIRTH_DATE',
  'UNKNOWN_LIBRARY',
  'INVALID_CREDENTIALS',
  'INVALID_TOKEN',
  'TOKEN_EXPIRED',
  'NOT_FOUND',
  'ALREADY_DECIDED',
  'INVALID_STATE',
  'LICENCE_POOL_EXHAUSTED',
  'QUOTA_EXCEEDED',
  'ACCOUNT_NOT_ACTIVE',
  'AGE_RESTRICTED',
  'CATEGORY_NOT_ALLOWED',
  'IDEMPOTENCY_KEY_REUSED',
  'CANCELLATION_WINDOW_CLOSED',
  'RENEWAL_NOT_OPEN',
  'RATE_LIMITED',
] as const;

export type ErrorCode = (typeof ERROR_CODES)[number];

export interface UserError {
  code: ErrorCode;
  message: string;
  field?: string | null;
}

export const userError = (code: ErrorCode, message: string, field?: string): UserError => ({ code, message, field });

export const ErrorCodeEnum = builder.enumType('ErrorCode', { values: ERROR_CODES });

export const UserErrorType = builder.objectRef<UserError>('UserError').implement({
  fields: (t) => ({
    code: t.field({ type: ErrorCodeEnum, resolve: (e) => e.code }),
    message: t.exposeString('message', { description: 'French, fit to show to the person.' }),
    field: t.string({
      nullable: true,
      description: 'Name of the input field at fault, when there is one (e.g. "birthDate").',
      resolve: (e) => e.field ?? null,
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
  fields: (t: PothosSchemaTypes.ObjectFieldBuilder<Types, T>) => FieldMap,
  refused: Partial<Omit<T, 'errors'>> = {},
) {
  refusals.set(name, refused);
  return builder.objectRef<T>(name).implement({
    fields: (t) => ({ ...fields(t), errors: t.field({ type: [UserErrorType], resolve: (p) => p.errors }) }),
  });
}

export const OkPayload = payloadType<{ ok: boolean; errors: UserError[] }>(
  'OkPayload',
  (t) => ({ ok: t.exposeBoolean('ok') }),
  { ok: false },
);

/** The answer of a payload type (by name) to a mutation refused before it ran. */
export const refusedPayload = (payloadName: string, errors: UserError[]) => ({ ...refusals.get(payloadName), errors });

/** Thrown inside a transaction to roll it back and answer with a business error. */
export class Refusal extends Error {
  constructor(readonly error: UserError) {
    super(error.message);
  }
}
