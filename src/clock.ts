// The one source of "now" for the whole application. Nothing else calls `new Date()` for the
// current time: services, jobs and e-mails all read `clock.now()`, so tests and the test clock of
// NUMOS_TEST_CLOCK can move time for everything at once.

export interface Clock {
  now(): Date;
}

export const systemClock: Clock = { now: () => new Date() };

/** Real time shifted by an offset; the test clock moves the offset forward (never back). */
export class OffsetClock implements Clock {
  constructor(private offsetMs = 0) {}

  now(): Date {
    return new Date(Date.now() + this.offsetMs);
  }

  get offset(): number {
    return this.offsetMs;
  }

  setOffset(offsetMs: number): void {
    this.offsetMs = offsetMs;
  }
}
