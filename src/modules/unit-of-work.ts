// One unit of work: what every use case that changes something does around its rules. It opens
// the transaction and gives, bound to it, the Prisma client and the SQL port, the outbox, the live
// events and control messages, pg-boss jobs, and the audit log: an e-mail, an event, a job or an
// entry exists if and only if the change commits. A business refusal (a Refusal thrown by the use
// case) rolls everything back; the GraphQL layer answers it as the payload's `errors`, once for
// every field (src/graphql/refusals.ts), so no use case catches its own refusals.
import type { SendOptions } from 'pg-boss';
import type { Caller } from '../auth/caller.js';
import type { Tx } from '../db/prisma.js';
import { prismaSql, type Sql } from '../db/sql.js';
import type { OutgoingEmail } from '../email/outbox.js';
import { control, publish, type ControlMessage, type RegistrationEventPayload } from '../events/bus.js';
import { bossDb } from '../jobs/boss.js';
import type { App } from '../instance.js';
import { audit, type AuditEntry } from './audit/service.js';

/** What a unit of work uses of the application instance. */
export type UnitServices = Pick<App, 'boss' | 'clock' | 'outbox' | 'prisma'>;

export interface Work {
  /** The Prisma client of the transaction. */
  readonly tx: Tx;
  /** The SQL port on the same transaction, for stores. */
  readonly sql: Sql;
  /** The application clock's "now", read once as the work began. */
  readonly now: Date;
  /** An e-mail, written with the change. */
  email(email: OutgoingEmail): Promise<string>;
  /** The last e-mail to a person erased by this change (src/email/outbox.ts). */
  lastEmail(email: OutgoingEmail): Promise<void>;
  /** Registration events for the live feeds, sent when the change commits. */
  publish(...events: RegistrationEventPayload[]): Promise<void>;
  /** Messages to every instance (a session ended…), sent when the change commits. */
  control(...messages: ControlMessage[]): Promise<void>;
  /** A pg-boss job, created with the change. */
  send(queue: string, data: object, options?: SendOptions): Promise<void>;
  /** An audit entry by the work's actor (null: NuMos itself). */
  audit(entry: AuditEntry): Promise<void>;
  /** Runs once the change has committed (counters of what happened). */
  afterCommit(run: () => void): void;
}

export interface UnitOptions {
  /** Who acts, for the audit log; null or absent: NuMos itself. */
  actor?: Caller | null;
  /** For long units (a set-based run): the transaction's time limit. */
  timeoutMs?: number;
}

export async function unitOfWork<T>(app: UnitServices, options: UnitOptions, run: (work: Work) => Promise<T>): Promise<T> {
  const committed: (() => void)[] = [];
  const result = await app.prisma.$transaction(
    async (tx) => {
      const sql = prismaSql(tx);
      const now = app.clock.now();
      const work: Work = {
        tx,
        sql,
        now,
        email: (email) => app.outbox.queue(tx, email),
        lastEmail: (email) => app.outbox.queueLast(tx, email),
        publish: (...events) => publish(sql, events),
        control: (...messages) => control(sql, messages),
        send: async (queue, data, sendOptions) => {
          await app.boss.send(queue, data, { ...sendOptions, db: bossDb(sql) });
        },
        audit: (entry) => audit(tx, options.actor ?? null, now, entry),
        afterCommit: (action) => {
          committed.push(action);
        },
      };
      return run(work);
    },
    options.timeoutMs ? { timeout: options.timeoutMs, maxWait: Math.min(options.timeoutMs, 60_000) } : undefined,
  );
  for (const action of committed) action();
  return result;
}
