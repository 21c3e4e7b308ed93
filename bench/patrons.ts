// The staff's patron list at scale: the pending queue's 1,000,000 patrons across 153 libraries,
// then `patrons` through GraphQL as the DLPB (every library) and as one library, with and without
// a search, in each order. Prints p50/p95 (target: p95 < 50 ms with a search) and the plans.
import { encodeGlobalID } from '@pothos/plugin-relay';
import { createApp } from '../src/wiring/app.js';
import { loadConfig } from '../src/config.js';
import { hashPassword } from '../src/lib/password.js';
import { fill } from './pending-queue.js';
import { benchDatabase, graphqlClient, ms, printPlans, stats, time } from './support.js';

const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 200);

const QUERY = `query($f: PatronsFilter, $o: PatronOrder, $first: Int) {
  patrons(filter: $f, orderBy: $o, first: $first) {
    totalCount
    edges { node { id lastName firstName login email birthDate registeredAt account { status activeUntil } library { code name } } }
  }
}`;

export async function patronsBench(): Promise<void> {
  const db = await benchDatabase();
  const app = await createApp({ config: loadConfig({ DATABASE_URL: db.url, NUMOS_THROTTLE: '0', NODE_ENV: 'production' }), databaseUrl: db.url });
  try {
    const filled = await fill(db.url);
    console.log(`${filled.requests} patrons and requests across 153 libraries, filled in ${filled.seconds.toFixed(0)} s`);
    const passwordHash = await hashPassword('mot de passe du banc');
    await app.prisma.staffAccount.create({ data: { login: 'dlpb', displayName: 'DLPB', email: 'd@example.org', role: 'DLPB_AGENT', passwordHash } });
    const library = await app.prisma.library.findUniqueOrThrow({ where: { code: '5200042' } });
    await app.prisma.staffAccount.create({
      data: { login: '5200042', displayName: 'B42', email: 'b@example.org', role: 'LIBRARY_ADMIN', libraryId: library.id, passwordHash },
    });
    const { gql, staffToken } = graphqlClient(app);
    const tokenOf = (login: string) => staffToken(login, 'mot de passe du banc');
    const dlpb = await tokenOf('dlpb');
    const admin = await tokenOf('5200042');

    const cases: [string, object, object | null, string][] = [
      ['DLPB, search "martin"', { search: 'martin' }, null, dlpb],
      ['DLPB, search "helene guer"', { search: 'helene guer' }, null, dlpb],
      ['DLPB, search "lecteur.4250"', { search: 'lecteur.4250' }, null, dlpb],
      ['DLPB, search "schmitt", newest first', { search: 'schmitt' }, { field: 'REGISTERED_AT', direction: 'DESC' }, dlpb],
      ['DLPB, TEMPORARY only', { statuses: ['TEMPORARY'] }, null, dlpb],
      ['DLPB, no search (1,000,000 counted)', {}, null, dlpb],
      ['DLPB, no search, ACTIVE_UNTIL ASC', {}, { field: 'ACTIVE_UNTIL', direction: 'ASC' }, dlpb],
      ['library admin, no search', {}, null, admin],
      ['library admin, search "schmitt"', { search: 'schmitt' }, null, admin],
      ['DLPB, one library, newest first', { libraryId: encodeGlobalID('Library', library.id) }, { field: 'REGISTERED_AT', direction: 'DESC' }, dlpb],
    ];
    for (const [label, filter, order, token] of cases) {
      const first = await gql(QUERY, { f: filter, o: order, first: 20 }, token);
      if (first.errors) throw new Error(JSON.stringify(first.errors));
      const samples: number[] = [];
      for (let i = 0; i < ROUNDS; i++) samples.push(await time(() => gql(QUERY, { f: filter, o: order, first: 20 }, token)));
      const s = stats(samples);
      console.log(`${label.padEnd(42)} total ${String(first.data.patrons.totalCount).padStart(7)}  p50 ${ms(s.p50)}  p95 ${ms(s.p95)}`);
    }

    // The plans of the SQL sent for the DLPB "martin" case.
    await printPlans(db.url, /FROM ("public"\.)?"?patron\b/, () => gql(QUERY, { f: { search: 'martin' }, first: 20 }, dlpb));
  } finally {
    await app.close();
    await db.close();
  }
}
