// The process as an operator and a newcomer meet it: `npm start` for real (its own embedded
// PostgreSQL under a temporary data directory), stopped by a process manager (SIGTERM to the npm
// process) or by Ctrl-C (SIGINT to the whole process group), started twice on the same data, on a
// port in use, with a bad configuration; and `npm ci` on the machine's own Node.js.
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { cpSync, existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { createServer, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import { delimiter, join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { freePort } from '../../src/db/embedded.js';

const root = mkdtempSync(join(tmpdir(), 'numos-start-'));
const dataDir = join(root, 'data');
afterAll(() => rmSync(root, { recursive: true, force: true }));

interface Started {
  child: ChildProcess;
  output: () => string;
  exited: Promise<number | null>;
}

const BOOTSTRAP = { NUMOS_BOOTSTRAP_DLPB_LOGIN: 'dlpb', NUMOS_BOOTSTRAP_DLPB_PASSWORD: 'un mot de passe', NUMOS_BOOTSTRAP_DLPB_EMAIL: 'dlpb@numos.local' };

/** `npm start`, in a process group of its own (as a terminal would run it). */
function start(env: Record<string, string>): Started {
  const clean = Object.fromEntries(
    Object.entries(process.env).filter(([key]) => !key.startsWith('NUMOS_') && !['DATABASE_URL', 'PORT', 'NODE_ENV', 'VITEST'].includes(key)),
  );
  const child = spawn('npm', ['start'], { env: { ...clean, NUMOS_DATA_DIR: dataDir, ...env }, detached: true, stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  child.stdout!.on('data', (chunk) => (output += chunk));
  child.stderr!.on('data', (chunk) => (output += chunk));
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  return { child, output: () => output, exited };
}

async function until(predicate: () => boolean, timeoutMs: number, what: string) {
  const deadline = Date.now() + timeoutMs;
  while (!predicate()) {
    if (Date.now() > deadline) throw new Error(`attente dépassée : ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

/** Processes whose command line names our data directory (the embedded PostgreSQL). */
function processesOnData(): number[] {
  return readdirSync('/proc')
    .filter((entry) => /^\d+$/.test(entry))
    .filter((pid) => {
      try {
        return readFileSync(`/proc/${pid}/cmdline`, 'utf8').includes(dataDir);
      } catch {
        return false;
      }
    })
    .map(Number);
}

const errorLines = (output: string) => output.split('\n').filter((line) => /\b(ERROR|FATAL|error:|Error:)/.test(line));

describe('npm start', () => {
  it('stops gracefully on SIGTERM sent to the npm process, and nothing is left running', async () => {
    const port = await freePort();
    const server = start({ PORT: String(port), ...BOOTSTRAP });
    await until(() => server.output().includes('API prête'), 60_000, 'démarrage');
    expect(server.output()).toContain('premier agent DLPB créé : dlpb');
    expect((await fetch(`http://127.0.0.1:${port}/ready`)).status).toBe(200);
    expect(processesOnData().length).toBeGreaterThan(0);

    server.child.kill('SIGTERM'); // the npm process, as a process manager does
    expect(await server.exited).toBe(0);
    await until(() => processesOnData().length === 0, 15_000, 'arrêt de PostgreSQL');
    expect(server.output()).toContain('arrêté.');
    expect(errorLines(server.output())).toEqual([]);
  }, 120_000);

  it('stops cleanly on Ctrl-C (SIGINT to the whole process group): a few lines, no error', async () => {
    const port = await freePort();
    const server = start({ PORT: String(port), ...BOOTSTRAP });
    await until(() => server.output().includes('API prête'), 60_000, 'démarrage');
    // A DLPB agent exists since the first start: the bootstrap variables are ignored, in one line.
    expect(server.output()).toContain('NUMOS_BOOTSTRAP_DLPB_* ignorées');
    const before = server.output().split('\n').length;
    process.kill(-server.child.pid!, 'SIGINT');
    expect(await server.exited).toBe(0);
    await until(() => processesOnData().length === 0, 15_000, 'arrêt de PostgreSQL');
    const stopping = server
      .output()
      .split('\n')
      .slice(before - 1)
      .filter(Boolean);
    expect(stopping.length).toBeLessThan(10);
    expect(server.output()).toContain('arrêté.');
    expect(errorLines(server.output())).toEqual([]);
  }, 120_000);

  it('refuses a second instance on the same data with a clear message; the first goes on', async () => {
    const [portA, portB] = [await freePort(), await freePort()];
    const first = start({ PORT: String(portA) });
    await until(() => first.output().includes('API prête'), 60_000, 'démarrage');
    const second = start({ PORT: String(portB) });
    expect(await second.exited).toBe(1);
    expect(second.output()).toContain('Une autre instance NuMos');
    expect(second.output()).toContain('DATABASE_URL');
    expect((await fetch(`http://127.0.0.1:${portA}/ready`)).status).toBe(200);
    first.child.kill('SIGTERM');
    expect(await first.exited).toBe(0);
  }, 120_000);

  it('exits at once, non-zero, with one clear line when its port is taken, and leaves nothing running', async () => {
    const taken: Server = createServer();
    const port = await new Promise<number>((resolve) => taken.listen(0, () => resolve((taken.address() as { port: number }).port)));
    try {
      const server = start({ PORT: String(port) });
      const started = Date.now();
      expect(await server.exited).toBe(1);
      expect(Date.now() - started).toBeLessThan(30_000);
      expect(server.output().match(/déjà utilisé/g)).toHaveLength(1);
      expect(server.output()).not.toMatch(/WebSocket|EADDRINUSE/);
      await until(() => processesOnData().length === 0, 15_000, 'arrêt de PostgreSQL');
    } finally {
      taken.close();
    }
  }, 120_000);

  it('lists every configuration problem at once, and opens nothing', async () => {
    const fresh = join(root, 'jamais');
    const server = start({
      NUMOS_DATA_DIR: fresh,
      DATABASE_URL: 'pas une adresse',
      PORT: 'quatre mille',
      NUMOS_BOOTSTRAP_DLPB_LOGIN: 'dlpb',
      RESEND_API_KEY: 're_123',
      NUMOS_THROTTLE: 'peut-être',
      LOG_LEVEL: 'verbose',
      OTEL_TRACES_SAMPLER_ARG: '2',
    });
    expect(await server.exited).toBe(2);
    const output = server.output();
    for (const problem of ['DATABASE_URL', 'PORT', 'NUMOS_BOOTSTRAP_DLPB_PASSWORD', 'EMAIL_FROM', 'NUMOS_THROTTLE', 'LOG_LEVEL', 'OTEL_TRACES_SAMPLER_ARG'])
      expect(output).toContain(problem);
    expect(output.match(/^ {2}- /gm)).toHaveLength(7);
    // No stack trace: the list is all.
    expect(output).not.toMatch(/\n\s+at /);
    expect(existsSync(fresh)).toBe(false);
  }, 60_000);
});

describe('npm ci on the machine’s Node.js', () => {
  it('shows a newcomer no warning', () => {
    const dir = mkdtempSync(join(tmpdir(), 'numos-ci-'));
    for (const file of ['package.json', 'package-lock.json', '.npmrc']) cpSync(file, join(dir, file));
    // The Node.js of the machine, not the project's (npm scripts put node_modules/.bin first).
    const machineNode = (process.env.PATH ?? '')
      .split(delimiter)
      .filter((entry) => !entry.includes('node_modules'))
      .map((entry) => join(entry, 'node'))
      .find((candidate) => existsSync(candidate));
    const npm = spawnSync('npm', ['ci', '--ignore-scripts', '--prefer-offline'], {
      cwd: dir,
      encoding: 'utf8',
      env: { ...process.env, PATH: [machineNode ? join(machineNode, '..') : '', process.env.PATH].join(delimiter) },
    });
    rmSync(dir, { recursive: true, force: true });
    expect(npm.status).toBe(0);
    expect(`${npm.stdout}${npm.stderr}`).not.toMatch(/warn/i);
    // A guard against a hang, not a speed: beside a CPU-heavy process (the consume bench in a loop)
    // and the rest of the suite, this install took 202 s on 2 cores (45 s on a quiet machine).
  }, 600_000);
});
