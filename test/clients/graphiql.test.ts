// GraphiQL as a front-end developer opens it: in a real browser (Debian's Chromium, driven by
// playwright-core), on a machine that reaches nothing but the API. The page must load from the
// server alone, show the sample operations of codegen/ and run one. A screenshot is kept in
// test/output/.
import { existsSync, mkdirSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { chromium, type Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createHttpServer, type HttpServer } from '../../src/server/http.js';
import { seedLibrary, startTestApp, type TestApp } from '../support/harness.js';

const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
const OUTPUT = join(import.meta.dirname, '..', 'output');

let t: TestApp;
let http: HttpServer;
let origin: string;
let browser: Browser;

beforeAll(async () => {
  if (!existsSync(CHROMIUM)) {
    throw new Error(`Chromium introuvable (${CHROMIUM}) : installez le paquet Debian « chromium » (apt-get install chromium) ou indiquez CHROMIUM_PATH.`);
  }
  t = await startTestApp();
  await seedLibrary(t.app, { code: '5200001', name: 'Médiathèque de Nilvange', town: 'Nilvange' });
  http = createHttpServer(t.app);
  await new Promise<void>((resolve) => http.server.listen(0, '127.0.0.1', resolve));
  origin = `http://127.0.0.1:${(http.server.address() as AddressInfo).port}`;
  browser = await chromium.launch({
    executablePath: CHROMIUM,
    args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
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
});
