// After `npm ci`: Prisma's client is generated from the schema when the Prisma CLI is installed (a
// developer's install). A production install (`npm ci --omit=dev`) has no CLI and needs none: the
// built server (dist/) carries its generated client.
import { existsSync } from 'node:fs';
import { spawnSync } from 'node:child_process';

if (existsSync('node_modules/.bin/prisma')) {
  const result = spawnSync('node_modules/.bin/prisma', ['generate'], { stdio: 'inherit' });
  process.exit(result.status ?? 1);
}
