// npm run cli -- <command> [arguments]
//   libraries:import <file.csv>   creates or updates libraries (columns: code, name, town,
//                                 postal_code, email); a file with any bad row imports nothing.
import { readFile } from 'node:fs/promises';
import { loadConfig } from './config.js';
import { openDatabase } from './database.js';
import { applyMigrations } from './db/migrate.js';
import { createPool, createPrisma } from './db/prisma.js';
import { importLibraries } from './modules/libraries/service.js';

const USAGE = `Usage : npm run cli -- libraries:import <fichier.csv>`;

async function main(args: string[]): Promise<number> {
  const [command, file] = args;
  if (command !== 'libraries:import' || !file) {
    console.error(USAGE);
    return 2;
  }
  let content: string;
  try {
    content = await readFile(file, 'utf8');
  } catch (error) {
    console.error(`Impossible de lire ${file} : ${(error as Error).message}`);
    return 1;
  }
  const database = await openDatabase(loadConfig());
  const pool = createPool(database.url, 2);
  const prisma = createPrisma(pool);
  try {
    await applyMigrations(database.url);
    const result = await importLibraries(prisma, content);
    if (result.errors.length) {
      console.error(`Import refusé, rien n'a été importé (${result.errors.length} erreur(s)) :`);
      for (const error of result.errors) console.error(`  - ${error}`);
      return 1;
    }
    console.log(`${result.created + result.updated} bibliothèque(s) importée(s) : ${result.created} créée(s), ${result.updated} mise(s) à jour.`);
    return 0;
  } finally {
    await prisma.$disconnect();
    await pool.end();
    await database.stop();
  }
}

// An explicit exit: tsx does not pass `process.exitCode` on to the shell.
process.exit(await main(process.argv.slice(2)));
