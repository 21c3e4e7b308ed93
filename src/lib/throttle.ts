// Request throttling shared by every instance: counters live in PostgreSQL (rate-limiter-flexible's
// Postgres store, table `rate_limit`). Windows are fixed and short, so a throttled person is
// slowed down, never locked out for good. NUMOS_THROTTLE=0 turns it off (load tests, QA).
// Keys are stored hashed: the table names no login, address or e-mail, and any key fits its column.
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
  loginFailuresPerLogin: { name: 'login-login', points: 10, seconds: 15 * 60 },
  loginFailuresPerAddress: { name: 'login-ip', points: 100, seconds: 15 * 60 },
  registrationsPerAddress: { name: 'register-ip', points: 20, seconds: 60 * 60 },
  resetsPerAddress: { name: 'reset-ip', points: 20, seconds: 60 * 60 },
  resetsPerLogin: { name: 'reset-login', points: 5, seconds: 60 * 60 },
  resendsPerAddress: { name: 'resend-ip', points: 20, seconds: 60 * 60 },
  resendsPerEmail: { name: 'resend-email', points: 5, seconds: 60 * 60 },
  messagesPerAddress: { name: 'message-ip', points: 10, seconds: 60 * 60 },
  emailChangesPerAccount: { name: 'email-change', points: 5, seconds: 60 * 60 },
  exportsPerAccount: { name: 'data-export', points: 10, seconds: 60 * 60 },
} satisfies Record<string, ThrottleRule>;

export const rateLimited = (msBeforeNext: number): UserError => {
  const minutes = Math.max(1, Math.ceil(msBeforeNext / 60_000));
  return {
    ...userError('RATE_LIMITED', `Trop de tentatives. Réessayez dans ${minutes} minute${minutes > 1 ? 's' : ''}.`),
    retryAfterSeconds: Math.max(1, Math.ceil(msBeforeNext / 1_000)),
  };
};

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
  async hit(rule: ThrottleRule, key: string): Promise<UserError | null> {
    if (!this.enabled) return null;
    try {
      await this.limiter(rule).consume(keyOf(key));
      return null;
    } catch (error) {
      if (error instanceof RateLimiterRes) return rateLimited(error.msBeforeNext);
      throw error;
    }
  }

  /** Gives back the point of an attempt that turned out legitimate. */
  async refund(rule: ThrottleRule, key: string): Promise<void> {
    if (this.enabled) await this.limiter(rule).reward(keyOf(key), 1);
  }

  async reset(rule: ThrottleRule, key: string): Promise<void> {
    if (this.enabled) await this.limiter(rule).delete(keyOf(key));
  }
}
