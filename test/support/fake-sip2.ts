// A stand-in for a library's SIP2 server on loopback, written from the SIP2 2.00 specification and
// from how Koha's SIP server answers (C4/SIP/Sip.pm, Sip/MsgType.pm, ILS/Patron.pm): login 93/94
// against configured accounts, patron information 63/64 by card number, error detection as Koha
// does it (a request ending in AY<n>AZ<sum> turns it on; a bad sum gets the constant 96AZFEF6; the
// answer echoes the sequence number), messages ended by CRLF unless told otherwise. It records what
// it received and can be made to fail in the ways a real server does.
import { readFileSync } from 'node:fs';
import { type AddressInfo, createServer as createNetServer, type Server, type Socket } from 'node:net';
import { createServer as createTlsServer } from 'node:tls';

/** The committed self-signed certificate (localhost, 127.0.0.1, ::1), for TLS tests: trust it through CallOptions.ca. */
export const FAKE_SIP2_CERTIFICATE = readFileSync(new URL('./tls/cert.pem', import.meta.url), 'utf8');
const FAKE_SIP2_KEY = readFileSync(new URL('./tls/key.pem', import.meta.url), 'utf8');

export interface FakeSip2Account {
  /** CN */
  username: string;
  /** CO */
  password: string;
  /** The institution Koha answers with in AO. */
  institution?: string;
}

export interface FakeSip2Patron {
  /** Koha sends "firstname surname" in AE. */
  name: string;
  /** YYYY-MM-DD; sent in PB as Koha does, dashes removed (YYYYMMDD). `pb` overrides it with any text. */
  birthDate?: string;
  pb?: string;
  /** YYYY-MM-DD: past means expired, and Koha then denies the four privileges and says so in AF. */
  expiresOn?: string;
  /** Debarred (Koha: privileges denied, not expired). */
  debarred?: boolean;
  /** Card reported lost (status position 5). */
  cardLost?: boolean;
  email?: string;
  category?: string;
  /** Further variable fields to send as they are. */
  extraFields?: [string, string][];
}

export interface FakeSip2Failures {
  /** Wait this long before each answer. */
  delayMs?: number;
  /** Answers with a wrong AZ. */
  wrongChecksum?: boolean;
  /** Answers with another sequence number than the request's. */
  wrongSequence?: boolean;
  /** Answers something that is not SIP2. */
  garbage?: boolean;
  /** Resets the connection (RST) on the first message. */
  reset?: boolean;
  /** Reads, never answers. */
  silent?: boolean;
  /** On the first message, streams bytes without ever ending the line, until the client hangs up. */
  noTerminator?: boolean;
  /** Answers 940 to every login. */
  refuseLogin?: boolean;
  /** Answers the first message with 96 (request SC resend), as if it had arrived corrupted. */
  requestResendOnce?: boolean;
  /** Hangs up right after answering a 63, the answer and the FIN arriving together. */
  hangUpAfterPatronInformation?: boolean;
}

export interface FakeSip2Options {
  accounts?: FakeSip2Account[];
  /** By card number. */
  patrons?: Record<string, FakeSip2Patron>;
  /** Where the expiry date goes: Koha's sample SIPconfig.xml puts `patron.dateexpiry` in a custom DE field; Evergreen uses PA. Null: not sent. */
  expiryField?: string | null;
  /** How the expiry date is written: YYYY-MM-DD (Koha's template), YYYYMMDD (Evergreen), or the 18-character SIP date. */
  expiryFormat?: 'iso' | 'compact' | 'sip';
  /** Koha's `terminator` account setting: CRLF by default, CR when set; LF seen elsewhere. */
  terminator?: 'CR' | 'CRLF' | 'LF';
  /** Close the connection instead of answering 96 when the client's checksum is wrong. */
  closeOnBadChecksum?: boolean;
  /** The day "today" is, for expiry (YYYY-MM-DD); the real date by default. */
  today?: string;
}

export interface ReceivedSip2Message {
  /** Which connection (1, 2…). */
  connection: number;
  raw: string;
  code: string;
  /** AY, when the client sent error detection. */
  sequence: number | null;
  /** Whether the client's AZ was right; null without one. */
  checksumOk: boolean | null;
}

const pad = (value: number, length = 2) => String(value).padStart(length, '0');

/** The checksum, computed here independently of the adapter (Koha: the 16-bit sum of the bytes, negated). */
function checksum(bytes: Buffer): number {
  let sum = 0;
  for (const byte of bytes) sum += byte;
  return -sum & 0xffff;
}
const hex = (value: number) => value.toString(16).toUpperCase().padStart(4, '0');

/** Koha's timestamp(): local time, the zone left as four spaces. */
function timestamp(date = new Date()): string {
  return `${date.getFullYear()}${pad(date.getMonth() + 1)}${pad(date.getDate())}    ${pad(date.getHours())}${pad(date.getMinutes())}${pad(date.getSeconds())}`;
}

/** Koha's add_field: value, delimiter; a delimiter inside the value becomes an HTML entity, a CR a space. */
const addField = (id: string, value: string) => `${id}${value.replaceAll('\r', ' ').replaceAll('|', '&#124;')}|`;
const maybeAdd = (id: string, value: string | undefined | null) => (value ? addField(id, value) : '');

/** Koha's "metric" date format, which its screen messages use in France. */
const metric = (iso: string) => iso.split('-').reverse().join('/');

export class FakeSip2 {
  accounts: FakeSip2Account[];
  patrons: Record<string, FakeSip2Patron>;
  expiryField: string | null;
  expiryFormat: 'iso' | 'compact' | 'sip';
  terminator: 'CR' | 'CRLF' | 'LF';
  closeOnBadChecksum: boolean;
  today: string | undefined;
  /** Set any of these, at any time, to make the next exchanges fail. */
  failures: FakeSip2Failures = {};

  /** Connections accepted since start (TCP level, TLS handshakes included even if they fail). */
  connections = 0;
  /** Connections still open. */
  open = 0;
  readonly received: ReceivedSip2Message[] = [];
  /** What was sent, without terminators. */
  readonly sent: string[] = [];

  private server: Server | undefined;
  private readonly sockets = new Set<Socket>();
  private tls = false;
  private port = 0;
  private idleWaiters: (() => void)[] = [];

  constructor(options: FakeSip2Options = {}) {
    this.accounts = options.accounts ?? [{ username: 'numos', password: 'secret-sip', institution: 'MED57' }];
    this.patrons = options.patrons ?? {};
    this.expiryField = options.expiryField === undefined ? 'DE' : options.expiryField;
    this.expiryFormat = options.expiryFormat ?? 'iso';
    this.terminator = options.terminator ?? 'CRLF';
    this.closeOnBadChecksum = options.closeOnBadChecksum ?? false;
    this.today = options.today;
  }

  /** Messages received, all connections together. */
  get messages(): number {
    return this.received.length;
  }

  get endpoint(): string {
    return `127.0.0.1:${this.port}`;
  }

  async start({ tls = false }: { tls?: boolean } = {}): Promise<{ host: string; port: number; endpoint: string }> {
    this.tls = tls;
    await this.listen(0);
    return { host: '127.0.0.1', port: this.port, endpoint: this.endpoint };
  }

  async stop(): Promise<void> {
    for (const socket of this.sockets) socket.destroy();
    await this.closeListener();
  }

  /** Down: the port refuses connections (listener closed, the port number kept); up again on the same port. */
  async setDown(down: boolean): Promise<void> {
    if (down) await this.closeListener();
    else if (!this.server) await this.listen(this.port);
  }

  /** Resolves once no connection is open (the client closed its own), rejects after `timeoutMs`. */
  idle(timeoutMs = 3000): Promise<void> {
    if (this.open === 0) return Promise.resolve();
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`fake SIP2: ${this.open} connection(s) still open after ${timeoutMs} ms`)), timeoutMs);
      this.idleWaiters.push(() => {
        clearTimeout(timer);
        resolve();
      });
    });
  }

  /** Forgets what was received and the failures (the patrons and accounts stay). */
  forget(): void {
    this.failures = {};
    this.connections = 0;
    this.received.length = 0;
    this.sent.length = 0;
  }

  private async listen(port: number): Promise<void> {
    const server = this.tls
      ? createTlsServer({ cert: FAKE_SIP2_CERTIFICATE, key: FAKE_SIP2_KEY }, (socket) => this.serve(socket))
      : createNetServer((socket) => this.serve(socket));
    // Counted at the TCP level, so that a failed TLS handshake is seen too.
    // Prepended: counted before the handler runs, so that the handler knows its connection's number.
    server.prependListener('connection', (socket: Socket) => this.track(socket));
    // A client that gives up during the handshake is no concern of the fake's.
    server.on('tlsClientError', () => {});
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(port, '127.0.0.1', () => {
        server.off('error', reject);
        resolve();
      });
    });
    this.server = server;
    this.port = (server.address() as AddressInfo).port;
  }

  private async closeListener(): Promise<void> {
    const server = this.server;
    this.server = undefined;
    if (server) await new Promise<void>((resolve) => server.close(() => resolve()));
  }

  private track(socket: Socket): void {
    this.connections++;
    this.open++;
    this.sockets.add(socket);
    socket.on('error', () => {});
    socket.on('close', () => {
      this.sockets.delete(socket);
      this.open--;
      if (this.open === 0) for (const wake of this.idleWaiters.splice(0)) wake();
    });
  }

  private serve(socket: Socket): void {
    const connection = this.connections;
    const session = { loggedIn: false, institution: 'SIP2', first: true };
    let pending = Buffer.alloc(0);
    // Answers go out in order even when delayed.
    let queue = Promise.resolve();
    socket.on('error', () => {});
    socket.on('data', (chunk: Buffer) => {
      pending = Buffer.concat([pending, chunk]);
      // The spec ends a request with CR; Koha also strips LFs (Cen-Tec terminals send CRLF).
      for (let end = lineEnd(pending); end !== -1; end = lineEnd(pending)) {
        const raw = pending.subarray(0, end);
        pending = pending.subarray(end + 1);
        if (raw.length === 0) continue;
        const message = Buffer.from(raw);
        queue = queue.then(() => this.handle(socket, message, session, connection));
      }
    });
  }

  private async handle(socket: Socket, raw: Buffer, session: { loggedIn: boolean; institution: string; first: boolean }, connection: number): Promise<void> {
    if (socket.destroyed) return;
    const text = raw.toString('utf8');
    const detection = /AY(\d)AZ([0-9A-Fa-f]{4})$/.exec(text);
    const withSum = /AZ([0-9A-Fa-f]{4})$/.exec(text);
    const checksumOk = withSum ? checksum(raw.subarray(0, raw.length - 4)) === Number.parseInt(withSum[1]!, 16) : null;
    const sequence = detection ? Number(detection[1]) : null;
    this.received.push({ connection, raw: text, code: text.slice(0, 2), sequence, checksumOk });

    const failures = this.failures;
    const first = session.first;
    session.first = false;
    if (failures.reset) {
      // An RST needs the TCP handle itself: over TLS, a plain destroy.
      try {
        socket.resetAndDestroy();
      } catch {
        socket.destroy();
      }
      return;
    }
    if (failures.silent) return;
    if (failures.noTerminator && first) {
      const chunk = Buffer.alloc(1024, 'A');
      const timer = setInterval(() => {
        if (socket.destroyed || socket.writableEnded) clearInterval(timer);
        else socket.write(chunk);
      }, 2);
      socket.on('close', () => clearInterval(timer));
      return;
    }
    if (failures.delayMs) await new Promise((resolve) => setTimeout(resolve, failures.delayMs));
    if (socket.destroyed) return;
    if (failures.garbage) {
      this.write(socket, 'HTTP/1.1 400 Bad Request', null);
      return;
    }
    if (checksumOk === false) {
      // Koha: REQUEST_SC_RESEND with error detection, the constant 96AZFEF6.
      if (this.closeOnBadChecksum) socket.destroy();
      else this.write(socket, '96AZFEF6', null, false);
      return;
    }
    if (failures.requestResendOnce && first) {
      this.write(socket, '96AZFEF6', null, false);
      return;
    }
    const answerSequence = detection ? (failures.wrongSequence ? (sequence! + 1) % 10 : sequence) : null;
    const errorDetection = withSum !== null;

    const code = text.slice(0, 2);
    if (code === '93') {
      const fields = fieldsOf(text.slice(4, detection ? text.length - 9 : undefined));
      const account = this.accounts.find((a) => a.username === fields.CN && a.password === fields.CO);
      // Koha refuses non-zero UID/PWD algorithms.
      const ok = !failures.refuseLogin && account !== undefined && text.slice(2, 4) === '00';
      if (ok) {
        session.loggedIn = true;
        session.institution = account.institution ?? 'SIP2';
      }
      this.write(socket, `94${ok ? 1 : 0}`, answerSequence, errorDetection);
      return;
    }
    if (code === '63') {
      // Koha's raw transport takes nothing but a login before a successful one.
      if (!session.loggedIn && this.accounts.length) {
        socket.destroy();
        return;
      }
      const language = text.slice(2, 5);
      const fields = fieldsOf(text.slice(33, detection ? text.length - 9 : undefined));
      this.write(socket, this.patronInformation(fields.AA ?? '', language, session.institution), answerSequence, errorDetection);
      if (failures.hangUpAfterPatronInformation) socket.end();
      return;
    }
    // Koha: no handler, REQUEST_SC_RESEND.
    this.write(socket, '96', null, errorDetection);
  }

  /** A 64 as Koha's handle_patron_info builds it. */
  private patronInformation(card: string, language: string, institution: string): string {
    const patron = this.patrons[card];
    if (!patron) {
      return `64YYYY${' '.repeat(10)}${language}${timestamp()}${'0000'.repeat(6)}${addField('AO', institution)}${addField('AA', card)}${addField('AE', '')}${addField('BL', 'N')}${addField('AF', 'Invalid cardnumber')}`;
    }
    const today = this.today ?? new Date().toISOString().slice(0, 10);
    const expired = patron.expiresOn !== undefined && patron.expiresOn < today;
    const denied = expired || patron.debarred;
    // charge, renewal, recall, hold denied (Koha: denied when debarred or expired), card lost, then nine blanks.
    const status = `${denied ? 'YYYY' : '    '}${patron.cardLost ? 'Y' : ' '}${' '.repeat(9)}`;
    let screen = 'Greetings from Koha. ';
    if (expired) screen += `Your account has expired as of ${metric(patron.expiresOn!)}`;
    let expiry = '';
    if (this.expiryField && patron.expiresOn) {
      const compact = patron.expiresOn.replaceAll('-', '');
      const value = this.expiryFormat === 'iso' ? patron.expiresOn : this.expiryFormat === 'compact' ? compact : `${compact}    235900`;
      expiry = addField(this.expiryField, value);
    }
    return [
      `64${status}${language}${timestamp()}${'0000'.repeat(6)}`,
      addField('AO', institution),
      addField('AA', card),
      addField('AE', patron.name),
      addField('BL', 'Y'),
      addField('CC', '5'),
      maybeAdd('BE', patron.email),
      maybeAdd('PB', patron.pb ?? patron.birthDate?.replaceAll('-', '')),
      maybeAdd('PC', patron.category ?? 'ADULTE'),
      addField('PI', denied ? 'N' : 'Y'),
      maybeAdd('AF', screen.trim()),
      expiry,
      ...(patron.extraFields ?? []).map(([id, value]) => addField(id, value)),
    ].join('');
  }

  /** Koha's write_msg: AY (when the request had one) and AZ appended when error detection is on, then the terminator. */
  private write(socket: Socket, body: string, sequence: number | null, errorDetection = true): void {
    let message = body;
    if (errorDetection) {
      if (sequence !== null) message += `AY${sequence}`;
      message += 'AZ';
      const sum = checksum(Buffer.from(message, 'utf8'));
      message += hex(this.failures.wrongChecksum ? (sum + 1) & 0xffff : sum);
    }
    this.sent.push(message);
    const terminator = this.terminator === 'CR' ? '\r' : this.terminator === 'LF' ? '\n' : '\r\n';
    socket.write(`${message}${terminator}`, 'utf8');
  }
}

const lineEnd = (buffer: Buffer) => buffer.findIndex((byte) => byte === 0x0d || byte === 0x0a);

/** Variable fields of a request, first value of each. */
function fieldsOf(text: string): Record<string, string> {
  const fields: Record<string, string> = {};
  for (const piece of text.split('|')) if (piece.length >= 2) fields[piece.slice(0, 2)] ??= piece.slice(2);
  return fields;
}
