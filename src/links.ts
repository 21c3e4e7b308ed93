// The front ends' pages that NuMos's e-mails link to, all in one place: each route with the front
// end that serves it, who follows it, its parameters and the e-mails that carry it. The front-end
// teams must serve exactly these paths (README, "Front-end routes in e-mails"); nothing else in
// src/ builds a URL of PUBLIC_APP_URL or ADMIN_APP_URL (test/links.test.ts checks both).
// Secrets travel as a `token=` query parameter (at least 128 random bits, stored hashed, single
// use); staff links carry the request's global ID, which the admin front end passes back to
// `registrationRequest(id:)`.
import { encodeGlobalID } from '@pothos/plugin-relay';
import type { Config } from './config.js';

/** The environment variable whose URL a route is appended to. */
export type FrontEnd = 'PUBLIC_APP_URL' | 'ADMIN_APP_URL';

export interface FrontEndRoute {
  /** Which front end serves it. */
  app: FrontEnd;
  /** Path below the front end's URL; `:id` is a path parameter. */
  path: string;
  /** Query (`token`) and path (`id`) parameters, with what they carry; none for a plain page. */
  parameters: Readonly<Record<string, string>>;
  /** Who follows the link. */
  audience: string;
  /** What the page does with it. */
  purpose: string;
  /** The e-mails that carry it (outbox template names, as the development mailbox shows them). */
  emails: readonly string[];
}

export const ROUTES = {
  confirm: {
    app: 'PUBLIC_APP_URL',
    path: '/confirmer',
    parameters: { token: 'Confirmation token: valid 15 days (setting `confirmationDays`), single use; a new confirmation e-mail replaces it.' },
    audience: 'A person who registered',
    purpose: 'Calls `confirm(input: { token })`: the account becomes TEMPORARY and the library is told.',
    emails: ['ConfirmRegistration'],
  },
  resetPassword: {
    app: 'PUBLIC_APP_URL',
    path: '/mot-de-passe',
    parameters: {
      token: 'Password token: valid 60 minutes (`passwordResetMinutes`; a new staff account’s first password: 7 days, `staffInvitationDays`), single use.',
    },
    audience: 'Patrons and staff (one page for both: the token names the account)',
    purpose: 'Calls `resetPassword(input: { token, password, passwordConfirmation })`.',
    emails: ['PasswordReset', 'AccountAlreadyExists'],
  },
  confirmEmail: {
    app: 'PUBLIC_APP_URL',
    path: '/confirmer-email',
    parameters: { token: 'Address-change token: valid 24 hours, single use.' },
    audience: 'A patron who asked to change their e-mail address (sent to the new address)',
    purpose: 'Calls `confirmEmailChange(input: { token })`.',
    emails: ['ConfirmEmailChange'],
  },
  renew: {
    app: 'PUBLIC_APP_URL',
    path: '/renouveler',
    parameters: { token: 'Renewal token: valid until the personal data is purged, single use.' },
    audience: 'A patron whose access ends in 15 days',
    purpose: 'Calls `requestRenewal(input: { token })` (a patron session may call it without a token).',
    emails: ['RenewalReminder'],
  },
  forgotPassword: {
    app: 'PUBLIC_APP_URL',
    path: '/mot-de-passe-oublie',
    parameters: {},
    audience: 'Patrons (and staff told their password changed)',
    purpose: 'The “forgot password” form: calls `requestPasswordReset(input: { realm, login })`.',
    emails: ['PasswordChanged', 'DecisionAccepted'],
  },
  guide: {
    app: 'PUBLIC_APP_URL',
    path: '/modedemploi',
    parameters: {},
    audience: 'Patrons',
    purpose: 'The user guide (a static page).',
    emails: ['DecisionAccepted'],
  },
  libraries: {
    app: 'PUBLIC_APP_URL',
    path: '/bibliotheques',
    parameters: {},
    audience: 'Patrons and visitors',
    purpose: 'The libraries of the network: `libraries(search:)`.',
    emails: ['DecisionRefused'],
  },
  contactSupport: {
    app: 'PUBLIC_APP_URL',
    path: '/mes-messages/envoyer/question/support',
    parameters: {},
    audience: 'Patrons and visitors',
    purpose: 'A message to technical support: `sendMessage(input: { to: SUPPORT, … })`.',
    emails: ['DecisionRefused'],
  },
  request: {
    app: 'ADMIN_APP_URL',
    path: '/demandes/:id',
    parameters: { id: 'Global ID of the request (URL-encoded), for `registrationRequest(id:)`.' },
    audience: 'The staff of the request’s library, and the DLPB',
    purpose: 'The request to decide: `registrationRequest(id:)`, then `decide`.',
    emails: ['NewRegistrationRequest', 'EscalatedRequests'],
  },
} as const satisfies Record<string, FrontEndRoute>;

export type RouteName = keyof typeof ROUTES;

type Bases = Pick<Config, 'publicAppUrl' | 'adminAppUrl'>;

/** The URL of a route on its front end; `token` as query parameter, `id` in the path. */
export function routeUrl(config: Bases, route: FrontEndRoute, values: { token?: string; id?: string } = {}): string {
  const base = route.app === 'ADMIN_APP_URL' ? config.adminAppUrl : config.publicAppUrl;
  const path = values.id === undefined ? route.path : route.path.replace(':id', encodeURIComponent(values.id));
  return values.token === undefined ? `${base}${path}` : `${base}${path}?token=${encodeURIComponent(values.token)}`;
}

/** The links e-mails carry, built on the configured front ends. */
export const links = (config: Bases) => ({
  confirm: (token: string) => routeUrl(config, ROUTES.confirm, { token }),
  resetPassword: (token: string) => routeUrl(config, ROUTES.resetPassword, { token }),
  confirmEmail: (token: string) => routeUrl(config, ROUTES.confirmEmail, { token }),
  renew: (token: string) => routeUrl(config, ROUTES.renew, { token }),
  request: (requestId: string) => routeUrl(config, ROUTES.request, { id: encodeGlobalID('RegistrationRequest', requestId) }),
  forgotPassword: routeUrl(config, ROUTES.forgotPassword),
  guide: routeUrl(config, ROUTES.guide),
  libraries: routeUrl(config, ROUTES.libraries),
  contactSupport: routeUrl(config, ROUTES.contactSupport),
});
