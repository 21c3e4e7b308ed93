// Messages across every server instance, through PostgreSQL LISTEN/NOTIFY: no extra server.
// Changes publish with pg_notify inside their own transaction, so a message goes out if and only
// if the change commits; each instance LISTENs on one connection to two channels:
// - registration events, handed to yoga's pub/sub, which feeds the subscriptions (SSE and
//   WebSocket) of that instance;
// - control messages (a session ended, the libraries changed…), handed to whoever registered for
//   them (onControl), so that no instance keeps serving what another has just ended.
//
// NOTIFY reaches only the connections listening at that moment. So that a live feed never misses
// an event when an instance's LISTEN connection drops (an idle timeout, a proxy restart, the
// database restarting), each notification of events is also written to `event_log` in the same
// transaction, and kept an hour: when the connection is back, the instance reads what was logged
// since a little before it was lost, and hands on what it had not received (notifications carry
// their log id, so none is handed on twice). Beyond an hour, it ends its subscriptions instead
// (their clients reconnect and reload their queue, as after any end of a live feed).
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
  /**
   * Not sent: raised on this instance when its LISTEN connection is back, as control messages may
   * have been missed; `eventsLost`: so were events, beyond what the log keeps (live feeds must end).
   */
  | { kind: 'resync'; eventsLost: boolean };

export type RegistrationEventType = 'CONFIRMED' | 'DECIDED' | 'ESCALATED' | 'LAPSED' | 'RENEWAL_REQUESTED' | 'MEMBERSHIP_CHECKED';

export interface RegistrationEventPayload {
  type: RegistrationEventType;
  occurredAt: string;
  requestId: string;
  libraryId: string;
}

export type Topics = { [REGISTRATION_TOPIC]: [RegistrationEventPayload] };

/** PostgreSQL refuses a NOTIFY payload of 8,000 bytes or more; events are ASCII (and their log id a few bytes more). */
const PAYLOAD_LIMIT = 7_850;

/** How long the event log keeps what was published, and so the longest gap an instance can catch up. */
export const EVENT_LOG_RETENTION_MS = 60 * 60_000;
/** Read again from a little before the connection was found lost: it may have died silently before. */
const CATCH_UP_MARGIN_MS = 30_000;

/** A notification on the events channel: its log row and the events it carries. */
interface LoggedEvents {
  id: string;
  events: RegistrationEventPayload[];
}

/**
 * Messages as JSON arrays of at most PAYLOAD_LIMIT bytes each: a set-based job changing 100,000
 * rows sends about 2,000 notifications, not 100,000 (which cost it a fifth of its time).
 */
function chunked(messages: unknown[]): string[] {
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
  return payloads;
}

/**
 * Publishes registration events when (and only if) the transaction of `db` commits: logged, and
 * notified with their log id, in one statement.
 */
export async function publish(db: Tx | Sql, events: RegistrationEventPayload[]): Promise<void> {
  if (!events.length) return;
  await asSql(db).query(
    `WITH logged AS (INSERT INTO event_log (events) SELECT payload FROM unnest($2::text[]) AS payload RETURNING id, events)
     SELECT pg_notify($1, '{"id":"' || id || '","events":' || events || '}')::text FROM logged`,
    [EVENTS_CHANNEL, chunked(events)],
  );
}

/** Tells every instance (this one included) when (and only if) the transaction of `db` commits. */
export async function control(db: Tx | Sql, messages: ControlMessage[]): Promise<void> {
  if (!messages.length) return;
  await asSql(db).query('SELECT pg_notify($1, payload)::text FROM unnest($2::text[]) AS payload', [CONTROL_CHANNEL, chunked(messages)]);
}

/** The hourly clean-up of the event log (a scheduled job): the database's own clock, as the rows'. */
export async function pruneEventLog(sql: Sql): Promise<number> {
  const { rowCount } = await sql.query(`DELETE FROM event_log WHERE created_at < now() - make_interval(secs => $1)`, [EVENT_LOG_RETENTION_MS / 1_000]);
  return rowCount ?? 0;
}

/** First and largest pause before the LISTEN connection is opened again (doubled at each failure). */
const RECONNECT_FIRST_MS = 250;
const RECONNECT_MAX_MS = 2_000;

/**
 * An EventTarget fed by LISTEN; dispatching on it (yoga's publish) sends a NOTIFY.
 *
 * One LISTEN connection per instance, whatever happens to the database: a lost connection (its
 * `error`, its `end`, a failed attempt, whichever comes first or all of them) schedules one
 * attempt, backed off, and no other until that one fails. Once it is back, what was published
 * meanwhile is read from the event log; each notification is handed on once.
 */
class PgEventTarget extends EventTarget {
  private client: pg.Client | undefined;
  private closed = false;
  private retry: NodeJS.Timeout | undefined;
  private failures = 0;
  private everListened = false;
  /** When the connection was found lost (Date.now()), until the events since then were read again. */
  private lostAt: number | undefined;
  /** Log ids of the notifications handed on, with when (Date.now()): forgotten after the log's retention. */
  private readonly seen = new Map<string, number>();
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
      if (message.channel === EVENTS_CHANNEL) this.handOn(JSON.parse(message.payload) as LoggedEvents);
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
    if (!reconnected) return;
    const caughtUp = await this.catchUp(client);
    // Interrupted (the new connection dropped too): the next one catches up from the same point.
    if (caughtUp === 'interrupted') return;
    for (const handle of this.controlHandlers) handle({ kind: 'resync', eventsLost: caughtUp === 'lost' });
  }

  /** Hands on the events of one notification, live or read again from the log, once. */
  private handOn({ id, events }: LoggedEvents): void {
    if (this.seen.has(id)) return;
    // Noted even when nobody listens, so that a catch-up never hands on what was received here.
    const now = Date.now();
    this.seen.set(id, now);
    if (this.seen.size % 1_000 === 0) for (const [old, at] of this.seen) if (now - at > EVENT_LOG_RETENTION_MS) this.seen.delete(old);
    // Without a live subscription on this instance there is nobody to hand the events to (a
    // job's run may bring a hundred thousand of them).
    if (!this.subscriptions.size) return;
    for (const detail of events) super.dispatchEvent(new CustomEvent(REGISTRATION_TOPIC, { detail }));
  }

  /**
   * After a reconnection: the events logged since a little before the connection was lost, handed
   * on if they were not. `lost` when the gap reaches beyond what the log keeps: events may have
   * been missed for good. `interrupted` when the connection dropped again meanwhile: the loss
   * stays noted, and the next connection reads from the same point.
   */
  private async catchUp(client: pg.Client): Promise<'caught-up' | 'lost' | 'interrupted'> {
    const lostAt = this.lostAt ?? Date.now();
    const since = Date.now() - lostAt + CATCH_UP_MARGIN_MS;
    if (since >= EVENT_LOG_RETENTION_MS) {
      this.lostAt = undefined;
      return 'lost';
    }
    if (this.subscriptions.size) {
      try {
        const { rows } = await client.query<{ id: string; events: string }>(
          'SELECT id::text, events FROM event_log WHERE created_at >= now() - make_interval(secs => $1) ORDER BY id',
          [since / 1_000],
        );
        for (const row of rows) this.handOn({ id: row.id, events: JSON.parse(row.events) as RegistrationEventPayload[] });
      } catch (error) {
        reportDatabaseError(error as Error);
        this.lostAt = Math.min(lostAt, this.lostAt ?? lostAt);
        return 'interrupted';
      }
    }
    // A drop during the read noted a later loss: the earlier one is what counts.
    if (this.client !== client) {
      this.lostAt = Math.min(lostAt, this.lostAt ?? lostAt);
      return 'interrupted';
    }
    this.lostAt = undefined;
    return 'caught-up';
  }

  /** Whether the LISTEN connection is up (for readiness). */
  get listening(): boolean {
    return this.client !== undefined;
  }

  private drop(client: pg.Client, error?: Error) {
    if (this.lost.has(client)) return;
    this.lost.add(client);
    if (error) reportDatabaseError(error);
    if (this.client === client) {
      this.client = undefined;
      this.lostAt ??= Date.now();
    }
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
