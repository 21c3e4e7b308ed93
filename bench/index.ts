// npm run bench [-- name…]: runs the benchmark scripts (all when no name is given). Figures, not
// pass/fail: speed targets are read here, never asserted in the test suite.
import { credentialsBench } from './credentials.js';
import { idleBench } from './idle.js';
import { consumeBench } from './consume.js';
import { jobsBench } from './jobs.js';
import { membershipBench } from './membership.js';
import { observabilityBench } from './observability.js';
import { patronsBench } from './patrons.js';
import { pendingQueueBench } from './pending-queue.js';
import { searchBench } from './search.js';
import { startBench } from './start.js';
import { configureLogging } from '../src/observability/logger.js';

// Benchmarks measure the service, not a terminal: warnings only, as JSON, unless LOG_LEVEL says
// otherwise (a pretty-printed line per request cost NuMos half its consumeQuota throughput).
configureLogging({ json: true, level: process.env.LOG_LEVEL ?? 'warn' });

const benches: Record<string, () => Promise<void>> = {
  credentials: () => credentialsBench(),
  'pending-queue': () => pendingQueueBench(),
  patrons: () => patronsBench(),
  jobs: () => jobsBench(),
  consume: () => consumeBench(),
  search: () => searchBench(),
  observability: () => observabilityBench(),
  membership: () => membershipBench(),
  start: () => startBench(),
  idle: () => idleBench(),
};

const wanted = process.argv.slice(2);
for (const name of wanted.length ? wanted : Object.keys(benches)) {
  const run = benches[name];
  if (!run) {
    console.error(`Benchmark inconnu : ${name} (disponibles : ${Object.keys(benches).join(', ')})`);
    process.exit(2);
  }
  console.log(`\n== ${name}`);
  await run();
}
process.exit(0);
