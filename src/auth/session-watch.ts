// Live subscriptions end with their session: on logout, a password change or reset, a disabled
// account (any instance says so through the event bus), or when the session expires (checked
// twice a second against the application's clock, so the test clock ends them too).
import { Repeater } from 'graphql-yoga';
import type { Clock } from '../clock.js';

const SWEEP_MS = 500;

interface Watched {
  expiresAt: Date;
  ends: Set<() => void>;
}

export class SessionWatch {
  private readonly live = new Map<string, Watched>();
  private timer: NodeJS.Timeout | undefined;

  constructor(private readonly clock: Clock) {}

  /** Calls `end` once the session ends; the returned function stops watching (the subscription ended first). */
  watch(sessionId: string, expiresAt: Date, end: () => void): () => void {
    let watched = this.live.get(sessionId);
    if (!watched) {
      watched = { expiresAt, ends: new Set() };
      this.live.set(sessionId, watched);
    }
    watched.ends.add(end);
    this.timer ??= setInterval(() => this.sweep(), SWEEP_MS).unref();
    return () => {
      watched.ends.delete(end);
      if (!watched.ends.size && this.live.get(sessionId) === watched) this.live.delete(sessionId);
    };
  }

  /** The sessions this instance watches (to check them again after the event bus was down). */
  watched(): string[] {
    return [...this.live.keys()];
  }

  /** Ends every watched subscription (live feeds that may have missed events: their clients reload). */
  endAll(): void {
    for (const sessionId of [...this.live.keys()]) this.ended(sessionId);
  }

  ended(sessionId: string): void {
    const watched = this.live.get(sessionId);
    if (!watched) return;
    this.live.delete(sessionId);
    for (const end of watched.ends) end();
  }

  private sweep(): void {
    const now = this.clock.now();
    for (const [sessionId, { expiresAt }] of this.live) if (expiresAt <= now) this.ended(sessionId);
    if (!this.live.size && this.timer) {
      clearInterval(this.timer);
      this.timer = undefined;
    }
  }

  close(): void {
    clearInterval(this.timer);
    this.timer = undefined;
  }
}

/** The stream of a subscription until its session ends: then it completes, as its client sees. */
export function whileSessionLives<T>(watch: SessionWatch, session: { sessionId: string; expiresAt: Date }, source: AsyncIterable<T>): AsyncIterable<T> {
  return new Repeater<T>(async (push, stop) => {
    const unwatch = watch.watch(session.sessionId, session.expiresAt, () => stop());
    const iterator = source[Symbol.asyncIterator]();
    const stopped = stop.then(() => ({ done: true as const, value: undefined }));
    try {
      for (;;) {
        const next = await Promise.race([iterator.next(), stopped]);
        if (next.done) break;
        await push(next.value);
      }
    } finally {
      unwatch();
      await iterator.return?.();
      stop();
    }
  });
}
