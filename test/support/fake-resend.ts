// A stand-in for the Resend API on loopback: records what the application sends, honours
// Idempotency-Key like Resend (a repeated key returns the first answer and sends nothing), and can
// be told to fail the next calls.
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface SentEmail {
  id: string;
  from: string;
  to: string[];
  cc?: string[];
  reply_to?: string | string[];
  subject: string;
  html: string;
  text: string;
  idempotencyKey: string | undefined;
}

export interface FakeFailure {
  status: number;
  headers?: Record<string, string>;
  body?: unknown;
}

export class FakeResend {
  /** E-mails actually "sent": one per distinct idempotency key. */
  readonly sent: SentEmail[] = [];
  /** Every POST /emails received, including failed and repeated ones. */
  readonly requests: { at: number; idempotencyKey: string | undefined; status: number }[] = [];
  private failures: (FakeFailure & { afterSent: number })[] = [];
  private server: Server | undefined;
  url = '';

  async start(): Promise<this> {
    this.server = createServer((req, res) => {
      let raw = '';
      req.on('data', (chunk) => (raw += chunk));
      req.on('end', () => {
        const key = req.headers['idempotency-key'] as string | undefined;
        const reply = (status: number, body: unknown, headers: Record<string, string> = {}) => {
          this.requests.push({ at: Date.now(), idempotencyKey: key, status });
          res.writeHead(status, { 'content-type': 'application/json', ...headers });
          res.end(JSON.stringify(body));
        };
        if (req.method !== 'POST' || req.url !== '/emails') return reply(404, { statusCode: 404, name: 'not_found', message: 'Not found' });
        const failure = this.failures[0] && this.sent.length >= this.failures[0].afterSent ? this.failures.shift() : undefined;
        if (failure) {
          return reply(failure.status, failure.body ?? { statusCode: failure.status, name: 'application_error', message: 'échec simulé' }, failure.headers);
        }
        const previous = this.sent.find((e) => key && e.idempotencyKey === key);
        if (previous) return reply(200, { id: previous.id });
        const body = JSON.parse(raw);
        const email: SentEmail = { ...body, id: crypto.randomUUID(), idempotencyKey: key, to: [body.to].flat() };
        this.sent.push(email);
        reply(200, { id: email.id });
      });
    });
    await new Promise<void>((resolve) => this.server!.listen(0, '127.0.0.1', resolve));
    this.url = `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
    return this;
  }

  failNext(...failures: FakeFailure[]): void {
    this.failAfter(0, ...failures);
  }

  /** Fails the calls that come once `count` e-mails have been sent (in the middle of a run). */
  failAfter(count: number, ...failures: FakeFailure[]): void {
    this.failures.push(...failures.map((failure) => ({ ...failure, afterSent: count })));
  }

  /** E-mails sent to an address, oldest first. */
  to(address: string): SentEmail[] {
    return this.sent.filter((e) => e.to.includes(address) || e.cc?.includes(address));
  }

  async waitFor(predicate: (sent: SentEmail[]) => boolean, timeoutMs = 15_000): Promise<SentEmail[]> {
    const deadline = Date.now() + timeoutMs;
    while (!predicate(this.sent)) {
      if (Date.now() > deadline) throw new Error(`FakeResend : attente dépassée (${this.sent.length} e-mail(s) reçus)`);
      await new Promise((r) => setTimeout(r, 50));
    }
    return this.sent;
  }

  async stop(): Promise<void> {
    await new Promise<void>((resolve) => (this.server ? this.server.close(() => resolve()) : resolve()));
  }
}
