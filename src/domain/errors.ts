// Business errors and access refusals, as the services raise them: no GraphQL here. The GraphQL
// layer (src/graphql/errors.ts, src/server/errors.ts) turns them into payload errors and
// top-level UNAUTHENTICATED / FORBIDDEN errors.

/** Every business error code, with when it happens (the descriptions of the ErrorCode enum). */
export const ERRORS = {
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
  MEMBERSHIP_SYSTEM_UNAVAILABLE: "The library's system could not be reached, timed out, or answered with an error.",
  INVALID_CONNECTOR: "The connector's settings are refused (address not allowed, secret missing, unknown field...).",
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

/**
 * A business rule refused: thrown by a use case (inside its transaction, which rolls back), and
 * answered as the mutation payload's `errors` by the GraphQL layer, once for every mutation.
 */
export class Refusal extends Error {
  readonly errors: UserError[];

  constructor(...errors: [UserError, ...UserError[]]) {
    super(errors.map((error) => error.message).join(' '));
    this.errors = errors;
  }

  /** The first error (most refusals carry one). */
  get error(): UserError {
    return this.errors[0]!;
  }
}

/** Refuses with these errors, when there are any (a form's every problem at once). */
export function refuseIfAny(errors: UserError[]): void {
  if (errors.length) throw new Refusal(...(errors as [UserError, ...UserError[]]));
}

/**
 * A refusal that is not a business rule, answered as a top-level error: no credentials
 * (UNAUTHENTICATED), not the right ones (FORBIDDEN), or an argument of a query out of bounds
 * (BAD_USER_INPUT, with the argument's name).
 */
export class RequestRefused extends Error {
  constructor(
    readonly code: 'UNAUTHENTICATED' | 'FORBIDDEN' | 'BAD_USER_INPUT',
    message: string,
    readonly field?: string,
  ) {
    super(message);
  }
}

export const badArgument = (message: string, field: string) => new RequestRefused('BAD_USER_INPUT', message, field);

export const unauthenticated = () => new RequestRefused('UNAUTHENTICATED', 'Vous devez être connecté pour effectuer cette opération.');

export const forbidden = () => new RequestRefused('FORBIDDEN', "Vous n'êtes pas autorisé à effectuer cette opération.");
