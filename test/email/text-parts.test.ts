// The text part of every e-mail reads as well as its HTML: no two words of different elements glued
// together (a label and its value, "NomSchmitt"), for every template of emails/ with its preview
// values, and for the library's "inscription à valider" e-mail as the registration sends it.
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { encodeGlobalID } from '@pothos/plugin-relay';
import type { ComponentType } from 'react';
import { createElement } from 'react';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { renderEmail } from '../../src/email/outbox.js';
import { seedLibrary, startTestApp, type TestApp } from '../support/harness.js';
import { registerAndConfirm, waitForEmail } from '../support/patrons.js';

const EMAILS = join(import.meta.dirname, '..', '..', 'emails');

const decode = (html: string) =>
  html
    .replace(/&#x([0-9a-f]+);/gi, (_, hex: string) => String.fromCodePoint(Number.parseInt(hex, 16)))
    .replace(/&#(\d+);/g, (_, decimal: string) => String.fromCodePoint(Number(decimal)))
    .replace(/&nbsp;/g, '\u00a0')
    .replace(/&quot;/g, '"')
    .replace(/&lt;/g, '<')
    .replace(/&gt;/g, '>')
    .replace(/&amp;/g, '&');

/** Pairs of words that end one element and start the next, which the text part writes joined. */
function gluedWords(html: string, text: string): string[] {
  const body = html.slice(html.indexOf('<body'));
  const nodes = [...body.matchAll(/>([^<]+)</g)].map((match) => decode(match[1]!).trim()).filter(Boolean);
  const glued: string[] = [];
  for (const [index, node] of nodes.entries()) {
    const next = nodes[index + 1];
    if (!next || !/[\p{L}\p{N}]$/u.test(node) || !/^[\p{L}\p{N}]/u.test(next)) continue;
    const last = node.split(/\s/).pop()!;
    const first = next.split(/\s/)[0]!;
    if (text.includes(`${last}${first}`)) glued.push(`${last}${first}`);
  }
  return glued;
}

describe('the text part of every template', () => {
  const templates = readdirSync(EMAILS).filter((file) => file.endsWith('.tsx'));

  it.each(templates)('%s keeps its words apart', async (file) => {
    const template = ((await import(join(EMAILS, file))) as { default: ComponentType<object> & { PreviewProps: object } }).default;
    const { html, text } = await renderEmail(createElement(template, template.PreviewProps));
    expect(text.length).toBeGreaterThan(100);
    expect(gluedWords(html, text)).toEqual([]);
  });

  it('writes the details of a request as "Label : value" lines', async () => {
    const template = ((await import(join(EMAILS, 'NewRegistrationRequest.tsx'))) as { default: ComponentType<object> & { PreviewProps: object } }).default;
    const { text } = await renderEmail(createElement(template, template.PreviewProps));
    expect(text).toContain('Nom : Martin\n');
    expect(text).toContain('Date de naissance : 14/07/1990 (36 ans)\n');
    expect(text).toContain('Demande faite le : 28 novembre 2026 à 10:00\n');
  });
});

describe('the library’s "inscription à valider" e-mail, as a registration sends it', () => {
  let t: TestApp;
  let libraryId: string;

  beforeAll(async () => {
    t = await startTestApp({ resend: true, workers: true, env: { NUMOS_THROTTLE: '0' } });
    const library = await seedLibrary(t.app, { code: '5216101', name: 'Médiathèque de Creutzwald', email: 'bib@creutzwald.example' });
    libraryId = encodeGlobalID('Library', library.id);
  });
  afterAll(() => t.close());

  it('reads "Nom : Schmitt", "Prénom : Lucas" in its text part', async () => {
    const { input } = await registerAndConfirm(t, libraryId, { lastName: 'Schmitt', firstName: 'Lucas', birthDate: '1988-03-02' });
    const email = await waitForEmail(t, 'bib@creutzwald.example', 'NuMos : inscription à valider – Lucas Schmitt');
    for (const line of [
      'Nom : Schmitt',
      'Prénom : Lucas',
      'Date de naissance : 02/03/1988 (38 ans)',
      `Courriel : ${input.email}`,
      `Identifiant : ${input.login}`,
    ]) {
      expect(email.text).toContain(`${line}\n`);
    }
    expect(email.text).not.toMatch(/NomSchmitt|PrénomLucas/);
  });
});
