// The e-mail outbox. An e-mail is rendered and recorded inside the transaction of the change that
// causes it, together with the pg-boss job that delivers it: a rolled-back change sends nothing.
// Without RESEND_API_KEY the record is the development mailbox and no job is created.
import { render, toPlainText } from '@react-email/render';
import type { ReactElement } from 'react';
import type { Clock } from '../clock.js';
import type { Config } from '../config.js';
import type { Tx } from '../db/prisma.js';
import { asSql, type Sql } from '../db/sql.js';
import { bossDb, type PgBoss } from '../jobs/boss.js';
import { EMAIL_QUEUE } from '../jobs/queues.js';
import type { Metrics } from '../observability/metrics.js';
import { insertEmail } from './store.js';

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
  /** Other patrons the e-mail names (a list of requests): it is erased with any of them. */
  mentions?: string[];
}

/** A delivery job: one e-mail, or up to DELIVERY_CHUNK of a bulk run, sent in order. */
export interface EmailDeliveryJob {
  outboxIds: string[];
}

/** The sender's name of e-mails a library sends through NuMos (the seed's « Administration <NOM> »). */
export const libraryAdministration = (libraryName: string) => `Administration ${libraryName.toUpperCase()}`;

/** `"Administration NILVANGE" <numos@numos.local>`, quoting what RFC 5322 requires. */
export function formatSender(address: string, name?: string): string {
  if (!name) return address;
  return `"${name.replace(/["\\]/g, (c) => `\\${c}`).replace(/[\r\n]+/g, ' ')}" <${address}>`;
}

/**
 * A stored sender with today's EMAIL_FROM address, its display name kept: an e-mail held while
 * Resend refused the old sender leaves with the mended one.
 */
export function withSenderAddress(stored: string, address: string): string {
  const named = /^(".*") <[^<>]*>$/.exec(stored);
  return named ? `${named[1]} <${address}>` : address;
}

interface TextBuilder {
  addLiteral(text: string): void;
}

/**
 * The text conversion's rules beyond react-email's: a label cell (`data-text-label`, the Facts of
 * emails/components/Layout.tsx) is followed by " : ", so that a row of two cells reads
 * "Nom : Schmitt" rather than "NomSchmitt" (cells of a layout table are written side by side).
 */
const TEXT_OPTIONS = {
  selectors: [{ selector: 'td[data-text-label]', format: 'textLabel' }],
  formatters: {
    // html-to-text's formatter signature (its types are not installed): the element, the walker of
    // its children, the text being built.
    textLabel: (element: { children: unknown }, walk: (nodes: unknown, builder: TextBuilder) => void, builder: TextBuilder) => {
      walk(element.children, builder);
      builder.addLiteral(' : ');
    },
  },
};

/**
 * HTML and text parts. The text is derived from the HTML rather than from a second render: the
 * same result (the renderer's plain-text mode converts its own HTML), at half the cost, which
 * counts when a job writes one e-mail per library.
 */
export async function renderEmail(body: ReactElement): Promise<{ html: string; text: string }> {
  const html = await render(body);
  return { html, text: toPlainText(html, TEXT_OPTIONS) };
}

export interface Envelope {
  fromAddress: string;
  status: 'PENDING' | 'LOCAL';
  /** Whether the row keeps the secrets its body carries (to redact once Resend has it). */
  keepSecrets: boolean;
  createdAt: Date;
}

/**
 * The rules every outbox row follows, written one by one (Outbox.queue) or by a bulk run's own
 * statement: the sender, and, without RESEND_API_KEY, the development mailbox (LOCAL, never sent,
 * no secret to redact since none leaves).
 */
export function envelope(config: Pick<Config, 'emailFrom' | 'resendApiKey'>, now: Date, fromName?: string): Envelope {
  const delivered = config.resendApiKey !== undefined;
  return {
    fromAddress: formatSender(config.emailFrom, fromName),
    status: delivered ? ('PENDING' as const) : ('LOCAL' as const),
    keepSecrets: delivered,
    createdAt: now,
  };
}

export class Outbox {
  constructor(private readonly deps: { boss: PgBoss; config: Config; clock: Clock; metrics: Metrics }) {}

  /** Writes the e-mail, and its delivery job, in the caller's transaction (a Prisma one or the port). */
  queue(db: Tx | Sql, email: OutgoingEmail): Promise<string> {
    return this.write(asSql(db), email, false);
  }

  /**
   * The last e-mail to a person who erased their account: deleted as soon as Resend has it (or
   * refuses it for good), so that no trace of the address stays. Without RESEND_API_KEY it is
   * kept only where a development mailbox shows it (never in production), and the prune removes it.
   */
  async queueLast(db: Tx | Sql, email: OutgoingEmail): Promise<void> {
    if (this.deps.config.resendApiKey === undefined && !this.deps.config.mailbox) return;
    await this.write(asSql(db), email, true);
  }

  private async write(sql: Sql, email: OutgoingEmail, forget: boolean): Promise<string> {
    const { keepSecrets, ...rules } = envelope(this.deps.config, this.deps.clock.now(), email.fromName);
    const { html, text } = await renderEmail(email.body);
    const id = await insertEmail(sql, {
      ...rules,
      template: email.template,
      to: email.to,
      cc: email.cc ?? [],
      replyTo: email.replyTo ?? null,
      subject: email.subject,
      html,
      text,
      secrets: keepSecrets ? (email.secrets ?? []) : [],
      patronId: email.patronId ?? null,
      mentions: email.mentions ?? [],
      forget,
    });
    this.deps.metrics.emails.inc({ outcome: 'queued' });
    if (rules.status === 'PENDING') {
      await this.deps.boss.send(EMAIL_QUEUE, { outboxIds: [id] } satisfies EmailDeliveryJob, { db: bossDb(sql), singletonKey: id });
    }
    return id;
  }
}
