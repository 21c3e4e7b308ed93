// E-mails for thousands of recipients in one job run (renewal reminders). The template is
// rendered once, with markers, into an `email_batch` row; each outbox row keeps only its
// recipient and the markers' values (both written by the job's own set-based SQL), and the
// deliverer fills the body when it sends. A run then writes a few hundred bytes per person
// instead of a whole e-mail, and one delivery job carries several e-mails.
import type { Config } from '../config.js';
import type { Sql } from '../db/sql.js';
import { bossDb, type PgBoss } from '../jobs/boss.js';
import { EMAIL_QUEUE } from '../jobs/queues.js';
import { escapeHtml } from '../lib/text.js';
import type { Metrics } from '../observability/metrics.js';
import type { EmailDeliveryJob } from './outbox.js';

/**
 * E-mails per delivery job, sent one after the other at Resend's pace (about 30 s for 50): few
 * jobs for a large run (2,000 for 100,000 e-mails), yet a job well within its time to expire.
 */
export const DELIVERY_CHUNK = 50;

/** Delivery jobs for outbox rows written in the caller's transaction (none without Resend). */
export async function queueDeliveries(
  app: { config: Pick<Config, 'resendApiKey'>; boss: PgBoss; metrics: Metrics },
  sql: Sql,
  outboxIds: string[],
): Promise<void> {
  app.metrics.emails.inc({ outcome: 'queued' }, outboxIds.length);
  if (app.config.resendApiKey === undefined || !outboxIds.length) return;
  const jobs = [];
  for (let start = 0; start < outboxIds.length; start += DELIVERY_CHUNK) {
    const chunk = outboxIds.slice(start, start + DELIVERY_CHUNK);
    jobs.push({ data: { outboxIds: chunk } satisfies EmailDeliveryJob, singletonKey: chunk[0] });
  }
  await app.boss.insert(EMAIL_QUEUE, jobs, { db: bossDb(sql) });
}

/** The batch body for one recipient; values are HTML-escaped in the HTML part. */
export function fillMarkers(template: string, values: Record<string, string>, html: boolean): string {
  let out = template;
  for (const [marker, value] of Object.entries(values)) out = out.replaceAll(marker, html ? escapeHtml(value) : value);
  return out;
}
