// A stand-in for Koha's REST API on loopback, written from Koha's published OpenAPI files and the
// code that serves them (Koha-Community/Koha):
//   - api/v1/swagger/paths/oauth.yaml, Koha/REST/V1/OAuth.pm: `POST /api/v1/oauth/token`, form
//     fields grant_type=client_credentials, client_id, client_secret; 200 {access_token, token_type,
//     expires_in} (Koha: 3600 s), 400 "Unimplemented grant type" when RESTOAuth2ClientCredentials is
//     off, 403 for an unknown client or a wrong secret.
//   - Koha/REST/V1/Auth.pm: a Bearer token that is unknown or expired is 401 "Authentication
//     failure." (no other means tried); Basic is 401 when RESTBasicAuth is off or the password is
//     wrong; an authenticated user without the route's permission (borrowers) is 403.
//   - api/v1/swagger/paths/patrons.yaml, definitions/patron.yaml: `GET /api/v1/patrons`, one query
//     parameter per searchable field, plus `_match`, `_order_by`, `_page`, `_per_page`, `q`
//     (parameters.yaml); the answer is an array of patron objects.
//   - Koha/REST/Plugin/Query.pm: `_match` is contains (default), exact, starts_with or ends_with;
//     Koha compares through MySQL's case-insensitive collation.
//   - Koha/REST/Plugin/Pagination.pm: `X-Total-Count` and an RFC 5988 `Link` header (prev, next,
//     first, last), page size RESTdefaultPageSize (20) unless `_per_page` (-1: everything).
// It records every request, and can be made to fail: slow, an HTTP status, garbage, an endless
// body, a reset connection, or not listening at all. `q` (Koha's JSON query language) is not
// implemented: the fake answers 400 so that a test relying on it notices.
import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { createServer as createHttpServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const TLS_DIR = fileURLToPath(new URL('./tls', import.meta.url));
/** The committed self-signed certificate (localhost, 127.0.0.1, ::1), for `options.ca` in tests. */
export const FAKE_KOHA_CA = readFileSync(join(TLS_DIR, 'cert.pem'), 'utf8');

/** A patron as definitions/patron.yaml names its fields (a subset). */
export interface FakePatron {
  patron_id: number;
  cardnumber: string | null;
  surname: string | null;
  firstname: string | null;
  email: string | null;
  phone: string | null;
  city: string | null;
  /** format: date (YYYY-MM-DD). */
  date_of_birth: string | null;
  date_enrolled: string | null;
  date_renewed: string | null;
  expiry_date: string | null;
  library_id: string;
  category_id: string;
  userid: string | null;
  patron_card_lost: boolean | null;
  /** readOnly: a restriction (debarment) applies. */
  restricted: boolean;
  /** Not in Koha's definition: sent only when a test sets it (a server that adds it). */
  expired?: boolean;
  updated_on: string;
}

/** An API client: an OAuth2 client (Koha's API keys) or a Basic user, with its permission. */
export interface FakeClient {
  id: string;
  secret: string;
  /** The `borrowers` permission patrons.yaml requires (x-koha-authorization); default true. */
  canSeePatrons?: boolean;
}

export interface FakeFailure {
  /** Which route fails: the token endpoint, the patrons list, or any (default). */
  on?: 'token' | 'patrons' | 'any';
  /** How many requests fail, then the fake behaves again (default: every request). */
  times?: number;
  /** Waits this long before answering (or failing). */
  delayMs?: number;
  /** Answers this HTTP status, with Koha's error object. */
  status?: number;
  /** Answers 200 with a body that is not JSON. */
  garbage?: boolean;
  /** Answers 200 with this JSON instead of Koha's (a wrong shape). */
  json?: unknown;
  /** Answers 200 with a JSON array that never ends (up to 1 GiB); `declared`: with a Content-Length saying so. */
  huge?: boolean | { declared: true };
  /** Destroys the connection once the request is read. */
  reset?: boolean;
}

export interface ReceivedRequest {
  method: string;
  path: string;
  /** The query string as sent (to check that no secret travels there). */
  rawQuery: string;
  query: Record<string, string>;
  /** The form of a token request (it carries the client secret, as Koha expects). */
  form?: Record<string, string>;
  authorization: 'bearer' | 'basic' | 'other' | null;
  /** The HTTP status answered (0: no answer, e.g. reset or endless body). */
  status: number;
  /** When the request arrived (Date.now()). */
  at: number;
}

/** Query parameters of `GET /patrons` the fake filters on (patrons.yaml has more; all are accepted). */
const FILTERABLE = new Set([
  'patron_id',
  'cardnumber',
  'surname',
  'firstname',
  'email',
  'phone',
  'city',
  'date_of_birth',
  'library_id',
  'category_id',
  'date_enrolled',
  'expiry_date',
  'userid',
  'patron_card_lost',
  'restricted',
]);
/** Query parameters patrons.yaml accepts that the fake ignores; anything else is 400 as in Koha. */
const ACCEPTED_UNFILTERED = new Set(['title', 'other_name', 'initials', 'address', 'address2', 'state', 'postal_code', 'country', 'mobile', 'gender']);
const MATCHES = ['contains', 'exact', 'starts_with', 'ends_with'] as const;
type Match = (typeof MATCHES)[number];
/** RESTdefaultPageSize's default. */
const DEFAULT_PAGE_SIZE = 20;
const ONE_GIB = 1024 ** 3;

export class FakeKoha {
  readonly patrons: FakePatron[] = [];
  /** OAuth2 clients (client_id / client_secret). */
  readonly oauthClients: FakeClient[] = [];
  /** Basic users (userid / password). */
  readonly basicUsers: FakeClient[] = [];
  /** System preferences RESTOAuth2ClientCredentials and RESTBasicAuth. */
  clientCredentialsEnabled = true;
  basicAuthEnabled = true;
  /** expires_in of new tokens, in seconds (Koha: 3600); a token past it is refused with 401. */
  tokenLifetimeS = 3600;
  /** A server that ignores `_per_page` (answers every match) or sends no X-Total-Count / Link. */
  ignorePaging = false;
  omitTotalCount = false;
  /** A server (or a proxy) that drops `_match`: Koha's default, contains, applies. */
  ignoreMatch = false;
  readonly requests: ReceivedRequest[] = [];
  /** Bytes written by endless answers (to check that the client stopped reading early). */
  bytesStreamed = 0;
  /** Requests being answered right now, and the most seen at once since start (a library's small server counts them). */
  inFlight = 0;
  maxInFlight = 0;
  url = '';

  private readonly tokens = new Map<string, { clientId: string; expiresAt: number }>();
  private failure: FakeFailure | undefined;
  private failuresLeft = Number.POSITIVE_INFINITY;
  private server: Server | undefined;
  private tls = false;
  private nextId = 1;

  /** Listens on 127.0.0.1 (a free port); returns the API base, `http(s)://127.0.0.1:PORT/api/v1`. */
  async start({ tls = false, port = 0 }: { tls?: boolean; port?: number } = {}): Promise<string> {
    this.tls = tls;
    const handler = (req: IncomingMessage, res: ServerResponse) => void this.handle(req, res);
    this.server = tls
      ? createHttpsServer({ cert: readFileSync(join(TLS_DIR, 'cert.pem')), key: readFileSync(join(TLS_DIR, 'key.pem')) }, handler)
      : createHttpServer(handler);
    // A TLS client that refuses the certificate closes the connection: not an error of the fake.
    this.server.on('tlsClientError', () => undefined);
    this.server.on('clientError', (_error, socket) => socket.destroy());
    await new Promise<void>((resolve) => this.server!.listen(port, '127.0.0.1', resolve));
    this.url = `${tls ? 'https' : 'http'}://127.0.0.1:${(this.server.address() as AddressInfo).port}/api/v1`;
    return this.url;
  }

  /** The port listened on (to build a `localhost` URL). */
  get port(): number {
    return Number(new URL(this.url).port);
  }

  /** Connections currently open to the fake (a client that closes its own goes back to 0). */
  openConnections(): Promise<number> {
    const server = this.server;
    if (!server) return Promise.resolve(0);
    return new Promise((resolve, reject) => server.getConnections((error, count) => (error ? reject(error) : resolve(count))));
  }

  /** Stops listening and cuts open connections: later calls are refused. */
  async down(): Promise<void> {
    const server = this.server;
    this.server = undefined;
    if (!server) return;
    await new Promise<void>((resolve) => {
      server.close(() => resolve());
      server.closeAllConnections();
    });
  }

  /** Listens again on the same port after `down()` (patrons, clients and tokens kept). */
  async up(): Promise<void> {
    if (!this.server) await this.start({ tls: this.tls, port: this.port });
  }

  stop(): Promise<void> {
    return this.down();
  }

  /** Adds patrons (defaults for what a test does not care about); returns them. */
  add(...patrons: Partial<FakePatron>[]): FakePatron[] {
    const added = patrons.map((patron) => ({
      patron_id: this.nextId++,
      cardnumber: null,
      surname: null,
      firstname: null,
      email: null,
      phone: null,
      city: 'Metz',
      date_of_birth: null,
      date_enrolled: null,
      date_renewed: null,
      expiry_date: null,
      library_id: 'MTZ',
      category_id: 'PT',
      userid: null,
      patron_card_lost: false,
      restricted: false,
      updated_on: '2026-01-05T09:30:00+01:00',
      ...patron,
    }));
    this.patrons.push(...added);
    return added;
  }

  /** Makes the next requests fail (see FakeFailure); replaces any failure set before. */
  fail(failure: FakeFailure): void {
    this.failure = failure;
    this.failuresLeft = failure.times ?? Number.POSITIVE_INFINITY;
  }

  heal(): void {
    this.failure = undefined;
  }

  /** Every token issued so far is now expired (Koha's clock passed them, or its tokens were purged). */
  expireTokens(): void {
    for (const token of this.tokens.values()) token.expiresAt = 0;
  }

  /** Requests to one route ('token' or 'patrons'). */
  received(route: 'token' | 'patrons'): ReceivedRequest[] {
    return this.requests.filter((r) => r.path === `/api/v1/${route === 'token' ? 'oauth/token' : 'patrons'}`);
  }

  /** The most requests to a route that arrived within any span of `windowMs` (a sliding window, not calendar minutes). */
  maxWithin(route: 'token' | 'patrons', windowMs: number): number {
    const times = this.received(route)
      .map((r) => r.at)
      .sort((x, y) => x - y);
    let most = 0;
    for (let first = 0, last = 0; last < times.length; last++) {
      while (times[last]! - times[first]! >= windowMs) first++;
      most = Math.max(most, last - first + 1);
    }
    return most;
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    // Counted from the first byte to the last of the answer (or the connection's end).
    this.inFlight++;
    this.maxInFlight = Math.max(this.maxInFlight, this.inFlight);
    let counted = true;
    const done = () => {
      if (counted) this.inFlight--;
      counted = false;
    };
    res.once('finish', done);
    res.once('close', done);
    const arrived = Date.now();
    const url = new URL(req.url ?? '/', 'http://fake');
    const raw = await readBody(req);
    const header = req.headers.authorization ?? '';
    const record: ReceivedRequest = {
      method: req.method ?? '',
      path: url.pathname,
      rawQuery: url.search.replace(/^\?/, ''),
      query: Object.fromEntries(url.searchParams),
      authorization: !header ? null : /^Bearer /i.test(header) ? 'bearer' : /^Basic /i.test(header) ? 'basic' : 'other',
      status: 0,
      at: arrived,
    };
    if (url.pathname === '/api/v1/oauth/token') record.form = Object.fromEntries(new URLSearchParams(raw));
    this.requests.push(record);
    const reply = (status: number, body: unknown, headers: Record<string, string> = {}) => {
      record.status = status;
      if (res.destroyed) return;
      res.writeHead(status, { 'content-type': 'application/json;charset=UTF-8', ...headers });
      res.end(JSON.stringify(body));
    };

    const route = url.pathname === '/api/v1/oauth/token' ? 'token' : url.pathname === '/api/v1/patrons' ? 'patrons' : undefined;
    const on = this.failure?.on ?? 'any';
    const failure = this.failure && (on === 'any' || on === route) && this.failuresLeft > 0 ? this.failure : undefined;
    if (failure) {
      this.failuresLeft--;
      if (failure.delayMs) await waitOrClose(res, failure.delayMs);
      if (res.destroyed) return;
      if (failure.reset) return void req.socket.destroy();
      if (failure.status) return reply(failure.status, { error: `Erreur simulée ${failure.status}` });
      if (failure.garbage) {
        record.status = 200;
        res.writeHead(200, { 'content-type': 'application/json' });
        return void res.end('<html><body>Proxy Error</body></html>{"patron_id":');
      }
      if (failure.json !== undefined) return reply(200, failure.json);
      if (failure.huge) return this.stream(res, record, typeof failure.huge === 'object');
    }

    if (req.method === 'POST' && route === 'token') return this.token(record.form ?? {}, reply);
    if (req.method === 'GET' && route === 'patrons') {
      const refusal = this.authenticate(header);
      if (refusal) return reply(refusal.status, refusal.body);
      return this.listPatrons(url, reply);
    }
    // Mojolicious::Plugin::OpenAPI's answer to a route that does not exist.
    reply(404, { errors: [{ message: 'Not Found.', path: '/' }], status: 404 });
  }

  /** Koha/REST/V1/OAuth.pm#token. */
  private token(form: Record<string, string>, reply: (status: number, body: unknown) => void) {
    if (!form.grant_type) return reply(400, { errors: [{ message: 'Missing property.', path: '/grant_type' }], status: 400 });
    if (form.grant_type !== 'client_credentials' || !this.clientCredentialsEnabled) return reply(400, { error: 'Unimplemented grant type' });
    const client = this.oauthClients.find((c) => c.id === form.client_id && c.secret === form.client_secret);
    if (!client) return reply(403, { error: 'unauthorized_client' });
    const token = randomBytes(20).toString('hex');
    this.tokens.set(token, { clientId: client.id, expiresAt: Date.now() + this.tokenLifetimeS * 1000 });
    reply(200, { access_token: token, token_type: 'Bearer', expires_in: this.tokenLifetimeS });
  }

  /** Koha/REST/V1/Auth.pm: who calls, and whether they may list patrons. */
  private authenticate(header: string): { status: number; body: unknown } | undefined {
    const failure = { status: 401, body: { error: 'Authentication failure.' } };
    let client: FakeClient | undefined;
    if (/^Bearer /i.test(header)) {
      const token = this.tokens.get(header.slice(7).trim());
      if (!token || token.expiresAt <= Date.now()) return failure;
      client = this.oauthClients.find((c) => c.id === token.clientId);
    } else if (/^Basic /i.test(header)) {
      if (!this.basicAuthEnabled) return { status: 401, body: { error: 'Basic authentication disabled' } };
      const decoded = Buffer.from(header.slice(6).trim(), 'base64').toString('utf8');
      const colon = decoded.indexOf(':');
      client = this.basicUsers.find((u) => u.id === decoded.slice(0, colon) && u.secret === decoded.slice(colon + 1));
    }
    if (!client) return failure;
    if (client.canSeePatrons === false) {
      return { status: 403, body: { error: 'Authorization failure. Missing required permission(s).', required_permissions: { borrowers: '1' } } };
    }
    return undefined;
  }

  /** Koha/REST/V1/Patrons.pm#list through Koha/REST/Plugin/Objects.pm: filter, sort, page. */
  private listPatrons(url: URL, reply: (status: number, body: unknown, headers?: Record<string, string>) => void) {
    const params = url.searchParams;
    const invalid = (name: string, message: string) => reply(400, { errors: [{ message, path: `/${name}` }], status: 400 });
    for (const name of new Set(params.keys())) {
      if (name === 'q') return reply(400, { error: 'Le faux Koha ne sait pas interpréter q.', error_code: 'invalid_query' });
      if (!FILTERABLE.has(name) && !ACCEPTED_UNFILTERED.has(name) && !name.startsWith('_')) return invalid(name, 'Malformed query string');
      if (name.startsWith('_') && !['_match', '_order_by', '_page', '_per_page'].includes(name)) return invalid(name, 'Malformed query string');
    }
    const match = (this.ignoreMatch ? 'contains' : (params.get('_match') ?? 'contains')) as Match;
    if (!MATCHES.includes(match)) return invalid('_match', `Not in enum list: ${MATCHES.join(', ')}.`);
    const page = params.has('_page') ? Number(params.get('_page')) : 1;
    const perPage = params.has('_per_page') ? Number(params.get('_per_page')) : DEFAULT_PAGE_SIZE;
    if (!Number.isInteger(page) || page < 1) return invalid('_page', 'Expected integer.');
    if (!Number.isInteger(perPage) || (perPage < 1 && perPage !== -1)) return invalid('_per_page', 'Expected integer.');

    const filters = [...params].filter(([name]) => FILTERABLE.has(name));
    let found = this.patrons.filter((patron) =>
      filters.every(([name, wanted]) => matches((patron as unknown as Record<string, unknown>)[name], wanted, match)),
    );
    for (const key of (params.get('_order_by') ?? '').split(',').filter(Boolean).reverse()) {
      const field = key.replace(/^[+\-\s]/, '') as keyof FakePatron;
      const direction = key.startsWith('-') ? -1 : 1;
      found = [...found].sort((a, b) => direction * String(a[field] ?? '').localeCompare(String(b[field] ?? '')));
    }

    const total = found.length;
    const all = this.ignorePaging || perPage === -1;
    const rows = all ? found : found.slice((page - 1) * perPage, page * perPage);
    const headers: Record<string, string> = {};
    if (!this.omitTotalCount) {
      headers['x-total-count'] = String(total);
      headers['x-base-total-count'] = String(this.patrons.length);
      if (!this.ignorePaging) headers.link = paginationLinks(url, this.url, total, all ? -1 : perPage, all ? 1 : page);
    }
    reply(200, rows, headers);
  }

  /** An answer that never ends: `[` then patrons, forever (up to 1 GiB), honouring back-pressure. */
  private async stream(res: ServerResponse, record: ReceivedRequest, declared: boolean): Promise<void> {
    record.status = 200;
    res.writeHead(200, { 'content-type': 'application/json', ...(declared ? { 'content-length': String(ONE_GIB) } : {}) });
    const chunk = Buffer.from(`${JSON.stringify(Array.from({ length: 50 }, () => this.patrons[0] ?? { patron_id: 1, surname: 'Sans Fin' })).slice(1, -1)},`);
    res.write('[');
    let sent = 1;
    while (sent < ONE_GIB && !res.destroyed && !res.writableEnded) {
      sent += chunk.length;
      this.bytesStreamed += chunk.length;
      if (!res.write(chunk)) {
        await new Promise<void>((resolve) => {
          const done = () => {
            res.off('drain', done);
            res.off('close', done);
            resolve();
          };
          res.once('drain', done);
          res.once('close', done);
        });
      }
    }
    if (!res.destroyed) res.destroy();
  }
}

/** Koha/REST/Plugin/Query.pm's comparisons, case-insensitive as MySQL's collation makes them. */
function matches(value: unknown, wanted: string, match: Match): boolean {
  if (value === null || value === undefined) return false;
  if (typeof value === 'boolean') return String(value) === wanted.toLowerCase() || (value ? '1' : '0') === wanted;
  const actual = String(value).toLowerCase();
  const target = wanted.toLowerCase();
  switch (match) {
    case 'exact':
      return actual === target;
    case 'starts_with':
      return actual.startsWith(target);
    case 'ends_with':
      return actual.endsWith(target);
    default:
      return actual.includes(target);
  }
}

/** The Link header of Koha/REST/Plugin/Pagination.pm: prev and next when they exist, first and last. */
function paginationLinks(url: URL, base: string, total: number, perPage: number, page: number): string {
  const pages = perPage === -1 ? 1 : Math.max(1, Math.ceil(total / perPage));
  const link = (target: number, rel: string) => {
    const next = new URL(`${new URL(base).origin}${url.pathname}${url.search}`);
    next.searchParams.set('_page', String(target));
    next.searchParams.set('_per_page', String(perPage));
    return `<${next.toString()}>; rel="${rel}"`;
  };
  const links: string[] = [];
  if (perPage !== -1 && pages > 1 && page > 1) links.push(link(page - 1, 'prev'));
  if (perPage !== -1 && pages > 1 && page < pages) links.push(link(page + 1, 'next'));
  links.push(link(1, 'first'), link(pages, 'last'));
  return links.join(',');
}

async function readBody(req: IncomingMessage): Promise<string> {
  let raw = '';
  for await (const chunk of req) raw += chunk;
  return raw;
}

/** Waits, unless the client goes away first (its timeout), so that nothing lingers after a test. */
function waitOrClose(res: ServerResponse, ms: number): Promise<void> {
  return new Promise((resolve) => {
    const timer = setTimeout(done, ms);
    function done() {
      clearTimeout(timer);
      res.off('close', done);
      resolve();
    }
    res.once('close', done);
  });
}
