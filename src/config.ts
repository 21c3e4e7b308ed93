// Configuration from the environment: the table of SPEC.md, plus a few operational choices.
// Read once at start-up into a plain object, so tests can build several instances side by side.
import { isIP } from 'node:net';
import type { DocumentsConfig, ExemptCaller } from './server/persisted-documents.js';

export interface BootstrapDlpb {
  login: string;
  password: string;
  email: string;
}

export interface Config {
  nodeEnv: string;
  port: number;
  /** Unset: an embedded PostgreSQL is started with data under `dataDir`. */
  databaseUrl: string | undefined;
  dataDir: string;
  publicAppUrl: string;
  adminAppUrl: string;
  /** Unset: the outbox is the development mailbox and nothing leaves the machine. */
  resendApiKey: string | undefined;
  resendBaseUrl: string | undefined;
  emailFrom: string;
  dlpbEmail: string;
  supportEmail: string;
  bootstrapDlpb: BootstrapDlpb | undefined;
  demoData: boolean;
  testClock: boolean;
  throttle: boolean;
  /** Addresses and CIDR ranges whose X-Forwarded-For is believed. */
  trustedProxies: string[];
  graphiql: boolean;
  /** Pause between two e-mails sent by one instance (Resend allows about 2 a second). */
  emailIntervalMs: number;
  /** First delay before a failed e-mail is retried (then exponential backoff). */
  emailRetryDelaySeconds: number;
  /** Seconds in-flight requests and jobs get to finish on SIGTERM. */
  shutdownGraceSeconds: number;
  /** Persisted documents (src/server/persisted-documents.ts); undefined: none. */
  documents: DocumentsConfig | undefined;
}

const flag = (value: string | undefined, fallback: boolean) =>
  value === undefined || value === '' ? fallback : value === '1' || value.toLowerCase() === 'true';

const trimSlash = (url: string) => url.replace(/\/+$/, '');

const EXEMPT_CALLERS: ExemptCaller[] = ['provider', 'staff', 'patron'];

function documentsConfig(env: NodeJS.ProcessEnv): DocumentsConfig | undefined {
  const trusted = env.NUMOS_TRUSTED_DOCUMENTS || undefined;
  const file = trusted ?? (env.NUMOS_PERSISTED_DOCUMENTS || undefined);
  if (!file) return undefined;
  const exempt = (env.NUMOS_TRUSTED_DOCUMENTS_EXEMPT ?? 'provider').split(',').map((s) => s.trim()).filter(Boolean);
  const unknown = exempt.filter((kind) => !(EXEMPT_CALLERS as string[]).includes(kind));
  if (unknown.length) throw new Error(`NUMOS_TRUSTED_DOCUMENTS_EXEMPT : ${unknown.join(', ')} inconnu(s) (attendu : ${EXEMPT_CALLERS.join(', ')})`);
  return { file, trusted: trusted !== undefined, exempt: exempt as ExemptCaller[] };
}

export function loadConfig(env: NodeJS.ProcessEnv = process.env): Config {
  const nodeEnv = env.NODE_ENV ?? 'development';
  const databaseUrl = env.DATABASE_URL || undefined;
  const port = Number(env.PORT ?? 4000);
  if (!Number.isInteger(port) || port < 0 || port > 65_535) {
    throw new Error(`PORT invalide : ${env.PORT}`);
  }
  const bootstrap = [env.NUMOS_BOOTSTRAP_DLPB_LOGIN, env.NUMOS_BOOTSTRAP_DLPB_PASSWORD, env.NUMOS_BOOTSTRAP_DLPB_EMAIL];
  const bootstrapSet = bootstrap.filter(Boolean).length;
  if (bootstrapSet !== 0 && bootstrapSet !== 3) {
    throw new Error('NUMOS_BOOTSTRAP_DLPB_LOGIN, _PASSWORD et _EMAIL vont ensemble : renseignez les trois.');
  }
  const trustedProxies = (env.TRUSTED_PROXIES ?? '127.0.0.1/8,::1')
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean);
  for (const entry of trustedProxies) {
    if (!isIP(entry.split('/')[0] ?? '')) throw new Error(`TRUSTED_PROXIES : adresse invalide « ${entry} »`);
  }
  return {
    nodeEnv,
    port,
    databaseUrl,
    dataDir: env.NUMOS_DATA_DIR ?? '.data',
    publicAppUrl: trimSlash(env.PUBLIC_APP_URL ?? 'http://localhost:3000'),
    adminAppUrl: trimSlash(env.ADMIN_APP_URL ?? 'http://localhost:3000/admin'),
    resendApiKey: env.RESEND_API_KEY || undefined,
    resendBaseUrl: env.RESEND_BASE_URL || undefined,
    emailFrom: env.EMAIL_FROM ?? 'numos@numos.local',
    dlpbEmail: env.DLPB_EMAIL ?? 'dlpb@numos.local',
    supportEmail: env.SUPPORT_EMAIL ?? 'support@numos.local',
    bootstrapDlpb: bootstrapSet === 3
      ? { login: bootstrap[0]!, password: bootstrap[1]!, email: bootstrap[2]! }
      : undefined,
    demoData: flag(env.NUMOS_DEMO_DATA, databaseUrl === undefined),
    testClock: flag(env.NUMOS_TEST_CLOCK, false),
    throttle: flag(env.NUMOS_THROTTLE, true),
    trustedProxies,
    graphiql: flag(env.NUMOS_GRAPHIQL, nodeEnv !== 'production'),
    emailIntervalMs: Number(env.NUMOS_EMAIL_INTERVAL_MS ?? 550),
    emailRetryDelaySeconds: Number(env.NUMOS_EMAIL_RETRY_DELAY_SECONDS ?? 10),
    shutdownGraceSeconds: Number(env.NUMOS_SHUTDOWN_GRACE_SECONDS ?? 10),
    documents: documentsConfig(env),
  };
}
