// The stack's ceiling for `npm run bench -- consume`: a minimal graphql-yoga server on node:http
// whose one mutation calls NuMos's own consumeQuota, built (dist/), with the provider's key: the
// same statement and round trip, none of NuMos's HTTP and GraphQL layers (access log, metrics,
// limits, IDs, payload types). Its own process, as the NuMos server is. Plain JavaScript: it runs
// the build, and tsc need not see a dist/ that only the benchmark makes.
import { createServer } from 'node:http';
import { createSchema, createYoga } from 'graphql-yoga';
import { ProviderCaller } from '../dist/src/auth/caller.js';
import { loadConfig } from '../dist/src/config.js';
import { hashSecret } from '../dist/src/lib/secrets.js';
import { consumeQuota } from '../dist/src/modules/quotas/service.js';
import { configureLogging } from '../dist/src/observability/logger.js';
import { createApp } from '../dist/src/wiring/app.js';

configureLogging({ json: true, level: 'warn' });
const config = loadConfig();
const app = await createApp({ config, databaseUrl: config.databaseUrl });
// consumeQuota checks the key in its own statement: the lookup is never called.
const caller = new ProviderCaller(hashSecret(process.env.BENCH_API_KEY), async () => null);
const yoga = createYoga({
  schema: createSchema({
    typeDefs: 'type Query { ok: Boolean } type Mutation { consume(patronId: ID!, key: String!): Boolean }',
    resolvers: {
      Mutation: {
        consume: async (_, args) =>
          (
            await consumeQuota(app, caller, {
              patronId: args.patronId,
              patronRef: args.patronId,
              category: 'NEWSPAPER',
              resourceId: 'journal',
              idempotencyKey: args.key,
            })
          ).granted,
      },
    },
  }),
  logging: false,
  graphiql: false,
});
const server = createServer(yoga).listen(Number(process.env.PORT), '127.0.0.1');
process.on('SIGTERM', () => server.close(() => app.close().then(() => process.exit(0))));
