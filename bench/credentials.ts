// Credentials: Argon2id hash time, and how long login and requestPasswordReset take for a known
// and an unknown login (they must not tell one from the other). Known and unknown calls alternate
// so that both see the same machine load.
import { createApp } from '../src/wiring/app.js';
import { loadConfig } from '../src/config.js';
import { ARGON2_PARAMS, hashPassword, verifyPassword } from '../src/lib/password.js';
import { benchDatabase, ms, stats, time } from './support.js';

export async function credentialsBench(rounds = 60): Promise<void> {
  const db = await benchDatabase();
  const app = await createApp({ config: loadConfig({ DATABASE_URL: db.url, NUMOS_THROTTLE: '0', NODE_ENV: 'production' }), databaseUrl: db.url });
  try {
    const hashTimes: number[] = [];
    let hash = '';
    for (let i = 0; i < 20; i++) hashTimes.push(await time(async () => (hash = await hashPassword(`mot de passe ${i}`))));
    const verifyTimes: number[] = [];
    for (let i = 0; i < 20; i++) verifyTimes.push(await time(() => verifyPassword(hash, 'mot de passe 19')));
    console.log(`Argon2id m=${ARGON2_PARAMS.memoryCost} KiB t=${ARGON2_PARAMS.timeCost} p=${ARGON2_PARAMS.parallelism}`);
    console.log(`  hash   ${fmt(stats(hashTimes))}`);
    console.log(`  verify ${fmt(stats(verifyTimes))}`);

    const library = await app.prisma.library.create({ data: { code: '5200001', name: 'Bench', email: 'b@example.org', searchText: 'bench' } });
    await app.prisma.patron.create({
      data: {
        libraryId: library.id,
        lastName: 'Bench',
        firstName: 'Known',
        birthDate: new Date('1990-01-01'),
        email: 'known@example.org',
        login: 'known.patron',
        loginKey: 'known.patron',
        passwordHash: await hashPassword('le vrai mot de passe'),
        newsletter: false,
        identityKey: 'bench|known|1990-01-01',
        searchText: 'bench known',
        status: 'ACTIVE',
      },
    });

    const gql = (query: string, variables: object) =>
      Promise.resolve(
        app.yoga.fetch('http://bench/graphql', { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ query, variables }) }),
      ).then((r) => r.json());
    const LOGIN = `mutation($i: LoginInput!) { login(input: $i) { token errors { code } } }`;
    const RESET = `mutation($i: RequestPasswordResetInput!) { requestPasswordReset(input: $i) { ok } }`;

    for (const [label, query, input] of [
      ['login, wrong password', LOGIN, (l: string) => ({ realm: 'PATRON', login: l, password: 'un mauvais mot de passe' })],
      ['requestPasswordReset', RESET, (l: string) => ({ realm: 'PATRON', login: l })],
    ] as const) {
      const known: number[] = [];
      const unknown: number[] = [];
      for (let i = 0; i < 5; i++) await gql(query, { i: input(i % 2 ? 'known.patron' : 'nobody') }); // warm-up
      for (let i = 0; i < rounds; i++) {
        known.push(await time(() => gql(query, { i: input('known.patron') })));
        unknown.push(await time(() => gql(query, { i: input(`nobody.${i}`) })));
      }
      const k = stats(known);
      const u = stats(unknown);
      console.log(`${label} (${rounds} each, alternating)`);
      console.log(`  known   ${fmt(k)}`);
      console.log(`  unknown ${fmt(u)}`);
      console.log(`  difference of medians ${ms(k.p50 - u.p50)} (${((100 * (k.p50 - u.p50)) / u.p50).toFixed(1)} %)`);
    }
  } finally {
    await app.close();
    await db.close();
  }
}

const fmt = (s: ReturnType<typeof stats>) => `p50 ${ms(s.p50)}  mean ${ms(s.mean)}  p95 ${ms(s.p95)}  (n=${s.n})`;
