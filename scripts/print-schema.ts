// npm run schema:print  writes schema.graphql from the code (sorted, so diffs stay readable).
// npm run schema:check  fails when the committed schema.graphql differs from the code.
// The printed schema is the production one: advanceTestClock (NUMOS_TEST_CLOCK=1 only) is left out.
import { readFileSync, writeFileSync } from 'node:fs';
import { printSchema } from 'graphql';
import { getSchema } from '../src/wiring/schema.js';

const FILE = 'schema.graphql';
const printed = `${printSchema(getSchema())}\n`;

if (process.argv.includes('--check')) {
  let committed = '';
  try {
    committed = readFileSync(FILE, 'utf8');
  } catch {
    // missing: reported below
  }
  if (committed !== printed) {
    console.error(`${FILE} ne correspond pas au code : lancez « npm run schema:print » et validez le fichier.`);
    process.exit(1);
  }
  console.log(`${FILE} est à jour.`);
} else {
  writeFileSync(FILE, printed);
  console.log(`${FILE} écrit.`);
}
