// Builds an application instance for a test file on its own database (cloned from the template),
// with a hand-set clock and, when asked, a fake Resend server. Tests talk to it through GraphQL
// (`gql`, in-process yoga.fetch) as a front end would.
import { encodeGlobalID } from '@pothos/plugin-relay';
import { randomBytes } from 'node:crypto';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import pg from 'pg';
import { inject } from 'vitest';
import { createApp, type RunningApp as App } from '../../src/wiring/app.js';
import { loadConfig } from '../../src/config.js';
import type { ScheduledJob } from '../../src/wiring/schedules.js';
import type { Polling } from '../../src/jobs/queues.js';
import { librarySearchText } from '../../src/modules/libraries/service.js';
import { hashPassword } from '../../src/lib/password.js';
import { ManualClock } from './clock.js';
import { FakeResend } from './fake-resend.js';
import { databaseUrl } from './global-setup.js';

export interface TestDatabase {
  url: string;
  drop(): Promise<void>;
}

/** A fresh database cloned from the migrated template. */
export async function createTestDatabase(): Promise<TestDatabase> {
  const adminUrl = inject('adminUrl');
  const name = `numos_test_${process.ppid}_${randomBytes(6).toString('hex')}`;
  const admin = new pg.Client({ connectionString: adminUrl });
  await admin.connect();
  try {
    await admin.query(`CREATE DATABASE ${name} TEMPLATE ${inject('templateDatabase')}`);
  } finally {
    await admin.end();
  }
  return {
    url: databaseUrl(adminUrl, name),
    drop: async () => {
      const client = new pg.Client({ connectionString: adminUrl });
      await client.connect();
      await client.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
      await client.end();
    },
  };
}

export interface GraphQLResponse<T = any> {
  data?: T;
  errors?: { message: string; path?: string[]; extensions?: { code?: string } }[];
}

export interface TestApp {
  app: App;
  clock: ManualClock;
  resend: FakeResend | undefined;
  database: TestDatabase;
  gql<T = any>(query: string, variables?: Record<string, unknown>, options?: { token?: string; headers?: Record<string, string> }): Promise<GraphQLResponse<T>>;
  close(): Promise<void>;
}

export interface TestAppOptions {
  env?: Record<string, string>;
  now?: string;
  /** Deliver e-mails to a fake Resend (else they stay in the development mailbox). */
  resend?: FakeResend | boolean;
  /** Start the job workers (e-mail delivery…). */
  workers?: boolean;
  /** The workers' pace, when not production's (src/jobs/queues.ts, POLLING). */
  polling?: Polling;
  /** Share an existing database (several instances); else a new one is created and dropped. */
  database?: TestDatabase;
  /** Replace the scheduled jobs (e.g. a faster cron). */
  schedules?: ScheduledJob[];
}

export async function startTestApp(options: TestAppOptions = {}): Promise<TestApp> {
  const ownDatabase = !options.database;
  const database = options.database ?? (await createTestDatabase());
  const resend = options.resend === true ? await new FakeResend().start() : options.resend || undefined;
  const clock = new ManualClock(options.now ?? '2026-11-28T10:00:00Z');
  const config = loadConfig({
    NODE_ENV: 'test',
    DATABASE_URL: database.url,
    // The fake Resend has no rate limit: no pause between e-mails.
    ...(resend ? { RESEND_API_KEY: 're_test_key', RESEND_BASE_URL: resend.url, EMAIL_FROM: 'numos@numos.local', NUMOS_EMAIL_INTERVAL_MS: '0' } : {}),
    ...options.env,
  });
  // With the test clock the application keeps its own (persisted, shared) clock.
  const app = await createApp({ config, databaseUrl: database.url, clock: config.testClock ? undefined : clock, schedules: options.schedules });
  if (options.workers) await app.startWorkers(options.polling);
  return {
    app,
    clock,
    resend,
    database,
    async gql(query, variables, { token, headers } = {}) {
      const response = await app.yoga.fetch('http://numos.test/graphql', {
        method: 'POST',
        headers: {
          'content-type': 'application/json',
          ...(token ? { authorization: `Bearer ${token}` } : {}),
          ...headers,
        },
        body: JSON.stringify({ query, variables }),
      });
      return response.json() as Promise<GraphQLResponse>;
    },
    async close() {
      await app.close();
      if (options.resend === true) await resend?.stop();
      if (ownDatabase) await database.drop();
    },
  };
}

// ------------------------------------------------------------------ seeds (direct, for setup only)

export async function seedLibrary(app: App, fields: { code: string; name: string; town?: string; email?: string }) {
  const town = fields.town ?? null;
  const library = await app.prisma.library.create({
    data: {
      code: fields.code,
      name: fields.name,
      town,
      email: fields.email ?? `bib-${fields.code}@example.org`,
      searchText: librarySearchText(fields.name, town),
    },
  });
  // Seeded behind the application's back: its in-memory directory must read the table again.
  app.libraries.invalidate();
  return library;
}

export async function seedStaff(
  app: App,
  fields: { login: string; password?: string; role?: 'LIBRARY_ADMIN' | 'DLPB_AGENT'; libraryId?: string; email?: string },
) {
  return app.prisma.staffAccount.create({
    data: {
      login: fields.login.toLowerCase(),
      displayName: fields.login,
      email: fields.email ?? `${fields.login.toLowerCase()}@example.org`,
      role: fields.role ?? 'DLPB_AGENT',
      libraryId: fields.libraryId ?? null,
      passwordHash: fields.password ? await hashPassword(fields.password) : null,
    },
  });
}

/** A patron account as the application stores it (password "mot de passe lecteur"), named after its login. */
export async function seedPatron(app: App, fields: { login: string; libraryId: string; status?: 'ACTIVE' | 'TEMPORARY' | 'EXPIRED'; birthDate?: string }) {
  return app.prisma.patron.create({
    data: {
      libraryId: fields.libraryId,
      lastName: 'Lecteur',
      firstName: fields.login,
      birthDate: new Date(`${fields.birthDate ?? '1990-05-05'}T00:00:00Z`),
      email: `${fields.login}@example.org`,
      login: fields.login,
      loginKey: fields.login,
      passwordHash: await hashPassword('mot de passe lecteur'),
      newsletter: false,
      identityKey: `lecteur|${fields.login}`,
      searchText: fields.login,
      status: fields.status ?? 'ACTIVE',
    },
  });
}

export async function login(t: TestApp, realm: 'STAFF' | 'PATRON', loginName: string, password: string): Promise<string> {
  const { data, errors } = await t.gql(`mutation($input: LoginInput!) { login(input: $input) { token errors { code message } } }`, {
    input: { realm, login: loginName, password },
  });
  const token = data?.login?.token;
  if (!token) throw new Error(`connexion impossible : ${JSON.stringify(errors ?? data?.login?.errors)}`);
  return token;
}

export interface TwoLibraries {
  libA: { id: string; gid: string };
  libB: { id: string; gid: string };
  /** Session tokens of each library's admin (login: its code) and of a DLPB agent. */
  adminA: string;
  adminB: string;
  dlpb: string;
}

/** The usual staff scene: two libraries, an admin for each, a DLPB agent, all logged in. */
export async function seedTwoLibraries(
  t: TestApp,
  libraries: [{ code: string; name: string; email?: string }, { code: string; name: string; email?: string }],
): Promise<TwoLibraries> {
  const [a, b] = [await seedLibrary(t.app, libraries[0]), await seedLibrary(t.app, libraries[1])];
  await seedStaff(t.app, { login: libraries[0].code, password: 'mot de passe A', role: 'LIBRARY_ADMIN', libraryId: a.id });
  await seedStaff(t.app, { login: libraries[1].code, password: 'mot de passe B', role: 'LIBRARY_ADMIN', libraryId: b.id });
  await seedStaff(t.app, { login: 'dlpb', password: 'mot de passe DLPB', role: 'DLPB_AGENT' });
  return {
    libA: { id: a.id, gid: encodeGlobalID('Library', a.id) },
    libB: { id: b.id, gid: encodeGlobalID('Library', b.id) },
    adminA: await login(t, 'STAFF', libraries[0].code, 'mot de passe A'),
    adminB: await login(t, 'STAFF', libraries[1].code, 'mot de passe B'),
    dlpb: await login(t, 'STAFF', 'dlpb', 'mot de passe DLPB'),
  };
}

/** Listens on a free loopback port; the origin to reach it (`http://127.0.0.1:PORT`). */
export async function listenOnLoopback(server: Server): Promise<string> {
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
}
