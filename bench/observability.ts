// The cost of logging, metrics and tracing: consumeQuota over HTTP, 50 connections, the same
// server with them off (LOG_LEVEL=silent, NUMOS_METRICS=0, no tracing) and on (a JSON line per
// request, request metrics, every span exported over OTLP/HTTP to a local sink), alternated in
// processes of their own, on one database. Target: "on" keeps at least 90 % of "off".
import { spawnSync } from 'node:child_process';
import { closeSync, existsSync, mkdtempSync, openSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { createApp } from '../src/wiring/app.js';
import { loadConfig } from '../src/config.js';
import { createProviderForBench } from './support-provider.js';
import { benchDatabase } from './support.js';

const PATRONS = 10_000;
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 2);

export async function observabilityBench(): Promise<void> {
  const db = await benchDatabase();
  const dir = mkdtempSync(join(tmpdir(), 'numos-bench-obs-'));
  // A collector that takes spans and drops them.
  const sink = createServer((request, response) => {
    request.resume();
    request.on('end', () => response.writeHead(200, { 'content-type': 'application/json' }).end('{}'));
  });
  await new Promise<void>((resolve) => sink.listen(0, '127.0.0.1', resolve));
  try {
    const app = await createApp({ config: loadConfig({ DATABASE_URL: db.url, NODE_ENV: 'production', LOG_LEVEL: 'silent' }), databaseUrl: db.url });
    await app.pool.query(`INSERT INTO library (code, name, email, search_text, updated_at) VALUES ('5200001', 'Bench', 'b@example.org', 'bench', now())`);
    await app.pool.query(
      `INSERT INTO patron (library_id, last_name, first_name, birth_date, email, login, login_key, password_hash, newsletter, identity_key, search_text, status, updated_at)
       SELECT (SELECT id FROM library), 'Nom', 'Prénom', date '1980-01-01', 'p' || i || '@example.org', 'p.' || i, 'p.' || i, 'x', false, 'k' || i, 'p' || i, 'ACTIVE', now()
         FROM generate_series(1, ${PATRONS}) i`,
    );
    const { apiKey } = await createProviderForBench(app);
    await app.close();
    const common = {
      DATABASE_URL: db.url,
      NODE_ENV: 'production',
      NUMOS_THROTTLE: '0',
      BENCH_API_KEY: apiKey,
    };
    const off = { LOG_LEVEL: 'silent', NUMOS_METRICS: '0' };
    const logs = { LOG_LEVEL: 'info', LOG_FORMAT: 'json' };
    const metrics = { NUMOS_METRICS: '1' };
    const traces = { OTEL_EXPORTER_OTLP_ENDPOINT: `http://127.0.0.1:${(sink.address() as AddressInfo).port}` };
    // BENCH_PARTS=1 also measures each part alone.
    const variants: Record<string, Record<string, string>> = {
      off,
      on: { ...off, ...logs, ...metrics, ...traces },
      ...(process.env.BENCH_PARTS === '1' ? { logs: { ...off, ...logs }, metrics: { ...off, ...metrics }, traces: { ...off, ...traces } } : {}),
    };
    console.log(`${PATRONS} ACTIVE patrons; consumeQuota, 50 connections; ${ROUNDS} rounds of off/on, each in its own process`);
    const results: Record<string, number[]> = Object.fromEntries(Object.keys(variants).map((name) => [name, []]));
    for (let round = 0; round < ROUNDS; round++) {
      for (const [name, env] of Object.entries(variants)) {
        const result = join(dir, `${name}-${round}.json`);
        const logs = openSync(join(dir, `${name}-${round}.log`), 'w');
        const child = spawnSync(process.execPath, ['--import', 'tsx', '--import', './src/observability/register.ts', 'bench/observability-child.ts'], {
          env: { ...process.env, ...common, ...env, BENCH_RESULT: result },
          // The request log of "on" goes where a service's stdout would: to a file, away from this report.
          stdio: ['ignore', logs, logs],
        });
        closeSync(logs);
        if (child.error || !existsSync(result)) throw new Error(`mesure ${name} impossible (voir ${join(dir, `${name}-${round}.log`)})`);
        const { rps, p99, errors } = JSON.parse(readFileSync(result, 'utf8')) as { rps: number; p99: number; errors: number };
        results[name]!.push(rps);
        console.log(
          `round ${round + 1}, observability ${name.padEnd(3)}  ${rps.toFixed(0).padStart(6)} req/s   p99 ${p99.toFixed(1).padStart(6)} ms   errors ${errors}`,
        );
      }
    }
    const mean = (values: number[]) => values.reduce((a, b) => a + b, 0) / values.length;
    for (const name of Object.keys(variants).filter((n) => n !== 'off')) {
      console.log(
        `ratio ${name} / off: ${(mean(results[name]!) / mean(results.off!)).toFixed(2)} (per round: ${results[name]!.map((v, i) => (v / results.off![i]!).toFixed(2)).join(', ')})`,
      );
    }
  } finally {
    sink.close();
    await db.close();
  }
}
