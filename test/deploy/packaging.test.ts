// The packaging files, read as their tools would read them (no image can be built on these
// machines, nor a cluster started): the Dockerfile and .dockerignore, the Kubernetes manifests, the
// systemd unit and its environment file. Each is checked against the project itself: the commands
// they run are the npm scripts' and the build's, the probe paths are answered by the real server
// on the ports the manifests name, and every variable they set is one src/config.ts reads, while
// every variable it reads is there. .ci/image-recipe.sh then carries the Dockerfile's steps out.
import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { copyParts, envPairs, type Instruction, parseDockerfile, parseDockerignore } from '../../.ci/dockerfile.mjs';
import { KNOWN_VARIABLES, loadConfig } from '../../src/config.js';
import { createHttpServer, type HttpServer } from '../../src/server/http.js';
import { createMetricsServer } from '../../src/server/metrics.js';
import { startTestApp, type TestApp, listenOnLoopback } from '../support/harness.js';

const read = (path: string) => readFileSync(path, 'utf8');
const known = new Set<string>(KNOWN_VARIABLES);
const packageJson = JSON.parse(read('package.json')) as {
  scripts: Record<string, string>;
  dependencies: Record<string, string>;
  devDependencies: Record<string, string>;
};
/** What an npm script runs after `exec node`: the arguments of Node.js. */
const nodeArguments = (script: string) => {
  const command = packageJson.scripts[script];
  expect(command, `npm script ${script}`).toMatch(/^exec node /);
  return command!.replace(/^exec node /, '').split(/\s+/);
};
/** Secrets: never in the ConfigMap, nor in a file anyone may read. */
const SECRETS = ['DATABASE_URL', 'RESEND_API_KEY', 'METRICS_TOKEN', 'NUMOS_SECRETS_KEY', 'NUMOS_SECRETS_KEY_PREVIOUS', 'NUMOS_BOOTSTRAP_DLPB_PASSWORD'];

// ---------------------------------------------------------------------------------- Dockerfile
const dockerfile = parseDockerfile(read('Dockerfile'));
const buildStage = dockerfile.stages[0]!;
const runtimeStage = dockerfile.stages.at(-1)!;
const of = (stage: typeof buildStage, keyword: string) => stage.instructions.filter((i) => i.keyword === keyword);
const last = (stage: typeof buildStage, keyword: string): Instruction | undefined => of(stage, keyword).at(-1);
const workdir = last(runtimeStage, 'WORKDIR')!.args;
const cmd = last(runtimeStage, 'CMD')!.json!;
const user = last(runtimeStage, 'USER')!.args;
const [uid, gid] = user.split(':').map(Number);

// ------------------------------------------------------------------------- Kubernetes manifests
const K8S = 'deploy/kubernetes';
const kustomization = parse(read(join(K8S, 'kustomization.yaml')));
/** Manifests are free-form YAML. */
type Manifest = Record<string, any>;
const manifests: Manifest[] = (kustomization.resources as string[]).map((file) => parse(read(join(K8S, file))));
const one = (kind: string): Manifest => {
  const found = manifests.filter((m) => m.kind === kind);
  expect(found, kind).toHaveLength(1);
  return found[0]!;
};
const deployment = one('Deployment');
const job = one('Job');
const configMap = one('ConfigMap');
const secret = one('Secret');
const service = one('Service');
const pdb = one('PodDisruptionBudget');
const pod = deployment.spec.template.spec;
const container = pod.containers[0];
const configuration: Record<string, string> = { ...configMap.data, ...secret.stringData };
const portOf = (name: string | number) => (typeof name === 'number' ? name : container.ports.find((p: Manifest) => p.name === name)?.containerPort);
const seconds = (name: string, fallback: number) => Number(configuration[name] || fallback);
/** 640Mi, 1Gi, 500m, 2 → bytes or cores. */
const quantity = (value: string | number): number => {
  const match = /^(\d+(?:\.\d+)?)(Ki|Mi|Gi|m)?$/.exec(String(value));
  if (!match) throw new Error(`quantité illisible : ${value}`);
  const factor = { Ki: 1024, Mi: 1024 ** 2, Gi: 1024 ** 3, m: 0.001 }[match[2] as 'Ki'] ?? 1;
  return Number(match[1]) * factor;
};

// ---------------------------------------------------------------------------------- systemd unit
/** An INI-like unit: section → key → values (a key may repeat). */
function parseUnit(text: string): Record<string, Record<string, string[]>> {
  const sections: Record<string, Record<string, string[]>> = {};
  let section: Record<string, string[]> = {};
  for (const line of text.split('\n').map((l) => l.trim())) {
    if (!line || line.startsWith('#') || line.startsWith(';')) continue;
    const header = /^\[(.+)\]$/.exec(line);
    if (header) {
      section = {};
      sections[header[1]!] = section;
      continue;
    }
    const [key, ...value] = line.split('=');
    const values = section[key!.trim()] ?? [];
    values.push(value.join('=').trim());
    section[key!.trim()] = values;
  }
  return sections;
}
const unit = parseUnit(read('deploy/systemd/numos.service'));
const serviceSection = unit.Service!;
const single = (key: string) => {
  expect(serviceSection[key], key).toHaveLength(1);
  return serviceSection[key]![0]!;
};
const envExample = read('deploy/systemd/numos.env.example');
/** Every KEY=value line, commented (a default shown) or not. */
const exampleLines = [...envExample.matchAll(/^(#?)([A-Z][A-Z0-9_]*)=(.*)$/gm)].map(([, hash, key, value]) => ({ set: !hash, key: key!, value: value! }));

describe('Dockerfile', () => {
  it('builds in a stage of its own: npm ci, then the build, then only the production dependencies', () => {
    expect(dockerfile.stages.length).toBeGreaterThanOrEqual(2);
    const steps = buildStage.instructions.map((i) => (i.keyword === 'RUN' ? i.args.replace(/\s+/g, ' ') : i.keyword));
    const position = (text: string) => steps.findIndex((step) => step.includes(text));
    expect(position('npm ci')).toBeGreaterThan(-1);
    expect(position('npm ci')).toBeLessThan(position('npm run build'));
    expect(position('npm run build')).toBeLessThanOrEqual(position('npm prune --omit=dev'));
    // What `npm ci` runs needs its files before it: postinstall generates Prisma's client from the
    // schema, and Prisma's generator reads tsconfig.json for its import extensions (without it the
    // built client imports `.ts` files and the server cannot start).
    const before = buildStage.instructions.slice(0, position('npm ci')).filter((i) => i.keyword === 'COPY');
    const copied = before.flatMap((i) => copyParts(i).sources.map((s) => s.replace(/\/$/, '')));
    for (const needed of ['package.json', 'package-lock.json', '.npmrc', 'prisma.config.ts', 'tsconfig.json', 'scripts/postinstall.mjs', 'prisma'])
      expect(copied, `${needed} avant npm ci`).toContain(needed);
    expect(packageJson.scripts.postinstall).toBe('node scripts/postinstall.mjs');
  });

  it('copies only package.json, node_modules and dist into the runtime stage', () => {
    const copies = of(runtimeStage, 'COPY');
    for (const copy of copies) expect(copy.flags.from, copy.args).toBe(buildStage.name);
    expect(copies.flatMap((c) => copyParts(c).sources).sort()).toEqual(['/app/dist', '/app/node_modules', '/app/package.json'].sort());
    expect(workdir).toBe('/app');
    expect(last(buildStage, 'WORKDIR')!.args).toBe('/app');
  });

  it('runs as a numeric user that is not root, the one it creates', () => {
    expect(user).toMatch(/^\d+(:\d+)?$/);
    expect(uid).toBeGreaterThan(0);
    expect(gid ?? uid).toBeGreaterThan(0);
    const setup = of(runtimeStage, 'RUN')
      .map((i) => i.args)
      .join(' ');
    expect(setup).toContain(`--uid ${uid}`);
    // The user comes after the set-up that needs root, and nothing runs as root after it.
    const index = runtimeStage.instructions.findIndex((i) => i.keyword === 'USER');
    expect(runtimeStage.instructions.slice(index).some((i) => i.keyword === 'RUN')).toBe(false);
  });

  it("starts Node.js itself, with what `npm run serve` runs, on the `node` package's binary", () => {
    expect(cmd[0]).toBe(`${workdir}/node_modules/node/bin/node`);
    expect(cmd.slice(1)).toEqual(nodeArguments('serve'));
    expect(cmd.join(' ')).not.toMatch(/\bnpm\b/);
    // A production dependency, so that `npm prune --omit=dev` keeps it; its binary is bin/node.
    expect(packageJson.dependencies.node).toBeDefined();
    expect(packageJson.devDependencies.node).toBeUndefined();
    expect(JSON.parse(read('node_modules/node/package.json')).bin).toEqual({ node: 'bin/node' });
    expect(existsSync('node_modules/node/bin/node')).toBe(true);
  });

  it('runs files that the build makes from the sources (tsconfig.build.json, scripts/build.ts)', () => {
    const build = JSON.parse(read('tsconfig.build.json'));
    expect(build.compilerOptions).toMatchObject({ outDir: 'dist', rootDir: '.' });
    expect(build.include).toContain('src');
    expect(packageJson.scripts.build).toBe('tsx scripts/build.ts');
    const commands = [cmd, job.spec.template.spec.containers[0].command, single('ExecStart').split(/\s+/), single('ExecStartPre').split(/\s+/)];
    const built = commands.flat().filter((arg: string) => /^(\.\/)?dist\//.test(arg));
    expect(built.length).toBeGreaterThanOrEqual(3);
    for (const file of built) expect(existsSync(file.replace(/^(\.\/)?dist\/(.*)\.js$/, '$2.ts')), file).toBe(true);
    // The migrations beside the compiled code, where dist/src/db/migrate.js looks for them.
    expect(read('scripts/build.ts')).toMatch(/cpSync\(join\('prisma', 'migrations'\), join\(DIST, 'prisma', 'migrations'\)/);
    expect(read('src/db/migrate.ts')).toContain("join(import.meta.dirname, '..', '..', 'prisma', 'migrations')");
  });

  it('sets only variables the server knows, NODE_ENV=production, and exposes the ports of the manifests', () => {
    const env = Object.fromEntries(of(runtimeStage, 'ENV').flatMap((i) => envPairs(i.args)));
    for (const name of Object.keys(env)) if (name !== 'PATH') expect(known, name).toContain(name);
    expect(env.NODE_ENV).toBe('production');
    expect(env.PATH?.split(':')[0]).toBe(`${workdir}/node_modules/node/bin`);
    const exposed = of(runtimeStage, 'EXPOSE').flatMap((i) => i.args.split(/\s+/).map(Number));
    expect(exposed).toEqual(expect.arrayContaining([Number(configMap.data.PORT), Number(configMap.data.METRICS_PORT)]));
    const healthcheck = last(runtimeStage, 'HEALTHCHECK');
    expect(healthcheck?.json?.[0]).toBe(cmd[0]);
    expect(healthcheck?.json?.join(' ')).toContain("'/health'");
  });

  it('has a .dockerignore that leaves out local state and secrets, and nothing the build needs', () => {
    const entries = parseDockerignore(read('.dockerignore'));
    // Plain paths only: .ci/image-recipe.sh reads them the same way Docker does.
    for (const entry of entries) expect(entry, entry).toMatch(/^[A-Za-z0-9._/-]+$/);
    for (const out of ['node_modules', 'dist', '.git', '.env', '.data', 'src/generated']) expect(entries).toContain(out);
    const needed = [
      'package.json',
      'package-lock.json',
      '.npmrc',
      'prisma.config.ts',
      'tsconfig.json',
      'tsconfig.build.json',
      'scripts',
      'src',
      'emails',
      'prisma',
      'codegen',
      'data',
    ];
    for (const path of needed)
      expect(
        entries.some((entry) => path === entry || path.startsWith(`${entry}/`)),
        path,
      ).toBe(false);
  });
});

describe('Kubernetes manifests', () => {
  it('are all listed by kustomization.yaml and each is one object of a known kind', () => {
    const files = readdirSync(K8S).filter((f) => f.endsWith('.yaml') && f !== 'kustomization.yaml');
    expect([...kustomization.resources].sort()).toEqual(files.sort());
    expect(manifests.map((m) => m.kind).sort()).toEqual(['ConfigMap', 'Deployment', 'Job', 'Namespace', 'PodDisruptionBudget', 'Secret', 'Service'].sort());
    expect(kustomization.images[0].name).toBe(container.image);
  });

  it('run 3 pods as the image’s user, not root, on a read-only root file system, without privilege escalation', () => {
    expect(deployment.spec.replicas).toBe(3);
    for (const spec of [pod, job.spec.template.spec]) {
      expect(spec.securityContext).toMatchObject({ runAsNonRoot: true, runAsUser: uid, runAsGroup: gid ?? uid });
      expect(spec.automountServiceAccountToken).toBe(false);
      for (const c of spec.containers) {
        expect(c.securityContext).toMatchObject({ runAsNonRoot: true, readOnlyRootFilesystem: true, allowPrivilegeEscalation: false });
        expect(c.securityContext.capabilities.drop).toEqual(['ALL']);
        // Nothing to write anywhere: no volume at all.
        expect(c.volumeMounts).toBeUndefined();
      }
    }
    expect(deployment.spec.strategy.rollingUpdate.maxUnavailable).toBe(0);
  });

  it('probe /ready at start-up and for readiness, /health for liveness, on the port the server listens on', () => {
    expect(container.startupProbe.httpGet.path).toBe('/ready');
    expect(container.readinessProbe.httpGet.path).toBe('/ready');
    expect(container.livenessProbe.httpGet.path).toBe('/health');
    for (const probe of [container.startupProbe, container.readinessProbe, container.livenessProbe])
      expect(portOf(probe.httpGet.port)).toBe(Number(configMap.data.PORT));
    expect(portOf('metrics')).toBe(Number(configMap.data.METRICS_PORT));
    const annotations = deployment.spec.template.metadata.annotations;
    expect(Number(annotations['prometheus.io/port'])).toBe(Number(configMap.data.METRICS_PORT));
    // No command: the image's CMD, the server itself.
    expect(container.command).toBeUndefined();
    expect(container.args).toBeUndefined();
  });

  it('pause before SIGTERM, and give the shutdown more time than the server takes', () => {
    const preStop = container.lifecycle.preStop.exec.command as string[];
    expect(preStop[0]).toBe('/bin/sleep');
    const pause = Number(preStop[1]);
    expect(pause).toBeGreaterThanOrEqual(5);
    // The runtime image has /bin/sleep (a Debian base, not distroless or scratch).
    expect(runtimeStage.image).toMatch(/^debian:/);
    // The server forces its own exit 15 s after the grace (src/index.ts); Kubernetes's SIGKILL
    // must not come first.
    expect(read('src/index.ts')).toContain('(config.shutdownGraceSeconds + 15) * 1_000');
    expect(pod.terminationGracePeriodSeconds).toBeGreaterThan(pause + seconds('NUMOS_SHUTDOWN_GRACE_SECONDS', 10) + 15);
  });

  it('request and limit memory (measured), and request CPU', () => {
    for (const c of [container, job.spec.template.spec.containers[0]]) {
      const { requests, limits } = c.resources;
      expect(quantity(requests.memory)).toBeGreaterThanOrEqual(256 * 1024 ** 2);
      expect(quantity(limits.memory)).toBeGreaterThanOrEqual(quantity(requests.memory));
      expect(quantity(requests.cpu)).toBeGreaterThan(0);
    }
  });

  it('set every variable the server reads, and only those, the secrets in the Secret', () => {
    const inConfigMap = Object.keys(configMap.data);
    const inSecret = Object.keys(secret.stringData);
    expect(inConfigMap.filter((name) => inSecret.includes(name))).toEqual([]);
    expect([...inConfigMap, ...inSecret].filter((name) => !known.has(name))).toEqual([]);
    expect(KNOWN_VARIABLES.filter((name) => !inConfigMap.includes(name) && !inSecret.includes(name))).toEqual([]);
    for (const name of SECRETS) expect(inSecret, name).toContain(name);
    // Every value a string (a number or a boolean is refused by Kubernetes in a ConfigMap).
    for (const value of Object.values(configuration)) expect(typeof value).toBe('string');
    // Explicit env entries, anywhere, are known variables too.
    for (const spec of [pod, job.spec.template.spec])
      for (const c of spec.containers) {
        for (const entry of c.env ?? []) expect(known, entry.name).toContain(entry.name);
        expect(c.envFrom).toEqual([{ configMapRef: { name: configMap.metadata.name } }, { secretRef: { name: secret.metadata.name } }]);
      }
  });

  it('make a configuration the server accepts in production', () => {
    const config = loadConfig(configuration);
    expect(config).toMatchObject({ nodeEnv: 'production', port: 4000, host: undefined, demoData: false, graphiql: false, mailbox: false, testClock: false });
    expect(config.databaseUrl).toMatch(/^postgres:\/\//);
    expect(config.metrics.port).toBe(9464);
    expect(config.log).toEqual({ json: true, level: 'info' });
    // Behind an ingress the default (loopback only) would make every patron one address.
    expect(config.trustedProxies).not.toEqual(['127.0.0.1/8', '::1']);
  });

  it('migrate in a Job with the same image and configuration, running `npm run migrate` without npm', () => {
    const migrate = job.spec.template.spec.containers[0];
    expect(migrate.image).toBe(container.image);
    expect(migrate.command).toEqual([cmd[0], ...nodeArguments('migrate')]);
    expect(job.spec.template.spec.restartPolicy).toBe('Never');
    expect(job.metadata.labels['app.kubernetes.io/component']).toBe('migration');
    // The release step applies the configuration with the Job: both carry the label it selects.
    for (const m of [configMap, secret]) expect(m.metadata.labels['app.kubernetes.io/component']).toBe('config');
  });

  it('route the Service and the disruption budget to the Deployment’s pods', () => {
    const labels = deployment.spec.template.metadata.labels;
    expect(deployment.spec.selector.matchLabels).toEqual(expect.objectContaining(service.spec.selector));
    for (const selector of [service.spec.selector, pdb.spec.selector.matchLabels])
      for (const [key, value] of Object.entries(selector)) expect(labels[key], key).toBe(value);
    for (const port of service.spec.ports) expect(portOf(port.targetPort), port.name).toBeDefined();
    expect(pdb.spec.maxUnavailable === 1 || pdb.spec.minAvailable === deployment.spec.replicas - 1).toBe(true);
  });
});

describe('systemd unit', () => {
  const directory = single('WorkingDirectory');
  const node = `${directory}/node_modules/node/bin/node`;

  it('migrates, then starts the built server on the project’s Node.js, as the image does', () => {
    expect(single('Type')).toBe('simple');
    expect(single('User')).toBe('numos');
    expect(single('ExecStartPre')).toBe([node, ...nodeArguments('migrate')].join(' '));
    expect(single('ExecStart')).toBe([node, ...nodeArguments('serve')].join(' '));
    expect(single('ExecStart').split(' ').slice(1)).toEqual(cmd.slice(1));
    expect(single('EnvironmentFile')).toMatch(/^\/etc\/numos\//);
  });

  it('stops with SIGTERM and waits longer than the server’s own shutdown, restarts on failure', () => {
    expect(single('KillSignal')).toBe('SIGTERM');
    expect(single('Restart')).toBe('on-failure');
    // A bad configuration (exit code 2) does not loop.
    expect(single('RestartPreventExitStatus')).toBe('2');
    const grace = Number(exampleLines.find((l) => l.set && l.key === 'NUMOS_SHUTDOWN_GRACE_SECONDS')?.value ?? 10);
    expect(Number(single('TimeoutStopSec'))).toBeGreaterThan(grace + 15);
  });

  it('is hardened: no new privileges, a read-only system, a private /tmp, no capability', () => {
    expect(serviceSection).toMatchObject({
      NoNewPrivileges: ['yes'],
      ProtectSystem: ['strict'],
      ProtectHome: ['yes'],
      PrivateTmp: ['yes'],
      PrivateDevices: ['yes'],
      CapabilityBoundingSet: [''],
    });
    // V8's JIT compiler needs writable and executable memory.
    expect(serviceSection.MemoryDenyWriteExecute).toBeUndefined();
    // Nothing is written: no ReadWritePaths, no StateDirectory.
    expect(serviceSection.ReadWritePaths).toBeUndefined();
  });

  it('has an environment file with every variable the server reads, and a production configuration it accepts', () => {
    const names = exampleLines.map((l) => l.key);
    expect(names.filter((name) => !known.has(name))).toEqual([]);
    expect(KNOWN_VARIABLES.filter((name) => !names.includes(name))).toEqual([]);
    expect(new Set(names).size).toBe(names.length);
    const set = Object.fromEntries(exampleLines.filter((l) => l.set).map((l) => [l.key, l.value]));
    const config = loadConfig(set);
    expect(config.nodeEnv).toBe('production');
    expect(config.databaseUrl).toBeDefined();
    expect(config.host).toBe('127.0.0.1');
    // Secrets are given as placeholders or left commented.
    for (const name of SECRETS) if (set[name] !== undefined) expect(set[name], name).toMatch(/CHANGE-ME/);
  });

  const analyze = spawnSync('systemd-analyze', ['--version']).status === 0;
  it.skipIf(!analyze)('passes systemd-analyze verify (paths moved to this checkout)', () => {
    const file = join(tmpdir(), `numos-verify-${process.pid}.service`);
    writeFileSync(
      file,
      read('deploy/systemd/numos.service')
        .replaceAll(directory, process.cwd())
        .replace(single('EnvironmentFile'), join(process.cwd(), 'deploy/systemd/numos.env.example')),
    );
    const result = spawnSync('systemd-analyze', ['verify', file], { encoding: 'utf8' });
    expect(result.stderr + result.stdout).toBe('');
    expect(result.status).toBe(0);
  });
});

describe('the probes and the scrape, asked of the real server', () => {
  let t: TestApp;
  let http: HttpServer;
  let origin: string;
  let metricsOrigin: string;
  let metricsServer: ReturnType<typeof createMetricsServer>;

  beforeAll(async () => {
    // /metrics on a port of its own, as the manifests set it (METRICS_PORT).
    t = await startTestApp({ env: { METRICS_PORT: configMap.data.METRICS_PORT } });
    http = createHttpServer(t.app);
    origin = await listenOnLoopback(http.server);
    metricsServer = createMetricsServer(t.app);
    metricsOrigin = await listenOnLoopback(metricsServer);
  });
  afterAll(async () => {
    metricsServer?.close();
    await http?.close(1_000);
    await t?.close();
  });

  it("answers 200 on each probe path of the Deployment and on the image's HEALTHCHECK", async () => {
    const paths = [container.startupProbe, container.readinessProbe, container.livenessProbe].map((p) => p.httpGet.path as string);
    paths.push(/'(\/[a-z]+)'/.exec(last(runtimeStage, 'HEALTHCHECK')!.json!.join(' '))![1]!);
    for (const path of new Set(paths)) {
      const response = await fetch(`${origin}${path}`);
      expect(response.status, path).toBe(200);
    }
    expect(await (await fetch(`${origin}/ready`)).json()).toMatchObject({ status: 'ready' });
  });

  it('serves /metrics on the metrics port, where the annotations point, and not on the API’s port', async () => {
    const path = deployment.spec.template.metadata.annotations['prometheus.io/path'];
    const scrape = await fetch(`${metricsOrigin}${path}`);
    expect(scrape.status).toBe(200);
    expect(await scrape.text()).toContain('numos_database_up');
    expect((await fetch(`${origin}${path}`)).status).not.toBe(200);
  });
});
