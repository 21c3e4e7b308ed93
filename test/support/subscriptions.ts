// Reads a GraphQL subscription over SSE (yoga's default transport), from an in-process yoga or
// from a server's URL over real HTTP.
import type { TestApp } from './harness.js';

export interface Subscription<T = any> {
  /** Resolves with the next event, or rejects after `timeoutMs`. */
  next(timeoutMs?: number): Promise<T>;
  /** Events received so far and not yet taken with next(). */
  pending(): T[];
  /** Resolves when the server ends the stream. */
  ended: Promise<void>;
  close(): void;
}

export async function subscribeSse<T = any>(target: TestApp | string, query: string, variables: object = {}, token?: string): Promise<Subscription<T>> {
  const controller = new AbortController();
  const [fetchOf, url] = typeof target === 'string' ? [fetch, target] : [target.app.yoga.fetch, 'http://numos.test/graphql'];
  const response = await fetchOf(url, {
    method: 'POST',
    headers: {
      'content-type': 'application/json',
      accept: 'text/event-stream',
      ...(token ? { authorization: `Bearer ${token}` } : {}),
    },
    body: JSON.stringify({ query, variables }),
    signal: controller.signal,
  });
  const queue: T[] = [];
  const waiters: ((value: T) => void)[] = [];
  const reader = response.body!.getReader();
  const decoder = new TextDecoder();
  let buffer = '';
  const ended = (async () => {
    try {
      for (;;) {
        const { value, done } = await reader.read();
        if (done) return;
        buffer += decoder.decode(value, { stream: true });
        for (let end = buffer.indexOf('\n\n'); end >= 0; end = buffer.indexOf('\n\n')) {
          const block = buffer.slice(0, end);
          buffer = buffer.slice(end + 2);
          const data = block
            .split('\n')
            .filter((l) => l.startsWith('data:'))
            .map((l) => l.slice(5).trim())
            .join('');
          if (!data) continue;
          const event = JSON.parse(data) as T;
          const waiter = waiters.shift();
          if (waiter) waiter(event);
          else queue.push(event);
        }
      }
    } catch {
      // aborted
    }
  })();
  return {
    next: (timeoutMs = 5_000) =>
      queue.length
        ? Promise.resolve(queue.shift()!)
        : new Promise<T>((resolve, reject) => {
            const timer = setTimeout(() => reject(new Error('aucun événement reçu à temps')), timeoutMs);
            waiters.push((value) => {
              clearTimeout(timer);
              resolve(value);
            });
          }),
    pending: () => queue.splice(0),
    ended,
    close: () => controller.abort(),
  };
}
