// What one application instance holds, as the modules see it: the services a use case may call
// (the SQL port, Prisma, the outbox, the clock…). Only types live here, and none of them depends
// on a module, so that modules can name `App` without an import cycle; src/app.ts builds it.
import type pg from 'pg';
import type { ProviderKeyLookup } from './auth/caller.js';
import type { SessionWatch } from './auth/session-watch.js';
import type { Clock } from './clock.js';
import type { Config } from './config.js';
import type { PrismaClient } from './db/prisma.js';
import type { Db } from './db/sql.js';
import type { Deliverer } from './email/delivery.js';
import type { Outbox } from './email/outbox.js';
import type { EventBus } from './events/bus.js';
import type { PgBoss } from './jobs/boss.js';
import type { Throttle } from './lib/throttle.js';
import type { Metrics } from './observability/metrics.js';
import type { Settings } from './settings.js';
import type { Library } from './generated/prisma/client.js';

export interface App {
  config: Config;
  clock: Clock;
  settings: Settings;
  /** The pool, for what manages connections (metrics, throttle, event bus); modules use `db`. */
  pool: pg.Pool;
  /** The SQL port on the pool (src/db/sql.ts): what stores run their statements on. */
  db: Db;
  prisma: PrismaClient;
  boss: PgBoss;
  outbox: Outbox;
  throttle: Throttle;
  events: EventBus;
  /** Prometheus metrics of this instance (src/observability/metrics.ts). */
  metrics: Metrics;
  /** Ends live subscriptions with their session, on every instance (src/auth/session-watch.ts). */
  sessions: SessionWatch;
  /** Providers' API keys, looked up at each call (src/auth/caller.ts). */
  providerKeys: ProviderKeyLookup;
  /** The network's libraries, searched in memory (src/modules/libraries/directory.ts). */
  libraries: Libraries;
  /** The scheduled jobs and their cron expressions (src/wiring/schedules.ts). */
  schedules: ScheduledJob[];
  /** Hands outbox e-mails to Resend (src/email/delivery.ts). */
  deliverer: Deliverer;
}

/** The network's libraries as every instance keeps them in memory. */
export interface Libraries {
  /** Libraries whose name or town contains every word of `search`, ignoring case and accents. */
  search(search?: string | null, options?: { includeClosed?: boolean }): Promise<Library[]>;
  /** Read the table again (a library changed). */
  invalidate(): void;
}

/** A time-driven step of the life cycle (src/wiring/schedules.ts lists them). */
export interface ScheduledJob {
  name: string;
  cron: string;
  /** Runs the step for everything due at `at` (the application clock); returns rows changed. */
  run(app: App, at: Date): Promise<number>;
}
