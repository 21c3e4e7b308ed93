// Errors of one cause are written once, then summarised at most once a minute: an outage of the
// database produces one line and a count, not forty-five lines a second.

import { log } from './logger.js';

const SUMMARY_INTERVAL_MS = 60_000;

interface Entry {
  message: string;
  /** Occurrences since the line or summary last written. */
  repeats: number;
}

export class RepeatedErrors {
  private readonly entries = new Map<string, Entry>();
  private timer: NodeJS.Timeout | undefined;

  constructor(private readonly write: (message: string) => void = (message) => log().error(message)) {}

  /** Writes `message` the first time `key` is seen; later occurrences are only counted. */
  report(key: string, message: string): void {
    const entry = this.entries.get(key);
    if (entry) {
      entry.repeats += 1;
      return;
    }
    this.entries.set(key, { message, repeats: 0 });
    this.write(message);
    this.timer ??= setInterval(() => this.summarise(), SUMMARY_INTERVAL_MS).unref();
  }

  /** One line per cause that came back; a cause quiet for a whole interval is forgotten. */
  summarise(): void {
    for (const [key, entry] of this.entries) {
      if (entry.repeats === 0) {
        this.entries.delete(key);
        continue;
      }
      this.write(`${entry.message} (encore ${entry.repeats} fois depuis la dernière minute)`);
      entry.repeats = 0;
    }
    if (!this.entries.size && this.timer) {
      clearInterval(this.timer);
      this.timer = undefined;
    }
  }
}

export const repeatedErrors = new RepeatedErrors();
