// One application instance: database pool, Prisma, pg-boss, outbox, GraphQL server. Tests build
// several on one database to prove what holds across instances.
import type pg from 'pg';
import { OffsetClock, systemClock, type Clock } from './clock.js';
import type { Config } from './config.js';
import { createPool, createPrisma, type PrismaClient } from './db/prisma.js';
import { createDeliverer, type Deliverer } from './email/delivery.js';
import { Outbox } from './email/outbox.js';
import { startEventBus, type EventBus } from './events/bus.js';
import { startBoss, type PgBoss } from './jobs/boss.js';
import { SCHEDULED_JOBS, type ScheduledJob } from './jobs/schedules.js';
import { startWorkers } from './jobs/workers.js';
import { createYogaServer, type Yoga } from './server/yoga.js';
import { Throttle } from './lib/throttle.js';
import { loadSettings, type Settings } from './settings.js';
import { syncTestClock } from './modules/lifecycle/test-clock.js';
import { LibraryDirectory } from './modules/libraries/service.js';

export interface App {
  config: Config;
  clock: Clock;
  settings: Settings;
  pool: pg.Pool;
  prisma: PrismaClient;
  boss: PgBoss;
  outbox: Outbox;
  throttle: Throttle;
  events: EventBus;
  /** The network's libraries, searched in memory (src/modules/libraries/service.ts). */
  libraries: LibraryDirectory;
  /** The scheduled jobs and their cron expressions (src/jobs/schedules.ts). */
  schedules: ScheduledJob[];
  deliverer: Deliverer;
  yoga: Yoga;
  /** Starts the job workers (src/jobs/workers.ts). */
  startWorkers(): Promise<void>;
  /** Stops the workers (letting running jobs finish) and closes every connection. */
  close(): Promise<void>;
}

export async function createApp(options: { config: Config; databaseUrl: string; clock?: Clock; schedules?: ScheduledJob[] }): Promise<App> {
  const { config, databaseUrl } = options;
  const clock = options.clock ?? (config.testClock ? new OffsetClock() : systemClock);
  const pool = createPool(databaseUrl);
  const prisma = createPrisma(pool);
  const boss = await startBoss(databaseUrl, { emailRetryDelaySeconds: config.emailRetryDelaySeconds });
  const settings = await loadSettings(prisma);
  const app = {
    config,
    clock,
    settings,
    pool,
    prisma,
    boss,
    outbox: new Outbox({ boss, config, clock }),
    throttle: new Throttle(pool, config.throttle),
    events: await startEventBus(databaseUrl, pool),
    libraries: new LibraryDirectory(prisma),
    schedules: options.schedules ?? SCHEDULED_JOBS,
    deliverer: createDeliverer({ prisma, boss, config, clock }),
  } as App;
  if (config.testClock && app.clock instanceof OffsetClock) await syncTestClock(app);
  app.yoga = createYogaServer(app);
  app.startWorkers = () => startWorkers(app);
  app.close = async () => {
    await boss.stop({ graceful: true, timeout: config.shutdownGraceSeconds * 1_000, close: true });
    await app.events.close();
    await prisma.$disconnect();
    await pool.end();
  };
  return app;
}
