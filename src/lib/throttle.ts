// Request throttling shared by every instance: counters live in PostgreSQL (rate-limiter-flexible's
// Postgres store, table `rate_limit`). Windows are fixed and short, so a throttled person is
// slowed down, never locked out for good. NUMOS_THROTTLE=0 turns it off (load tests, QA).
// Keys are stored hashed: the table names no login, address or e-mail, and any key fits its column.
//
// Logins follow OWASP's authentication guidance and rate-limiter-flexible's login protection: a
// failure counts against the pair (login, client address) and against the address, so that
// nobody can close an account to its owner by failing from elsewhere; failures of one login from
// many addresses only slow that login down (an increasing delay, a few seconds at most).
import type pg from 'pg';
import { hashSecret } from './secrets.js';
import { RateLimiterPostgres, RateLimiterRes } from 'rate-limiter-flexible';
import { userError, type UserError } from '../domain/errors.js';

export interface ThrottleRule {
  name: string;
  points: number;
  seconds: number;
}

export const THROTTLE_RULES = {
  /** Failed logins of one login from one address: that pair waits, nobody else. */
  loginFailuresPerLoginAndAddress: { name: 'login-login-ip', points: 10, seconds: 15 * 60 },
  /** Failed logins from one address, whatever the login (a script trying many accounts). */
  loginFailuresPerAddress: { name: 'login-ip', points: 100, seconds: 15 * 60 },
  /** Attempts on one login from every address: beyond SLOW_DOWN_AFTER, each waits longer (never refused). */
  loginAttemptsPerLogin: { name: 'login-login', points: Number.MAX_SAFE_INTEGER, seconds: 15 * 60 },
  /** Wrong current passwords given with a change (password, address, erasure), per account. */
  passwordChecksPerAccount: { name: 'current-password', points: 10, seconds: 15 * 60 },
  /** Registrations from one address: a library's workshop (60 people on its public computers) passes, a script stops. */
  registrationsPerAddress: { name: 'register-ip', points: 80, seconds: 60 * 60 },
  registrationsPerAddressDaily: { name: 'register-ip-day', points: 300, seconds: 24 * 60 * 60 },
  /** E-mails anyone can cause to an address (confirmation, reset, address change, "you already have an account"). */
  emailsPerRecipient: { name: 'mail-to', points: 5, seconds: 60 * 60 },
  resetsPerAddress: { name: 'reset-ip', points: 20, seconds: 60 * 60 },
  resetsPerLogin: { name: 'reset-login', points: 5, seconds: 60 * 60 },
  resendsPerAddress: { name: 'resend-ip', points: 20, seconds: 60 * 60 },
  resendsPerEmail: { name: 'resend-email', points: 5, seconds: 60 * 60 },
  messagesPerAddress: { name: 'message-ip', points: 10, seconds: 60 * 60 },
  emailChangesPerAccount: { name: 'email-change', points: 5, seconds: 60 * 60 },
  exportsPerAccount: { name: 'data-export', points: 10, seconds: 60 * 60 },
} satisfies Record<string, ThrottleRule>;

export const rateLimited = (msBeforeNext: number, field?: string, what = 'Trop de tentatives.'): UserError => {
  const minutes = Math.max(1, Math.ceil(msBeforeNext / 60_000));
  return {
    ...userError('RATE_LIMITED', `${what} Réessayez dans ${minutes} minute${minutes > 1 ? 's' : ''}.`, field),
    retryAfterSeconds: Math.max(1, Math.ceil(msBeforeNext / 1_000)),
  };
};

/** Attempts on one login (from any address) before each further one is slowed down. */
export const SLOW_DOWN_AFTER = 10;
const SLOW_DOWN_FIRST_MS = 250;
const SLOW_DOWN_MAX_MS = 3_000;

/** The wait before checking the `attempt`-th password of a login within its window: 0, then doubling up to 3 s. */
export const slowDownMs = (attempt: number) =>
  attempt <= SLOW_DOWN_AFTER ? 0 : Math.min(SLOW_DOWN_MAX_MS, SLOW_DOWN_FIRST_MS * 2 ** Math.min(attempt - SLOW_DOWN_AFTER - 1, 16));

const keyOf = (key: string) => hashSecret(key.toLowerCase());

export class Throttle {
  private readonly limiters = new Map<string, RateLimiterPostgres>();

  constructor(
    private readonly pool: pg.Pool,
    private readonly enabled: boolean,
  ) {}

  private limiter(rule: ThrottleRule): RateLimiterPostgres {
    let limiter = this.limiters.get(rule.name);
    if (!limiter) {
      limiter = new RateLimiterPostgres({
        storeClient: this.pool,
        storeType: 'pool',
        tableName: 'rate_limit',
        tableCreated: true, // created by the migrations
        keyPrefix: rule.name,
        points: rule.points,
        duration: rule.seconds,
      });
      this.limiters.set(rule.name, limiter);
    }
    return limiter;
  }

  /**
   * Counts one attempt, atomically (one upsert), before the attempt is made: RATE_LIMITED once the
   * rule's points are spent within its window, so concurrent attempts cannot buy more than that.
   */
  async hit(rule: ThrottleRule, key: string, refusal?: { field?: string; what?: string }): Promise<UserError | null> {
    if (!this.enabled) return null;
    try {
      await this.limiter(rule).consume(keyOf(key));
      return null;
    } catch (error) {
      if (error instanceof RateLimiterRes) return rateLimited(error.msBeforeNext, refusal?.field, refusal?.what);
      throw error;
    }
  }

  /** Counts one attempt of a rule that never refuses, and says how many there were in its window (this one included). */
  async count(rule: ThrottleRule, key: string): Promise<number> {
    if (!this.enabled) return 0;
    return (await this.limiter(rule).consume(keyOf(key))).consumedPoints;
  }

  /** Gives back the point of an attempt that turned out legitimate. */
  async refund(rule: ThrottleRule, key: string): Promise<void> {
    if (this.enabled) await this.limiter(rule).reward(keyOf(key), 1);
  }

  async reset(rule: ThrottleRule, key: string): Promise<void> {
    if (this.enabled) await this.limiter(rule).delete(keyOf(key));
  }
}
