// Delivers outbox e-mails through Resend: a pg-boss job carries one e-mail, or up to
// DELIVERY_CHUNK of a bulk run.
// At least once: a job may run again after a crash, so the record's status is checked first and
// Resend receives the record's idempotency key, which makes a second send a no-op on its side.
import { Resend } from 'resend';
import type { Clock } from '../clock.js';
import type { Config } from '../config.js';
import type { PrismaClient } from '../db/prisma.js';
import type { EmailBatch } from '../generated/prisma/client.js';
import { fillMarkers } from './bulk.js';
import { log } from '../observability/logger.js';
import type { Metrics } from '../observability/metrics.js';
import type { PgBoss } from '../jobs/boss.js';
import { EMAIL_DEAD_QUEUE, EMAIL_QUEUE } from '../jobs/queues.js';
import type { EmailDeliveryJob } from './outbox.js';

/** What is left of a link's secret once the e-mail has left. */
export const REDACTED = '[lien-expiré]';

/** A failure worth retrying later (network, 5xx): pg-boss retries with backoff. */
class TransientDeliveryError extends Error {}

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
      if (!resend || !email || email.status !== 'PENDING') return 'done';

      // Its own body, or its batch's body filled with its values.
      const batch = email.batchId ? await batchBody(email.batchId) : null;
      const values = email.values as Record<string, string> | null;
      const html = batch && values ? fillMarkers(batch.html, values, true) : (email.html ?? '');
      const text = batch && values ? fillMarkers(batch.text, values, false) : (email.text ?? '');
      const { data, error, headers } = await resend.emails.send(
        {
          from: email.fromAddress,
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
        await prisma.emailOutbox.deleteMany({ where: { id: email.id, status: 'PENDING' } });
        metrics.emails.inc({ outcome: 'sent' });
        return 'done';
      }
      if (!error) {
        const redact = (value: string) => email.secrets.reduce((out, secret) => out.replaceAll(secret, REDACTED), value);
        await prisma.emailOutbox.updateMany({
          where: { id: email.id, status: 'PENDING' },
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
      await prisma.emailOutbox.update({
        where: { id: email.id },
        data: { attempts: { increment: 1 }, lastError: reason.slice(0, 1_000) },
      });

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
        log().error({ email: email.id, reason }, 'e-mail refusé par Resend');
        return 'done';
      }
      metrics.emails.inc({ outcome: 'retried' });
      throw new TransientDeliveryError(reason);
    },
  };
}

/** Workers for the e-mail queues. Retries exhausted: the dead-letter job marks the e-mail FAILED. */
export async function workEmailQueues(deps: { prisma: PrismaClient; boss: PgBoss; deliverer: Deliverer; config: Config; metrics: Metrics }): Promise<void> {
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
  await boss.work<EmailDeliveryJob>(EMAIL_QUEUE, { localConcurrency: 1, batchSize: 1, pollingIntervalSeconds: 0.5 }, async ([job]) => {
    await deliverAll(job!.data.outboxIds);
  });
  await boss.work<EmailDeliveryJob>(EMAIL_DEAD_QUEUE, { pollingIntervalSeconds: 5 }, async (jobs) => {
    const ids = jobs.flatMap((j) => j.data.outboxIds);
    // The last e-mail of an erased account leaves no trace, delivered or not.
    await prisma.emailOutbox.deleteMany({ where: { id: { in: ids }, status: 'PENDING', forget: true } });
    const failed = await prisma.emailOutbox.updateMany({ where: { id: { in: ids }, status: 'PENDING' }, data: { status: 'FAILED' } });
    if (failed.count) {
      metrics.emails.inc({ outcome: 'failed' }, failed.count);
      log().error({ emails: failed.count }, 'e-mail(s) abandonné(s) après épuisement des tentatives');
    }
  });
}
