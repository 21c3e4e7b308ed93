// One application instance: database pool, Prisma, pg-boss, outbox, GraphQL server. Tests build
// several on one database to prove what holds across instances. What modules see of it is `App`
// (src/instance.ts).
import { OffsetClock, systemClock, type Clock } from '../clock.js';
import type { App, ScheduledJob } from '../instance.js';
import type { Config } from '../config.js';
import type pg from 'pg';
import { createPool, createPrisma } from '../db/prisma.js';
import { poolDb } from '../db/sql.js';
import { createDeliverer } from '../email/delivery.js';
import { Outbox } from '../email/outbox.js';
import { startEventBus } from '../events/bus.js';
import { startBoss, type PgBoss } from '../jobs/boss.js';
import type { Polling } from '../jobs/queues.js';
import { SCHEDULED_JOBS } from './schedules.js';
import { startWorkers } from './workers.js';
import { createYogaServer, type Yoga } from '../server/yoga.js';
import { getSchema } from './schema.js';
import { Throttle } from '../lib/throttle.js';
import { loadSettings } from '../settings.js';
import { syncTestClock } from '../modules/lifecycle/test-clock.js';
import { LibraryDirectory } from '../modules/libraries/directory.js';
import { SessionWatch } from '../auth/session-watch.js';
import { ProviderKeys } from '../auth/provider-keys.js';
import { DocumentStore } from '../server/persisted-documents.js';
import { createMetrics, registerStateMetrics } from '../observability/metrics.js';
import { readServiceState } from '../observability/store.js';
import { endedSessions } from '../modules/sessions/store.js';

/** The instance as src/index.ts and the tests run it: the services, the server and its jobs. */
export interface RunningApp extends App {
  yoga: Yoga;
  /** Persisted (trusted) documents, when configured. */
  documents: DocumentStore | undefined;
  /** Starts the job workers (src/wiring/workers.ts); `polling`: their pace, POLLING unless a test sets another. */
  startWorkers(polling?: Polling): Promise<void>;
  /** Stops the workers (letting running jobs finish) and closes every connection. */
  close(): Promise<void>;
}

/** pg-boss's pool, for its gauges (its database object keeps it as `pool`). */
function jobsPool(boss: PgBoss): { name: string; pool: pg.Pool }[] {
  const pool = (boss.getDb() as unknown as { pool?: pg.Pool }).pool;
  return pool ? [{ name: 'jobs', pool }] : [];
}

/**
 * After the event bus was down: what may have been missed is read again. Events the bus could not
 * catch up on (an outage longer than its log keeps) end the live feeds, whose clients reload.
 */
async function resync(app: App, eventsLost: boolean): Promise<void> {
  if (eventsLost) app.sessions.endAll();
  app.libraries.invalidate();
  const watched = app.sessions.watched();
  if (!watched.length) return;
  const ended = await endedSessions(app.db, watched, app.clock.now()).catch(() => []);
  for (const id of ended) app.sessions.ended(id);
}

export async function createApp(options: { config: Config; databaseUrl: string; clock?: Clock; schedules?: ScheduledJob[] }): Promise<RunningApp> {
  const { config, databaseUrl } = options;
  const clock = options.clock ?? (config.testClock ? new OffsetClock() : systemClock);
  const pool = createPool(databaseUrl, config.pools.app);
  const prisma = createPrisma(pool);
  const db = poolDb(pool);
  // Independent of one another: opened together, the start waits for the slowest only.
  const [boss, settings, events] = await Promise.all([
    startBoss(databaseUrl, {
      poolMax: config.pools.jobs,
      emailRetryDelaySeconds: config.emailRetryDelaySeconds,
      scheduledJobs: SCHEDULED_JOBS.map((job) => job.name),
    }),
    loadSettings(prisma),
    startEventBus(databaseUrl, db),
  ]);
  const metrics = createMetrics();
  const services: App = {
    metrics,
    config,
    clock,
    settings,
    pool,
    db,
    prisma,
    boss,
    outbox: new Outbox({ boss, config, clock, metrics }),
    throttle: new Throttle(pool, config.throttle),
    events,
    libraries: new LibraryDirectory(prisma),
    schedules: options.schedules ?? SCHEDULED_JOBS,
    deliverer: createDeliverer({ prisma, boss, config, clock, metrics }),
    sessions: new SessionWatch(clock),
    providerKeys: new ProviderKeys(db),
  };
  registerStateMetrics(metrics, {
    pools: [
      { name: 'numos', pool },
      // pg-boss's own pool, as its database object holds it.
      ...jobsPool(boss),
    ],
    listening: () => services.events.listening,
    state: () => readServiceState(db, boss, clock.now(), settings.licenceCapacity),
  });
  // The server, its workers and its end are added below.
  const app = services as RunningApp;
  app.documents = config.documents && new DocumentStore(config.documents);
  app.events.onControl((message) => {
    if (message.kind === 'session-ended') app.sessions.ended(message.sessionId);
    else if (message.kind === 'libraries-changed') app.libraries.invalidate();
    else void resync(app, message.eventsLost);
  });
  if (config.testClock && app.clock instanceof OffsetClock) await syncTestClock(app);
  app.yoga = createYogaServer(app, {
    schema: getSchema(config.testClock),
    beforeOperation: config.testClock ? () => syncTestClock(app) : undefined,
    documents: app.documents,
  });
  app.startWorkers = (polling) => startWorkers(app, polling);
  app.close = async () => {
    await boss.stop({ graceful: true, timeout: config.shutdownGraceSeconds * 1_000, close: true });
    app.sessions.close();
    await app.events.close();
    await prisma.$disconnect();
    await pool.end();
  };
  return app;
}
