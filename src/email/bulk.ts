// E-mails for thousands of recipients in one job run: the template is rendered once with markers,
// filled per recipient (HTML-escaped in the HTML part), and the outbox rows and their delivery
// jobs are inserted in bulk, inside the caller's transaction (plain SQL: the rows are large).
import { render } from '@react-email/components';
import type { ReactElement } from 'react';
import type { App } from '../app.js';
import { bossDb, type Sql } from '../db/sql.js';
import { escapeHtml } from '../lib/text.js';
import { EMAIL_QUEUE } from '../jobs/queues.js';
import { formatSender } from './outbox.js';

export interface BulkRecipient {
  to: string;
  patronId: string | null;
  /** Marker → value, e.g. { '__FIRST_NAME__': 'Camille' }. */
  values: Record<string, string>;
  secrets: string[];
}

function fill(template: string, values: Record<string, string>, escape: boolean): string {
  let out = template;
  for (const [marker, value] of Object.entries(values)) out = out.replaceAll(marker, escape ? escapeHtml(value) : value);
  return out;
}

export async function queueBulkEmails(
  app: App,
  sql: Sql,
  email: { template: string; subject: string; fromName?: string; body: ReactElement },
  recipients: BulkRecipient[],
): Promise<void> {
  if (!recipients.length) return;
  const [html, text] = await Promise.all([render(email.body), render(email.body, { plainText: true })]);
  // In chunks: a run may e-mail a hundred thousand people, and each row carries its whole e-mail.
  for (let start = 0; start < recipients.length; start += CHUNK) {
    await insertChunk(app, sql, email, html, text, recipients.slice(start, start + CHUNK));
  }
}

const CHUNK = 2_000;

async function insertChunk(
  app: App,
  sql: Sql,
  email: { template: string; subject: string; fromName?: string },
  html: string,
  text: string,
  recipients: BulkRecipient[],
): Promise<void> {
  const delivered = app.config.resendApiKey !== undefined;
  const now = app.clock.now();
  const rows = recipients.map((r) => ({
    id: crypto.randomUUID(),
    key: crypto.randomUUID(),
    to: r.to,
    patronId: r.patronId,
    html: fill(html, r.values, true),
    text: fill(text, r.values, false),
    secrets: delivered ? r.secrets : [],
  }));
  await sql.query(
    `INSERT INTO email_outbox (id, idempotency_key, template, from_address, to_addresses, cc_addresses, subject, html, text, secrets, status, patron_id, created_at)
     SELECT id, key, $1, $2, ARRAY[addr], '{}', $3, html, text, ARRAY(SELECT jsonb_array_elements_text(secrets)), $4::"EmailStatus", patron_id, $5
       FROM unnest($6::uuid[], $7::text[], $8::text[], $9::uuid[], $10::text[], $11::text[], $12::jsonb[])
            AS r(id, key, addr, patron_id, html, text, secrets)`,
    [
    email.template,
    formatSender(app.config.emailFrom, email.fromName),
    email.subject,
    delivered ? 'PENDING' : 'LOCAL',
    now,
    rows.map((r) => r.id),
    rows.map((r) => r.key),
    rows.map((r) => r.to),
    rows.map((r) => r.patronId),
    rows.map((r) => r.html),
    rows.map((r) => r.text),
    rows.map((r) => JSON.stringify(r.secrets)),
    ],
  );
  if (delivered) {
    await app.boss.insert(
      EMAIL_QUEUE,
      rows.map((r) => ({ data: { outboxId: r.id }, singletonKey: r.id })),
      { db: bossDb(sql) },
    );
  }
}
