// The e-mail outbox. An e-mail is rendered and recorded inside the transaction of the change that
// causes it, together with the pg-boss job that delivers it: a rolled-back change sends nothing.
// Without RESEND_API_KEY the record is the development mailbox and no job is created.
import { render, toPlainText } from '@react-email/render';
import type { ReactElement } from 'react';
import type { Clock } from '../clock.js';
import type { Config } from '../config.js';
import type { Tx } from '../db/prisma.js';
import { prismaSql } from '../db/sql.js';
import { bossDb, type PgBoss } from '../jobs/boss.js';
import { EMAIL_QUEUE } from '../jobs/queues.js';
import type { Metrics } from '../observability/metrics.js';

export interface OutgoingEmail {
  /** Template name, for the mailbox and statistics. */
  template: string;
  to: string[];
  cc?: string[];
  replyTo?: string;
  /** Display name of the sender, e.g. "Administration NILVANGE"; the address is EMAIL_FROM. */
  fromName?: string;
  subject: string;
  body: ReactElement;
  /** Secrets the body carries (link tokens): removed from the record once Resend has the e-mail. */
  secrets?: string[];
  /** The patron this e-mail concerns, so the GDPR purge can find it. */
  patronId?: string;
  /** Deleted once handed to Resend: the last e-mail to a person who erased their account. */
  forget?: boolean;
}

/** A delivery job: one e-mail, or up to DELIVERY_CHUNK of a bulk run, sent in order. */
export interface EmailDeliveryJob {
  outboxIds: string[];
}

/** `"Administration NILVANGE" <numos@numos.local>`, quoting what RFC 5322 requires. */
export function formatSender(address: string, name?: string): string {
  if (!name) return address;
  return `"${name.replace(/["\\]/g, (c) => `\\${c}`).replace(/[\r\n]+/g, ' ')}" <${address}>`;
}

/**
 * HTML and text parts. The text is derived from the HTML rather than from a second render: the
 * same result (the renderer's plain-text mode converts its own HTML), at half the cost, which
 * counts when a job writes one e-mail per library.
 */
export async function renderEmail(body: ReactElement): Promise<{ html: string; text: string }> {
  const html = await render(body);
  return { html, text: toPlainText(html) };
}

export class Outbox {
  constructor(private readonly deps: { boss: PgBoss; config: Config; clock: Clock; metrics: Metrics }) {}

  async queue(tx: Tx, email: OutgoingEmail): Promise<string> {
    const { html, text } = await renderEmail(email.body);
    const delivered = this.deps.config.resendApiKey !== undefined;
    const row = await tx.emailOutbox.create({
      data: {
        template: email.template,
        fromAddress: formatSender(this.deps.config.emailFrom, email.fromName),
        toAddresses: email.to,
        ccAddresses: email.cc ?? [],
        replyTo: email.replyTo ?? null,
        subject: email.subject,
        html,
        text,
        secrets: delivered ? (email.secrets ?? []) : [],
        status: delivered ? 'PENDING' : 'LOCAL',
        patronId: email.patronId ?? null,
        forget: email.forget ?? false,
        createdAt: this.deps.clock.now(),
      },
      select: { id: true },
    });
    this.deps.metrics.emails.inc({ outcome: 'queued' });
    if (delivered) {
      await this.deps.boss.send(EMAIL_QUEUE, { outboxIds: [row.id] } satisfies EmailDeliveryJob, {
        db: bossDb(prismaSql(tx)),
        singletonKey: row.id,
      });
    }
    return row.id;
  }
}
