// The limits on calls to one library's system, across two instances on one database with workers
// on both: a burst of confirmations never puts more than 2 calls at once, nor more than 60 in any
// 60 seconds, on the library's small server; every confirmation gets exactly one check, and NuMos
// accepts each request on the library's behalf once, whichever instance ran its job (twice, here).
// Real time: the 61st call waits for the minute, so this file takes a little over a minute.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MEMBERSHIP_CHECK_QUEUE } from '../../../src/jobs/queues.js';
import { FakeKoha } from '../../support/fake-koha.js';
import { FakeResend } from '../../support/fake-resend.js';
import { seedTwoLibraries, startTestApp, type TestApp, type TwoLibraries } from '../../support/harness.js';
import { allDelivered, CONFIRM, REGISTER, registerInput, tokenFrom, waitForEmail } from '../../support/patrons.js';
import { checksSettled, connectorEnv, kohaInput, kohaMember, newCard, newSecretsKey, saveConnector } from './scene.js';

/** More than a minute's calls: the last ones must wait for the minute to pass. */
const BURST = 64;
const ACCEPTED_SUBJECT = 'Votre compte NuMos est activé';

let a: TestApp;
let b: TestApp;
let resend: FakeResend;
let koha: FakeKoha;
let scene: TwoLibraries;

/** Runs `work` on every item, `width` at a time. */
async function inBatches<T, R>(items: T[], width: number, work: (item: T, index: number) => Promise<R>): Promise<R[]> {
  const results: R[] = [];
  for (let start = 0; start < items.length; start += width) {
    results.push(...(await Promise.all(items.slice(start, start + width).map((item, i) => work(item, start + i)))));
  }
  return results;
}

beforeAll(async () => {
  koha = new FakeKoha();
  koha.oauthClients.push({ id: 'numos', secret: 'secret-koha' });
  // A small server, a little slow: calls would overlap if nothing held them back.
  koha.fail({ delayMs: 100 });
  await koha.start({ tls: true });
  resend = await new FakeResend().start();
  const env = connectorEnv(newSecretsKey());
  a = await startTestApp({ resend, workers: true, env });
  b = await startTestApp({ database: a.database, resend, workers: true, env });
  scene = await seedTwoLibraries(a, [
    { code: '5234001', name: 'Médiathèque de Sarrebourg' },
    { code: '5234002', name: 'Bibliothèque de Phalsbourg' },
  ]);
  b.app.libraries.invalidate();
  await saveConnector(a, scene.adminA, kohaInput(scene.libA.gid, koha, { autoAccept: true }));
});

afterAll(async () => {
  await b.close();
  await a.close();
  await resend.stop();
  await koha.stop();
});

describe('a burst of confirmations for one library, on two instances', () => {
  it('holds 2 calls at once and 60 a minute; one check per confirmation; one acceptance per request', { timeout: 180_000 }, async () => {
    // Given BURST members of the library's Koha, registered and about to confirm
    const inputs = Array.from({ length: BURST }, () => {
      const card = newCard();
      koha.add(kohaMember({ cardnumber: card }));
      return registerInput(scene.libA.gid, { libraryCardNumber: card });
    });
    await inBatches(inputs, 8, async (input) => expect((await a.gql(REGISTER, { input })).data.register.errors).toEqual([]));
    const tokens = await inBatches(inputs, 16, async (input) =>
      tokenFrom(await waitForEmail(a, input.email, 'Confirmez votre inscription à NuMos'), '/confirmer'),
    );

    // When they all confirm at once, half on each instance, and a few check jobs are delivered twice
    // (8 at a time: a burst for the library's server, not for the instances' connection pools)
    const confirmed = await inBatches(tokens, 8, (token, i) => (i % 2 ? b : a).gql(CONFIRM, { token }));
    for (const answer of confirmed) expect(answer.data.confirm.errors).toEqual([]);
    const requests = await a.app.prisma.registrationRequest.findMany({ where: { libraryId: scene.libA.id }, select: { id: true } });
    expect(requests).toHaveLength(BURST);
    for (const { id } of requests.slice(0, 8)) await b.app.boss.send(MEMBERSHIP_CHECK_QUEUE, { requestId: id, eventKey: `confirmation:${id}` });

    // Then every confirmation gets its check, in a little over a minute
    await expect.poll(() => a.app.prisma.membershipCheck.count({ where: { libraryId: scene.libA.id } }), { timeout: 150_000, interval: 1_000 }).toBe(BURST);
    await checksSettled(a, 30_000);

    // And the library's server never had more than 2 calls at once, nor more than 60 in any 60 seconds
    const lookups = koha.received('patrons');
    expect(lookups.length).toBeGreaterThanOrEqual(BURST);
    expect(koha.maxInFlight).toBeGreaterThanOrEqual(1);
    expect(koha.maxInFlight).toBeLessThanOrEqual(2);
    expect(koha.maxWithin('patrons', 60_000)).toBeLessThanOrEqual(60);

    // And each confirmation has exactly one check, each request one automatic acceptance and one e-mail
    const { rows: perRequest } = await a.app.pool.query<{ n: number }>(
      `SELECT count(*)::int AS n FROM membership_check WHERE library_id = $1 AND event_key LIKE 'confirmation:%' GROUP BY request_id`,
      [scene.libA.id],
    );
    expect(perRequest.map((r) => r.n)).toEqual(Array(BURST).fill(1));
    const { rows: accepts } = await a.app.pool.query<{ n: number }>(
      `SELECT count(*)::int AS n FROM audit_log WHERE action = 'AUTO_ACCEPT' AND library_id = $1 GROUP BY subject_id`,
      [scene.libA.id],
    );
    expect(accepts.map((r) => r.n)).toEqual(Array(BURST).fill(1));
    expect(await a.app.prisma.registrationRequest.count({ where: { libraryId: scene.libA.id, state: 'ACCEPTED', decidedAutomatically: true } })).toBe(BURST);
    await allDelivered(a);
    for (const input of inputs) expect(resend.to(input.email).filter((e) => e.subject === ACCEPTED_SUBJECT)).toHaveLength(1);
  });
});
