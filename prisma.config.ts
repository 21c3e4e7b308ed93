// Prisma CLI configuration, in the Rust-free mode: no engine binary is ever downloaded, the CLI
// talks to PostgreSQL through the JavaScript driver adapter (see README, "Toolchain").
import { PrismaPg } from '@prisma/adapter-pg';
import { defineConfig } from 'prisma/config';

// The CLI insists on a well-formed DATABASE_URL even for commands that never connect
// (generate, migrate diff); without one it tries to download the legacy query engine.
process.env.DATABASE_URL ??= 'postgresql://numos@127.0.0.1:1/unused';

export default defineConfig({
  schema: 'prisma/schema.prisma',
  migrations: { path: 'prisma/migrations' },
  experimental: { adapter: true },
  engine: 'js',
  adapter: async () => new PrismaPg({ connectionString: process.env.DATABASE_URL }),
});
