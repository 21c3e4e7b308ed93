// The Dockerfile, read by a program: test/deploy/packaging.test.ts checks it against the project,
// and .ci/image-recipe.sh carries out its steps without Docker (no engine runs on these machines):
//
//   node .ci/dockerfile.mjs context <repository> <context dir>
//   node .ci/dockerfile.mjs assemble <Dockerfile> <context dir> <out dir>
//
// builds each stage's file system as a folder of <out dir> (COPY from the context or from an
// earlier stage, RUN through sh in the stage's WORKDIR, ENV, USER) and prints the final stage as
// JSON: its folder, WORKDIR, environment, user and CMD, with absolute paths under WORKDIR moved
// into its folder. RUN steps of the final stage are system set-up (adding the user) and are only
// listed: the recipe runs the server as the Dockerfile's USER instead.
//
// Plain JavaScript on purpose: it runs before anything is installed, on whatever Node.js runs npm.
import { spawnSync } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, readFileSync, renameSync, statSync } from 'node:fs';
import { basename, join, posix, resolve } from 'node:path';

/** Instructions by stage. A stage: { name, image, instructions: [{ keyword, args, json, flags }] }. */
export function parseDockerfile(text) {
  // Continuation lines are joined; comment lines are dropped, also inside a continued instruction
  // (as Docker does).
  const logical = [];
  let current = '';
  for (const raw of text.split('\n')) {
    const line = raw.trim();
    if (line.startsWith('#') || (line === '' && current === '')) continue;
    if (line.endsWith('\\')) {
      current += `${line.slice(0, -1)} `;
      continue;
    }
    current += line;
    if (current.trim()) logical.push(current.trim());
    current = '';
  }
  if (current.trim()) logical.push(current.trim());

  const stages = [];
  for (const line of logical) {
    const space = line.search(/\s/);
    const keyword = (space < 0 ? line : line.slice(0, space)).toUpperCase();
    let rest = space < 0 ? '' : line.slice(space).trim();
    const flags = {};
    // --from=build, --chown=…, --interval=… (HEALTHCHECK's options come before CMD).
    while (rest.startsWith('--')) {
      const match = /^--([a-z-]+)(?:=(\S+))?\s*/.exec(rest);
      if (!match) break;
      flags[match[1]] = match[2] ?? true;
      rest = rest.slice(match[0].length);
    }
    if (keyword === 'FROM') {
      const [image, as, name] = rest.split(/\s+/);
      stages.push({ image, name: as?.toUpperCase() === 'AS' ? name : String(stages.length), instructions: [] });
      continue;
    }
    if (!stages.length) {
      if (keyword === 'ARG') continue;
      throw new Error(`Dockerfile: ${keyword} before the first FROM`);
    }
    let args = rest;
    let subcommand;
    if (keyword === 'HEALTHCHECK' && /^CMD\s/i.test(args)) {
      subcommand = 'CMD';
      args = args.slice(3).trim();
    }
    let json;
    if (args.startsWith('[')) {
      try {
        json = JSON.parse(args);
      } catch {
        json = undefined;
      }
    }
    stages.at(-1).instructions.push({ keyword, args, json, flags, subcommand });
  }
  return { stages };
}

/** `KEY=value KEY2="a b"` (or the old `KEY value`) into pairs, values as written (no expansion). */
export function envPairs(args) {
  const pairs = [];
  if (!/^[A-Za-z_][A-Za-z0-9_]*=/.test(args)) {
    const [key, ...value] = args.split(/\s+/);
    return [[key, value.join(' ')]];
  }
  const pattern = /([A-Za-z_][A-Za-z0-9_]*)=("(?:[^"\\]|\\.)*"|'[^']*'|\S*)/g;
  for (const match of args.matchAll(pattern)) {
    let value = match[2];
    if (value.startsWith('"') || value.startsWith("'")) value = value.slice(1, -1);
    pairs.push([match[1], value]);
  }
  return pairs;
}

/** .dockerignore: one path a line from the context's root (comments and blank lines aside). */
export function parseDockerignore(text) {
  return text
    .split('\n')
    .map((line) => line.trim())
    .filter((line) => line && !line.startsWith('#'))
    .map((line) => line.replace(/^\/+|\/+$/g, ''));
}

/** Whether a path of the context (relative, with /) is left out by these entries. */
export const ignored = (entries, path) => entries.some((entry) => path === entry || path.startsWith(`${entry}/`));

/** The stage's COPY sources and destination: `COPY a b dest/`, `COPY ["a", "dest"]`. */
export function copyParts(instruction) {
  const parts = instruction.json ?? instruction.args.split(/\s+/);
  return { sources: parts.slice(0, -1), destination: parts.at(-1) };
}

const expand = (value, env) => value.replace(/\$\{?([A-Za-z_][A-Za-z0-9_]*)\}?/g, (_, name) => env[name] ?? '');

/** Carries out the stages in folders of `out`; returns the final stage's folder and settings. */
export function assemble(dockerfile, context, out) {
  const { stages } = parseDockerfile(readFileSync(dockerfile, 'utf8'));
  const roots = new Map();
  /** Each RUN carried out, with its duration. */
  const runs = [];
  let final;
  for (const [index, stage] of stages.entries()) {
    const root = resolve(out, `stage-${index}-${stage.name}`);
    mkdirSync(root, { recursive: true });
    roots.set(stage.name, root);
    // The base image's own environment is the machine's (its Node.js and npm), less NODE_ENV.
    const env = { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '/root' };
    let workdir = '/';
    let user;
    let cmd;
    const skipped = [];
    const inStage = (path) => join(root, posix.resolve(workdir, path));
    for (const instruction of stage.instructions) {
      const { keyword } = instruction;
      if (keyword === 'WORKDIR') {
        workdir = posix.resolve(workdir, instruction.args);
        mkdirSync(join(root, workdir), { recursive: true });
      } else if (keyword === 'ENV') {
        for (const [key, value] of envPairs(instruction.args)) {
          // Paths of the image become paths of the stage's folder (PATH=/app/…:$PATH).
          const expanded = expand(value, env);
          env[key] =
            key === 'PATH'
              ? expanded
                  .split(':')
                  .map((entry) => (entry.startsWith('/') && existsSync(join(root, entry)) ? join(root, entry) : entry))
                  .join(':')
              : expanded;
        }
      } else if (keyword === 'COPY') {
        const { sources, destination } = copyParts(instruction);
        const from = instruction.flags.from;
        const base = from === undefined ? context : roots.get(from);
        if (base === undefined) throw new Error(`COPY --from=${from}: no such stage`);
        for (const source of sources) {
          const origin = from === undefined ? join(base, source) : join(base, posix.resolve('/', source));
          const target = inStage(destination);
          const intoFolder = destination.endsWith('/') || sources.length > 1;
          if (!existsSync(origin)) throw new Error(`COPY: ${source} not found`);
          if (statSync(origin).isDirectory()) {
            // A folder's content goes into the destination (Docker's COPY), not the folder itself.
            mkdirSync(target, { recursive: true });
            if (from === undefined) cpSync(origin, target, { recursive: true, verbatimSymlinks: true });
            else moveInto(origin, target);
          } else {
            const file = intoFolder ? join(target, basename(source)) : target;
            mkdirSync(intoFolder ? target : resolve(target, '..'), { recursive: true });
            cpSync(origin, file);
          }
        }
      } else if (keyword === 'RUN') {
        if (index === stages.length - 1) {
          skipped.push(instruction.args);
          continue;
        }
        const command = instruction.json ? instruction.json : ['sh', '-c', instruction.args];
        process.stderr.write(`\n[image-recipe] RUN ${instruction.args}\n`);
        const started = performance.now();
        const run = spawnSync(command[0], command.slice(1), { cwd: join(root, workdir), env, stdio: ['ignore', process.stderr, 'inherit'] });
        if (run.status !== 0) throw new Error(`RUN ${instruction.args}: exit ${run.status ?? run.signal}`);
        runs.push({ command: instruction.args, seconds: (performance.now() - started) / 1_000 });
      } else if (keyword === 'USER') {
        user = instruction.args;
      } else if (keyword === 'CMD') {
        cmd = instruction.json;
      }
    }
    final = { root, workdir, env, user, cmd, skipped };
  }
  const moved = (arg) => (arg.startsWith(`${final.workdir}/`) ? join(final.root, arg) : arg);
  return { ...final, dir: join(final.root, final.workdir), cmd: final.cmd?.map(moved), runs };
}

/**
 * The build context as `docker build .` would send it from a fresh clone: the files git knows
 * (tracked, or new and not ignored), less the .dockerignore entries. Returns how many were copied.
 */
export function copyContext(repository, out) {
  const entries = existsSync(join(repository, '.dockerignore')) ? parseDockerignore(readFileSync(join(repository, '.dockerignore'), 'utf8')) : [];
  const listed = spawnSync('git', ['-C', repository, 'ls-files', '-z', '--cached', '--others', '--exclude-standard'], { encoding: 'utf8' });
  if (listed.status !== 0) throw new Error(`git ls-files: ${listed.stderr}`);
  let count = 0;
  for (const path of new Set(listed.stdout.split('\0').filter(Boolean))) {
    // A tracked file deleted in the work tree is not part of the context.
    if (ignored(entries, path) || !existsSync(join(repository, path))) continue;
    mkdirSync(join(out, path, '..'), { recursive: true });
    cpSync(join(repository, path), join(out, path), { verbatimSymlinks: true });
    count += 1;
  }
  return count;
}

/**
 * An earlier stage's folder is thrown away once assembled: its content is moved rather than copied
 * (node_modules is large). Each source is copied by one COPY only in this Dockerfile.
 */
function moveInto(origin, target) {
  try {
    renameSync(origin, target);
  } catch {
    cpSync(origin, target, { recursive: true, verbatimSymlinks: true });
  }
}

if (process.argv[1] && resolve(process.argv[1]) === resolve(new URL(import.meta.url).pathname)) {
  const [command, dockerfile, context, out] = process.argv.slice(2);
  if (command === 'context' && dockerfile && context) {
    // Here the arguments are <repository> <out>.
    process.stdout.write(`${copyContext(dockerfile, context)}\n`);
  } else if (command === 'assemble' && dockerfile && context && out) {
    process.stdout.write(`${JSON.stringify(assemble(dockerfile, context, out))}\n`);
  } else if (command === 'parse' && dockerfile) {
    process.stdout.write(`${JSON.stringify(parseDockerfile(readFileSync(dockerfile, 'utf8')), null, 2)}\n`);
  } else {
    process.stderr.write('usage: node .ci/dockerfile.mjs context <repository> <out> | assemble <Dockerfile> <context> <out> | parse <Dockerfile>\n');
    process.exit(2);
  }
}
