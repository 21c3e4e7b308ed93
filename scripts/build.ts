// npm run build: the production build. TypeScript compiled ahead of time (no compiler at start-up)
// into dist/, laid out as the repository is, with what the server reads at run time beside it: the
// SQL migrations, the sample operations of GraphiQL and the demonstration libraries. Production
// then runs `node dist/src/start.js` with production dependencies only (Dockerfile, README).
import { spawnSync } from 'node:child_process';
import { cpSync, mkdirSync, readdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';

const DIST = 'dist';
rmSync(DIST, { recursive: true, force: true });
const tsc = spawnSync('tsc', ['-p', 'tsconfig.build.json'], { stdio: 'inherit', shell: process.platform === 'win32' });
if (tsc.status !== 0) process.exit(tsc.status ?? 1);
cpSync(join('prisma', 'migrations'), join(DIST, 'prisma', 'migrations'), { recursive: true });
for (const [folder, suffix] of [
  ['codegen', '.graphql'],
  ['data', '.csv'],
] as const) {
  mkdirSync(join(DIST, folder), { recursive: true });
  for (const name of readdirSync(folder).filter((file) => file.endsWith(suffix))) cpSync(join(folder, name), join(DIST, folder, name));
}
console.log(`build : ${DIST}/ prêt (node ${DIST}/src/start.js)`);
