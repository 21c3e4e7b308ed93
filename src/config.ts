// Configuration from the environment: every variable of the product specification, plus a few operational choices.
// Read once at start-up into a plain object, so tests can build several instances side by side.
// Every problem is collected and reported at once (ConfigError), before anything is opened.
import { existsSync } from 'node:fs';
import { isIP } from 'node:net';
import { isAllowedHostEntry } from './lib/hosts.js';
import { parseSealingKey, type SealingKeys } from './lib/sealed.js';

/** Credentials that may still send any document when only trusted documents run. */
export type ExemptCaller = 'provider' | 'staff' | 'patron';

/** Persisted documents (src/server/persisted-documents.ts). */
export interface DocumentsConfig {
  /** The manifest file. */
  file: string;
  /** Only its documents run (but for the exempt callers). */
  trusted: boolean;
  exempt: ExemptCaller[];
}

export interface BootstrapDlpb {
  login: string;
  password: string;
  email: string;
}

export interface Config {
  nodeEnv: string;
  port: number;
  /** The address the HTTP server binds (HOST); undefined: every interface. */
  host: string | undefined;
  /** Connections of the application's pool (NUMOS_DB_POOL_MAX) and of pg-boss's (NUMOS_JOBS_POOL_MAX); the event bus holds one more. */
  pools: { app: number; jobs: number };
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
  /** The development mailbox page (/dev/mailbox): never in production. */
  mailbox: boolean;
  /** Pause between two e-mails sent by one instance (Resend allows about 2 a second). */
  emailIntervalMs: number;
  /** First delay before a failed e-mail is retried (then exponential backoff). */
  emailRetryDelaySeconds: number;
  /** Seconds in-flight requests and jobs get to finish on SIGTERM. */
  shutdownGraceSeconds: number;
  /** Persisted documents (src/server/persisted-documents.ts); undefined: none. */
  documents: DocumentsConfig | undefined;
  log: { json: boolean; level: string };
  metrics: {
    /** NUMOS_METRICS=0: no request metrics (the plugin's cost, measured by `npm run bench -- observability`). */
    enabled: boolean;
    /** A port of its own for /metrics (not on the API's port then). */
    port: number | undefined;
    /** Without a port of its own: the bearer token /metrics asks for (required in production). */
    token: string | undefined;
  };
  /** /ready reports "degraded" beyond these. */
  readiness: { outboxBacklog: number; outboxAgeSeconds: number; failedJobs: number; failedEmails: number };
  /** Membership checks in the libraries' own systems. */
  connectors: ConnectorsConfig;
}

export interface ConnectorsConfig {
  /** NUMOS_SECRETS_KEY / NUMOS_SECRETS_KEY_PREVIOUS: 32-byte keys; without the first, no secret can be saved. */
  keys: SealingKeys;
  /** Private or loopback hosts (names, addresses, CIDR ranges) a connector may reach. */
  allowedHosts: string[];
  /** Plain HTTP/TCP allowed (tests, an intranet). */
  allowPlaintext: boolean;
  /** Extra certificate authorities (PEM file) trusted for libraries' systems (a self-signed SIP2 server). */
  caFile: string | undefined;
  /** Each try of a call to a library's system, at most (SPEC: 5 seconds). */
  timeoutMs: number;
}

/**
 * What is read before the configuration (the process's log until it is set up, the schema builder,
 * tracing preloaded with `--import`): the runtime's name, NODE_ENV.
 */
export const nodeEnvironment = (env: NodeJS.ProcessEnv = process.env): string => env.NODE_ENV || 'development';

/** The log until configureLogging: JSON in production, warnings only under test (a LOG_LEVEL it does not know waits for loadConfig's report). */
export function earlyLogging(env: NodeJS.ProcessEnv = process.env): { json: boolean; level: string } {
  const name = nodeEnvironment(env);
  const fallback = name === 'test' || env.VITEST ? 'warn' : 'info';
  return { json: name === 'production', level: env.LOG_LEVEL && LOG_LEVELS.includes(env.LOG_LEVEL) ? env.LOG_LEVEL : fallback };
}

/** What the standard OTEL_* variables ask of tracing (read before anything else is imported, by src/observability/register.ts). */
export interface TracingSettings {
  /** An OTLP endpoint (OTEL_EXPORTER_OTLP_ENDPOINT or OTEL_EXPORTER_OTLP_TRACES_ENDPOINT), unless OTEL_SDK_DISABLED=true or OTEL_TRACES_EXPORTER=none. */
  enabled: boolean;
  serviceName: string;
  /** OTEL_TRACES_SAMPLER names one: the SDK reads it (and its argument) itself. */
  samplerChosen: boolean;
  /** Without a sampler named: the share of requests traced, OTEL_TRACES_SAMPLER_ARG or one in ten. */
  ratio: number;
  /** A value that could not be used, for loadConfig's report. */
  problem?: string;
}

const DEFAULT_TRACE_RATIO = 0.1;

export function tracingSettings(env: NodeJS.ProcessEnv = process.env): TracingSettings {
  const endpoint = env.OTEL_EXPORTER_OTLP_ENDPOINT || env.OTEL_EXPORTER_OTLP_TRACES_ENDPOINT;
  const disabled = env.OTEL_SDK_DISABLED?.toLowerCase() === 'true' || env.OTEL_TRACES_EXPORTER === 'none';
  const argument = env.OTEL_TRACES_SAMPLER_ARG;
  const ratio = argument === undefined || argument === '' ? DEFAULT_TRACE_RATIO : Number(argument);
  const valid = Number.isFinite(ratio) && ratio >= 0 && ratio <= 1;
  return {
    enabled: Boolean(endpoint) && !disabled,
    serviceName: env.OTEL_SERVICE_NAME || 'numos',
    samplerChosen: Boolean(env.OTEL_TRACES_SAMPLER),
    ratio: valid ? ratio : DEFAULT_TRACE_RATIO,
    ...(valid || env.OTEL_TRACES_SAMPLER
      ? {}
      : { problem: `OTEL_TRACES_SAMPLER_ARG doit être un nombre entre 0 et 1 (part des requêtes tracées), reçu « ${argument} »` }),
  };
}

/** The environment a child process gets (the embedded PostgreSQL): this process's, with these values. */
export const childEnvironment = (values: Record<string, string>): NodeJS.ProcessEnv => ({ ...process.env, ...values });

/**
 * Every variable the configuration reads (test/deploy/packaging.test.ts checks that the manifests,
 * the unit and README name these and only these).
 */
export const KNOWN_VARIABLES = [
  'NODE_ENV',
  'PORT',
  'HOST',
  'DATABASE_URL',
  'NUMOS_DB_POOL_MAX',
  'NUMOS_JOBS_POOL_MAX',
  'NUMOS_DATA_DIR',
  'PUBLIC_APP_URL',
  'ADMIN_APP_URL',
  'RESEND_API_KEY',
  'RESEND_BASE_URL',
  'EMAIL_FROM',
  'DLPB_EMAIL',
  'SUPPORT_EMAIL',
  'NUMOS_BOOTSTRAP_DLPB_LOGIN',
  'NUMOS_BOOTSTRAP_DLPB_PASSWORD',
  'NUMOS_BOOTSTRAP_DLPB_EMAIL',
  'NUMOS_DEMO_DATA',
  'NUMOS_TEST_CLOCK',
  'NUMOS_THROTTLE',
  'TRUSTED_PROXIES',
  'NUMOS_GRAPHIQL',
  'NUMOS_EMAIL_INTERVAL_MS',
  'NUMOS_EMAIL_RETRY_DELAY_SECONDS',
  'NUMOS_SHUTDOWN_GRACE_SECONDS',
  'NUMOS_PERSISTED_DOCUMENTS',
  'NUMOS_TRUSTED_DOCUMENTS',
  'NUMOS_TRUSTED_DOCUMENTS_EXEMPT',
  'LOG_LEVEL',
  'LOG_FORMAT',
  'METRICS_PORT',
  'METRICS_TOKEN',
  'NUMOS_METRICS',
  'NUMOS_READY_MAX_OUTBOX',
  'NUMOS_READY_MAX_OUTBOX_AGE_SECONDS',
  'NUMOS_READY_MAX_FAILED_JOBS',
  'NUMOS_READY_MAX_FAILED_EMAILS',
  'NUMOS_SECRETS_KEY',
  'NUMOS_SECRETS_KEY_PREVIOUS',
  'NUMOS_CONNECTOR_ALLOWED_HOSTS',
  'NUMOS_CONNECTOR_ALLOW_PLAINTEXT',
  'NUMOS_CONNECTOR_CA_FILE',
  'NUMOS_CONNECTOR_TIMEOUT_MS',
  'OTEL_EXPORTER_OTLP_ENDPOINT',
  'OTEL_EXPORTER_OTLP_TRACES_ENDPOINT',
  'OTEL_SDK_DISABLED',
  'OTEL_TRACES_EXPORTER',
  'OTEL_SERVICE_NAME',
  'OTEL_TRACES_SAMPLER',
  'OTEL_TRACES_SAMPLER_ARG',
] as const;

export class ConfigError extends Error {
  constructor(readonly problems: string[]) {
    super(`Configuration invalide :\n${problems.map((p) => `  - ${p}`).join('\n')}`);
  }
}

const EXEMPT_CALLERS: ExemptCaller[] = ['provider', 'staff', 'patron'];
const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'];
const EMAIL = /^[^\s@<>]+@[^\s@<>]+$/;

/** Reads variables, noting every problem instead of stopping at the first. */
class Reader {
  readonly problems: string[] = [];

  constructor(private readonly env: NodeJS.ProcessEnv) {}

  text(name: string): string | undefined {
    const value = this.env[name];
    return value === undefined || value === '' ? undefined : value;
  }

  flag(name: string, fallback: boolean): boolean {
    const value = this.text(name);
    if (value === undefined) return fallback;
    if (['1', 'true'].includes(value.toLowerCase())) return true;
    if (['0', 'false'].includes(value.toLowerCase())) return false;
    this.problems.push(`${name} : « ${value} » n'est pas 0 ou 1`);
    return fallback;
  }

  integer(name: string, fallback: number, min: number, max: number): number {
    const value = this.text(name);
    if (value === undefined) return fallback;
    const number = Number(value);
    if (!/^\d+$/.test(value) || number < min || number > max) {
      this.problems.push(`${name} : « ${value} » n'est pas un nombre entier de ${min} à ${max}`);
      return fallback;
    }
    return number;
  }

  url(name: string, fallback: string | undefined, protocols: string[]): string | undefined {
    const value = this.text(name) ?? fallback;
    if (value === undefined) return undefined;
    try {
      const url = new URL(value);
      if (!protocols.includes(url.protocol)) throw new Error();
    } catch {
      // The value may hold a password: it is not repeated.
      this.problems.push(`${name} : adresse illisible (attendu ${protocols.map((p) => `${p}//…`).join(' ou ')})`);
    }
    return value.replace(/\/+$/, '');
  }

  /** An address or host name to bind, checked as such. */
  host(name: string): string | undefined {
    const value = this.text(name);
    if (value !== undefined && !isIP(value) && !isAllowedHostEntry(value))
      this.problems.push(`${name} : « ${value} » n'est ni une adresse IP ni un nom d'hôte`);
    return value;
  }

  email(name: string, fallback: string): string {
    const value = this.text(name) ?? fallback;
    if (!EMAIL.test(value)) this.problems.push(`${name} : « ${value} » n'est pas une adresse e-mail`);
    return value;
  }
}

function readConnectors(read: Reader): ConnectorsConfig {
  const key = (name: string) => {
    const value = read.text(name);
    if (value === undefined) return undefined;
    const parsed = parseSealingKey(value);
    // The value is a secret: it is not repeated.
    if (!parsed) read.problems.push(`${name} : attendu 32 octets en base64 (par exemple : openssl rand -base64 32)`);
    return parsed ?? undefined;
  };
  const keys = { current: key('NUMOS_SECRETS_KEY'), previous: key('NUMOS_SECRETS_KEY_PREVIOUS') };
  if (keys.previous && !keys.current) read.problems.push('NUMOS_SECRETS_KEY_PREVIOUS sans NUMOS_SECRETS_KEY : la nouvelle clé manque');
  const allowedHosts = (read.text('NUMOS_CONNECTOR_ALLOWED_HOSTS') ?? '')
    .split(',')
    .map((entry) => entry.trim())
    .filter(Boolean);
  for (const entry of allowedHosts)
    if (!isAllowedHostEntry(entry))
      read.problems.push(`NUMOS_CONNECTOR_ALLOWED_HOSTS : « ${entry} » n'est ni un nom d'hôte, ni une adresse, ni une plage CIDR`);
  const caFile = read.text('NUMOS_CONNECTOR_CA_FILE');
  if (caFile && !existsSync(caFile)) read.problems.push(`NUMOS_CONNECTOR_CA_FILE : fichier introuvable : ${caFile}`);
  return {
    keys,
    allowedHosts,
    allowPlaintext: read.flag('NUMOS_CONNECTOR_ALLOW_PLAINTEXT', false),
    caFile,
    timeoutMs: read.integer('NUMOS_CONNECTOR_TIMEOUT_MS', 5_000, 100, 60_000),
  };
}

export function loadConfig(env: NodeJS.ProcessEnv = process.env): Config {
  const read = new Reader(env);
  const problems = read.problems;
  const nodeEnv = read.text('NODE_ENV') ?? 'development';
  const production = nodeEnv === 'production';
  const databaseUrl = read.url('DATABASE_URL', undefined, ['postgres:', 'postgresql:']);

  const bootstrap = ['NUMOS_BOOTSTRAP_DLPB_LOGIN', 'NUMOS_BOOTSTRAP_DLPB_PASSWORD', 'NUMOS_BOOTSTRAP_DLPB_EMAIL'] as const;
  const bootstrapValues = bootstrap.map((name) => read.text(name));
  const bootstrapSet = bootstrapValues.filter(Boolean).length;
  if (bootstrapSet !== 0 && bootstrapSet !== 3) {
    problems.push(`${bootstrap.join(', ')} vont ensemble : renseignez les trois (manque ${bootstrap.filter((_, i) => !bootstrapValues[i]).join(', ')})`);
  }
  if (bootstrapSet === 3 && !EMAIL.test(bootstrapValues[2]!))
    problems.push(`NUMOS_BOOTSTRAP_DLPB_EMAIL : « ${bootstrapValues[2]} » n'est pas une adresse e-mail`);

  const trustedProxies = (read.text('TRUSTED_PROXIES') ?? '127.0.0.1/8,::1')
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean);
  for (const entry of trustedProxies) {
    const [address = '', prefix] = entry.split('/');
    const version = isIP(address);
    if (!version || (prefix !== undefined && !(/^\d+$/.test(prefix) && Number(prefix) <= (version === 4 ? 32 : 128)))) {
      problems.push(`TRUSTED_PROXIES : adresse invalide « ${entry} »`);
    }
  }

  const resendApiKey = read.text('RESEND_API_KEY');
  if (resendApiKey && !read.text('EMAIL_FROM')) {
    problems.push("RESEND_API_KEY sans EMAIL_FROM : indiquez l'adresse d'envoi, d'un domaine vérifié chez Resend");
  }

  const logLevel = read.text('LOG_LEVEL') ?? (nodeEnv === 'test' ? 'warn' : 'info');
  if (!LOG_LEVELS.includes(logLevel)) problems.push(`LOG_LEVEL : « ${logLevel} » inconnu (attendu : ${LOG_LEVELS.join(', ')})`);
  const logFormat = read.text('LOG_FORMAT') ?? (production ? 'json' : 'pretty');
  if (!['json', 'pretty'].includes(logFormat)) problems.push(`LOG_FORMAT : « ${logFormat} » inconnu (attendu : json, pretty)`);

  const documentsFile = read.text('NUMOS_TRUSTED_DOCUMENTS') ?? read.text('NUMOS_PERSISTED_DOCUMENTS');
  const exempt = (read.text('NUMOS_TRUSTED_DOCUMENTS_EXEMPT') ?? 'provider')
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean);
  const unknownExempt = exempt.filter((kind) => !(EXEMPT_CALLERS as string[]).includes(kind));
  if (unknownExempt.length) problems.push(`NUMOS_TRUSTED_DOCUMENTS_EXEMPT : ${unknownExempt.join(', ')} inconnu(s) (attendu : ${EXEMPT_CALLERS.join(', ')})`);
  if (documentsFile && !existsSync(documentsFile)) problems.push(`manifeste de documents introuvable : ${documentsFile}`);

  const config: Config = {
    nodeEnv,
    port: read.integer('PORT', 4000, 0, 65_535),
    host: read.host('HOST'),
    pools: { app: read.integer('NUMOS_DB_POOL_MAX', 10, 2, 200), jobs: read.integer('NUMOS_JOBS_POOL_MAX', 4, 2, 50) },
    databaseUrl,
    dataDir: read.text('NUMOS_DATA_DIR') ?? '.data',
    publicAppUrl: read.url('PUBLIC_APP_URL', 'http://localhost:3000', ['http:', 'https:'])!,
    adminAppUrl: read.url('ADMIN_APP_URL', 'http://localhost:3000/admin', ['http:', 'https:'])!,
    resendApiKey,
    resendBaseUrl: read.url('RESEND_BASE_URL', undefined, ['http:', 'https:']),
    emailFrom: read.email('EMAIL_FROM', 'numos@numos.local'),
    dlpbEmail: read.email('DLPB_EMAIL', 'dlpb@numos.local'),
    supportEmail: read.email('SUPPORT_EMAIL', 'support@numos.local'),
    bootstrapDlpb: bootstrapSet === 3 ? { login: bootstrapValues[0]!, password: bootstrapValues[1]!, email: bootstrapValues[2]! } : undefined,
    demoData: read.flag('NUMOS_DEMO_DATA', databaseUrl === undefined),
    testClock: read.flag('NUMOS_TEST_CLOCK', false),
    throttle: read.flag('NUMOS_THROTTLE', true),
    trustedProxies,
    graphiql: read.flag('NUMOS_GRAPHIQL', !production),
    mailbox: !production,
    emailIntervalMs: read.integer('NUMOS_EMAIL_INTERVAL_MS', 550, 0, 60_000),
    emailRetryDelaySeconds: read.integer('NUMOS_EMAIL_RETRY_DELAY_SECONDS', 10, 1, 86_400),
    shutdownGraceSeconds: read.integer('NUMOS_SHUTDOWN_GRACE_SECONDS', 10, 0, 3_600),
    documents: documentsFile
      ? { file: documentsFile, trusted: read.text('NUMOS_TRUSTED_DOCUMENTS') !== undefined, exempt: exempt as ExemptCaller[] }
      : undefined,
    log: { json: logFormat === 'json', level: logLevel },
    metrics: {
      enabled: read.flag('NUMOS_METRICS', true),
      port: read.text('METRICS_PORT') === undefined ? undefined : read.integer('METRICS_PORT', 0, 1, 65_535),
      token: read.text('METRICS_TOKEN'),
    },
    connectors: readConnectors(read),
    readiness: {
      outboxBacklog: read.integer('NUMOS_READY_MAX_OUTBOX', 1_000, 1, 10_000_000),
      outboxAgeSeconds: read.integer('NUMOS_READY_MAX_OUTBOX_AGE_SECONDS', 3_600, 1, 30 * 86_400),
      failedJobs: read.integer('NUMOS_READY_MAX_FAILED_JOBS', 10, 1, 1_000_000),
      failedEmails: read.integer('NUMOS_READY_MAX_FAILED_EMAILS', 10, 0, 1_000_000),
    },
  };
  if (config.port === config.metrics.port) problems.push('METRICS_PORT doit différer de PORT');
  const tracing = tracingSettings(env);
  if (tracing.problem) problems.push(tracing.problem);
  if (problems.length) throw new ConfigError(problems);
  return config;
}
