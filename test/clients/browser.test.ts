// The API in a real browser (Debian's Chromium, driven by playwright-core), on a machine that
// reaches nothing but the API: GraphiQL must load from the server alone, show the sample
// operations of codegen/ and run one (a screenshot is kept in test/output/); a page subscribes to
// events with the browser builds of graphql-sse and graphql-ws, the clients the README names.
import { existsSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { chromium, type Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createHttpServer, type HttpServer } from '../../src/server/http.js';
import { encodeGlobalID } from '@pothos/plugin-relay';
import { login, seedLibrary, seedStaff, startTestApp, type TestApp, listenOnLoopback } from '../support/harness.js';
import { registerAndConfirm } from '../support/patrons.js';

const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
const OUTPUT = join(import.meta.dirname, '..', 'output');

let t: TestApp;
let http: HttpServer;
let origin: string;
let browser: Browser;
let libraryId: string;

beforeAll(async () => {
  if (!existsSync(CHROMIUM)) {
    throw new Error(`Chromium introuvable (${CHROMIUM}) : installez le paquet Debian « chromium » (apt-get install chromium) ou indiquez CHROMIUM_PATH.`);
  }
  t = await startTestApp({ resend: true, workers: true, env: { NUMOS_THROTTLE: '0' } });
  libraryId = encodeGlobalID('Library', (await seedLibrary(t.app, { code: '5200001', name: 'Médiathèque de Nilvange', town: 'Nilvange' })).id);
  await seedStaff(t.app, { login: 'dlpb', password: 'mot de passe DLPB' });
  http = createHttpServer(t.app);
  origin = await listenOnLoopback(http.server);
  browser = await chromium.launch({
    executablePath: CHROMIUM,
    args: [
      '--no-sandbox',
      '--disable-gpu',
      '--disable-quic',
      '--no-first-run',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
    ],
  });
}, 60_000);

afterAll(async () => {
  await browser?.close();
  await http?.close(1_000);
  await t?.close();
});

describe('GraphiQL', () => {
  it('loads offline from the server alone, with the sample operations, and runs a query', async () => {
    const page = await browser.newPage({ viewport: { width: 1400, height: 900 } });
    const elsewhere: string[] = [];
    // The machine reaches nothing but the API: any other request is recorded and refused.
    await page.route('**/*', (route) => {
      const url = route.request().url();
      if (url.startsWith(origin) || url.startsWith('blob:') || url.startsWith('data:')) return route.continue();
      elsewhere.push(url);
      return route.abort();
    });
    await page.goto(`${origin}/graphql`, { waitUntil: 'load' });
    await expect.poll(() => page.title()).toBe('NuMos API');
    // The first tab holds codegen/libraries.graphql.
    await page.locator('.graphiql-query-editor').getByText('query Libraries').first().waitFor({ timeout: 20_000 });
    const tabs = await page.locator('.graphiql-tab').count();
    expect(tabs).toBeGreaterThanOrEqual(4);

    await page.locator('.graphiql-execute-button').click();
    // The document holds two operations: GraphiQL asks which one.
    const choice = page.getByRole('menuitem', { name: 'Libraries' });
    if (await choice.isVisible().catch(() => false)) await choice.click();
    await page.locator('.graphiql-response').getByText('Médiathèque de Nilvange').waitFor({ timeout: 20_000 });

    mkdirSync(OUTPUT, { recursive: true });
    const screenshot = join(OUTPUT, 'graphiql.png');
    await page.screenshot({ path: screenshot });
    console.log(`capture d'écran : ${screenshot}`);
    expect(elsewhere).toEqual([]);
    await page.close();
  }, 60_000);

  it('lets a browser page subscribe with graphql-sse and with graphql-ws', async () => {
    const token = await login(t, 'STAFF', 'dlpb', 'mot de passe DLPB');
    const page = await browser.newPage();
    await page.goto(`${origin}/health`);
    for (const client of ['graphql-sse/umd/graphql-sse.min.js', 'graphql-ws/umd/graphql-ws.min.js']) {
      await page.addScriptTag({ path: join(process.cwd(), 'node_modules', client) });
    }
    await page.evaluate(
      ({ url, token }) => {
        const query = 'subscription { registrationEvents { type patron { lastName } } }';
        const w = window as unknown as Record<string, any>;
        w.received = { sse: [], ws: [] };
        const sse = w.graphqlSse.createClient({ url, headers: { authorization: `Bearer ${token}` } });
        sse.subscribe({ query }, { next: (v: unknown) => w.received.sse.push(v), error: () => {}, complete: () => {} });
        const ws = w.graphqlWs.createClient({ url: url.replace('http', 'ws'), connectionParams: { authorization: `Bearer ${token}` } });
        ws.subscribe({ query }, { next: (v: unknown) => w.received.ws.push(v), error: () => {}, complete: () => {} });
      },
      { url: `${origin}/graphql`, token },
    );
    await new Promise((r) => setTimeout(r, 500));
    await registerAndConfirm(t, libraryId, { lastName: 'Navigateur' });
    const received = () => page.evaluate(() => (window as unknown as { received: { sse: any[]; ws: any[] } }).received);
    await expect
      .poll(
        async () => {
          const r = await received();
          return r.sse.length + r.ws.length;
        },
        { timeout: 10_000 },
      )
      .toBe(2);
    for (const events of Object.values(await received())) {
      expect(events[0].data.registrationEvents).toEqual({ type: 'CONFIRMED', patron: { lastName: 'Navigateur' } });
    }
    await page.close();
  }, 60_000);
});
