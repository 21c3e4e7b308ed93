// npm run migration:create -- <name>
// Writes prisma/migrations/<timestamp>_<name>/migration.sql: the SQL that takes the schema of the
// last commit (git HEAD) to the working prisma/schema.prisma, followed by the current definition
// of every SQL function or trigger whose file (src/db/functions/<name>.sql) differs from HEAD's.
// Review it (a function whose signature changed needs a DROP of the old one first), commit the
// files together; test/db/functions.test.ts proves the migrations give exactly the files.
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { prisma, withDatabaseUrl } from './prisma-cli.js';

const name = process.argv[2];
if (!name || !/^[a-z0-9_]+$/.test(name)) {
  console.error('Usage : npm run migration:create -- <nom_en_snake_case>');
  process.exit(1);
}

let from = ['--from-empty'];
try {
  const previous = execFileSync('git', ['show', 'HEAD:prisma/schema.prisma'], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] });
  const file = join(mkdtempSync(join(tmpdir(), 'numos-schema-')), 'schema.prisma');
  writeFileSync(file, previous);
  from = ['--from-schema-datamodel', file];
} catch {
  // No committed schema yet: the first migration starts from an empty database.
}

const FUNCTIONS = join('src', 'db', 'functions');
const committed = (file: string) => {
  try {
    return execFileSync('git', ['show', `HEAD:${file}`], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] });
  } catch {
    return undefined;
  }
};
const changedFunctions = readdirSync(FUNCTIONS)
  .filter((name) => name.endsWith('.sql'))
  .map((name) => join(FUNCTIONS, name))
  .filter((file) => readFileSync(file, 'utf8') !== committed(file))
  .map((file) => `\n-- ${file} (its current definition)\n${readFileSync(file, 'utf8')}`);

const schemaChange = await withDatabaseUrl((url) => prisma(['migrate', 'diff', ...from, '--to-schema-datamodel', 'prisma/schema.prisma', '--script'], url));
const sql = schemaChange + changedFunctions.join('');
if (!/\S/.test(sql.replace(/^--.*$/gm, ''))) {
  console.log('Aucune différence : pas de migration à créer.');
  process.exit(0);
}
const stamp = new Date().toISOString().replace(/\D/g, '').slice(0, 14);
const dir = join('prisma', 'migrations', `${stamp}_${name}`);
mkdirSync(dir, { recursive: true });
writeFileSync(join(dir, 'migration.sql'), sql);
console.log(`Migration écrite : ${dir}/migration.sql`);
