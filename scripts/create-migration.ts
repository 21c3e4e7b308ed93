// npm run migration:create -- <name>
// Writes prisma/migrations/<timestamp>_<name>/migration.sql: the SQL that takes the schema of the
// last commit (git HEAD) to the working prisma/schema.prisma. Review it, add what Prisma cannot
// express (triggers), commit both files together.
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
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

const sql = await withDatabaseUrl((url) => prisma(['migrate', 'diff', ...from, '--to-schema-datamodel', 'prisma/schema.prisma', '--script'], url));
if (!/\S/.test(sql.replace(/^--.*$/gm, ''))) {
  console.log('Aucune différence : pas de migration à créer.');
  process.exit(0);
}
const stamp = new Date().toISOString().replace(/\D/g, '').slice(0, 14);
const dir = join('prisma', 'migrations', `${stamp}_${name}`);
mkdirSync(dir, { recursive: true });
writeFileSync(join(dir, 'migration.sql'), sql);
console.log(`Migration écrite : ${dir}/migration.sql`);
