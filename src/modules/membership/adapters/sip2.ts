// SIP2 (3M Standard Interchange Protocol 2.00), as Koha and most library systems serve it to their
// self-service machines: one connection per lookup, a login (93/94), then patron information
// (63/64) by card number, with error detection (AY sequence number, AZ checksum) on every message.
// Written on node:net / node:tls: no maintained npm client exists. The message functions are pure
// and exported for the unit tests; the adapter only adds the socket, the time limit and the guards.
import { isIP, connect as netConnect, type Socket } from 'node:net';
import { getCACertificates, connect as tlsConnect } from 'node:tls';
import { checkEncrypted, checkHost, guardedLookup } from './network.js';
import {
  type ApplicantQuery,
  type CallOptions,
  ConnectorFailure,
  type ConnectorSettings,
  type Lookup,
  type MembershipAdapter,
  type MemberFacts,
} from './contract.js';

/** The field delimiter of SIP2 (Koha's default; configurable there, but `|` everywhere in practice). */
export const SIP_DELIMITER = '|';

export const NO_CARD_NOTE = 'Sans numéro de carte, SIP2 ne permet pas de rechercher un adhérent : vérification à faire à la main.';
export const UNSENDABLE_CARD_NOTE =
  'Le numéro de carte contient un caractère que SIP2 ne peut pas transmettre (« | » ou retour à la ligne) : aucune recherche.';

/** A value SIP2 cannot carry: the delimiter would split it, a line break would end the message. */
const UNSENDABLE = /[|\r\n]/;

// ---------------------------------------------------------------------------------------------
// Error detection: AY (sequence number, one digit) then AZ (checksum), last in every message.
// ---------------------------------------------------------------------------------------------

/**
 * The checksum of SIP2: the two's complement of the 16-bit sum of every byte, from the first one
 * through the `AZ` of the checksum field, as four upper-case hex digits. Strings are counted in
 * UTF-8, the bytes actually sent (Koha's `unpack('%16C*')` sums bytes when the account sets an encoding).
 */
export function sipChecksum(data: string | Uint8Array): string {
  const bytes = typeof data === 'string' ? Buffer.from(data, 'utf8') : data;
  let sum = 0;
  for (const byte of bytes) sum = (sum + byte) & 0xffff;
  return ((-sum & 0xffff) >>> 0).toString(16).toUpperCase().padStart(4, '0');
}

/** A message body with its error detection fields appended (`AY<n>AZ<checksum>`), without the terminator. */
export function withErrorDetection(body: string, sequence: number): string {
  const head = `${body}AY${sequence % 10}AZ`;
  return head + sipChecksum(head);
}

/** The error detection trailer: some servers put a delimiter before AY or AZ, hex may be lower-case. */
const TRAILER = /(?:\|?AY(\d)\|?)?AZ([0-9A-Fa-f]{4})$/;

export interface SipTrailer {
  /** The message without its AY/AZ fields (a delimiter before them is kept, as a field end). */
  body: string;
  sequence: number | null;
  checksum: string | null;
}

/** Splits the AY/AZ fields off a message (no terminator); a message without them is returned whole. */
export function readTrailer(message: string): SipTrailer {
  const match = TRAILER.exec(message);
  if (!match) {
    // AY without AZ: tolerated (the checksum is optional in SIP2), the sequence number still checked.
    const sequenceOnly = /\|?AY(\d)\|?$/.exec(message);
    if (sequenceOnly) return { body: message.slice(0, sequenceOnly.index), sequence: Number(sequenceOnly[1]), checksum: null };
    return { body: message, sequence: null, checksum: null };
  }
  return { body: message.slice(0, match.index), sequence: match[1] === undefined ? null : Number(match[1]), checksum: match[2]!.toUpperCase() };
}

/**
 * Whether a received message's AZ is right: true or false, null when it carries none. Raw bytes
 * are best. A Koha account without `encoding` sums characters, not bytes (each one's code taken
 * modulo 256, Perl's `unpack('%16C*')` on a character string), then prints UTF-8 as soon as a name
 * holds a character beyond Latin-1 (œ, ’): that sum is accepted too, for UTF-8 text only.
 */
export function verifyChecksum(message: string | Uint8Array): boolean | null {
  const bytes = typeof message === 'string' ? Buffer.from(message, 'utf8') : Buffer.from(message);
  const text = bytes.toString('latin1');
  const match = /AZ([0-9A-Fa-f]{4})$/.exec(text);
  if (!match) return null;
  const expected = match[1]!.toUpperCase();
  // latin1 keeps one character per byte, so the offset in the text is the offset in the bytes.
  const head = bytes.subarray(0, bytes.length - 4);
  if (sipChecksum(head) === expected) return true;
  let characters: string;
  try {
    characters = new TextDecoder('utf-8', { fatal: true }).decode(head);
  } catch {
    return false;
  }
  if (characters.length === head.length) return false;
  let sum = 0;
  for (const character of characters) sum = (sum + (character.codePointAt(0)! & 0xff)) & 0xffff;
  return ((-sum & 0xffff) >>> 0).toString(16).toUpperCase().padStart(4, '0') === expected;
}

// ---------------------------------------------------------------------------------------------
// Dates.
// ---------------------------------------------------------------------------------------------

const pad = (value: number, length = 2) => String(value).padStart(length, '0');

/** SIP2's transaction date, YYYYMMDDZZZZHHMMSS, in local time (the zone ZZZZ left blank, as the spec says for local time). */
export function formatSipDate(date: Date): string {
  return `${pad(date.getFullYear(), 4)}${pad(date.getMonth() + 1)}${pad(date.getDate())}    ${pad(date.getHours())}${pad(date.getMinutes())}${pad(date.getSeconds())}`;
}

function calendarDate(year: number, month: number, day: number): string | null {
  if (year < 1000 || month < 1 || month > 12 || day < 1) return null;
  const last = new Date(Date.UTC(year, month, 0)).getUTCDate();
  return day > last ? null : `${pad(year, 4)}-${pad(month)}-${pad(day)}`;
}

/** Each format, and where its year, month and day are. */
const DATE_FORMATS: [RegExp, [number, number, number]][] = [
  [/^(\d{4})(\d{2})(\d{2})$/, [1, 2, 3]],
  [/^(\d{4})-(\d{2})-(\d{2})(?:[T ].*)?$/, [1, 2, 3]],
  [/^(\d{4})(\d{2})(\d{2})[ A-Za-z]{3,4}\d{6}$/, [1, 2, 3]],
  [/^(\d{2})[/.](\d{2})[/.](\d{4})$/, [3, 2, 1]],
];

/**
 * A date as SIP servers send them in PB (birth date) or an expiry field: YYYYMMDD (Koha's PB,
 * Evergreen's PA), YYYY-MM-DD (Koha's custom fields from `patron.dateexpiry`), the 18-character
 * SIP date (Polaris), DD/MM/YYYY (Koha's "metric" date format, a French library's template), or a
 * year alone. The calendar date is taken as written (the time and zone are ignored). Null when
 * the value is none of these or not a real date.
 */
export function parseSipDate(value: string | null | undefined): { date: string | null; year: number | null } | null {
  const text = value?.trim() ?? '';
  const yearAlone = /^(\d{4})$/.exec(text);
  if (yearAlone) {
    const year = Number(yearAlone[1]);
    return year >= 1000 ? { date: null, year } : null;
  }
  for (const [pattern, order] of DATE_FORMATS) {
    const parts = pattern.exec(text);
    if (!parts) continue;
    const [year, month, day] = order.map((index) => Number(parts[index]));
    const date = calendarDate(year!, month!, day!);
    return date ? { date, year: year! } : null;
  }
  return null;
}

// ---------------------------------------------------------------------------------------------
// Requests.
// ---------------------------------------------------------------------------------------------

const field = (id: string, value: string) => `${id}${value}${SIP_DELIMITER}`;

export interface LoginRequest {
  /** CN: the login user id. */
  username: string;
  /** CO: the login password. */
  password: string;
  /** CP: the location code, when the library gives one. */
  locationCode?: string | null;
}

/** 93 Login: UID and PWD algorithms '0' (plain, the only ones Koha accepts), CN, CO, CP; with AY/AZ. */
export function buildLoginMessage(request: LoginRequest, sequence: number): string {
  let body = `9300${field('CN', request.username)}${field('CO', request.password)}`;
  if (request.locationCode) body += field('CP', request.locationCode);
  return withErrorDetection(body, sequence);
}

export interface PatronInformationRequest {
  /** AO: the institution id. */
  institutionId: string;
  /** AA: the patron identifier (the card number). */
  patronIdentifier: string;
  /** The transaction date. */
  now: Date;
  /** Three digits; 001 is English in the spec's table (the server's texts are not shown to anyone). */
  language?: string;
}

/** 63 Patron Information: language, transaction date, a blank summary (no item lists), AO, AA, an empty AC; with AY/AZ. */
export function buildPatronInformationMessage(request: PatronInformationRequest, sequence: number): string {
  const body = `63${request.language ?? '001'}${formatSipDate(request.now)}${' '.repeat(10)}${field('AO', request.institutionId)}${field('AA', request.patronIdentifier)}${field('AC', '')}`;
  return withErrorDetection(body, sequence);
}

// ---------------------------------------------------------------------------------------------
// Responses.
// ---------------------------------------------------------------------------------------------

const malformed = (what: string) => new ConnectorFailure(`Réponse SIP2 illisible (${what}) : le serveur n'a pas répondu selon le protocole.`);

/** Variable fields: two-character id, value up to the delimiter. Repeated fields (AF, AG…) keep every value. */
export function parseVariableFields(text: string): Record<string, string[]> {
  const fields: Record<string, string[]> = {};
  for (const piece of text.split(SIP_DELIMITER)) {
    if (piece.length < 2) continue;
    // Koha writes a delimiter inside a value as an HTML entity.
    const value = piece.slice(2).replaceAll('&#124;', '|');
    const id = piece.slice(0, 2);
    if (fields[id]) fields[id].push(value);
    else fields[id] = [value];
  }
  return fields;
}

/** 94 Login Response: whether the login was accepted. */
export function parseLoginResponse(message: string): boolean {
  const { body } = readTrailer(message);
  if (!body.startsWith('94') || (body[2] !== '0' && body[2] !== '1')) throw malformed('réponse à la connexion');
  return body[2] === '1';
}

export interface PatronStatus {
  chargePrivilegesDenied: boolean;
  renewalPrivilegesDenied: boolean;
  recallPrivilegesDenied: boolean;
  holdPrivilegesDenied: boolean;
  cardReportedLost: boolean;
  tooManyItemsCharged: boolean;
  tooManyItemsOverdue: boolean;
  tooManyRenewals: boolean;
  tooManyClaimsOfItemsReturned: boolean;
  tooManyItemsLost: boolean;
  excessiveOutstandingFines: boolean;
  excessiveOutstandingFees: boolean;
  recallOverdue: boolean;
  tooManyItemsBilled: boolean;
}

/** The 14 positions of the patron status, in the spec's order. */
const STATUS_NAMES: (keyof PatronStatus)[] = [
  'chargePrivilegesDenied',
  'renewalPrivilegesDenied',
  'recallPrivilegesDenied',
  'holdPrivilegesDenied',
  'cardReportedLost',
  'tooManyItemsCharged',
  'tooManyItemsOverdue',
  'tooManyRenewals',
  'tooManyClaimsOfItemsReturned',
  'tooManyItemsLost',
  'excessiveOutstandingFines',
  'excessiveOutstandingFees',
  'recallOverdue',
  'tooManyItemsBilled',
];

export interface PatronInformation {
  status: PatronStatus;
  language: string;
  transactionDate: string;
  /** Hold, overdue, charged, fine, recall and unavailable hold items; null when the server left the count blank. */
  counts: (number | null)[];
  fields: Record<string, string[]>;
}

/** 64 Patron Information Response: the fixed fields (status 14, language 3, date 18, six counts of 4), then variable fields. */
export function parsePatronInformationResponse(message: string): PatronInformation {
  const { body } = readTrailer(message);
  if (!body.startsWith('64') || body.length < 61) throw malformed('informations sur l’adhérent');
  const statusText = body.slice(2, 16);
  const counts = [0, 1, 2, 3, 4, 5].map((i) => body.slice(37 + 4 * i, 41 + 4 * i));
  // A blank count means "unsupported" in the spec; anything else but digits is not SIP2.
  if (!/^[ YN]{14}$/.test(statusText) || counts.some((count) => !/^(\d{4}| {4})$/.test(count))) throw malformed('informations sur l’adhérent');
  const status = Object.fromEntries(STATUS_NAMES.map((name, i) => [name, statusText[i] === 'Y'])) as unknown as PatronStatus;
  return {
    status,
    language: body.slice(16, 19),
    transactionDate: body.slice(19, 37),
    counts: counts.map((count) => (count.trim() ? Number(count) : null)),
    fields: parseVariableFields(body.slice(61)),
  };
}

const first = (info: PatronInformation, id: string) => info.fields[id]?.[0];

/**
 * What NuMos keeps of a 64: found or not, and the figures. BL 'N' (Koha's answer to an unknown
 * card, with status YYYY and AF "Invalid cardnumber") is nobody; without BL, a record without a
 * name is nobody too. Privileges denied or a card reported lost make the membership invalid
 * (Koha denies the four privileges of an expired or debarred patron); whether the expiry date is
 * past is the service's to judge, from `expiresOn`.
 */
export function lookupFromPatronInformation(info: PatronInformation, expiryField: string | null): Lookup {
  const validPatron = first(info, 'BL')?.trim().toUpperCase();
  if (validPatron === 'N') return { found: 'none' };
  if (validPatron !== 'Y' && !first(info, 'AE')?.trim()) return { found: 'none' };

  const birth = parseSipDate(first(info, 'PB'));
  const expiry = expiryField ? parseSipDate(first(info, expiryField.toUpperCase())) : null;
  const { status } = info;
  const denied = [
    status.chargePrivilegesDenied && 'prêt',
    status.renewalPrivilegesDenied && 'renouvellement',
    status.recallPrivilegesDenied && 'rappel',
    status.holdPrivilegesDenied && 'réservation',
  ].filter((entry): entry is string => Boolean(entry));
  const reasons: string[] = [];
  if (denied.length) {
    // Koha denies everything to an expired patron and says so in the screen message (in English).
    const expired = (info.fields.AF ?? []).some((text) => /expired|expir[ée]/i.test(text));
    reasons.push(`droits suspendus dans le système de la bibliothèque (${denied.join(', ')})${expired ? ', qui signale un abonnement expiré' : ''}`);
  }
  if (status.cardReportedLost) reasons.push('carte signalée perdue');

  const facts: MemberFacts = {
    enrolledOn: null,
    renewedOn: null,
    expiresOn: expiry?.date ?? null,
    birthDate: birth?.date ?? null,
    birthYear: birth?.year ?? null,
    valid: reasons.length === 0,
    invalidReason: reasons.length ? reasons.join(' ; ') : null,
  };
  return { found: 'one', matchedBy: 'CARD_NUMBER', facts };
}

// ---------------------------------------------------------------------------------------------
// Framing and the endpoint.
// ---------------------------------------------------------------------------------------------

/**
 * Cuts complete messages out of what was received. The spec ends a message with CR; Koha sends
 * CRLF unless told otherwise, some servers LF: any run of CR and LF ends a message.
 */
export function splitFrames(buffer: Buffer): { frames: Buffer[]; rest: Buffer } {
  const frames: Buffer[] = [];
  let start = 0;
  for (let i = 0; i < buffer.length; i++) {
    const byte = buffer[i];
    if (byte !== 0x0d && byte !== 0x0a) continue;
    if (i > start) frames.push(buffer.subarray(start, i));
    start = i + 1;
  }
  return { frames, rest: buffer.subarray(start) };
}

/** `host:port`, `[IPv6]:port`. */
export function parseEndpoint(endpoint: string): { host: string; port: number } {
  const match = /^(?:\[([0-9A-Fa-f:.]+)\]|([^\s:[\]/]+)):(\d{1,5})$/.exec(endpoint.trim());
  const port = Number(match?.[3]);
  const host = match?.[1] ?? match?.[2];
  if (!match || !host || port < 1 || port > 65535 || (match[1] !== undefined && isIP(host) !== 6)) {
    throw new ConnectorFailure(
      `L'adresse du serveur SIP2 doit être de la forme hôte:port (ou [adresse IPv6]:port), par exemple sip.mediatheque.fr:6001.`,
      false,
    );
  }
  return { host, port };
}

/** Text as received: UTF-8 when it is (Koha's "utf8" accounts), else one character per byte. */
function decode(frame: Buffer): string {
  try {
    return new TextDecoder('utf-8', { fatal: true }).decode(frame);
  } catch {
    return frame.toString('latin1');
  }
}

// ---------------------------------------------------------------------------------------------
// The connection.
// ---------------------------------------------------------------------------------------------

const CERTIFICATE_ERRORS = new Set([
  'DEPTH_ZERO_SELF_SIGNED_CERT',
  'SELF_SIGNED_CERT_IN_CHAIN',
  'UNABLE_TO_VERIFY_LEAF_SIGNATURE',
  'UNABLE_TO_GET_ISSUER_CERT',
  'UNABLE_TO_GET_ISSUER_CERT_LOCALLY',
  'CERT_HAS_EXPIRED',
  'CERT_NOT_YET_VALID',
  'CERT_UNTRUSTED',
  'CERT_REVOKED',
  'CERT_SIGNATURE_FAILURE',
  'ERR_TLS_CERT_ALTNAME_INVALID',
]);

const seconds = (ms: number) => `${(ms / 1000).toLocaleString('fr-FR', { maximumFractionDigits: 1 })} s`;

/** A network error in French, with its code (never the message, which may quote anything). */
function networkFailure(error: unknown, where: string): ConnectorFailure {
  if (error instanceof ConnectorFailure) return error;
  const code = String((error as NodeJS.ErrnoException | undefined)?.code ?? '');
  if (code === 'ECONNREFUSED') return new ConnectorFailure(`Le serveur SIP2 (${where}) refuse les connexions : est-il arrêté, ou le port est-il le bon ?`);
  if (code === 'ECONNRESET' || code === 'EPIPE') return new ConnectorFailure(`Le serveur SIP2 (${where}) a coupé la connexion.`);
  if (code === 'ENOTFOUND' || code === 'EAI_AGAIN' || code === 'EAI_NODATA') return new ConnectorFailure(`Le nom du serveur SIP2 (${where}) est introuvable.`);
  if (code === 'EHOSTUNREACH' || code === 'ENETUNREACH' || code === 'ETIMEDOUT') return new ConnectorFailure(`Le serveur SIP2 (${where}) est injoignable.`);
  if (CERTIFICATE_ERRORS.has(code)) {
    return new ConnectorFailure(
      `Le certificat TLS du serveur SIP2 (${where}) n'est pas reconnu (${code}) : s'il est auto-signé, ajoutez son autorité de certification aux réglages.`,
      false,
    );
  }
  if (code.startsWith('ERR_SSL') || code.startsWith('ERR_TLS')) {
    return new ConnectorFailure(`La négociation TLS avec le serveur SIP2 (${where}) a échoué (${code}) : le serveur parle-t-il TLS sur ce port ?`, false);
  }
  return new ConnectorFailure(`Erreur réseau avec le serveur SIP2 (${where})${code ? ` (${code})` : ''}.`);
}

interface Waiter {
  resolve: (frame: Buffer) => void;
  reject: (failure: ConnectorFailure) => void;
}

/** One SIP2 connection: sends messages, hands out the answers, fails everything at the first problem. */
class Sip2Connection {
  private socket: Socket | undefined;
  private rest = Buffer.alloc(0);
  private receivedBytes = 0;
  private readonly frames: Buffer[] = [];
  private waiter: Waiter | undefined;
  private failure: ConnectorFailure | undefined;
  private closing = false;
  private sequence = 0;
  private readonly timer: NodeJS.Timeout;
  private readonly where: string;

  constructor(
    private readonly settings: ConnectorSettings,
    private readonly target: { host: string; port: number },
    private readonly options: CallOptions,
  ) {
    this.where = target.host.includes(':') ? `[${target.host}]:${target.port}` : `${target.host}:${target.port}`;
    // One limit for the whole lookup (connection, login, patron information), not per read.
    this.timer = setTimeout(
      () => this.fail(new ConnectorFailure(`Le serveur SIP2 (${this.where}) n'a pas répondu dans le délai de ${seconds(options.timeoutMs)}.`)),
      options.timeoutMs,
    );
  }

  open(): Promise<void> {
    const { host, port } = this.target;
    const { network, ca } = this.options;
    const lookup = guardedLookup(network);
    let socket: Socket;
    try {
      socket = this.settings.tls
        ? tlsConnect({
            host,
            port,
            lookup,
            // SNI carries names only; an address is checked against the certificate's IP entries.
            ...(isIP(host) ? {} : { servername: host }),
            // A library's own authority is added to the usual ones, not put in their place.
            ...(ca?.length ? { ca: [...getCACertificates('default'), ...ca] } : {}),
          })
        : netConnect({ host, port, lookup });
    } catch (error) {
      // Thrown before any connection (bad options): a failure like the others, the timer stopped.
      return Promise.reject(this.fail(networkFailure(error, this.where)));
    }
    this.socket = socket;
    socket.setNoDelay(true);
    socket.on('data', (chunk: Buffer) => this.receive(chunk));
    socket.on('error', (error) => this.fail(networkFailure(error, this.where)));
    socket.on('end', () => this.fail(new ConnectorFailure(`Le serveur SIP2 (${this.where}) a fermé la connexion avant de répondre.`)));
    socket.on('close', () => this.fail(new ConnectorFailure(`Le serveur SIP2 (${this.where}) a fermé la connexion avant de répondre.`)));
    return new Promise<void>((resolve, reject) => {
      if (this.failure) return reject(this.failure);
      this.waiter = { resolve: () => resolve(), reject };
      socket.once(this.settings.tls ? 'secureConnect' : 'connect', () => {
        const waiter = this.waiter;
        this.waiter = undefined;
        waiter?.resolve(Buffer.alloc(0));
      });
    });
  }

  /** Sends one message (built with the next sequence number) and returns the answer of the expected kind. */
  async exchange(build: (sequence: number) => string, expected: string): Promise<string> {
    for (let attempt = 0; ; attempt++) {
      const sequence = this.sequence;
      this.sequence = (this.sequence + 1) % 10;
      this.send(build(sequence));
      const frame = await this.next();
      // A corrupted answer cannot be trusted in any part: checked before anything is read from it.
      if (verifyChecksum(frame) === false) throw this.fail(new ConnectorFailure('Réponse SIP2 altérée (somme de contrôle) : un nouvel essai peut réussir.'));
      const text = decode(frame);
      const trailer = readTrailer(text);
      const code = text.slice(0, 2);
      // 96: the server asks for the message again (it arrived corrupted); once is enough.
      if (code === '96' && attempt === 0) continue;
      if (trailer.sequence !== null && trailer.sequence !== sequence) {
        throw this.fail(new ConnectorFailure('Réponse SIP2 altérée (numéro de séquence inattendu) : un nouvel essai peut réussir.'));
      }
      if (code === '96') throw this.fail(new ConnectorFailure('Le serveur SIP2 signale des messages altérés à répétition.'));
      if (code !== expected) throw this.fail(new ConnectorFailure(`Réponse SIP2 inattendue : ${expected} attendu, le serveur a envoyé autre chose.`));
      return text;
    }
  }

  close(): void {
    this.closing = true;
    clearTimeout(this.timer);
    this.socket?.destroy();
  }

  private send(message: string): void {
    if (this.failure) throw this.failure;
    this.socket!.write(`${message}\r`, 'utf8');
  }

  private next(): Promise<Buffer> {
    // An answer that arrived whole counts even if the server hung up right after it.
    const frame = this.frames.shift();
    if (frame) return Promise.resolve(frame);
    if (this.failure) return Promise.reject(this.failure);
    return new Promise((resolve, reject) => {
      this.waiter = { resolve, reject };
    });
  }

  private receive(chunk: Buffer): void {
    if (this.failure) return;
    this.receivedBytes += chunk.length;
    const { frames, rest } = splitFrames(Buffer.concat([this.rest, chunk]));
    // Copied: a subarray would keep the whole received buffer alive.
    this.rest = Buffer.from(rest);
    if (this.rest.length > this.options.maxBytes || this.receivedBytes > this.options.maxBytes) {
      this.fail(new ConnectorFailure(`Réponse SIP2 trop longue (plus de ${this.options.maxBytes} octets) : refusée.`));
      return;
    }
    this.frames.push(...frames);
    if (this.waiter && this.frames.length) {
      const waiter = this.waiter;
      this.waiter = undefined;
      waiter.resolve(this.frames.shift()!);
    }
  }

  /** Records the first failure, rejects whoever waits, drops the connection; returns the failure that counts. */
  private fail(failure: ConnectorFailure): ConnectorFailure {
    if (this.failure || this.closing) return this.failure ?? failure;
    this.failure = failure;
    clearTimeout(this.timer);
    this.socket?.destroy();
    const waiter = this.waiter;
    this.waiter = undefined;
    waiter?.reject(failure);
    return failure;
  }
}

// ---------------------------------------------------------------------------------------------
// The adapter.
// ---------------------------------------------------------------------------------------------

/** Settings SIP2 could not carry, refused before connecting (a retry cannot mend them). */
function checkSettings(settings: ConnectorSettings): void {
  const values = [settings.username, settings.secret, settings.institutionId, settings.locationCode];
  if (values.some((value) => value != null && UNSENDABLE.test(value))) {
    throw new ConnectorFailure(
      'Les réglages SIP2 (utilisateur, mot de passe, institution, site) ne peuvent contenir ni « | » ni retour à la ligne : le serveur les lirait de travers.',
      false,
    );
  }
  if (settings.expiryField != null && settings.expiryField !== '' && !/^[A-Za-z0-9]{2}$/.test(settings.expiryField)) {
    throw new ConnectorFailure("Le champ SIP2 de la date d'expiration doit tenir en deux caractères (par exemple PA ou DE).", false);
  }
}

export function createSip2Adapter(): MembershipAdapter {
  return {
    async lookup(settings: ConnectorSettings, query: ApplicantQuery, options: CallOptions): Promise<Lookup> {
      const card = query.cardNumber?.trim();
      if (!card) return { found: 'none', note: NO_CARD_NOTE };
      if (UNSENDABLE.test(card)) return { found: 'none', note: UNSENDABLE_CARD_NOTE };

      const target = parseEndpoint(settings.endpoint);
      checkSettings(settings);
      checkEncrypted(options.network, settings.tls, 'SIP2');
      checkHost(options.network, target.host);

      const connection = new Sip2Connection(settings, target, options);
      try {
        await connection.open();
        // A server that authenticates terminals otherwise (by address) takes no login.
        if (settings.username) {
          const login = await connection.exchange(
            (sequence) => buildLoginMessage({ username: settings.username!, password: settings.secret ?? '', locationCode: settings.locationCode }, sequence),
            '94',
          );
          if (!parseLoginResponse(login)) {
            throw new ConnectorFailure("Le serveur SIP2 refuse la connexion : vérifiez l'utilisateur et le mot de passe.", false);
          }
        }
        const answer = await connection.exchange(
          (sequence) => buildPatronInformationMessage({ institutionId: settings.institutionId ?? '', patronIdentifier: card, now: options.now }, sequence),
          '64',
        );
        return lookupFromPatronInformation(parsePatronInformationResponse(answer), settings.expiryField || null);
      } finally {
        connection.close();
      }
    },
  };
}
