import { createRequire } from 'node:module';
import { defineConfig } from 'vitest/config';

export default defineConfig({
  resolve: {
    // graphql ships both CommonJS and ES modules; some dependencies load one, some the other, and
    // graphql refuses types from "another realm". Everything gets the CommonJS build, as in Node.
    alias: { graphql: createRequire(import.meta.url).resolve('graphql') },
  },
  test: {
    include: ['test/**/*.test.ts'],
    // One PostgreSQL for the run (embedded unless DATABASE_URL), one database per test file,
    // cloned from a migrated template: files run in parallel and never see each other's rows.
    globalSetup: ['test/support/global-setup.ts'],
    pool: 'forks',
    // Test files mostly wait (PostgreSQL, timers, fake servers, child processes): vitest's default
    // (one worker per core but one) ran them one at a time on 2 cores (500 s); 4 at a time keep
    // both cores busy.
    maxWorkers: 4,
    testTimeout: 30_000,
    hookTimeout: 60_000,
    teardownTimeout: 30_000,
  },
});
