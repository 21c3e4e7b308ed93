// Delivers outbox e-mails through Resend: a pg-boss job carries one e-mail, or up to
// DELIVERY_CHUNK of a bulk run.
// At least once: a job may run again after a crash, so the record's status is checked first and
// Resend receives the record's idempotency key, which makes a second send a no-op on its side.
import { Resend } from 'resend';
import type { Clock } from '../clock.js';
import type { Config } from '../config.js';
import type { PrismaClient } from '../db/prisma.js';
import type { EmailBatch } from '../generated/prisma/client.js';
import type { Db } from '../db/sql.js';
import { fillMarkers, queueDeliveries } from './bulk.js';
import { reopenEmails } from './store.js';
import { log } from '../observability/logger.js';
import { repeatedErrors } from '../observability/repeated-errors.js';
import type { Metrics } from '../observability/metrics.js';
import type { PgBoss } from '../jobs/boss.js';
import { EMAIL_DEAD_QUEUE, EMAIL_QUEUE, type Polling } from '../jobs/queues.js';
import { drainQueue } from '../jobs/work.js';
import { type EmailDeliveryJob, withSenderAddress } from './outbox.js';

/** How long a held e-mail waits between tries once its job's own retries are spent. */
const HELD_RETRY_SECONDS = 3_600;

/** What is left of a link's secret once the e-mail has left. */
export const REDACTED = '[lien-expiré]';

/** A failure worth retrying later (network, 5xx, NuMos's own configuration): pg-boss retries with backoff. */
class TransientDeliveryError extends Error {}

/** Resend's names for a refusal of NuMos itself: its key, its sender (not of one e-mail's address). */
const CONFIGURATION_ERRORS = new Set(['missing_api_key', 'invalid_api_key', 'restricted_api_key', 'invalid_from_address']);

/** A refusal that mending NuMos's configuration (RESEND_API_KEY, EMAIL_FROM) would lift: the e-mails wait for it. */
export function refusesConfiguration(status: number | null, name: string, message: string): boolean {
  if (status === 401 || status === 403 || CONFIGURATION_ERRORS.has(name)) return true;
  return status === 422 && /\bfrom\b|domain|sender/i.test(message);
}

/** Sent (or nothing left to do), or Resend asked to wait this many seconds. */
export type DeliveryOutcome = 'done' | { retryAfterSeconds: number };

export interface Deliverer {
  deliver(outboxId: string): Promise<DeliveryOutcome>;
}

export function createDeliverer(deps: { prisma: PrismaClient; boss: PgBoss; config: Config; clock: Clock; metrics: Metrics }): Deliverer {
  const { prisma, config, clock, metrics } = deps;
  // Without an API key every e-mail stays in the development mailbox and no delivery job exists.
  const resend = config.resendApiKey ? new Resend(config.resendApiKey, config.resendBaseUrl ? { baseUrl: config.resendBaseUrl } : undefined) : undefined;

  // A bulk job's e-mails share one body, which never changes: read it once, not once per e-mail.
  let lastBatch: EmailBatch | undefined;
  const batchBody = async (id: string) => {
    if (lastBatch?.id !== id) lastBatch = await prisma.emailBatch.findUniqueOrThrow({ where: { id } });
    return lastBatch;
  };

  return {
    async deliver(outboxId) {
      const email = await prisma.emailOutbox.findUnique({ where: { id: outboxId } });
      // Gone (purged with its patron) or already handled: nothing to do.
      if (!resend || !email || (email.status !== 'PENDING' && email.status !== 'HELD')) return 'done';

      // Its own body, or its batch's body filled with its values.
      const batch = email.batchId ? await batchBody(email.batchId) : null;
      const values = email.values as Record<string, string> | null;
      const html = batch && values ? fillMarkers(batch.html, values, true) : (email.html ?? '');
      const text = batch && values ? fillMarkers(batch.text, values, false) : (email.text ?? '');
      const { data, error, headers } = await resend.emails.send(
        {
          from: withSenderAddress(email.fromAddress, config.emailFrom),
          to: email.toAddresses,
          cc: email.ccAddresses.length ? email.ccAddresses : undefined,
          replyTo: email.replyTo ?? undefined,
          subject: email.subject,
          html,
          text,
        },
        { idempotencyKey: email.id },
      );

      if (!error && email.forget) {
        await prisma.emailOutbox.deleteMany({ where: { id: email.id, status: { in: ['PENDING', 'HELD'] } } });
        metrics.emails.inc({ outcome: 'sent' });
        return 'done';
      }
      if (!error) {
        const redact = (value: string) => email.secrets.reduce((out, secret) => out.replaceAll(secret, REDACTED), value);
        await prisma.emailOutbox.updateMany({
          where: { id: email.id, status: { in: ['PENDING', 'HELD'] } },
          data: {
            status: 'SENT',
            sentAt: clock.now(),
            providerMessageId: data?.id ?? null,
            ...(values
              ? { values: Object.fromEntries(Object.entries(values).map(([marker, value]) => [marker, redact(value)])) }
              : { html: redact(email.html ?? ''), text: redact(email.text ?? '') }),
            secrets: [],
            attempts: { increment: 1 },
            lastError: null,
          },
        });
        metrics.emails.inc({ outcome: 'sent' });
        return 'done';
      }

      const status = (error as { statusCode?: number | null }).statusCode ?? null;
      const reason = `${status ?? 'réseau'} ${error.name}: ${error.message}`;
      const refusesNumos = refusesConfiguration(status, error.name, error.message);
      await prisma.emailOutbox.update({
        where: { id: email.id },
        data: { attempts: { increment: 1 }, lastError: reason.slice(0, 1_000), ...(refusesNumos ? { status: 'HELD' } : {}) },
      });
      if (refusesNumos) {
        // NuMos's own key or sender, not this e-mail: kept and tried again (backoff, then hourly)
        // until the configuration is mended; said once per cause, counted, /ready degraded.
        metrics.emails.inc({ outcome: 'held' });
        repeatedErrors.report(
          `resend:${status}:${error.name}`,
          `Resend refuse les envois de NuMos (${status} ${error.name}) : vérifiez RESEND_API_KEY et EMAIL_FROM ; les e-mails sont gardés et seront envoyés une fois la configuration corrigée.`,
        );
        throw new TransientDeliveryError(reason);
      }

      if (status === 429) {
        metrics.emails.inc({ outcome: 'retried' });
        // Rate limited: come back when Resend says, without spending one of the retries.
        const retryAfter = Number(headers?.['retry-after']);
        return { retryAfterSeconds: Number.isFinite(retryAfter) && retryAfter > 0 ? Math.ceil(retryAfter) : 1 };
      }
      if (status !== null && status >= 400 && status < 500) {
        // Refused for good (bad address, invalid payload): retrying would not help.
        if (email.forget) await prisma.emailOutbox.delete({ where: { id: email.id } });
        else await prisma.emailOutbox.update({ where: { id: email.id }, data: { status: 'FAILED' } });
        metrics.emails.inc({ outcome: 'failed' });
        repeatedErrors.report(
          `resend:${status}:${error.name}`,
          `e-mail refusé par Resend (${status} ${error.name}) : abandonné (npm run cli -- outbox:retry le renvoie)`,
        );
        return 'done';
      }
      // Resend unreachable or failing (network, 5xx): tried again with backoff; said once per cause.
      metrics.emails.inc({ outcome: 'retried' });
      repeatedErrors.report(`resend:${status ?? 'network'}:${error.name}`, `Resend injoignable ou en erreur (${reason.slice(0, 200)}) : e-mails retentés`);
      throw new TransientDeliveryError(reason);
    },
  };
}

/** Workers for the e-mail queues. Retries exhausted: the dead-letter job marks the e-mail FAILED. */
export async function workEmailQueues(
  deps: { prisma: PrismaClient; boss: PgBoss; deliverer: Deliverer; config: Config; metrics: Metrics },
  polling: Polling,
): Promise<void> {
  const { prisma, boss, deliverer, config, metrics } = deps;
  // Sequential, paced sends: Resend allows about 2 requests a second per team (a 429 that gets
  // through anyway is waited out). Real time, not the application clock: this is Resend's pace.
  let nextSendAt = 0;
  const paced = async () => {
    const wait = nextSendAt - Date.now();
    if (wait > 0) await new Promise((resolve) => setTimeout(resolve, wait));
  };

  // Sends a job's e-mails in order. A transient failure (network, 5xx) is Resend's, not one
  // e-mail's: the job fails and is retried with backoff, and what was sent already is skipped.
  async function deliverAll(outboxIds: string[]): Promise<void> {
    for (const [index, outboxId] of outboxIds.entries()) {
      await paced();
      const outcome = await deliverer.deliver(outboxId);
      nextSendAt = Date.now() + config.emailIntervalMs;
      if (outcome !== 'done') {
        // Rate limited: the rest waits as Resend asked, without spending one of the retries.
        await boss.send(EMAIL_QUEUE, { outboxIds: outboxIds.slice(index) } satisfies EmailDeliveryJob, {
          startAfter: outcome.retryAfterSeconds,
        });
        return;
      }
    }
  }

  // One job at a time: a job of a bulk run holds DELIVERY_CHUNK e-mails, and its time to expire
  // (src/jobs/queues.ts) counts from the moment it is fetched.
  await drainQueue<EmailDeliveryJob>(boss, EMAIL_QUEUE, { pace: polling.prompt }, async ([job]) => {
    await deliverAll(job!.data.outboxIds);
  });
  await boss.work<EmailDeliveryJob>(EMAIL_DEAD_QUEUE, polling.slow, async (jobs) => {
    const ids = jobs.flatMap((j) => j.data.outboxIds);
    // The last e-mail of an erased account leaves no trace, delivered or not.
    await prisma.emailOutbox.deleteMany({ where: { id: { in: ids }, status: { in: ['PENDING', 'HELD'] }, forget: true } });
    const failed = await prisma.emailOutbox.updateMany({ where: { id: { in: ids }, status: 'PENDING' }, data: { status: 'FAILED' } });
    if (failed.count) {
      metrics.emails.inc({ outcome: 'failed' }, failed.count);
      log().error({ emails: failed.count }, 'e-mail(s) abandonné(s) après épuisement des tentatives');
    }
    // Held for NuMos's own configuration: never given up for it, tried again every hour.
    const held = await prisma.emailOutbox.findMany({ where: { id: { in: ids }, status: 'HELD' }, select: { id: true } });
    if (held.length) await boss.send(EMAIL_QUEUE, { outboxIds: held.map((e) => e.id) } satisfies EmailDeliveryJob, { startAfter: HELD_RETRY_SECONDS });
  });
}

/**
 * E-mails given up or held since a date, sent again (npm run cli -- outbox:retry): once Resend's
 * key or sender is mended, or after an outage longer than the retries. Their jobs are written in
 * the transaction that reopens them; Resend's idempotency key (the e-mail's id) keeps a retry that
 * meets a job still running from sending twice.
 */
export async function retryEmails(deps: { db: Db; boss: PgBoss; config: Config; metrics: Metrics }, since: Date): Promise<number> {
  return deps.db.transaction(async (sql) => {
    const ids = await reopenEmails(sql, since);
    await queueDeliveries(deps, sql, ids);
    return ids.length;
  });
}
