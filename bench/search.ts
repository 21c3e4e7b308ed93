// The cost of the public library search under hostile load: a trivial query's latency (p99) alone,
// then while 50 connections send worst-case searches without pause. Two kinds of worst case: the
// longest accepted search (100 characters, every word matching widely) and an oversized one
// (90 KB, refused before any work). The same 50 connections sending the trivial query itself are
// the floor of the machine (queueing behind 50 requests on 2 shared cores), measured in the
// same run. Target: a trivial query's p99 within 3× its idle value.
import type { AddressInfo } from 'node:net';
import { createApp } from '../src/wiring/app.js';
import { loadConfig } from '../src/config.js';
import { loadDemoLibraries } from '../src/modules/libraries/service.js';
import { createHttpServer } from '../src/server/http.js';
import { runLoad } from './load.js';
import { benchDatabase, stats } from './support.js';

const SECONDS = Number(process.env.BENCH_SECONDS ?? 6);
const CONNECTIONS = 50;

const body = (query: string, variables: object = {}) => JSON.stringify({ query, variables });
const TRIVIAL = body('{ __typename }');
const SEARCH = 'query($s: String) { libraries(search: $s) { id code name town } }';
/** 100 characters, 8 words of one or two letters: each word matches a large part of the network. */
const WIDEST = body(SEARCH, { s: 'e a i o n r s t '.repeat(7).slice(0, 100) });
const OVERSIZED = body(SEARCH, { s: 'mediatheque '.repeat(7_500) });

export async function searchBench(): Promise<void> {
  const db = await benchDatabase();
  const app = await createApp({ config: loadConfig({ DATABASE_URL: db.url, NUMOS_THROTTLE: '0', NODE_ENV: 'production' }), databaseUrl: db.url });
  const http = createHttpServer(app);
  try {
    const libraries = await loadDemoLibraries(app.prisma);
    await new Promise<void>((resolve) => http.server.listen(0, '127.0.0.1', resolve));
    const url = `http://127.0.0.1:${(http.server.address() as AddressInfo).port}/graphql`;
    const headers = { 'content-type': 'application/json' };
    const trivial = () => runLoad({ url, headers, body: TRIVIAL, patronIds: [''], connections: 1, seconds: SECONDS });

    console.log(`${libraries} libraries; ${SECONDS} s per measure; the trivial query on 1 connection, the load on ${CONNECTIONS}`);
    await runLoad({ url, headers, body: WIDEST, patronIds: [''], connections: 8, seconds: 2 }); // warm-up
    const idle = stats((await trivial()).latencies);
    console.log(`trivial query alone                         p50 ${idle.p50.toFixed(2).padStart(7)} ms   p99 ${idle.p99.toFixed(2).padStart(7)} ms`);
    for (const [label, load] of [
      ['50 connections of the trivial query (floor)', TRIVIAL],
      ['50 connections of the widest search', WIDEST],
      ['50 connections of a 90 KB search', OVERSIZED],
    ] as const) {
      const [measured, background] = await Promise.all([
        trivial(),
        runLoad({ url, headers, body: load, patronIds: [''], connections: CONNECTIONS, seconds: SECONDS }),
      ]);
      const s = stats(measured.latencies);
      const b = stats(background.latencies);
      console.log(
        `${label.padEnd(44)}p50 ${s.p50.toFixed(2).padStart(7)} ms   p99 ${s.p99.toFixed(2).padStart(7)} ms   ×${(s.p99 / idle.p99).toFixed(1)} idle p99` +
          `   (load: ${(background.requests / background.seconds).toFixed(0)} req/s, p99 ${b.p99.toFixed(1)} ms, errors ${background.errors})`,
      );
    }
  } finally {
    await http.close(1_000);
    await app.close();
    await db.close();
  }
}
