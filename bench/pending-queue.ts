// The pending queue at scale: 1,000,000 registration requests (and as many patrons) across 153
// libraries, 2 % of them awaiting a decision, then pendingRegistrations through GraphQL as the DLPB
// (every library) and as one library, with and without a search. Prints p50/p95 and the plans.
import { encodeGlobalID } from '@pothos/plugin-relay';
import pg from 'pg';
import { createApp } from '../src/wiring/app.js';
import { loadConfig } from '../src/config.js';
import { hashPassword } from '../src/lib/password.js';
import { benchDatabase, graphqlClient, ms, printPlans, stats, time } from './support.js';

export const TOTAL = Number(process.env.BENCH_REQUESTS ?? 1_000_000);
const LIBRARIES = 153;
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 200);

const QUERY = `query($f: PendingRegistrationsFilter, $first: Int) {
  pendingRegistrations(filter: $f, first: $first) {
    totalCount
    edges { node { id kind submittedAt decisionDueAt escalated patron { lastName firstName login email birthDate } library { code name } } }
  }
}`;

/** 1,000,000 patrons with their requests across 153 libraries (also the patron list's data). */
export async function fill(url: string) {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  const started = performance.now();
  // Names from small pools, combined: realistic spread for trigram search.
  await client.query(`
    CREATE TEMP TABLE last_names AS SELECT * FROM unnest(ARRAY['Martin','Bernard','Thomas','Petit','Robert','Richard','Durand','Dubois','Moreau','Laurent','Simon','Michel','Lefebvre','Leroy','Roux','David','Bertrand','Morel','Fournier','Girard','Bonnet','Dupont','Lambert','Fontaine','Rousseau','Vincent','Muller','Lefevre','Faure','André','Mercier','Blanc','Guérin','Boyer','Garnier','Chevalier','François','Legrand','Gauthier','Garcia','Schmitt','Klein','Weber','Meyer','Becker','Hoffmann','Schneider','Wagner','Fischer','Zimmermann']) WITH ORDINALITY AS t(name, n);
    CREATE TEMP TABLE first_names AS SELECT * FROM unnest(ARRAY['Camille','Léa','Manon','Chloé','Emma','Inès','Jade','Louise','Zoé','Hélène','Lucas','Hugo','Louis','Nathan','Gabriel','Jules','Léo','Arthur','Raphaël','Étienne','Noémie','Éléonore','Mathis','Sacha','Maël','Anaïs','Céline','Sébastien','Jérôme','François']) WITH ORDINALITY AS t(name, n);
    INSERT INTO library (code, name, town, email, placeholder, search_text, updated_at)
      SELECT '52' || lpad(n::text, 5, '0'), 'Bibliothèque ' || n, 'Commune ' || n, 'bib' || n || '@example.org', true, 'bibliotheque ' || n, now()
        FROM generate_series(1, ${LIBRARIES}) n;
    DROP INDEX patron_search_trgm;
    DROP INDEX registration_request_pending_search_trgm;
  `);
  const hash = await hashPassword('mot de passe du banc');
  await client.query(
    `INSERT INTO patron (id, library_id, last_name, first_name, birth_date, email, login, login_key, password_hash, newsletter,
                         identity_key, search_text, status, status_changed_at, registered_at, updated_at)
     SELECT gen_random_uuid(), l.id, ln.name, fn.name, date '1950-01-01' + (i % 25000), 'lecteur' || i || '@example.org',
            'lecteur.' || i, 'lecteur.' || i, $1, false, 'k' || i,
            lower(translate(ln.name || ' ' || fn.name, 'éèêëàâäîïôöùûüçÉ', 'eeeeaaaiioouuuce')) || ' lecteur.' || i || ' lecteur' || i || '@example.org',
            CASE WHEN i % 50 = 0 THEN 'TEMPORARY'::"AccountStatus" ELSE 'ACTIVE'::"AccountStatus" END, now(), now() - (i || ' minutes')::interval, now()
       FROM generate_series(1, ${TOTAL}) i
       JOIN library l ON l.code = '52' || lpad((1 + i % ${LIBRARIES})::text, 5, '0')
       JOIN last_names ln ON ln.n = 1 + (i / 3) % 50
       JOIN first_names fn ON fn.n = 1 + (i / 7) % 30`,
    [hash],
  );
  await client.query(
    `INSERT INTO registration_request (kind, state, patron_id, library_id, age_group, submitted_at, confirmed_at, decision_due_at,
                                       decision, decided_at, escalated, search_text)
     SELECT CASE WHEN random() < 0.1 THEN 'RENEWAL'::"RegistrationKind" ELSE 'REGISTRATION'::"RegistrationKind" END,
            CASE WHEN p.status = 'TEMPORARY' THEN 'AWAITING_DECISION'::"RegistrationState" ELSE 'ACCEPTED'::"RegistrationState" END,
            p.id, p.library_id, 'ADULT', p.registered_at, p.registered_at, p.registered_at + interval '5 days',
            CASE WHEN p.status = 'TEMPORARY' THEN NULL ELSE 'ACCEPT'::"Decision" END,
            CASE WHEN p.status = 'TEMPORARY' THEN NULL ELSE p.registered_at + interval '1 day' END,
            p.status = 'TEMPORARY' AND random() < 0.3, p.search_text
       FROM patron p`,
  );
  await client.query(`CREATE INDEX patron_search_trgm ON patron USING GIN (search_text gin_trgm_ops)`);
  await client.query(
    `CREATE INDEX registration_request_pending_search_trgm ON registration_request USING GIN (search_text gin_trgm_ops) WHERE state = 'AWAITING_DECISION'`,
  );
  await client.query('VACUUM ANALYZE');
  const counts = await client.query(
    `SELECT (SELECT count(*) FROM registration_request)::int AS requests,
            (SELECT count(*) FROM registration_request WHERE state = 'AWAITING_DECISION')::int AS pending`,
  );
  await client.end();
  return { ...counts.rows[0], seconds: (performance.now() - started) / 1_000 };
}

export async function pendingQueueBench(): Promise<void> {
  const db = await benchDatabase();
  const app = await createApp({ config: loadConfig({ DATABASE_URL: db.url, NUMOS_THROTTLE: '0', NODE_ENV: 'production' }), databaseUrl: db.url });
  try {
    const filled = await fill(db.url);
    console.log(`${filled.requests} requests (${filled.pending} awaiting a decision) across ${LIBRARIES} libraries, filled in ${filled.seconds.toFixed(0)} s`);

    await app.prisma.staffAccount.create({
      data: { login: 'dlpb', displayName: 'DLPB', email: 'd@example.org', role: 'DLPB_AGENT', passwordHash: await hashPassword('mot de passe du banc') },
    });
    const library = await app.prisma.library.findUniqueOrThrow({ where: { code: '5200042' } });
    await app.prisma.staffAccount.create({
      data: {
        login: '5200042',
        displayName: 'B42',
        email: 'b@example.org',
        role: 'LIBRARY_ADMIN',
        libraryId: library.id,
        passwordHash: await hashPassword('mot de passe du banc'),
      },
    });
    const { gql, staffToken } = graphqlClient(app);
    const tokenOf = (login: string) => staffToken(login, 'mot de passe du banc');
    const dlpb = await tokenOf('dlpb');
    const admin = await tokenOf('5200042');

    const cases: [string, object, string][] = [
      ['DLPB, all libraries, no search', {}, dlpb],
      ['DLPB, all libraries, search "martin"', { search: 'martin' }, dlpb],
      ['DLPB, all libraries, search "helene guer"', { search: 'helene guer' }, dlpb],
      ['DLPB, all libraries, search "lecteur.4250"', { search: 'lecteur.4250' }, dlpb],
      ['DLPB, escalated only', { escalated: true }, dlpb],
      ['library admin, no search', {}, admin],
      ['library admin, search "schmitt"', { search: 'schmitt' }, admin],
      ['DLPB, one library, renewals', { libraryId: encodeGlobalID('Library', library.id), state: 'RENEWALS' }, dlpb],
    ];
    for (const [label, filter, token] of cases) {
      const first = await gql(QUERY, { f: filter, first: 20 }, token);
      if (first.errors) throw new Error(JSON.stringify(first.errors));
      const samples: number[] = [];
      for (let i = 0; i < ROUNDS; i++) samples.push(await time(() => gql(QUERY, { f: filter, first: 20 }, token)));
      const s = stats(samples);
      console.log(`${label.padEnd(45)} total ${String(first.data.pendingRegistrations.totalCount).padStart(6)}  p50 ${ms(s.p50)}  p95 ${ms(s.p95)}`);
    }

    // The plans of the SQL sent for the DLPB "martin" case.
    await printPlans(db.url, /registration_request/, () => gql(QUERY, { f: { search: 'martin' }, first: 20 }, dlpb));
  } finally {
    await app.close();
    await db.close();
  }
}
