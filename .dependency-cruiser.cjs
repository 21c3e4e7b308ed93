// The layers of the house, as rules that run (`npm run layers`, in CI). Top to bottom:
//   entry points (src/index.ts, src/cli.ts, src/database.ts) and the wiring (src/wiring/: the app,
//   the schema, the schedules, the workers), which may use anything;
//   modules (src/modules/<domain>/): a service with the rules, a store with the SQL, types.ts for
//   GraphQL, jobs; a module uses another through its service, never its store;
//   auth (src/auth/), which reaches modules through their services only;
//   infrastructure (db, events, jobs, email, observability, server, graphql) and the kernel
//   (instance.ts, config.ts, settings.ts, clock.ts, links.ts), which import no module;
//   lib/ and domain/, which import nothing above them.
/** @type {import('dependency-cruiser').IConfiguration} */
module.exports = {
  forbidden: [
    {
      name: 'no-circular',
      severity: 'error',
      comment: 'No import cycle, type-only imports included.',
      from: { path: '^src/' },
      to: { circular: true },
    },
    {
      name: 'wiring-at-the-top',
      severity: 'error',
      comment: 'Only the entry points use the wiring (which imports every module).',
      from: { path: '^src/', pathNot: '^src/(index|cli|start)\\.ts$|^src/wiring/' },
      to: { path: '^src/wiring/' },
    },
    {
      name: 'nothing-imports-entry-points',
      severity: 'error',
      comment: 'The server (index.ts, loaded by start.ts once the Node.js version is checked) and the CLI are entry points.',
      from: { path: '^src/', pathNot: '^src/start\\.ts$' },
      to: { path: '^src/(index|cli)\\.ts$' },
    },
    {
      name: 'infrastructure-imports-no-module',
      severity: 'error',
      comment: 'Infrastructure and the kernel serve every module and know none of them.',
      from: { path: '^src/(db|events|jobs|email|observability|server|graphql|lib|domain)/|^src/(instance|config|settings|clock|links)\\.ts$' },
      to: { path: '^src/modules/' },
    },
    {
      name: 'auth-through-services',
      severity: 'error',
      comment: 'auth/ uses a module through what it exports: its service.',
      from: { path: '^src/auth/' },
      to: { path: '^src/modules/', pathNot: '^src/modules/[^/]+/service\\.ts$' },
    },
    {
      name: 'no-foreign-store',
      severity: 'error',
      comment: "A module uses another module's service, never its store.",
      from: { path: '^src/modules/([^/]+)/' },
      to: { path: '^src/modules/[^/]+/store\\.ts$', pathNot: '^src/modules/$1/' },
    },
    {
      name: 'rules-without-graphql',
      severity: 'error',
      comment: "A module's rules (service, store, jobs…) know nothing of GraphQL or of the server: types.ts files are its GraphQL layer.",
      from: { path: '^src/modules/', pathNot: 'types\\.ts$' },
      to: { path: '^src/(server|graphql)/|^src/modules/.+types\\.ts$' },
    },
    {
      name: 'resolvers-through-services',
      severity: 'error',
      comment: "GraphQL types call services; the SQL is the service's business.",
      from: { path: '^src/modules/.+types\\.ts$' },
      to: { path: '^src/modules/[^/]+/store\\.ts$|^src/db/sql\\.ts$' },
    },
    {
      name: 'stores-hold-sql-only',
      severity: 'error',
      comment: 'A store is named statements on the SQL port: it calls no service, no other module.',
      from: { path: '^src/modules/([^/]+)/store\\.ts$' },
      to: { path: '^src/modules/', pathNot: '^src/modules/$1/' },
    },
    {
      name: 'adapters-stand-alone',
      severity: 'error',
      comment: "A library system's adapter speaks its protocol only: it knows no table, no module, no GraphQL.",
      from: { path: '^src/modules/membership/adapters/' },
      to: { path: '^src/', pathNot: '^src/modules/membership/adapters/|^src/lib/|^src/domain/' },
    },
    {
      name: 'leaves-stay-leaves',
      severity: 'error',
      comment: 'lib/ and domain/ are the bottom of the house.',
      from: { path: '^src/(lib|domain)/' },
      to: { path: '^src/', pathNot: '^src/(lib|domain|generated)/' },
    },
  ],
  options: {
    doNotFollow: { path: 'node_modules' },
    exclude: { path: '^src/generated/' },
    tsPreCompilationDeps: true,
    tsConfig: { fileName: 'tsconfig.json' },
    enhancedResolveOptions: { exportsFields: ['exports'], conditionNames: ['import', 'require', 'node', 'default'], extensions: ['.ts', '.tsx', '.js'] },
  },
};
