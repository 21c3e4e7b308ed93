// The front-end routes e-mails link to: the list the front-end teams build against (README,
// "Front-end routes in e-mails"), the URLs built from it, and no link built anywhere else.
import { readdirSync, readFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { decodeGlobalID } from '@pothos/plugin-relay';
import { describe, expect, it } from 'vitest';
import { links, ROUTES, type FrontEndRoute } from '../src/links.js';

const ROOT = join(import.meta.dirname, '..');
const config = { publicAppUrl: 'https://numos.moselle.fr', adminAppUrl: 'https://admin.numos.moselle.fr/gestion' };

/** Every TypeScript file under a folder of the project. */
const sources = (folder: string): string[] =>
  readdirSync(join(ROOT, folder), { recursive: true, encoding: 'utf8' })
    .filter((file) => /\.tsx?$/.test(file) && !file.includes('generated'))
    .map((file) => join(ROOT, folder, file));

describe('front-end routes', () => {
  it('are these, each with its front end, parameters and e-mails', () => {
    const routes = Object.values(ROUTES as Record<string, FrontEndRoute>).map(
      (r) => `${r.app}${r.path} (${Object.keys(r.parameters).join(', ')}) in ${r.emails.join(', ')}`,
    );
    expect(routes).toEqual([
      'PUBLIC_APP_URL/confirmer (token) in ConfirmRegistration',
      'PUBLIC_APP_URL/mot-de-passe (token) in PasswordReset, AccountAlreadyExists',
      'PUBLIC_APP_URL/confirmer-email (token) in ConfirmEmailChange',
      'PUBLIC_APP_URL/renouveler (token) in RenewalReminder',
      'PUBLIC_APP_URL/mot-de-passe-oublie () in PasswordChanged, DecisionAccepted',
      'PUBLIC_APP_URL/modedemploi () in DecisionAccepted',
      'PUBLIC_APP_URL/bibliotheques () in DecisionRefused',
      'PUBLIC_APP_URL/mes-messages/envoyer/question/support () in DecisionRefused',
      'ADMIN_APP_URL/demandes/:id (id) in NewRegistrationRequest, EscalatedRequests',
    ]);
    for (const route of Object.values(ROUTES as Record<string, FrontEndRoute>)) {
      expect(route.audience, route.path).not.toBe('');
      expect(route.purpose, route.path).not.toBe('');
      expect(route.emails.length, route.path).toBeGreaterThan(0);
    }
  });

  it('build URLs on the configured front ends, secrets as `token=`, requests by global ID', () => {
    const link = links(config);
    expect(link.confirm('a+b/c')).toBe('https://numos.moselle.fr/confirmer?token=a%2Bb%2Fc');
    expect(link.resetPassword('t')).toBe('https://numos.moselle.fr/mot-de-passe?token=t');
    expect(link.confirmEmail('t')).toBe('https://numos.moselle.fr/confirmer-email?token=t');
    expect(link.renew('')).toBe('https://numos.moselle.fr/renouveler?token=');
    expect(link.forgotPassword).toBe('https://numos.moselle.fr/mot-de-passe-oublie');
    expect([link.guide, link.libraries, link.contactSupport]).toEqual([
      'https://numos.moselle.fr/modedemploi',
      'https://numos.moselle.fr/bibliotheques',
      'https://numos.moselle.fr/mes-messages/envoyer/question/support',
    ]);
    const request = link.request('5f0c1d2e-3a4b-4c5d-8e6f-708192a3b4c5');
    expect(request).toMatch(/^https:\/\/admin\.numos\.moselle\.fr\/gestion\/demandes\/[A-Za-z0-9%]+$/);
    expect(decodeGlobalID(decodeURIComponent(request.split('/').pop()!))).toEqual({
      typename: 'RegistrationRequest',
      id: '5f0c1d2e-3a4b-4c5d-8e6f-708192a3b4c5',
    });
  });

  it('are built in src/links.ts only', () => {
    const elsewhere = [...sources('src'), ...sources('emails')]
      .filter((file) => !['src/links.ts', 'src/config.ts'].includes(relative(ROOT, file)))
      .filter((file) => /publicAppUrl|adminAppUrl/.test(readFileSync(file, 'utf8')))
      .map((file) => relative(ROOT, file));
    expect(elsewhere).toEqual([]);
  });
});
