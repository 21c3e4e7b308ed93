// The outbox's SQL: one e-mail written in the transaction of the change that causes it. (Bulk
// runs write theirs with their own set-based statement, e.g. the renewal reminders, following
// the same envelope: src/email/outbox.ts.)
import type { Sql } from '../db/sql.js';

export interface EmailRow {
  template: string;
  fromAddress: string;
  to: string[];
  cc: string[];
  replyTo: string | null;
  subject: string;
  html: string;
  text: string;
  secrets: string[];
  status: 'PENDING' | 'LOCAL';
  patronId: string | null;
  mentions: string[];
  forget: boolean;
  createdAt: Date;
}

export async function insertEmail(sql: Sql, row: EmailRow): Promise<string> {
  const { rows } = await sql.query<{ id: string }>(
    `INSERT INTO email_outbox (template, from_address, to_addresses, cc_addresses, reply_to, subject, html, text,
                               secrets, status, patron_id, forget, created_at, mentions)
     VALUES ($1, $2, $3::text[], $4::text[], $5, $6, $7, $8, $9::text[], $10::"EmailStatus", $11::uuid, $12, $13, $14::uuid[])
     RETURNING id`,
    [
      row.template,
      row.fromAddress,
      row.to,
      row.cc,
      row.replyTo,
      row.subject,
      row.html,
      row.text,
      row.secrets,
      row.status,
      row.patronId,
      row.forget,
      row.createdAt,
      row.mentions,
    ],
  );
  return rows[0]!.id;
}

/**
 * E-mails given up (FAILED) or held (Resend refusing NuMos's key or sender) since a date, waiting
 * again, their last error cleared; the last e-mails of erased accounts are not kept when they fail,
 * so none is among them. Their ids, for new delivery jobs in the same transaction.
 */
export async function reopenEmails(sql: Sql, since: Date): Promise<string[]> {
  const { rows } = await sql.query<{ id: string }>(
    `UPDATE email_outbox SET status = 'PENDING', last_error = NULL
      WHERE status IN ('FAILED', 'HELD') AND created_at >= $1
      RETURNING id`,
    [since],
  );
  return rows.map((row) => row.id).sort();
}
