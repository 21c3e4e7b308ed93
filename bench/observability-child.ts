// One measure of `npm run bench -- observability`, in a process of its own (tracing must start
// before the application's modules load): consumeQuota over HTTP on the database given, with
// logging, metrics and tracing as the environment says. Writes its figures to BENCH_RESULT.
import { writeFileSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import { encodeGlobalID } from '@pothos/plugin-relay';
import { createApp } from '../src/wiring/app.js';
import { loadConfig } from '../src/config.js';
import { configureLogging } from '../src/observability/logger.js';
import { createHttpServer } from '../src/server/http.js';
import { runLoad } from './load.js';
import { stats } from './support.js';

const config = loadConfig();
configureLogging(config.log);
const app = await createApp({ config, databaseUrl: config.databaseUrl! });
const http = createHttpServer(app);
await new Promise<void>((resolve) => http.server.listen(0, '127.0.0.1', resolve));
const url = `http://127.0.0.1:${(http.server.address() as AddressInfo).port}/graphql`;
const body = JSON.stringify({
  query: 'mutation($i: ConsumeQuotaInput!) { consumeQuota(input: $i) { granted consumptionId balance { lines { category remaining } } errors { code } } }',
  variables: { i: { patronId: '%PATRON%', category: 'NEWSPAPER', resourceId: 'journal', idempotencyKey: '%KEY%' } },
});
const patronIds = (await app.pool.query<{ id: string }>('SELECT id FROM patron')).rows.map((r) => encodeGlobalID('Patron', r.id));
const headers = { 'content-type': 'application/json', authorization: `Bearer ${process.env.BENCH_API_KEY}` };
await runLoad({ url, headers, body, patronIds, connections: 8, seconds: 2 }); // warm-up
const result = await runLoad({
  url,
  headers,
  body,
  patronIds,
  connections: Number(process.env.BENCH_CONNECTIONS ?? 50),
  seconds: Number(process.env.BENCH_SECONDS ?? 8),
});
const s = stats(result.latencies);
writeFileSync(process.env.BENCH_RESULT!, JSON.stringify({ rps: result.requests / result.seconds, p99: s.p99, errors: result.errors }));
await http.close(1_000);
await app.close();
process.exit(0);
