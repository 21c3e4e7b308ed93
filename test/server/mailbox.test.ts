// The development mailbox in JSON, for end-to-end tests that follow an e-mail's link:
// /dev/mailbox.json, /dev/mailbox/<id>.json and `npm run cli -- mailbox --json`; never in production.
// (The HTML pages and the text CLI: test/observability/operations.test.ts.)
import { spawnSync } from 'node:child_process';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createHttpServer, type HttpServer } from '../../src/server/http.js';
import { seedLibrary, startTestApp, type TestApp, listenOnLoopback } from '../support/harness.js';
import { REGISTER, registerInput } from '../support/patrons.js';

interface Entry {
  id: string;
  createdAt: string;
  status: string;
  from: string;
  to: string[];
  cc: string[];
  subject: string;
  template: string;
  links: string[];
}

let t: TestApp;
let http: HttpServer;
let url: string;
const addresses: string[] = [];

async function listen(app: TestApp['app']): Promise<{ server: HttpServer; url: string }> {
  const server = createHttpServer(app);
  return { server, url: await listenOnLoopback(server.server) };
}

function cli(args: string[], env: Record<string, string> = {}) {
  return spawnSync('npm', ['run', '--silent', 'cli', '--', 'mailbox', ...args], {
    env: { ...process.env, DATABASE_URL: t.database.url, NODE_ENV: 'test', ...env },
    encoding: 'utf8',
  });
}

beforeAll(async () => {
  // Without RESEND_API_KEY: the outbox is the mailbox.
  t = await startTestApp({ env: { NUMOS_THROTTLE: '0' } });
  ({ server: http, url } = await listen(t.app));
  await seedLibrary(t.app, { code: '5200003', name: 'Thionville' });
  const libraryId = (await t.gql('{ libraries { id } }')).data.libraries[0].id;
  for (const lastName of ['Premier', 'Second']) {
    const input = registerInput(libraryId, { lastName });
    expect((await t.gql(REGISTER, { input })).data.register.ok).toBe(true);
    addresses.push(input.email);
    t.clock.advance(1_000); // "newest" needs two instants
  }
  // A bulk e-mail (renewal reminders): its text is the batch's, filled with its own values.
  const batch = await t.app.prisma.emailBatch.create({
    data: {
      html: '<a href="http://localhost:3000/renouveler?token=__TOKEN__">Renouveler</a>',
      text: 'Renouveler : http://localhost:3000/renouveler?token=__TOKEN__',
      createdAt: t.clock.now(),
    },
  });
  await t.app.prisma.emailOutbox.create({
    data: {
      template: 'RenewalReminder',
      fromAddress: 'numos@numos.local',
      toAddresses: ['lot@example.org'],
      ccAddresses: [],
      subject: 'Votre accès NuMos arrive à échéance',
      batchId: batch.id,
      values: { __TOKEN__: 'jeton-du-lot' },
      secrets: [],
      status: 'LOCAL',
      createdAt: new Date(t.clock.now().getTime() + 1_000),
    },
  });
}, 60_000);

afterAll(async () => {
  await http.close(1_000);
  await t.close();
});

describe('/dev/mailbox.json', () => {
  it('lists the e-mails newest first, each with the links of its text', async () => {
    const response = await fetch(`${url}/dev/mailbox.json`);
    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toMatch(/^application\/json/);
    const { emails } = (await response.json()) as { emails: Entry[] };
    expect(emails.map((e) => e.to)).toEqual([['lot@example.org'], [addresses[1]], [addresses[0]]]);
    const [bulk, newest] = emails;
    expect(bulk!.links).toEqual(['http://localhost:3000/renouveler?token=jeton-du-lot']);
    expect(newest).toMatchObject({
      status: 'LOCAL',
      from: expect.stringContaining('<numos@numos.local>'),
      cc: [],
      subject: 'Confirmez votre inscription à NuMos',
      template: expect.any(String),
    });
    expect(new Date(newest!.createdAt).toISOString()).toBe(newest!.createdAt);
    const confirmation = newest!.links.find((link) => link.startsWith('http://localhost:3000/confirmer?token='));
    expect(confirmation).toBeDefined();
    // The link works: its token confirms the account.
    const token = new URL(confirmation!).searchParams.get('token');
    const confirmed = await t.gql(`mutation($t: String!) { confirm(input: { token: $t }) { account { status } } }`, { t: token });
    expect(confirmed.data.confirm.account.status).toBe('TEMPORARY');
  });

  it('gives one e-mail with its HTML and text at /dev/mailbox/<id>.json', async () => {
    const { emails } = (await (await fetch(`${url}/dev/mailbox.json`)).json()) as { emails: Entry[] };
    for (const entry of emails) {
      const response = await fetch(`${url}/dev/mailbox/${entry.id}.json`);
      expect(response.status).toBe(200);
      const email = (await response.json()) as Entry & { html: string; text: string };
      expect(email).toMatchObject(entry);
      for (const link of entry.links) {
        expect(email.text).toContain(link);
        expect(email.html).toContain(link.replaceAll('&', '&amp;'));
      }
    }
    const unknown = await fetch(`${url}/dev/mailbox/00000000-0000-4000-8000-000000000000.json`);
    expect(unknown.status).toBe(404);
    expect(await unknown.json()).toEqual({ error: 'E-mail introuvable.' });
    expect((await fetch(`${url}/dev/mailbox/pas-un-id.json`)).status).toBe(404);
  });

  it('is printed by `npm run cli -- mailbox --json`, as the server lists it', async () => {
    const { emails } = (await (await fetch(`${url}/dev/mailbox.json`)).json()) as { emails: Entry[] };
    const run = cli(['2', '--json']);
    expect(run.status, run.stderr).toBe(0);
    expect(JSON.parse(run.stdout)).toEqual({ emails: emails.slice(0, 2) });
  }, 60_000);

  it('exists in no production server, nor in the CLI of one', async () => {
    const production = await startTestApp({ database: t.database, env: { NODE_ENV: 'production' } });
    const prod = await listen(production.app);
    try {
      for (const path of ['/dev/mailbox.json', '/dev/mailbox/00000000-0000-4000-8000-000000000000.json'])
        expect((await fetch(`${prod.url}${path}`)).status).toBe(404);
    } finally {
      await prod.server.close(1_000);
      await production.close();
    }
    const run = cli(['--json'], { NODE_ENV: 'production' });
    expect(run.status).toBe(2);
    expect(run.stderr).toContain("La boîte de développement n'existe pas en production");
    expect(run.stdout).toBe('');
  }, 60_000);
});
