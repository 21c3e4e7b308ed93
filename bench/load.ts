// A small HTTP load generator for the benchmarks, run in a worker thread (its own event loop, so
// it does not share one with the server it measures): N connections, each sending its next
// request when the previous answer arrives, for a fixed time.
import { Worker, isMainThread, parentPort, workerData } from 'node:worker_threads';
import { Agent } from 'undici';

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
  const dispatcher = new Agent({ connections: spec.connections, keepAliveTimeout: 30_000 });
  const latencies: number[] = [];
  let errors = 0;
  let counter = 0;
  const deadline = performance.now() + spec.seconds * 1_000;
  const started = performance.now();
  const loop = async (lane: number) => {
    while (performance.now() < deadline) {
      counter += 1;
      const body = spec.body
        .replaceAll('%KEY%', `${process.pid}-${lane}-${counter}-${Math.random().toString(36).slice(2)}`)
        .replaceAll('%PATRON%', spec.patronIds[Math.floor(Math.random() * spec.patronIds.length)]!);
      const t0 = performance.now();
      try {
        const response = await fetch(spec.url, { method: 'POST', headers: spec.headers, body, dispatcher } as RequestInit);
        const text = await response.text();
        if (!response.ok || text.includes('"errors":[{"message')) errors += 1;
      } catch {
        errors += 1;
      }
      latencies.push(performance.now() - t0);
    }
  };
  await Promise.all(Array.from({ length: spec.connections }, (_, lane) => loop(lane)));
  await dispatcher.close();
  return { requests: latencies.length, errors, seconds: (performance.now() - started) / 1_000, latencies };
}

if (!isMainThread) {
  parentPort!.postMessage(await generate(workerData as LoadSpec));
}
