// Messages across every server instance, through PostgreSQL LISTEN/NOTIFY: no extra server.
// Changes publish with pg_notify inside their own transaction, so a message goes out if and only
// if the change commits; each instance LISTENs on one connection to two channels:
// - registration events, handed to yoga's pub/sub, which feeds the subscriptions (SSE and
//   WebSocket) of that instance;
// - control messages (a session ended, the libraries changed…), handed to whoever registered for
//   them (onControl), so that no instance keeps serving what another has just ended.
import { createPubSub, type PubSub } from 'graphql-yoga';
import pg from 'pg';
import { reportDatabaseError } from '../db/availability.js';
import { CONNECT_TIMEOUT_MS, type Tx } from '../db/prisma.js';
import { asSql, type Sql } from '../db/sql.js';

export const EVENTS_CHANNEL = 'numos_registration_events';
export const CONTROL_CHANNEL = 'numos_control';
export const REGISTRATION_TOPIC = 'registration';

/** What one instance tells the others: each one acts on its own copy of the state concerned. */
export type ControlMessage =
  | { kind: 'session-ended'; sessionId: string }
  | { kind: 'libraries-changed' }
  /** Not sent: raised on this instance when its LISTEN connection is back, as messages may have been missed. */
  | { kind: 'resync' };

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
 * The statement that publishes messages on a channel: each NOTIFY carries a JSON array of them, so
 * that a set-based job changing 100,000 rows sends about 2,000 notifications, not 100,000 (which
 * cost it a fifth of its time). Inside a transaction, they leave if and only if it commits.
 */
function notifyStatement(channel: string, messages: unknown[]): { text: string; values: unknown[] } {
  const payloads: string[] = [];
  let chunk: string[] = [];
  let size = 2;
  for (const message of messages) {
    const json = JSON.stringify(message);
    if (chunk.length && size + json.length + 1 > PAYLOAD_LIMIT) {
      payloads.push(`[${chunk.join(',')}]`);
      chunk = [];
      size = 2;
    }
    chunk.push(json);
    size += json.length + 1;
  }
  if (chunk.length) payloads.push(`[${chunk.join(',')}]`);
  return { text: 'SELECT pg_notify($1, payload)::text FROM unnest($2::text[]) AS payload', values: [channel, payloads] };
}

/** Publishes registration events when (and only if) the transaction of `db` commits. */
export async function publish(db: Tx | Sql, events: RegistrationEventPayload[]): Promise<void> {
  if (!events.length) return;
  const { text, values } = notifyStatement(EVENTS_CHANNEL, events);
  await asSql(db).query(text, values);
}

/** Tells every instance (this one included) when (and only if) the transaction of `db` commits. */
export async function control(db: Tx | Sql, messages: ControlMessage[]): Promise<void> {
  if (!messages.length) return;
  const { text, values } = notifyStatement(CONTROL_CHANNEL, messages);
  await asSql(db).query(text, values);
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
  private everListened = false;
  private readonly lost = new WeakSet<pg.Client>();
  /** The listeners yoga's pub/sub registers, one per live subscription on this instance. */
  private readonly subscriptions = new Set<unknown>();
  readonly controlHandlers = new Set<(message: ControlMessage) => void>();

  constructor(
    private readonly connectionString: string,
    /** The pool, through the SQL port: where yoga's in-process publishes go out as NOTIFY. */
    private readonly sql: Sql,
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
      if (!message.payload) return;
      if (message.channel === CONTROL_CHANNEL) {
        for (const control of JSON.parse(message.payload) as ControlMessage[]) for (const handle of this.controlHandlers) handle(control);
        return;
      }
      // Without a live subscription on this instance there is nobody to hand the events to (a
      // job's run may bring a hundred thousand of them).
      if (message.channel !== EVENTS_CHANNEL || !this.subscriptions.size) return;
      for (const detail of JSON.parse(message.payload) as RegistrationEventPayload[]) {
        super.dispatchEvent(new CustomEvent(REGISTRATION_TOPIC, { detail }));
      }
    });
    client.on('error', (error) => this.drop(client, error));
    client.on('end', () => this.drop(client));
    try {
      await client.connect();
      await client.query(`LISTEN ${EVENTS_CHANNEL}; LISTEN ${CONTROL_CHANNEL}`);
    } catch (error) {
      this.drop(client, error as Error);
      throw error;
    }
    if (this.closed) {
      await client.end().catch(() => undefined);
      return;
    }
    const reconnected = this.everListened;
    this.client = client;
    this.everListened = true;
    this.failures = 0;
    if (reconnected) for (const handle of this.controlHandlers) handle({ kind: 'resync' });
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
    this.retry = setTimeout(
      () => {
        this.retry = undefined;
        this.listen().catch(() => undefined);
      },
      delay * (0.5 + Math.random() / 2),
    ).unref();
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
    publish(this.sql, [(event as CustomEvent<RegistrationEventPayload>).detail]).catch(reportDatabaseError);
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
  /** Calls `handle` with every control message, from any instance (this one included). */
  onControl(handle: (message: ControlMessage) => void): void;
  close(): Promise<void>;
}

export async function startEventBus(connectionString: string, sql: Sql): Promise<EventBus> {
  const target = new PgEventTarget(connectionString, sql);
  await target.listen();
  return {
    pubSub: createPubSub<Topics>({ eventTarget: target as never }),
    get listening() {
      return target.listening;
    },
    onControl: (handle) => target.controlHandlers.add(handle),
    close: () => target.close(),
  };
}
