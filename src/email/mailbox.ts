// The development mailbox: without RESEND_API_KEY e-mails stay in the outbox (status LOCAL), with
// their links. Read here for the /dev/mailbox page and `npm run cli -- mailbox`, as Mailpit or
// MailHog would show them.
import type { PrismaClient } from '../db/prisma.js';
import { fillMarkers } from './bulk.js';

export interface MailboxEntry {
  id: string;
  createdAt: Date;
  status: string;
  from: string;
  to: string[];
  cc: string[];
  subject: string;
  template: string;
}

export async function recentEmails(prisma: PrismaClient, limit: number): Promise<MailboxEntry[]> {
  const rows = await prisma.emailOutbox.findMany({
    orderBy: [{ createdAt: 'desc' }, { id: 'desc' }],
    take: limit,
    select: { id: true, createdAt: true, status: true, fromAddress: true, toAddresses: true, ccAddresses: true, subject: true, template: true },
  });
  return rows.map((r) => ({ ...r, from: r.fromAddress, to: r.toAddresses, cc: r.ccAddresses }));
}

/** An e-mail's HTML and text as they were (or will be) sent: a bulk e-mail's shared body filled. */
export async function emailBody(prisma: PrismaClient, id: string): Promise<{ html: string; text: string } | null> {
  const email = await prisma.emailOutbox.findUnique({ where: { id } }).catch(() => null);
  if (!email) return null;
  const values = email.values as Record<string, string> | null;
  const batch = email.batchId ? await prisma.emailBatch.findUnique({ where: { id: email.batchId } }) : null;
  if (batch && values) return { html: fillMarkers(batch.html, values, true), text: fillMarkers(batch.text, values, false) };
  return { html: email.html ?? '', text: email.text ?? '' };
}

/** The links of a text body. */
export const linksOf = (text: string) => [...new Set(text.match(/https?:\/\/[^\s)\]>"]+/g) ?? [])];
