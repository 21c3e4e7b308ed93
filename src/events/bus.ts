// Registration events across every server instance, through PostgreSQL LISTEN/NOTIFY: no extra
// server. Changes publish with pg_notify inside their own transaction, so an event goes out if and
// only if the change commits; each instance LISTENs on one connection and hands what arrives to
// yoga's pub/sub, which feeds the subscriptions (SSE and WebSocket) of that instance.
import { createPubSub, type PubSub } from 'graphql-yoga';
import pg from 'pg';
import { reportDatabaseError } from '../db/availability.js';
import { CONNECT_TIMEOUT_MS, type Tx } from '../db/prisma.js';

export const EVENTS_CHANNEL = 'numos_registration_events';
export const REGISTRATION_TOPIC = 'registration';

export type RegistrationEventType = 'CONFIRMED' | 'DECIDED' | 'ESCALATED' | 'LAPSED' | 'RENEWAL_REQUESTED';

export interface RegistrationEventPayload {
  type: RegistrationEventType;
  occurredAt: string;
  requestId: string;
  libraryId: string;
}

export type Topics = { [REGISTRATION_TOPIC]: [RegistrationEventPayload] };

/** PostgreSQL refuses a NOTIFY payload of 8,000 bytes or more; events are ASCII. */
const PAYLOAD_LIMIT = 7_900;

/**
 * The statement that publishes events: each NOTIFY carries a JSON array of events, so that a
 * set-based job changing 100,000 rows sends about 2,000 notifications, not 100,000 (which cost
 * it a fifth of its time). Inside a transaction, they leave if and only if it commits.
 */
export function publishStatement(events: RegistrationEventPayload[]): { text: string; values: unknown[] } {
  const payloads: string[] = [];
  let chunk: string[] = [];
  let size = 2;
  for (const event of events) {
    const json = JSON.stringify(event);
    if (chunk.length && size + json.length + 1 > PAYLOAD_LIMIT) {
      payloads.push(`[${chunk.join(',')}]`);
      chunk = [];
      size = 2;
    }
    chunk.push(json);
    size += json.length + 1;
  }
  if (chunk.length) payloads.push(`[${chunk.join(',')}]`);
  return { text: 'SELECT pg_notify($1, payload) FROM unnest($2::text[]) AS payload', values: [EVENTS_CHANNEL, payloads] };
}

/** Publishes events when (and only if) the Prisma transaction commits. */
export async function publishInTransaction(tx: Tx, events: RegistrationEventPayload[]): Promise<void> {
  const { text, values } = publishStatement(events);
  await tx.$executeRawUnsafe(text, ...values);
}

/** First and largest pause before the LISTEN connection is opened again (doubled at each failure). */
const RECONNECT_FIRST_MS = 250;
const RECONNECT_MAX_MS = 2_000;

/**
 * An EventTarget fed by LISTEN; dispatching on it (yoga's publish) sends a NOTIFY.
 *
 * One LISTEN connection per instance, whatever happens to the database: a lost connection (its
 * `error`, its `end`, a failed attempt, whichever comes first or all of them) schedules one
 * attempt, backed off, and no other until that one fails. Events sent while it is down are
 * missed, which subscriptions accept (a dashboard reloads its queue when it reconnects); none is
 * received twice.
 */
class PgEventTarget extends EventTarget {
  private client: pg.Client | undefined;
  private closed = false;
  private retry: NodeJS.Timeout | undefined;
  private failures = 0;
  private readonly lost = new WeakSet<pg.Client>();
  /** The listeners yoga's pub/sub registers, one per live subscription on this instance. */
  private readonly subscriptions = new Set<unknown>();

  constructor(
    private readonly connectionString: string,
    private readonly pool: pg.Pool,
  ) {
    super();
  }

  /** Opens the LISTEN connection; on failure the next attempt is already scheduled. */
  async listen(): Promise<void> {
    const client = new pg.Client({
      connectionString: this.connectionString,
      application_name: 'numos-events',
      connectionTimeoutMillis: CONNECT_TIMEOUT_MS,
      keepAlive: true,
    });
    client.on('notification', (message) => {
      // Without a live subscription on this instance there is nobody to hand the events to (a
      // job's run may bring a hundred thousand of them).
      if (message.channel !== EVENTS_CHANNEL || !message.payload || !this.subscriptions.size) return;
      for (const detail of JSON.parse(message.payload) as RegistrationEventPayload[]) {
        super.dispatchEvent(new CustomEvent(REGISTRATION_TOPIC, { detail }));
      }
    });
    client.on('error', (error) => this.drop(client, error));
    client.on('end', () => this.drop(client));
    try {
      await client.connect();
      await client.query(`LISTEN ${EVENTS_CHANNEL}`);
    } catch (error) {
      this.drop(client, error as Error);
      throw error;
    }
    if (this.closed) {
      await client.end().catch(() => undefined);
      return;
    }
    this.client = client;
    this.failures = 0;
  }

  /** Whether the LISTEN connection is up (for readiness). */
  get listening(): boolean {
    return this.client !== undefined;
  }

  private drop(client: pg.Client, error?: Error) {
    if (this.lost.has(client)) return;
    this.lost.add(client);
    if (error) reportDatabaseError(error);
    if (this.client === client) this.client = undefined;
    client.end().catch(() => undefined);
    if (this.closed || this.retry) return;
    const delay = Math.min(RECONNECT_MAX_MS, RECONNECT_FIRST_MS * 2 ** this.failures++);
    // Jittered, so that instances restarted together do not knock together.
    this.retry = setTimeout(() => {
      this.retry = undefined;
      this.listen().catch(() => undefined);
    }, delay * (0.5 + Math.random() / 2)).unref();
  }

  override addEventListener(...args: Parameters<EventTarget['addEventListener']>): void {
    if (args[1]) this.subscriptions.add(args[1]);
    super.addEventListener(...args);
  }

  override removeEventListener(...args: Parameters<EventTarget['removeEventListener']>): void {
    this.subscriptions.delete(args[1]);
    super.removeEventListener(...args);
  }

  override dispatchEvent(event: Event): boolean {
    const { text, values } = publishStatement([(event as CustomEvent<RegistrationEventPayload>).detail]);
    this.pool.query(text, values).catch(reportDatabaseError);
    return true;
  }

  async close(): Promise<void> {
    this.closed = true;
    clearTimeout(this.retry);
    await this.client?.end().catch(() => undefined);
  }
}

export interface EventBus {
  pubSub: PubSub<Topics>;
  /** False while the LISTEN connection is being restored. */
  readonly listening: boolean;
  close(): Promise<void>;
}

export async function startEventBus(connectionString: string, pool: pg.Pool): Promise<EventBus> {
  const target = new PgEventTarget(connectionString, pool);
  await target.listen();
  return {
    pubSub: createPubSub<Topics>({ eventTarget: target as never }),
    get listening() {
      return target.listening;
    },
    close: () => target.close(),
  };
}
