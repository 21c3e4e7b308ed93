// npm run cli -- <command> [arguments]
//   libraries:import <file.csv>   creates or updates libraries (columns: code, name, town,
//                                 postal_code, email); a file with any bad row imports nothing.
//   mailbox [n] [--json]          the last n e-mails of the outbox (10 by default), newest first,
//                                 with their links: the development mailbox, in a terminal (with
//                                 --json, as /dev/mailbox.json answers); never in production.
//   migrate                       applies the migrations and stops: the release step before new
//                                 instances start (they would apply them too, one at a time).
//   outbox:retry [--since date]   sends again the e-mails given up or held (all, or those written
//                                 since the date, YYYY-MM-DD), once Resend's key or sender is mended.
// In a production image (no tsx): node dist/src/cli.js <command>.
import { readFile } from 'node:fs/promises';
import type pg from 'pg';
import { type Config, ConfigError, loadConfig } from './config.js';
import { openDatabase } from './database.js';
import { applyMigrations } from './db/migrate.js';
import { createPool, createPrisma, type PrismaClient } from './db/prisma.js';
import { poolDb } from './db/sql.js';
import { retryEmails } from './email/delivery.js';
import { recentEmails } from './email/mailbox.js';
import { startBoss } from './jobs/boss.js';
import { parisDate, parisStartOfDay } from './lib/calendar.js';
import { createMetrics } from './observability/metrics.js';
import { importLibraries } from './modules/libraries/service.js';

const USAGE = `Usage : npm run cli -- libraries:import <fichier.csv>
        npm run cli -- mailbox [nombre] [--json]
        npm run cli -- migrate
        npm run cli -- outbox:retry [--since AAAA-MM-JJ]`;

async function importCommand(prisma: PrismaClient, content: string): Promise<number> {
  const result = await importLibraries(prisma, content);
  if (result.errors.length) {
    console.error(`Import refusé, rien n'a été importé (${result.errors.length} erreur(s)) :`);
    for (const error of result.errors) console.error(`  - ${error}`);
    return 1;
  }
  console.log(`${result.created + result.updated} bibliothèque(s) importée(s) : ${result.created} créée(s), ${result.updated} mise(s) à jour.`);
  return 0;
}

interface MailboxOptions {
  count: number;
  /** The list as /dev/mailbox.json answers it, for a script. */
  json: boolean;
}

/** `mailbox [n] [--json]`, in either order; undefined when malformed. */
function mailboxOptionsOf(args: string[]): MailboxOptions | undefined {
  const rest = args.filter((arg) => arg !== '--json');
  if (rest.length > 1 || args.length - rest.length > 1) return undefined;
  const count = rest[0] === undefined ? 10 : Number(rest[0]);
  return Number.isInteger(count) && count > 0 ? { count, json: rest.length < args.length } : undefined;
}

async function mailboxCommand(prisma: PrismaClient, { count, json }: MailboxOptions): Promise<number> {
  const emails = await recentEmails(prisma, count);
  if (json) {
    console.log(JSON.stringify({ emails }, null, 2));
    return 0;
  }
  if (!emails.length) console.log('Boîte de développement vide.');
  for (const email of emails) {
    console.log(`\n${email.createdAt.toISOString()}  [${email.status}]  à ${email.to.join(', ')}${email.cc.length ? ` (cc ${email.cc.join(', ')})` : ''}`);
    console.log(`  ${email.subject}`);
    for (const link of email.links) console.log(`  → ${link}`);
  }
  return 0;
}

async function retryCommand(config: Config, url: string, pool: pg.Pool, since: Date): Promise<number> {
  if (!config.resendApiKey) {
    console.log('Sans RESEND_API_KEY, les e-mails restent dans la boîte de développement : rien à renvoyer.');
    return 0;
  }
  const boss = await startBoss(url, { poolMax: 1, quiet: true, emailRetryDelaySeconds: config.emailRetryDelaySeconds, scheduledJobs: [] });
  try {
    const count = await retryEmails({ db: poolDb(pool), boss, config, metrics: createMetrics() }, since);
    console.log(`${count} e-mail(s) remis en file d'envoi.`);
    return 0;
  } finally {
    await boss.stop({ graceful: false });
  }
}

/** `--since YYYY-MM-DD` (midnight, Paris time), or the beginning of time. */
function sinceOf(args: string[]): Date | undefined {
  if (!args.length) return new Date(0);
  if (args[0] !== '--since' || args.length !== 2 || !/^\d{4}-\d{2}-\d{2}$/.test(args[1]!)) return undefined;
  // A date that does not exist (2027-02-30) is refused, not carried over to March.
  const date = parisStartOfDay(args[1]!);
  return !Number.isNaN(date.getTime()) && parisDate(date) === args[1] ? date : undefined;
}

async function main(args: string[]): Promise<number> {
  const [command, argument] = args;
  const mailbox = command === 'mailbox' ? mailboxOptionsOf(args.slice(1)) : undefined;
  const since = command === 'outbox:retry' ? sinceOf(args.slice(1)) : undefined;
  const valid =
    (command === 'libraries:import' && argument) ||
    (command === 'mailbox' && mailbox) ||
    (command === 'migrate' && args.length === 1) ||
    (command === 'outbox:retry' && since);
  if (!valid) {
    console.error(USAGE);
    return 2;
  }
  let content = '';
  if (command === 'libraries:import') {
    try {
      content = await readFile(argument!, 'utf8');
    } catch (error) {
      console.error(`Impossible de lire ${argument} : ${(error as Error).message}`);
      return 1;
    }
  }
  let config: ReturnType<typeof loadConfig>;
  try {
    config = loadConfig();
  } catch (error) {
    if (!(error instanceof ConfigError)) throw error;
    console.error(error.message);
    return 2;
  }
  // Like the /dev/mailbox pages: the outbox of a production instance holds live links.
  if (command === 'mailbox' && !config.mailbox) {
    console.error("La boîte de développement n'existe pas en production (NODE_ENV=production).");
    return 2;
  }
  // A running `npm start` on the same data shares its embedded server.
  const database = await openDatabase(config, { share: true });
  const pool = createPool(database.url, 2);
  const prisma = createPrisma(pool);
  try {
    const ran = await applyMigrations(database.url);
    if (command === 'migrate') {
      console.log(ran.length ? `${ran.length} migration(s) appliquée(s) : ${ran.join(', ')}` : 'Base à jour : aucune migration à appliquer.');
      return 0;
    }
    if (command === 'outbox:retry') return await retryCommand(config, database.url, pool, since!);
    return command === 'mailbox' ? await mailboxCommand(prisma, mailbox!) : await importCommand(prisma, content);
  } finally {
    await prisma.$disconnect();
    await pool.end();
    await database.stop();
  }
}

// An explicit exit: tsx does not pass `process.exitCode` on to the shell.
process.exit(await main(process.argv.slice(2)));
