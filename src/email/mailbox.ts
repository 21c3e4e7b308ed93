// The development mailbox: without RESEND_API_KEY e-mails stay in the outbox (status LOCAL), with
// their links. Read here for the /dev/mailbox pages (HTML and JSON) and `npm run cli -- mailbox`,
// as Mailpit or MailHog would show them.
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
  /** The links of the text part, tokens included: what an end-to-end test follows. */
  links: string[];
}

/** One e-mail with its bodies as they were (or will be) sent. */
export interface MailboxEmail extends MailboxEntry {
  html: string;
  text: string;
}

const ENTRY_FIELDS = {
  id: true,
  createdAt: true,
  status: true,
  fromAddress: true,
  toAddresses: true,
  ccAddresses: true,
  subject: true,
  template: true,
  text: true,
  batchId: true,
  values: true,
} as const;

/** What an entry takes from its outbox row. */
type EntryRow = Omit<MailboxEntry, 'from' | 'to' | 'cc' | 'links'> & { fromAddress: string; toAddresses: string[]; ccAddresses: string[] };

/** A body as sent: its own, or a bulk e-mail's shared body filled with its values. */
function bodyOf(own: string | null, shared: string | undefined, values: unknown, html: boolean): string {
  if (own !== null) return own;
  return shared !== undefined && values ? fillMarkers(shared, values as Record<string, string>, html) : '';
}

function entryOf(row: EntryRow, text: string): MailboxEntry {
  return {
    id: row.id,
    createdAt: row.createdAt,
    status: row.status,
    from: row.fromAddress,
    to: row.toAddresses,
    cc: row.ccAddresses,
    subject: row.subject,
    template: row.template,
    links: linksOf(text),
  };
}

/** The last e-mails of the outbox, newest first. */
export async function recentEmails(prisma: PrismaClient, limit: number): Promise<MailboxEntry[]> {
  const rows = await prisma.emailOutbox.findMany({ orderBy: [{ createdAt: 'desc' }, { id: 'desc' }], take: limit, select: ENTRY_FIELDS });
  // The shared texts of bulk e-mails, in one query rather than one per e-mail.
  const batchIds = [...new Set(rows.flatMap((row) => (row.text === null && row.batchId ? [row.batchId] : [])))];
  const batches = batchIds.length
    ? new Map((await prisma.emailBatch.findMany({ where: { id: { in: batchIds } }, select: { id: true, text: true } })).map((b) => [b.id, b.text]))
    : new Map<string, string>();
  return rows.map((row) => entryOf(row, bodyOf(row.text, row.batchId ? batches.get(row.batchId) : undefined, row.values, false)));
}

/** One e-mail of the outbox with its HTML and text; null when there is none by that id. */
export async function mailboxEmail(prisma: PrismaClient, id: string): Promise<MailboxEmail | null> {
  // An id that is not a UUID finds nothing rather than failing.
  const row = await prisma.emailOutbox.findUnique({ where: { id }, select: { ...ENTRY_FIELDS, html: true } }).catch(() => null);
  if (!row) return null;
  const batch = row.batchId && (row.html === null || row.text === null) ? await prisma.emailBatch.findUnique({ where: { id: row.batchId } }) : null;
  const text = bodyOf(row.text, batch?.text, row.values, false);
  return { ...entryOf(row, text), html: bodyOf(row.html, batch?.html, row.values, true), text };
}

/** The links of a text body. */
export const linksOf = (text: string) => [...new Set(text.match(/https?:\/\/[^\s)\]>"]+/g) ?? [])];
