// Membership checks under load: 1,000 confirmations across 20 libraries whose (fake) Koha answers
// in 50 ms, over HTTPS. Prints the time until every check is stored, what each library's server
// saw (calls at once, calls in any 60 seconds: the limits are 2 and 60), and the cost of the
// connectors on `confirm` itself: the same confirmations for 20 libraries without a connector,
// alternated with those with one in chunks (ABBA order), in the same process and database, p50 and
// p95 of each and their ratio. One instance with its workers. The fake Koha servers run in a child
// process (this file, forked): a library's server does not share NuMos's event loop.
import { type ChildProcess, fork } from 'node:child_process';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { encodeGlobalID } from '@pothos/plugin-relay';
import pg from 'pg';
import { loadConfig } from '../src/config.js';
import { MEMBERSHIP_CHECK_QUEUE } from '../src/jobs/queues.js';
import { hashPassword } from '../src/lib/password.js';
import { type CheckJob, runMembershipCheck } from '../src/modules/membership/service.js';
import { mintToken } from '../src/modules/tokens/store.js';
import { createApp, type RunningApp as App } from '../src/wiring/app.js';
import { FakeKoha } from '../test/support/fake-koha.js';
import { FakeResend } from '../test/support/fake-resend.js';
import { benchDatabase, graphqlClient, ms, stats } from './support.js';

const LIBRARIES = 20;
const CONFIRMATIONS = Number(process.env.BENCH_CONFIRMATIONS ?? 1_000);
const ANSWER_MS = 50;
/** Confirmations sent at once (people clicking their links). */
const CLIENTS = Number(process.env.BENCH_CLIENTS ?? 4);
/** Alternated chunks of the overhead measure. */
const CHUNK = 50;
const PASSWORD = 'mot de passe du banc';
const CA_FILE = fileURLToPath(new URL('../test/support/tls/cert.pem', import.meta.url));

const CONFIRM = `mutation($token: String!) { confirm(input: { token: $token }) { account { status } errors { code } } }`;

// ------------------------------------------------------------------------------------------------
// The libraries' servers, in a child process
// ------------------------------------------------------------------------------------------------

type FakesRequest = { type: 'start'; codes: string[] } | { type: 'add'; patrons: { code: string; card: string }[] } | { type: 'stats' } | { type: 'stop' };

interface ServerFigures {
  code: string;
  atOnce: number;
  perMinute: number;
  calls: number;
}

/** The child: one fake Koha per library code, over HTTPS, every answer ANSWER_MS late. */
function serveFakes(): void {
  const fakes = new Map<string, FakeKoha>();
  process.on('message', async ({ id, request }: { id: number; request: FakesRequest }) => {
    let answer: unknown = null;
    if (request.type === 'start') {
      for (const code of request.codes) {
        const koha = new FakeKoha();
        koha.oauthClients.push({ id: 'numos', secret: `secret-${code}` });
        koha.fail({ delayMs: ANSWER_MS });
        await koha.start({ tls: true });
        fakes.set(code, koha);
      }
      answer = Object.fromEntries([...fakes].map(([code, koha]) => [code, koha.url]));
    } else if (request.type === 'add') {
      for (const { code, card } of request.patrons) {
        fakes.get(code)!.add({
          cardnumber: card,
          surname: 'Banc',
          date_of_birth: '1990-07-14',
          date_enrolled: '2020-01-10',
          date_renewed: new Date().toISOString().slice(0, 10),
        });
      }
    } else if (request.type === 'stats') {
      answer = [...fakes].map(
        ([code, koha]): ServerFigures => ({
          code,
          atOnce: koha.maxInFlight,
          perMinute: koha.maxWithin('patrons', 60_000),
          calls: koha.received('patrons').length,
        }),
      );
    } else {
      for (const koha of fakes.values()) await koha.stop();
    }
    process.send!({ id, answer }, () => {
      if (request.type === 'stop') process.exit(0);
    });
  });
}

/** The parent's end: a request, its answer. */
function fakesClient(child: ChildProcess) {
  let next = 0;
  const waiting = new Map<number, (answer: unknown) => void>();
  child.on('message', ({ id, answer }: { id: number; answer: unknown }) => waiting.get(id)?.(answer));
  return <T>(request: FakesRequest): Promise<T> =>
    new Promise((resolve) => {
      const id = next++;
      waiting.set(id, (answer) => {
        waiting.delete(id);
        resolve(answer as T);
      });
      child.send({ id, request });
    });
}

type Fakes = ReturnType<typeof fakesClient>;

// ------------------------------------------------------------------------------------------------
// The bench
// ------------------------------------------------------------------------------------------------

interface Library {
  id: string;
  code: string;
  /** Its Koha's URL; null without a connector. */
  koha: string | null;
}

/** Libraries `first`… with a fake Koha each when `connected`. */
async function seedLibraries(client: pg.Client, fakes: Fakes, first: number, connected: boolean): Promise<Library[]> {
  const codes = Array.from({ length: LIBRARIES }, (_, i) => `52${String(first + i).padStart(5, '0')}`);
  const urls = connected ? await fakes<Record<string, string>>({ type: 'start', codes }) : {};
  const libraries: Library[] = [];
  for (const [i, code] of codes.entries()) {
    const n = first + i;
    const { rows } = await client.query<{ id: string }>(
      `INSERT INTO library (code, name, town, email, search_text, updated_at) VALUES ($1, $2, $3, $4, $5, now()) RETURNING id`,
      [code, `Bibliothèque ${n}`, `Commune ${n}`, `bib${n}@example.org`, `bibliotheque ${n}`],
    );
    libraries.push({ id: rows[0]!.id, code, koha: urls[code] ?? null });
  }
  return libraries;
}

/**
 * `count` people awaiting confirmation, spread over the libraries, each with a card their library's
 * Koha knows (when it has one); returns their confirmation tokens in a shuffled order.
 */
async function seedApplicants(app: App, client: pg.Client, fakes: Fakes, libraries: Library[], count: number, tag: string): Promise<string[]> {
  const { rows } = await client.query<{ patron_id: string; request_id: string; card: string; library_id: string }>(
    `WITH libs AS (SELECT id, row_number() OVER (ORDER BY code) - 1 AS n FROM library WHERE id = ANY($1::uuid[])),
     people AS (
       INSERT INTO patron (library_id, last_name, first_name, birth_date, email, login, login_key, password_hash, newsletter,
                           identity_key, search_text, status, status_changed_at, registered_at, updated_at)
       SELECT l.id, 'Banc', 'Personne' || i, date '1990-07-14', $2 || i || '@example.org', $2 || '.' || i, $2 || '.' || i, 'x', false,
              $2 || '|' || i, 'banc personne' || i, 'UNCONFIRMED', now(), now(), now()
         FROM generate_series(1, $3::int) i JOIN libs l ON l.n = i % $4
       RETURNING id, library_id, login_key
     )
     INSERT INTO registration_request (kind, state, patron_id, library_id, age_group, submitted_at, confirmation_due_at, library_card_number)
     SELECT 'REGISTRATION', 'AWAITING_CONFIRMATION', p.id, p.library_id, 'ADULT', now(), now() + interval '7 days', upper(replace(p.login_key, '.', '-'))
       FROM people p
     RETURNING patron_id, id AS request_id, library_card_number AS card, library_id`,
    [libraries.map((l) => l.id), tag, count, libraries.length],
  );
  const byId = new Map(libraries.map((l) => [l.id, l]));
  const known = rows.filter((row) => byId.get(row.library_id)!.koha);
  if (known.length) await fakes({ type: 'add', patrons: known.map((row) => ({ code: byId.get(row.library_id)!.code, card: row.card })) });
  const tokens: string[] = [];
  for (const row of rows) {
    const now = new Date();
    tokens.push(
      await mintToken(app.db, {
        purpose: 'CONFIRMATION',
        patronId: row.patron_id,
        staffId: null,
        requestId: row.request_id,
        now,
        expiresAt: new Date(now.getTime() + 7 * 86_400_000),
      }),
    );
  }
  return tokens.sort(() => Math.random() - 0.5);
}

/** Confirmations that failed (printed with the figures: a loaded machine times transactions out). */
let failedConfirmations = 0;

/** Confirms every token, CLIENTS at a time; the duration of each confirm that succeeded. */
async function confirmAll(gql: (query: string, variables: object) => Promise<any>, tokens: string[]): Promise<number[]> {
  const durations: number[] = [];
  let next = 0;
  await Promise.all(
    Array.from({ length: CLIENTS }, async () => {
      while (next < tokens.length) {
        const token = tokens[next++]!;
        const started = performance.now();
        const answer = await gql(CONFIRM, { token });
        if (answer.errors || answer.data.confirm.errors.length) failedConfirmations++;
        else durations.push(performance.now() - started);
      }
    }),
  );
  return durations;
}

/** Waits until every request confirmed for a library with a connector has its check; returns when. */
async function waitForChecks(client: pg.Client): Promise<number> {
  for (;;) {
    const { rows } = await client.query<{ n: number }>(
      `SELECT count(*)::int AS n FROM registration_request r JOIN membership_connector c USING (library_id)
        WHERE r.confirmed_at IS NOT NULL AND NOT EXISTS (SELECT 1 FROM membership_check m WHERE m.request_id = r.id)`,
    );
    if (rows[0]!.n === 0) return performance.now();
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

export async function membershipBench(): Promise<void> {
  const db = await benchDatabase();
  const resend = await new FakeResend().start();
  const config = loadConfig({
    NODE_ENV: 'production',
    DATABASE_URL: db.url,
    NUMOS_THROTTLE: '0',
    RESEND_API_KEY: 're_bench_key',
    RESEND_BASE_URL: resend.url,
    EMAIL_FROM: 'numos@numos.local',
    NUMOS_EMAIL_INTERVAL_MS: '0',
    NUMOS_SECRETS_KEY: Buffer.alloc(32, 7).toString('base64'),
    NUMOS_CONNECTOR_ALLOWED_HOSTS: '127.0.0.1/32',
    NUMOS_CONNECTOR_CA_FILE: CA_FILE,
  });
  const app = await createApp({ config, databaseUrl: db.url });
  const client = new pg.Client({ connectionString: db.url });
  await client.connect();
  const child = fork(fileURLToPath(import.meta.url), [], { execArgv: ['--import', 'tsx'], env: { ...process.env, NUMOS_BENCH_FAKES: '1' } });
  const fakes = fakesClient(child);
  try {
    await app.startWorkers();
    const connected = await seedLibraries(client, fakes, 1, true);
    const bare = await seedLibraries(client, fakes, 101, false);
    await app.prisma.staffAccount.create({
      data: { login: 'dlpb', displayName: 'DLPB', email: 'dlpb@example.org', role: 'DLPB_AGENT', passwordHash: await hashPassword(PASSWORD) },
    });
    const { gql, staffToken } = graphqlClient(app);
    const dlpb = await staffToken('dlpb', PASSWORD);
    for (const library of connected) {
      const answer = await gql(
        `mutation($input: SaveMembershipConnectorInput!) { saveMembershipConnector(input: $input) { errors { code message } } }`,
        {
          input: {
            libraryId: encodeGlobalID('Library', library.id),
            kind: 'KOHA_REST',
            enabled: true,
            endpoint: library.koha,
            username: 'numos',
            secret: `secret-${library.code}`,
          },
        },
        dlpb,
      );
      if (answer.errors || answer.data.saveMembershipConnector.errors.length) throw new Error(JSON.stringify(answer));
    }
    const confirm = (query: string, variables: object) => gql(query, variables);

    // 1. Throughput: CONFIRMATIONS confirmations, then until every check is stored.
    const first = await seedApplicants(app, client, fakes, connected, CONFIRMATIONS, 'debit');
    await confirmAll(confirm, await seedApplicants(app, client, fakes, connected, 40, 'chauffe')); // warm-up (connections, TLS, JIT)
    await waitForChecks(client);
    const started = performance.now();
    const durations = await confirmAll(confirm, first);
    const confirmedAt = performance.now();
    const checkedAt = await waitForChecks(client);
    const s = stats(durations);
    console.log(
      `${CONFIRMATIONS} confirmations across ${LIBRARIES} libraries (Koha over HTTPS, answering in ${ANSWER_MS} ms), ${CLIENTS} at a time, 1 instance`,
    );
    console.log(
      `  confirm: ${((CONFIRMATIONS * 1_000) / (confirmedAt - started)).toFixed(0)}/s, p50 ${ms(s.p50)}, p95 ${ms(s.p95)}; ` +
        `all confirmed in ${((confirmedAt - started) / 1_000).toFixed(1)} s`,
    );
    console.log(
      `  every check stored ${((checkedAt - started) / 1_000).toFixed(1)} s after the first confirmation ` +
        `(${((checkedAt - confirmedAt) / 1_000).toFixed(1)} s after the last; ${((CONFIRMATIONS * 1_000) / (checkedAt - started)).toFixed(0)} checks/s)`,
    );
    const outcomes = await client.query<{ outcome: string; n: number }>(`SELECT outcome::text, count(*)::int AS n FROM membership_check GROUP BY 1 ORDER BY 1`);
    console.log(`  outcomes: ${outcomes.rows.map((r) => `${r.outcome} ${r.n}`).join(', ')}`);

    // 2. The cost on confirm: with and without connectors, alternated in chunks, ABBA; first with
    // the checks running behind (as in service), then with the check worker stopped (what confirm
    // itself adds: reading the connector, writing the job).
    const alternated = async (label: string, tag: string) => {
      const withTokens = await seedApplicants(app, client, fakes, connected, CONFIRMATIONS, `${tag}-avec`);
      const withoutTokens = await seedApplicants(app, client, fakes, bare, CONFIRMATIONS, `${tag}-sans`);
      const samples: Record<'with' | 'without', number[]> = { with: [], without: [] };
      for (let chunk = 0; chunk * CHUNK < CONFIRMATIONS; chunk++) {
        const order: ('with' | 'without')[] = chunk % 2 ? ['without', 'with'] : ['with', 'without'];
        for (const mode of order) {
          const tokens = (mode === 'with' ? withTokens : withoutTokens).slice(chunk * CHUNK, (chunk + 1) * CHUNK);
          samples[mode].push(...(await confirmAll(confirm, tokens)));
        }
      }
      const withStats = stats(samples.with);
      const withoutStats = stats(samples.without);
      console.log(`confirm, ${CONFIRMATIONS} each with and without connectors, alternated by ${CHUNK}, ${label}:`);
      console.log(`  without connectors  p50 ${ms(withoutStats.p50)}  p95 ${ms(withoutStats.p95)}`);
      console.log(`  with connectors     p50 ${ms(withStats.p50)}  p95 ${ms(withStats.p95)}`);
      console.log(`  ratio with/without  p50 ${(withStats.p50 / withoutStats.p50).toFixed(3)}  p95 ${(withStats.p95 / withoutStats.p95).toFixed(3)}`);
    };
    await alternated('the checks running behind both', 'a');
    await waitForChecks(client);
    await app.boss.offWork(MEMBERSHIP_CHECK_QUEUE);
    await alternated('the check worker stopped', 'b');
    // The worker back (as src/wiring/workers.ts registers it), the checks queued meanwhile are made.
    await app.boss.work<CheckJob>(MEMBERSHIP_CHECK_QUEUE, { localConcurrency: 6, batchSize: 1, pollingIntervalSeconds: 0.5 }, async ([job]) => {
      const wait = await runMembershipCheck(app, job!.data);
      if (wait) await app.boss.send(MEMBERSHIP_CHECK_QUEUE, job!.data, { startAfter: new Date(Date.now() + wait.retryAfterSeconds * 1_000) });
    });
    await waitForChecks(client);

    // 3. What each library's server saw, over the whole run.
    console.log(`each library's Koha over the run (limits: 2 at once, 60 in any 60 s):`);
    const seen = await fakes<ServerFigures[]>({ type: 'stats' });
    for (let i = 0; i < seen.length; i += 4) {
      console.log(
        `  ${seen
          .slice(i, i + 4)
          .map((l) => `${l.code}: ${l.atOnce} at once, ${String(l.perMinute).padStart(2)}/min (${l.calls} calls)`)
          .join('   ')}`,
      );
    }
    console.log(
      `  most at once: ${Math.max(...seen.map((l) => l.atOnce))}; most in any 60 s: ${Math.max(...seen.map((l) => l.perMinute))}; ` +
        `calls: ${seen.reduce((sum, l) => sum + l.calls, 0)}`,
    );
    console.log(`confirmations that failed (not counted above): ${failedConfirmations}`);
  } finally {
    await fakes({ type: 'stop' });
    await client.end();
    await app.close();
    await resend.stop();
    await db.close();
  }
}

if (process.env.NUMOS_BENCH_FAKES && import.meta.url === pathToFileURL(process.argv[1] ?? '').href) serveFakes();
