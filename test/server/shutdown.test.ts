// Graceful shutdown as a client on kept-alive connections meets it: every request is either
// answered or refused before it reaches the server (connection refused), never cut off midway,
// so a client always knows whether its request ran.
import { Agent, request } from 'undici';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createHttpServer } from '../../src/server/http.js';
import { login, seedLibrary, seedStaff, startTestApp, type TestApp, listenOnLoopback } from '../support/harness.js';
import { subscribeSse } from '../support/subscriptions.js';

let t: TestApp;
beforeAll(async () => {
  t = await startTestApp();
  await seedLibrary(t.app, { code: '5200001', name: 'Médiathèque de Nilvange' });
  await seedStaff(t.app, { login: 'dlpb', password: 'mot de passe DLPB' });
});
afterAll(() => t.close());

describe('shutdown under keep-alive load', () => {
  it('answers every request that reached it and resets none; SSE streams end', async () => {
    const http = createHttpServer(t.app);
    const origin = await listenOnLoopback(http.server);
    const token = await login(t, 'STAFF', 'dlpb', 'mot de passe DLPB');
    const feed = await subscribeSse(`${origin}/graphql`, 'subscription { registrationEvents { type } }', {}, token);
    const agent = new Agent({ connections: 16, pipelining: 1 });
    const outcomes = { answered: 0, refused: 0, cut: [] as string[] };
    let stopped = false;
    const loop = async () => {
      while (!stopped) {
        try {
          const response = await request(`${origin}/graphql`, {
            method: 'POST',
            dispatcher: agent,
            headers: { 'content-type': 'application/json' },
            body: JSON.stringify({ query: '{ libraries(search: "nilvange") { code } }' }),
          });
          const body = (await response.body.json()) as { data?: unknown };
          if (response.statusCode === 200 && body.data) outcomes.answered += 1;
          else outcomes.cut.push(`status ${response.statusCode}`);
        } catch (error) {
          const code = (error as { code?: string }).code ?? String(error);
          // Refused at connect: the request never reached the server, the client knows it did not run.
          if (code === 'ECONNREFUSED') {
            outcomes.refused += 1;
            stopped = true;
          } else outcomes.cut.push(code);
        }
      }
    };
    const loops = Array.from({ length: 16 }, loop);
    // Under load for a number of answers, whatever the machine's speed, then stopped.
    await expect.poll(() => outcomes.answered, { timeout: 20_000, interval: 20 }).toBeGreaterThanOrEqual(100);
    const started = Date.now();
    await http.close(8_000);
    const seconds = (Date.now() - started) / 1_000;
    stopped = true;
    await Promise.all(loops);
    await agent.close();
    // Informative only: how long the drain took depends on the machine.
    console.log(JSON.stringify({ ...outcomes, secondsToDrain: seconds }));
    expect(outcomes.answered).toBeGreaterThanOrEqual(100);
    // Nothing cut: every request that reached the server was answered (none needed the grace's cut).
    expect(outcomes.cut).toEqual([]);
    await feed.ended;
    expect(feed.pending()).toEqual([]);
  }, 60_000);
});
