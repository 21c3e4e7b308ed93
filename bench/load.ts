// A small HTTP load generator for the benchmarks, run in a worker thread (its own event loop, so
// it does not share one with the server it measures): N connections, each sending its next
// request when the previous answer arrives, for a fixed time. It uses undici's Pool.request, not
// fetch: on a 2-core machine the client's own cost is taken from the server it measures, and
// fetch costs several times more per request.
import { Worker, isMainThread, parentPort, workerData } from 'node:worker_threads';
import { Pool } from 'undici';

export interface LoadResult {
  requests: number;
  errors: number;
  seconds: number;
  latencies: number[];
}

interface LoadSpec {
  url: string;
  headers: Record<string, string>;
  /** Body template; every "%KEY%" is replaced by a unique key, every "%PATRON%" by a patron id. */
  body: string;
  patronIds: string[];
  connections: number;
  seconds: number;
}

export function runLoad(spec: LoadSpec): Promise<LoadResult> {
  return new Promise((resolve, reject) => {
    const worker = new Worker(new URL(import.meta.url), { workerData: spec, execArgv: process.execArgv });
    worker.once('message', resolve);
    worker.once('error', reject);
  });
}

async function generate(spec: LoadSpec): Promise<LoadResult> {
  const url = new URL(spec.url);
  const pool = new Pool(url.origin, { connections: spec.connections, keepAliveTimeout: 30_000, pipelining: 1 });
  const latencies: number[] = [];
  let errors = 0;
  let counter = 0;
  // A body without markers is sent as it is (copying a 90 KB body per request would load the client).
  const templated = spec.body.includes('%KEY%') || spec.body.includes('%PATRON%');
  const deadline = performance.now() + spec.seconds * 1_000;
  const started = performance.now();
  const loop = async (lane: number) => {
    while (performance.now() < deadline) {
      counter += 1;
      const body = templated
        ? spec.body
            .replaceAll('%KEY%', `${process.pid}-${lane}-${counter}-${Math.random().toString(36).slice(2)}`)
            .replaceAll('%PATRON%', spec.patronIds[Math.floor(Math.random() * spec.patronIds.length)]!)
        : spec.body;
      const t0 = performance.now();
      try {
        const response = await pool.request({ method: 'POST', path: url.pathname, headers: spec.headers, body });
        const text = await response.body.text();
        if (response.statusCode !== 200 || text.includes('"errors":[{"message')) errors += 1;
      } catch {
        errors += 1;
      }
      latencies.push(performance.now() - t0);
    }
  };
  await Promise.all(Array.from({ length: spec.connections }, (_, lane) => loop(lane)));
  await pool.close();
  return { requests: latencies.length, errors, seconds: (performance.now() - started) / 1_000, latencies };
}

if (!isMainThread) {
  parentPort!.postMessage(await generate(workerData as LoadSpec));
}
