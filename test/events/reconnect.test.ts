// A live feed misses nothing when an instance's LISTEN connection drops (an idle timeout, a proxy
// restart, pg_terminate_backend): the instance reads from the event log what was published while
// it was away, and hands every event on exactly once. Two instances, a stream of events from
// both, the LISTEN backends terminated 20 times: every subscription receives every event once.
import { randomUUID } from 'node:crypto';
import { encodeGlobalID } from '@pothos/plugin-relay';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { publish, type RegistrationEventPayload } from '../../src/events/bus.js';
import { login, seedStaff, startTestApp, type TestApp } from '../support/harness.js';
import { subscribeSse, type Subscription } from '../support/subscriptions.js';

const FEED = `subscription { registrationEvents { type requestId } }`;

let a: TestApp;
let b: TestApp;

beforeAll(async () => {
  a = await startTestApp({ env: { NUMOS_THROTTLE: '0' } });
  b = await startTestApp({ database: a.database, env: { NUMOS_THROTTLE: '0' } });
  await seedStaff(a.app, { login: 'dlpb', password: 'mot de passe DLPB' });
});
afterAll(async () => {
  await b.close();
  await a.close();
});

const event = (requestId = randomUUID()): RegistrationEventPayload => ({
  type: 'CONFIRMED',
  occurredAt: new Date().toISOString(),
  requestId,
  libraryId: randomUUID(),
});

/** Every event a subscription has received so far, by global request id. */
function collect(subscription: Subscription): string[] {
  return subscription.pending().map((e) => e.data.registrationEvents.requestId);
}

const terminateListeners = (t: TestApp) =>
  t.app.pool.query(`SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE application_name = 'numos-events' AND datname = current_database()`);

describe('live events across reconnections of the event connection', () => {
  it('delivers every event once to every subscription while the LISTEN backends are terminated 20 times', async () => {
    const feeds = [
      await subscribeSse(a, FEED, {}, await login(a, 'STAFF', 'dlpb', 'mot de passe DLPB')),
      await subscribeSse(b, FEED, {}, await login(b, 'STAFF', 'dlpb', 'mot de passe DLPB')),
    ];
    const received: string[][] = [[], []];
    // Probes (sent until both feeds listen) may still arrive later: they are not counted.
    const probes = new Set<string>();
    const gather = () => {
      for (const [i, feed] of feeds.entries()) received[i]!.push(...collect(feed).filter((id) => !probes.has(id)));
    };
    await expect
      .poll(
        async () => {
          const probe = event();
          probes.add(encodeGlobalID('RegistrationRequest', probe.requestId));
          await publish(a.app.db, [probe]);
          return feeds.every((feed) => feed.pending().length > 0);
        },
        { timeout: 10_000, interval: 200 },
      )
      .toBe(true);

    const published: string[] = [];
    for (let i = 0; i < 400; i++) {
      const e = event();
      published.push(encodeGlobalID('RegistrationRequest', e.requestId));
      await publish((i % 2 ? b : a).app.db, [e]);
      // 20 terminations, spread over the stream, each while events keep coming.
      if (i % 20 === 10) await terminateListeners(i % 40 === 10 ? a : b);
      await new Promise((resolve) => setTimeout(resolve, 10));
    }
    await expect
      .poll(
        () => {
          gather();
          return received.map((r) => r.length);
        },
        { timeout: 30_000, interval: 200 },
      )
      .toEqual([published.length, published.length]);
    for (const got of received) {
      expect(new Set(got).size).toBe(got.length);
      expect([...got].sort()).toEqual([...published].sort());
    }
    // Nothing more arrives afterwards (no late duplicate).
    await new Promise((resolve) => setTimeout(resolve, 500));
    gather();
    expect(received.map((r) => r.length)).toEqual([published.length, published.length]);
    for (const feed of feeds) feed.close();
  }, 120_000);

  it('ends the live feeds when what was missed is beyond the log: their clients reload and subscribe again', async () => {
    const feed = await subscribeSse(a, FEED, {}, await login(a, 'STAFF', 'dlpb', 'mot de passe DLPB'));
    await expect
      .poll(
        async () => {
          await publish(a.app.db, [event()]);
          return feed.pending().length > 0;
        },
        { timeout: 10_000, interval: 200 },
      )
      .toBe(true);
    // Nobody can catch up on more than the log keeps: an outage of over an hour.
    await simulateLongOutage(a);
    await feed.ended;
  }, 60_000);
});

/** The LISTEN connection lost "more than an hour ago": its catch-up cannot cover the gap. */
async function simulateLongOutage(t: TestApp): Promise<void> {
  const realNow = Date.now;
  await terminateListeners(t);
  // The instance notes the loss at once; from then on, its clock runs an hour and a minute ahead.
  await new Promise((resolve) => setTimeout(resolve, 50));
  Date.now = () => realNow() + 61 * 60_000;
  try {
    await expect.poll(() => t.app.events.listening, { timeout: 10_000 }).toBe(true);
  } finally {
    Date.now = realNow;
  }
}
