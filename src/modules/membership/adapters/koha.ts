// Koha's REST API (Koha-Community/Koha, api/v1/swagger/): the applicant is searched with
// `GET /patrons` (paths/patrons.yaml), whose answer is an array of patrons (definitions/patron.yaml);
// the API is reached with an OAuth2 client-credentials token (`POST /oauth/token`, paths/oauth.yaml)
// or with HTTP Basic. Only figures are kept of a record (dates and flags), never the record itself.
//
// Koha's list endpoints match with `contains` unless told otherwise (Koha/REST/Plugin/Query.pm), so
// every search sends `_match=exact`; they page with `_page`/`_per_page` and say the total in
// `X-Total-Count` (Koha/REST/Plugin/Pagination.pm).
import { createHash } from 'node:crypto';
import { getCACertificates, rootCertificates } from 'node:tls';
import { Agent, request, type Dispatcher } from 'undici';
import { checkEncrypted, checkHost, guardedLookup } from './network.js';
import {
  type ApplicantQuery,
  type CallOptions,
  ConnectorFailure,
  type ConnectorSettings,
  type Lookup,
  type MemberFacts,
  type MembershipAdapter,
} from './contract.js';

/** Page size of a search: two rows are enough to tell one person from several. */
const PAGE_SIZE = 2;
/** Koha's tokens live 3600 s (Koha/REST/V1/OAuth.pm); when a server says nothing, assume less. */
const DEFAULT_TOKEN_LIFETIME_S = 300;
/** A token is dropped this long before its announced end, so that it does not expire in flight. */
const TOKEN_MARGIN_S = 30;

const MESSAGES = {
  badEndpoint: "L'adresse de l'API Koha est invalide : indiquez l'adresse de base de l'API REST (https://…/api/v1).",
  credentialsInUrl: "L'adresse de l'API Koha ne doit pas contenir d'identifiant ni de mot de passe : renseignez-les dans les champs prévus.",
  missingCredentials: "L'identifiant ou le secret de l'API Koha n'est pas renseigné.",
  oauthRefused: "Koha refuse l'authentification : vérifiez l'identifiant client et le secret.",
  oauthUnavailable:
    "Koha refuse de délivrer un jeton OAuth2 : vérifiez que la préférence système RESTOAuth2ClientCredentials est activée, ainsi que l'identifiant client et le secret.",
  basicRefused: "Koha refuse l'authentification : vérifiez l'utilisateur et le mot de passe, et que la préférence système RESTBasicAuth est activée.",
  forbidden: "Koha refuse l'accès aux adhérents : le compte utilisé par NuMos doit avoir la permission de consulter les adhérents (borrowers).",
  notFound: "L'API REST de Koha est introuvable à cette adresse (404) : vérifiez l'adresse, qui se termine d'ordinaire par /api/v1.",
  redirect: "Koha répond par une redirection : indiquez l'adresse finale de l'API REST (https://…/api/v1).",
  badRequest: (status: number) => `Koha refuse la recherche (erreur ${status}) : la version de Koha ne comprend peut-être pas cette recherche.`,
  serverError: (status: number) => `Le serveur Koha a répondu par une erreur (${status}).`,
  unreadable: (why: string) => `Le serveur Koha a envoyé une réponse illisible (${why}).`,
  tooBig: (maxBytes: number) => `La réponse du serveur Koha dépasse la taille admise (${Math.round(maxBytes / 1024)} Kio) : abandonnée.`,
  timeout: (ms: number) => `Le serveur Koha n'a pas répondu à temps (délai de ${formatSeconds(ms)} dépassé).`,
  refused: 'Le serveur Koha refuse la connexion (service arrêté ou port fermé).',
  reset: 'La connexion au serveur Koha a été interrompue.',
  unknownHost: "Le nom du serveur Koha est introuvable (DNS) : vérifiez l'adresse.",
  unreachable: 'Le serveur Koha est injoignable.',
  certificate: (detail: string) => `Le certificat TLS du serveur Koha n'est pas reconnu (${detail}) : connexion refusée.`,
  tls: 'La négociation TLS avec le serveur Koha a échoué.',
  network: 'Échec de la communication avec le serveur Koha.',
};

const formatSeconds = (ms: number) => `${(ms / 1000).toLocaleString('fr-FR', { maximumFractionDigits: 1 })} s`;

/** Certificate errors from OpenSSL and Node, translated for the librarian. */
const CERTIFICATE_ERRORS: Record<string, string> = {
  DEPTH_ZERO_SELF_SIGNED_CERT: 'certificat auto-signé',
  SELF_SIGNED_CERT_IN_CHAIN: 'autorité auto-signée dans la chaîne',
  UNABLE_TO_VERIFY_LEAF_SIGNATURE: 'autorité de certification inconnue',
  UNABLE_TO_GET_ISSUER_CERT: 'autorité de certification inconnue',
  UNABLE_TO_GET_ISSUER_CERT_LOCALLY: 'autorité de certification inconnue',
  CERT_HAS_EXPIRED: 'certificat expiré',
  CERT_NOT_YET_VALID: 'certificat pas encore valide',
  CERT_REVOKED: 'certificat révoqué',
  ERR_TLS_CERT_ALTNAME_INVALID: 'le certificat ne correspond pas au nom du serveur',
};

interface CachedToken {
  value: string;
  /** Epoch ms after which the token is not used any more (its end minus a margin). */
  usableUntil: number;
}

/** What one lookup shares between its round trips: the connection pool, the deadline, the settings. */
interface Call {
  agent: Agent;
  signal: AbortSignal;
  base: string;
  settings: ConnectorSettings & { username: string; secret: string };
  options: CallOptions;
  tokenKey: string;
}

interface Search {
  /** How many people Koha says match (at least the rows it returned). */
  count: number;
  /** The one row, when there is exactly one. */
  single: Record<string, unknown> | undefined;
}

export function createKohaAdapter(): MembershipAdapter {
  // OAuth2 tokens of this adapter instance, by library, endpoint, client and secret (hashed): a
  // changed secret or endpoint never reuses a token obtained with the old one.
  const tokens = new Map<string, CachedToken>();

  async function token(call: Call, renew: boolean): Promise<string> {
    const now = Date.now();
    for (const [key, cached] of tokens) if (cached.usableUntil <= now) tokens.delete(key);
    if (renew) tokens.delete(call.tokenKey);
    const cached = tokens.get(call.tokenKey);
    if (cached) return cached.value;

    // Koha reads the client's credentials from the form (paths/oauth.yaml: formData grant_type,
    // client_id, client_secret), never from the query string.
    const form = new URLSearchParams({ grant_type: 'client_credentials', client_id: call.settings.username, client_secret: call.settings.secret });
    const response = await send(call, 'POST', `${call.base}/oauth/token`, {
      'content-type': 'application/x-www-form-urlencoded',
      body: form.toString(),
    });
    // Koha answers 400 when client credentials are not enabled, 403 for an unknown client or a
    // wrong secret (Koha/REST/V1/OAuth.pm); some proxies answer 401.
    if (response.status === 400) throw new ConnectorFailure(MESSAGES.oauthUnavailable, false);
    if (response.status === 401 || response.status === 403) throw new ConnectorFailure(MESSAGES.oauthRefused, false);
    failUnlessOk(response.status);
    const answer = parseJson(response.text);
    if (!isObject(answer) || typeof answer.access_token !== 'string' || !answer.access_token) {
      throw new ConnectorFailure(MESSAGES.unreadable('jeton OAuth2 absent'));
    }
    const expiresIn = answer.expires_in;
    if (expiresIn !== undefined && expiresIn !== null && (typeof expiresIn !== 'number' || !Number.isFinite(expiresIn) || expiresIn < 0)) {
      throw new ConnectorFailure(MESSAGES.unreadable('durée du jeton OAuth2'));
    }
    const lifetime = typeof expiresIn === 'number' ? expiresIn : DEFAULT_TOKEN_LIFETIME_S;
    // A short-lived token keeps a proportionate margin (a tenth of its life) instead of 30 s.
    const margin = Math.min(TOKEN_MARGIN_S, lifetime / 10);
    const usableUntil = Date.now() + (lifetime - margin) * 1000;
    if (usableUntil > Date.now()) tokens.set(call.tokenKey, { value: answer.access_token, usableUntil });
    return answer.access_token;
  }

  async function authorization(call: Call, renew: boolean): Promise<string> {
    const { settings } = call;
    if (settings.kohaAuthentication === 'BASIC') return `Basic ${Buffer.from(`${settings.username}:${settings.secret}`).toString('base64')}`;
    return `Bearer ${await token(call, renew)}`;
  }

  /** One `GET /patrons` with exact matching on the given fields. */
  async function search(call: Call, fields: Record<string, string>): Promise<Search> {
    const url = new URL(`${call.base}/patrons`);
    for (const [name, value] of Object.entries(fields)) url.searchParams.set(name, value);
    url.searchParams.set('_match', 'exact');
    url.searchParams.set('_page', '1');
    url.searchParams.set('_per_page', String(PAGE_SIZE));

    let response = await send(call, 'GET', url.toString(), { authorization: await authorization(call, false) });
    if (response.status === 401 && call.settings.kohaAuthentication === 'OAUTH2') {
      // The token expired or was revoked on Koha's side (restart, token purge): one new token, one retry.
      response = await send(call, 'GET', url.toString(), { authorization: await authorization(call, true) });
      if (response.status === 401) tokens.delete(call.tokenKey);
    }
    if (response.status === 401) {
      throw new ConnectorFailure(call.settings.kohaAuthentication === 'BASIC' ? MESSAGES.basicRefused : MESSAGES.oauthRefused, false);
    }
    if (response.status === 403) throw new ConnectorFailure(MESSAGES.forbidden, false);
    failUnlessOk(response.status);

    const rows = parseJson(response.text);
    if (!Array.isArray(rows)) throw new ConnectorFailure(MESSAGES.unreadable('liste d’adhérents attendue'));
    for (const row of rows) if (!isObject(row)) throw new ConnectorFailure(MESSAGES.unreadable('adhérent mal formé'));
    const records = rows as Record<string, unknown>[];

    // A server that ignored `_match=exact` (or a proxy that dropped it) returns partial matches:
    // those are not the person. A field Koha left out (redacted for a patron of another library)
    // cannot be checked: Koha's own match is trusted then.
    const exact = records.filter((row) => Object.entries(fields).every(([name, value]) => !contradicts(name, row[name], value)));
    const total = totalCount(response.headers['x-total-count']);
    const count = exact.length === records.length && total !== undefined ? Math.max(total, exact.length) : exact.length;
    return { count, single: count === 1 ? exact[0] : undefined };
  }

  async function lookup(settings: ConnectorSettings, query: ApplicantQuery, options: CallOptions): Promise<Lookup> {
    const { base, host, encrypted } = parseEndpoint(settings.endpoint);
    checkEncrypted(options.network, encrypted, "L'accès à Koha en HTTP");
    checkHost(options.network, host);
    if (!settings.username || !settings.secret) throw new ConnectorFailure(MESSAGES.missingCredentials, false);

    // One deadline for every round trip of the lookup (token, renewed token, up to three searches).
    const controller = new AbortController();
    const timer = setTimeout(() => controller.abort(), options.timeoutMs);
    const agent = new Agent({
      connect: {
        // Names are checked on the addresses the connection will use; IP literals were checked above.
        lookup: guardedLookup(options.network),
        timeout: options.timeoutMs,
        ...(options.ca?.length ? { ca: [...systemCertificates(), ...options.ca] } : {}),
      },
      maxResponseSize: options.maxBytes,
      connections: 1,
    });
    const call: Call = {
      agent,
      signal: controller.signal,
      base,
      settings: { ...settings, username: settings.username, secret: settings.secret },
      options,
      tokenKey: [settings.libraryId, base, settings.username, createHash('sha256').update(settings.secret).digest('hex')].join('\n'),
    };
    try {
      return await find(call, query);
    } catch (error) {
      throw asFailure(error, controller.signal.aborted, options);
    } finally {
      clearTimeout(timer);
      // No socket outlives the lookup (and a body still streaming is cut).
      await agent.destroy().catch(() => undefined);
    }
  }

  /** The search order of the SPEC: card number, else e-mail, else names and birth date. */
  async function find(call: Call, query: ApplicantQuery): Promise<Lookup> {
    const cardNumber = query.cardNumber?.trim();
    if (cardNumber) {
      const found = await search(call, { cardnumber: cardNumber });
      if (found.single) return { found: 'one', matchedBy: 'CARD_NUMBER', facts: facts(found.single) };
      if (found.count > 1) return { found: 'many', matchedBy: 'CARD_NUMBER', count: found.count };
    }

    // Several people may share an address (a family): the names and birth date then decide.
    let sharedEmail = 0;
    const email = query.email?.trim();
    if (email) {
      const found = await search(call, { email });
      if (found.single) return { found: 'one', matchedBy: 'EMAIL', facts: facts(found.single) };
      sharedEmail = found.count;
    }

    const surname = query.lastName?.trim();
    const firstname = query.firstName?.trim();
    const birthDate = query.birthDate?.trim();
    if (surname && firstname && birthDate && isCalendarDate(birthDate)) {
      const found = await search(call, { surname, firstname, date_of_birth: birthDate });
      if (found.single) return { found: 'one', matchedBy: 'NAME_AND_BIRTH_DATE', facts: facts(found.single) };
      if (found.count > 1) return { found: 'many', matchedBy: 'NAME_AND_BIRTH_DATE', count: found.count };
    }
    if (sharedEmail > 1) return { found: 'many', matchedBy: 'EMAIL', count: sharedEmail };
    return { found: 'none' };
  }

  /** One HTTP exchange: the status, the headers, the body read up to the size limit. */
  async function send(
    call: Call,
    method: 'GET' | 'POST',
    url: string,
    extra: { authorization?: string; 'content-type'?: string; body?: string },
  ): Promise<{ status: number; headers: Record<string, string | string[] | undefined>; text: string }> {
    const { body: payload, ...headers } = extra;
    const response = await request(url, {
      method,
      dispatcher: call.agent,
      signal: call.signal,
      headers: { accept: 'application/json', 'user-agent': 'NuMos', ...headers },
      body: payload,
    });
    if (response.statusCode >= 300) {
      // Error bodies are not kept (Koha's message would not help the librarian): a small one is
      // drained so that the connection serves the next call, a big one cuts it.
      await response.body.dump({ limit: Math.min(64 * 1024, call.options.maxBytes) });
      return { status: response.statusCode, headers: response.headers, text: '' };
    }
    return { status: response.statusCode, headers: response.headers, text: await readLimited(response, call.options.maxBytes) };
  }

  return { lookup };
}

/** The base URL without trailing slash, query or fragment; what the network rules need. */
function parseEndpoint(endpoint: string): { base: string; host: string; encrypted: boolean } {
  let url: URL;
  try {
    url = new URL(endpoint.trim());
  } catch {
    throw new ConnectorFailure(MESSAGES.badEndpoint, false);
  }
  if (url.protocol !== 'https:' && url.protocol !== 'http:') throw new ConnectorFailure(MESSAGES.badEndpoint, false);
  if (url.username || url.password) throw new ConnectorFailure(MESSAGES.credentialsInUrl, false);
  const path = url.pathname.replace(/\/+$/, '');
  return { base: `${url.origin}${path}`, host: url.hostname, encrypted: url.protocol === 'https:' };
}

/** The body as text, refused as soon as it grows past `maxBytes` (the rest is never read). */
async function readLimited(response: Dispatcher.ResponseData, maxBytes: number): Promise<string> {
  const declared = Number(response.headers['content-length']);
  if (Number.isFinite(declared) && declared > maxBytes) {
    response.body.destroy();
    throw new ConnectorFailure(MESSAGES.tooBig(maxBytes), false);
  }
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of response.body) {
    size += (chunk as Buffer).length;
    if (size > maxBytes) {
      response.body.destroy();
      throw new ConnectorFailure(MESSAGES.tooBig(maxBytes), false);
    }
    chunks.push(chunk as Buffer);
  }
  return Buffer.concat(chunks).toString('utf8');
}

function failUnlessOk(status: number): void {
  if (status >= 200 && status < 300) return;
  if (status === 404) throw new ConnectorFailure(MESSAGES.notFound, false);
  if (status >= 300 && status < 400) throw new ConnectorFailure(MESSAGES.redirect, false);
  // Overloaded or rate-limited: later may work.
  if (status >= 500 || status === 408 || status === 429) throw new ConnectorFailure(MESSAGES.serverError(status));
  throw new ConnectorFailure(MESSAGES.badRequest(status), false);
}

function parseJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    throw new ConnectorFailure(MESSAGES.unreadable('JSON attendu'));
  }
}

const isObject = (value: unknown): value is Record<string, unknown> => typeof value === 'object' && value !== null && !Array.isArray(value);

function totalCount(header: string | string[] | undefined): number | undefined {
  const value = Array.isArray(header) ? header[0] : header;
  return value !== undefined && /^\d+$/.test(value.trim()) ? Number(value) : undefined;
}

/** Whether a row's field differs from what was searched, compared as Koha's exact match does (MySQL's case- and accent-insensitive collation). */
function contradicts(name: string, actual: unknown, wanted: string): boolean {
  if (actual === undefined || actual === null) return false;
  if (typeof actual !== 'string') return true;
  if (name === 'date_of_birth') return datePart(actual.trim()) !== wanted;
  return actual.trim().localeCompare(wanted, 'fr', { sensitivity: 'base' }) !== 0;
}

const DATE = /^(\d{4})-(\d{2})-(\d{2})$/;

function isCalendarDate(value: string): boolean {
  const parts = DATE.exec(value);
  if (!parts) return false;
  const [year, month, day] = [Number(parts[1]), Number(parts[2]), Number(parts[3])];
  const date = new Date(Date.UTC(year, month - 1, day));
  return date.getUTCFullYear() === year && date.getUTCMonth() === month - 1 && date.getUTCDate() === day;
}

/** `2024-03-12`, or the date part of `2024-03-12T10:00:00+01:00`. */
function datePart(value: string): string | undefined {
  const candidate = value.length > 10 && value[10] === 'T' ? value.slice(0, 10) : value;
  return isCalendarDate(candidate) ? candidate : undefined;
}

/** A date field of the record: null when Koha has none (or MySQL's zero date), a failure when unreadable. */
function readDate(record: Record<string, unknown>, name: string): string | null {
  const value = record[name];
  if (value === undefined || value === null || value === '' || value === '0000-00-00') return null;
  const date = typeof value === 'string' ? datePart(value.trim()) : undefined;
  if (!date) throw new ConnectorFailure(MESSAGES.unreadable(`date ${name} mal formée`));
  return date;
}

function readFlag(record: Record<string, unknown>, name: string): boolean | undefined {
  const value = record[name];
  if (value === undefined || value === null) return undefined;
  if (typeof value === 'boolean') return value;
  if (value === 0 || value === 1) return value === 1;
  throw new ConnectorFailure(MESSAGES.unreadable(`indicateur ${name} mal formé`));
}

/**
 * The figures of a record. Koha's definitions/patron.yaml gives `restricted` (a restriction, or
 * "debarment", applies); an `expired` flag is read when a server sends one. Valid is asserted only
 * when the server speaks to both; either flag raised makes it invalid; neither present says nothing.
 */
function facts(record: Record<string, unknown>): MemberFacts {
  const birthDate = readDate(record, 'date_of_birth');
  const expired = readFlag(record, 'expired');
  const restricted = readFlag(record, 'restricted');
  const reasons = [expired ? 'carte expirée selon Koha' : null, restricted ? 'adhérent soumis à une restriction (suspension) dans Koha' : null].filter(
    (reason): reason is string => reason !== null,
  );
  const valid = reasons.length ? false : expired === false && restricted === false ? true : null;
  return {
    enrolledOn: readDate(record, 'date_enrolled'),
    renewedOn: readDate(record, 'date_renewed'),
    expiresOn: readDate(record, 'expiry_date'),
    birthDate,
    birthYear: birthDate ? Number(birthDate.slice(0, 4)) : null,
    valid,
    invalidReason: reasons.length ? `${reasons.join(' ; ')}.`.replace(/^./, (first) => first.toUpperCase()) : null,
  };
}

/** The trusted authorities when a library adds its own: Node's usual set, plus those. */
function systemCertificates(): string[] {
  try {
    return getCACertificates('default');
  } catch {
    return [...rootCertificates];
  }
}

/** Any error of a lookup as a ConnectorFailure whose message tells the cause, never a secret or a person. */
function asFailure(error: unknown, timedOut: boolean, options: CallOptions): ConnectorFailure {
  if (error instanceof ConnectorFailure) return error;
  if (timedOut) return new ConnectorFailure(MESSAGES.timeout(options.timeoutMs));
  for (let cause: unknown = error, depth = 0; cause && depth < 5; cause = (cause as { cause?: unknown }).cause, depth++) {
    if (cause instanceof ConnectorFailure) return cause;
    const code = (cause as { code?: unknown }).code;
    if (typeof code !== 'string') continue;
    if (code in CERTIFICATE_ERRORS) return new ConnectorFailure(MESSAGES.certificate(CERTIFICATE_ERRORS[code]!), false);
    switch (code) {
      case 'ECONNREFUSED':
        return new ConnectorFailure(MESSAGES.refused);
      case 'ECONNRESET':
      case 'EPIPE':
      case 'UND_ERR_SOCKET':
      case 'UND_ERR_CLOSED':
        return new ConnectorFailure(MESSAGES.reset);
      case 'ENOTFOUND':
      case 'EAI_AGAIN':
        return new ConnectorFailure(MESSAGES.unknownHost);
      case 'EHOSTUNREACH':
      case 'ENETUNREACH':
      case 'ENETDOWN':
      case 'EHOSTDOWN':
        return new ConnectorFailure(MESSAGES.unreachable);
      case 'ETIMEDOUT':
      case 'UND_ERR_CONNECT_TIMEOUT':
      case 'UND_ERR_HEADERS_TIMEOUT':
      case 'UND_ERR_BODY_TIMEOUT':
        return new ConnectorFailure(MESSAGES.timeout(options.timeoutMs));
      case 'UND_ERR_RES_EXCEEDED_MAX_SIZE':
        return new ConnectorFailure(MESSAGES.tooBig(options.maxBytes), false);
      case 'UND_ERR_HEADERS_OVERFLOW':
      case 'HPE_HEADER_OVERFLOW':
        return new ConnectorFailure(MESSAGES.unreadable('en-têtes trop longs'));
      case 'UND_ERR_RES_CONTENT_LENGTH_MISMATCH':
        return new ConnectorFailure(MESSAGES.reset);
    }
    if (code.startsWith('HPE_')) return new ConnectorFailure(MESSAGES.unreadable('HTTP invalide'));
    if (code.startsWith('ERR_SSL') || code.startsWith('ERR_TLS') || code.includes('CERT')) return new ConnectorFailure(MESSAGES.tls, false);
  }
  return new ConnectorFailure(MESSAGES.network);
}
