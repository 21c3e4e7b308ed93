// Business-rule failures: returned in a payload's `errors`, never thrown. Each has a stable code
// and a French message fit to show to the person.
import type { FieldMap } from '@pothos/core';
import { builder } from './builder.js';

/** Every business error code, with when it happens (the descriptions of the ErrorCode enum). */
const ERRORS = {
  INVALID_INPUT: 'A value is missing, too long, badly formed or out of range; `field` names it.',
  LOGIN_TAKEN: 'The login is already used by another person (or, for staff, another account).',
  PASSWORD_TOO_SHORT: 'The new password has fewer than 8 characters.',
  PASSWORD_TOO_COMMON: 'The new password is among the most common ones.',
  PASSWORD_MISMATCH: 'The password confirmation differs from the password.',
  INVALID_BIRTH_DATE: 'The birth date is in the future or more than 120 years ago.',
  UNKNOWN_LIBRARY: 'No library has this ID (or none was given where one is needed).',
  INVALID_CREDENTIALS: 'Login and password do not match an account that may log in (same answer whatever is wrong).',
  INVALID_TOKEN: 'The link is unknown, already used or replaced by a newer one.',
  TOKEN_EXPIRED: 'The link is past its validity.',
  NOT_FOUND: 'The object named by an ID does not exist (any more).',
  ALREADY_DECIDED: 'The request was decided already (possibly by someone else a moment ago).',
  INVALID_STATE: 'The object is not in a state that allows this (a request not awaiting a decision, a consumption already cancelled…).',
  LICENCE_POOL_EXHAUSTED: "Every licence of the département's pool is in use: accepting waits until the DLPB raises the capacity.",
  QUOTA_EXCEEDED: "The patron's monthly limit for this category is reached.",
  ACCOUNT_NOT_ACTIVE: "The patron's account does not open this content (metered content needs ACTIVE; open access TEMPORARY or ACTIVE).",
  AGE_RESTRICTED: 'The patron is younger than the minimum age of the resource.',
  CATEGORY_NOT_ALLOWED: 'The provider is not authorised for this content category.',
  IDEMPOTENCY_KEY_REUSED: 'The idempotency key was used before with other parameters.',
  CANCELLATION_WINDOW_CLOSED: 'The consumption is older than 24 hours and can no longer be cancelled.',
  RENEWAL_NOT_OPEN: 'Renewal opens 15 days before the end of access and closes when personal data is purged.',
  RATE_LIMITED: 'Too many attempts in a short time: try again after `retryAfterSeconds`.',
  WRONG_PASSWORD: 'The current password given with the change is wrong.',
  ACCOUNT_DISABLED: 'The staff account is disabled.',
  INVALID_LIBRARY_CODE: 'A library with this code already exists (on create) or the code is not a Moselia code.',
} as const;

export const ERROR_CODES = Object.keys(ERRORS) as (keyof typeof ERRORS)[];

export type ErrorCode = (typeof ERROR_CODES)[number];

export interface UserError {
  code: ErrorCode;
  message: string;
  field?: string | null;
  /** RATE_LIMITED: seconds before another attempt may succeed. */
  retryAfterSeconds?: number;
}

export const userError = (code: ErrorCode, message: string, field?: string): UserError => ({ code, message, field });

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

/** Thrown inside a transaction to roll it back and answer with a business error. */
export class Refusal extends Error {
  constructor(readonly error: UserError) {
    super(error.message);
  }
}
