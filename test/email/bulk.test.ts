// E-mails of a bulk run (renewal reminders): one shared body, per-recipient values filled at
// delivery, several e-mails per delivery job, links redacted once sent.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DELIVERY_CHUNK } from '../../src/email/bulk.js';
import { REDACTED } from '../../src/email/delivery.js';
import { hashSecret } from '../../src/lib/secrets.js';
import { addParisDays } from '../../src/lib/calendar.js';
import { pruneOutbox, sendRenewalReminders } from '../../src/modules/lifecycle/jobs.js';
import { seedLibrary, startTestApp, type TestApp } from '../support/harness.js';
import { tokenFrom } from '../support/patrons.js';

const SUBJECT = 'Votre abonnement NuMos arrive à échéance';
const TRICKY = 'Zoé <b>&amp; "Léa"';

/** `count` ACTIVE accounts ending in 10 days, the first with a name that needs escaping. */
async function dueAccounts(t: TestApp, prefix: string, count: number): Promise<string[]> {
  const { id: libraryId } = await seedLibrary(t.app, { code: `52${String(Math.floor(Math.random() * 1e5)).padStart(5, '0')}`, name: 'Nilvange' });
  const activeUntil = new Date(t.app.clock.now().getTime() + 10 * 86_400_000);
  const logins = Array.from({ length: count }, (_, i) => `${prefix}.${i}`);
  await t.app.prisma.patron.createMany({
    data: logins.map((login, i) => ({
      libraryId,
      lastName: 'Rappel',
      firstName: i === 0 ? TRICKY : `N${i}`,
      birthDate: new Date('1980-01-01'),
      email: `${login}@example.org`,
      login,
      loginKey: login,
      passwordHash: 'x',
      newsletter: false,
      identityKey: login,
      searchText: login,
      status: 'ACTIVE' as const,
      activeUntil,
    })),
  });
  return logins.map((login) => `${login}@example.org`);
}

describe('bulk e-mails through Resend', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await startTestApp({ resend: true, workers: true });
  });
  afterAll(() => t.close());

  it('sends each reminder once from one shared body, values escaped, a 429 in the middle waited out, links redacted', async () => {
    const addresses = await dueAccounts(t, 'lot', 150);
    // Once 40 are sent, Resend asks to slow down: the rest of that job waits and nothing is sent twice.
    t.resend!.failAfter(40, {
      status: 429,
      headers: { 'retry-after': '1' },
      body: { statusCode: 429, name: 'rate_limit_exceeded', message: 'Too many requests' },
    });

    expect(await sendRenewalReminders(t.app, t.app.clock.now())).toBe(150);
    expect(await sendRenewalReminders(t.app, t.app.clock.now())).toBe(0);

    const batches = await t.app.pool.query(`SELECT html, text FROM email_batch`);
    expect(batches.rows).toHaveLength(1);
    expect(batches.rows[0].html).toContain('__LINK__');
    const stored = await t.app.prisma.emailOutbox.findMany({ where: { template: 'RenewalReminder' } });
    expect(stored).toHaveLength(150);
    expect(stored.every((e) => e.html === null && e.text === null && e.batchId !== null)).toBe(true);
    // The run's jobs (a later one may hold what waits out the 429).
    const jobs = await t.app.pool.query(
      `SELECT jsonb_array_length(data->'outboxIds') AS n FROM pgboss.job WHERE name = 'email.send' ORDER BY created_on, id LIMIT $1`,
      [150 / DELIVERY_CHUNK],
    );
    expect(jobs.rows.map((r) => r.n)).toEqual(Array(150 / DELIVERY_CHUNK).fill(DELIVERY_CHUNK));

    await t.resend!.waitFor((sent) => sent.filter((e) => e.subject === SUBJECT).length === 150, 30_000);
    for (const address of addresses) expect(t.resend!.to(address)).toHaveLength(1);
    expect(t.resend!.requests.some((r) => r.status === 429)).toBe(true);

    const [tricky] = t.resend!.to(addresses[0]!);
    expect(tricky!.html).toContain('Zoé &lt;b&gt;&amp;amp; &quot;Léa&quot;');
    expect(tricky!.html).not.toContain('<b>');
    expect(tricky!.text).toContain(`Bonjour ${TRICKY} Rappel`);
    expect(tricky!.text).toMatch(/arrive à échéance le \d{1,2} \p{L}+ \d{4}/u);
    // The link carries a token the database knows (by its hash), valid until the purge date.
    const token = tokenFrom(tricky!, '/renouveler');
    const row = await t.app.prisma.oneTimeToken.findUniqueOrThrow({ where: { tokenHash: hashSecret(token) } });
    expect(row.purpose).toBe('RENEWAL');
    expect(row.expiresAt.getTime()).toBeGreaterThan(t.app.clock.now().getTime() + 365 * 86_400_000);

    await expect.poll(() => t.app.prisma.emailOutbox.count({ where: { template: 'RenewalReminder', status: 'SENT' } }), { timeout: 10_000 }).toBe(150);
    const tokens = t.resend!.sent.filter((e) => e.subject === SUBJECT).map((e) => tokenFrom(e, '/renouveler'));
    const { rows } = await t.app.pool.query(`SELECT values::text AS v, secrets FROM email_outbox WHERE template = 'RenewalReminder'`);
    for (const r of rows) {
      expect(r.v).toContain(REDACTED);
      expect(r.secrets).toEqual([]);
    }
    const dump = rows.map((r) => r.v).join('\n');
    for (const tok of tokens) expect(dump).not.toContain(tok);
  }, 60_000);
});

describe('bulk e-mails without RESEND_API_KEY (development mailbox)', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await startTestApp({ workers: true });
  });
  afterAll(() => t.close());

  it('keeps each reminder with its link, and creates no delivery job', async () => {
    await dueAccounts(t, 'dev', 3);
    expect(await sendRenewalReminders(t.app, t.app.clock.now())).toBe(3);
    const stored = await t.app.prisma.emailOutbox.findMany({ where: { template: 'RenewalReminder' } });
    expect(stored.map((e) => e.status)).toEqual(['LOCAL', 'LOCAL', 'LOCAL']);
    for (const e of stored) expect((e.values as Record<string, string>).__LINK__).toMatch(/\/renouveler\?token=[\w-]{40,}$/);
    const jobs = await t.app.pool.query(`SELECT count(*)::int AS n FROM pgboss.job WHERE name = 'email.send'`);
    expect(jobs.rows[0].n).toBe(0);
  });

  it('deletes handled e-mails after 30 days, and a shared body once no e-mail uses it', async () => {
    await t.app.pool.query(`DELETE FROM email_outbox`);
    await t.app.pool.query(`DELETE FROM email_batch`);
    await dueAccounts(t, 'prune', 2);
    const now = t.app.clock.now();
    expect(await sendRenewalReminders(t.app, now)).toBe(2);
    const [kept] = await t.app.prisma.emailOutbox.findMany({ where: { template: 'RenewalReminder' }, take: 1 });
    // Still waiting for delivery: it stays, and so does the body it needs.
    await t.app.prisma.emailOutbox.update({ where: { id: kept!.id }, data: { status: 'PENDING' } });

    expect(await pruneOutbox(t.app, addParisDays(now, 29))).toBe(0);
    expect(await pruneOutbox(t.app, addParisDays(now, 31))).toBe(1);
    expect((await t.app.pool.query(`SELECT count(*)::int AS n FROM email_batch`)).rows[0].n).toBe(1);

    await t.app.prisma.emailOutbox.update({ where: { id: kept!.id }, data: { status: 'SENT' } });
    expect(await pruneOutbox(t.app, addParisDays(now, 31))).toBe(1);
    expect((await t.app.pool.query(`SELECT count(*)::int AS n FROM email_batch`)).rows[0].n).toBe(0);
  });
});
