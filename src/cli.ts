// npm run cli -- <command> [arguments]
//   libraries:import <file.csv>   creates or updates libraries (columns: code, name, town,
//                                 postal_code, email); a file with any bad row imports nothing.
//   mailbox [n]                   the last n e-mails of the outbox (10 by default), newest first,
//                                 with their links: the development mailbox, in a terminal.
import { readFile } from 'node:fs/promises';
import { ConfigError, loadConfig } from './config.js';
import { openDatabase } from './database.js';
import { applyMigrations } from './db/migrate.js';
import { createPool, createPrisma, type PrismaClient } from './db/prisma.js';
import { emailBody, linksOf, recentEmails } from './email/mailbox.js';
import { importLibraries } from './modules/libraries/service.js';

const USAGE = `Usage : npm run cli -- libraries:import <fichier.csv>
        npm run cli -- mailbox [nombre]`;

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

async function mailboxCommand(prisma: PrismaClient, count: number): Promise<number> {
  const emails = await recentEmails(prisma, count);
  if (!emails.length) console.log('Boîte de développement vide.');
  for (const email of emails) {
    console.log(`\n${email.createdAt.toISOString()}  [${email.status}]  à ${email.to.join(', ')}${email.cc.length ? ` (cc ${email.cc.join(', ')})` : ''}`);
    console.log(`  ${email.subject}`);
    for (const link of linksOf((await emailBody(prisma, email.id))?.text ?? '')) console.log(`  → ${link}`);
  }
  return 0;
}

async function main(args: string[]): Promise<number> {
  const [command, argument] = args;
  const count = argument === undefined ? 10 : Number(argument);
  const valid = (command === 'libraries:import' && argument) || (command === 'mailbox' && Number.isInteger(count) && count > 0);
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
  // A running `npm start` on the same data shares its embedded server.
  const database = await openDatabase(config, { share: true });
  const pool = createPool(database.url, 2);
  const prisma = createPrisma(pool);
  try {
    await applyMigrations(database.url);
    return command === 'mailbox' ? await mailboxCommand(prisma, count) : await importCommand(prisma, content);
  } finally {
    await prisma.$disconnect();
    await pool.end();
    await database.stop();
  }
}

// An explicit exit: tsx does not pass `process.exitCode` on to the shell.
process.exit(await main(process.argv.slice(2)));
