#!/usr/bin/env bash
# The container image's recipe, carried out without Docker (no engine runs on these machines), so
# that what the Dockerfile does is tested on every CI run:
#   1. the build context: the repository's files less .dockerignore's entries, in a temporary folder;
#   2. the Dockerfile's stages, by .ci/dockerfile.mjs: the build stage's COPY and RUN steps (npm ci,
#      npm run build, npm prune --omit=dev) in a folder, then the runtime stage's folder with only
#      what it copies from the build stage (package.json, node_modules, dist);
#   3. a fresh, uniquely named database on the PostgreSQL at 127.0.0.1:5432 (NUMOS_RECIPE_ADMIN_URL
#      names another), or, when none answers there, the project's embedded PostgreSQL;
#   4. the release step (the Kubernetes Job's command: node dist/src/cli.js migrate), then the
#      server started exactly as the Dockerfile's CMD, in the runtime folder, with the image's
#      environment only and, when run as root, as the image's USER (which cannot write there);
#   5. /ready polled until 200 (60 s at most), /health, one GraphQL query, every log line JSON (no
#      npm banner), then SIGTERM and a clean exit (code 0).
# Prints the timings. Needs git, Node.js with npm (any version: the scripts run on the Node.js 24
# of the `node` dependency, as in the image's build stage) and network access to the npm registry.
set -euo pipefail
repo="$(cd "$(dirname "$0")/.." && pwd)"
work="$(mktemp -d "${TMPDIR:-/tmp}/numos-image.XXXXXX")"
# The image's user (and the embedded PostgreSQL's) must reach the folders: as in an image, they
# are readable by all and writable by their owner only.
chmod 755 "$work"
admin_url="${NUMOS_RECIPE_ADMIN_URL:-postgres://postgres@127.0.0.1:5432/postgres}"
database="numos_recipe_$$_$(date +%s)"
server_pid=""
embedded_pid=""
database_created=""
dir=""
node=""

now() { date +%s.%N; }
since() { awk -v a="$1" -v b="$(now)" 'BEGIN { printf "%.1f s", b - a }'; }
say() { printf '[image-recipe] %s\n' "$*"; }
fail() {
  say "FAILED: $*"
  [ -f "$work/server.log" ] && { say "server log (last lines):"; tail -n 30 "$work/server.log"; }
  exit 1
}
# Runs a small ES module with the image's Node.js in the runtime folder (its node_modules).
js() { (cd "$dir" && "$node" --input-type=module -e "$1" "${@:2}"); }

cleanup() {
  local status=$?
  if [ -n "$server_pid" ] && kill -0 "$server_pid" 2>/dev/null; then kill -KILL "$server_pid" 2>/dev/null || true; fi
  if [ -n "$database_created" ]; then
    js 'import pg from "pg"; const c = new pg.Client({ connectionString: process.argv[1] }); await c.connect();
        await c.query(`DROP DATABASE IF EXISTS ${process.argv[2]} WITH (FORCE)`); await c.end();' "$admin_url" "$database" ||
      say "could not drop database $database"
  fi
  if [ -n "$embedded_pid" ]; then
    kill -TERM "$embedded_pid" 2>/dev/null || true
    wait "$embedded_pid" 2>/dev/null || true
  fi
  rm -rf "$work"
  exit "$status"
}
trap cleanup EXIT

total=$(now)
# ------------------------------------------------------------------------------ 1. build context
t=$(now)
mkdir -p "$work/context"
files=$(node "$repo/.ci/dockerfile.mjs" context "$repo" "$work/context")
say "build context: $files files ($(since "$t"))"

# ---------------------------------------------------------------------------- 2. the two stages
t=$(now)
node "$repo/.ci/dockerfile.mjs" assemble "$repo/Dockerfile" "$work/context" "$work/stages" >"$work/image.json" ||
  fail "the Dockerfile's steps"
assemble_time=$(since "$t")
field() { node -e 'const v = JSON.parse(require("fs").readFileSync(process.argv[1], "utf8"))[process.argv[2]]; console.log(Array.isArray(v) ? v.join("\n") : typeof v === "object" ? Object.entries(v).map(([k, x]) => `${k}=${x}`).join("\n") : (v ?? ""))' "$work/image.json" "$1"; }
dir=$(field dir)
mapfile -t cmd < <(field cmd)
mapfile -t image_env < <(field env)
user=$(field user)
node="${cmd[0]}"
[ -x "$node" ] || fail "the CMD's program $node is not in the runtime stage"
say "stages assembled ($assemble_time):"
node -e 'for (const r of JSON.parse(require("fs").readFileSync(process.argv[1], "utf8")).runs) console.log(`[image-recipe]   RUN ${r.command.replace(/\s+/g, " ")}: ${r.seconds.toFixed(1)} s`)' "$work/image.json"
say "runtime stage: $(cd "$dir" && ls -A | tr '\n' ' ')($(du -sh "$dir/node_modules" | cut -f1) of production node_modules, $(du -sh "$dir/dist" | cut -f1) of dist), Node.js $("$node" --version)"

# ------------------------------------------------------------------------------- 3. a database
if ! js 'import pg from "pg"; const c = new pg.Client({ connectionString: process.argv[1], connectionTimeoutMillis: 3000 });
         await c.connect(); await c.end();' "$admin_url" 2>/dev/null; then
  t=$(now)
  say "no PostgreSQL at $admin_url: starting the embedded one"
  mkdir -p "$work/pg"
  (cd "$dir" && exec "$node" --input-type=module -e '
    import { writeFileSync } from "node:fs";
    const { startEmbeddedPostgres } = await import(`${process.cwd()}/dist/src/db/embedded.js`);
    const server = await startEmbeddedPostgres({ dataDir: process.argv[1] + "/postgres" });
    process.on("SIGTERM", async () => { await server.stop(); process.exit(0); });
    writeFileSync(process.argv[1] + "/url", server.adminUrl);
    setInterval(() => {}, 60_000);' "$work/pg") &
  embedded_pid=$!
  for _ in $(seq 1 300); do [ -s "$work/pg/url" ] && break; kill -0 "$embedded_pid" 2>/dev/null || break; sleep 0.2; done
  [ -s "$work/pg/url" ] || fail "the embedded PostgreSQL did not start"
  admin_url=$(cat "$work/pg/url")
  say "embedded PostgreSQL up ($(since "$t"))"
fi
js 'import pg from "pg"; const c = new pg.Client({ connectionString: process.argv[1] }); await c.connect();
    await c.query(`CREATE DATABASE ${process.argv[2]}`); await c.end();' "$admin_url" "$database"
database_created=1
database_url=$(js 'const u = new URL(process.argv[1]); u.pathname = "/" + process.argv[2]; console.log(u.toString());' "$admin_url" "$database")

# --------------------------------------------------------------------- 4. migrate, then the CMD
# The image's environment only (its ENV lines: PATH, NODE_ENV), plus what an operator sets.
port=$(js 'import { createServer } from "node:net"; const s = createServer().listen(0, "127.0.0.1", () => { console.log(s.address().port); s.close(); });')
run_env=(env -i "${image_env[@]}" HOME=/nonexistent DATABASE_URL="$database_url" PORT="$port" METRICS_TOKEN="recipe-$RANDOM$RANDOM$RANDOM")
as_user=()
if [ "$(id -u)" -eq 0 ] && [ -n "$user" ] && command -v setpriv >/dev/null 2>&1; then
  uid="${user%%:*}"
  gid="${user#*:}"
  [ "$gid" = "$user" ] && gid="$uid"
  as_user=(setpriv --reuid="$uid" --regid="$gid" --clear-groups --)
  say "running as the image's USER $uid:$gid"
  # Like the image's files (owned by root): the server cannot change its own code.
  if (cd "$dir" && "${as_user[@]}" sh -c 'touch dist/.write-test' 2>/dev/null); then fail "the image's USER can write to the application folder"; fi
fi

t=$(now)
(cd "$dir" && "${run_env[@]}" "${as_user[@]}" "$node" dist/src/cli.js migrate) >"$work/migrate.log" 2>&1 ||
  { cat "$work/migrate.log"; fail "migrate"; }
migrate_time=$(since "$t")
say "migrate ($migrate_time): $(tail -n 1 "$work/migrate.log" | cut -c1-160)"

t=$(now)
(cd "$dir" && exec "${run_env[@]}" "${as_user[@]}" "${cmd[@]}") >"$work/server.log" 2>&1 &
server_pid=$!
ready=""
for _ in $(seq 1 600); do
  kill -0 "$server_pid" 2>/dev/null || fail "the server stopped before it was ready"
  if js 'const r = await fetch(process.argv[1]).catch(() => undefined); process.exit(r?.status === 200 ? 0 : 1);' \
    "http://127.0.0.1:$port/ready" 2>/dev/null; then
    ready=1
    break
  fi
  sleep 0.1
done
[ -n "$ready" ] || fail "/ready did not answer 200 within 60 s"
ready_time=$(since "$t")
say "launch to /ready 200: $ready_time"

# ------------------------------------------------------------------------------------ 5. checks
t=$(now)
js '
  const origin = process.argv[1];
  const health = await fetch(`${origin}/health`);
  if (health.status !== 200) throw new Error(`/health: ${health.status}`);
  const ready = await (await fetch(`${origin}/ready`)).json();
  const answer = await fetch(`${origin}/graphql`, { method: "POST", headers: { "content-type": "application/json" },
    body: JSON.stringify({ query: "query Libraries { libraries { code name } }" }) });
  const body = await answer.json();
  if (answer.status !== 200 || !Array.isArray(body.data?.libraries)) throw new Error(`GraphQL: ${answer.status} ${JSON.stringify(body)}`);
  console.log(`/health 200, /ready ${JSON.stringify(ready)}, libraries: ${body.data.libraries.length} (HTTP ${answer.status})`);' \
  "http://127.0.0.1:$port" >"$work/checks.log" 2>&1 || { cat "$work/checks.log"; fail "the checks"; }
say "$(cat "$work/checks.log") ($(since "$t"))"

t=$(now)
kill -TERM "$server_pid"
status=0
wait "$server_pid" || status=$?
server_pid=""
stop_time=$(since "$t")
[ "$status" -eq 0 ] || fail "exit code $status after SIGTERM (expected 0)"
say "SIGTERM: clean exit (code 0) in $stop_time"

# Every line the server printed is a JSON log line: no npm banner, nothing else.
js '
  import { readFileSync } from "node:fs";
  const lines = readFileSync(process.argv[1], "utf8").split("\n").filter(Boolean);
  const bad = lines.filter((line) => { try { return typeof JSON.parse(line) !== "object"; } catch { return true; } });
  if (bad.length || !lines.length) { console.error(bad.slice(0, 5).join("\n")); process.exit(1); }
  console.log(`${lines.length} log lines, all JSON`);' "$work/server.log" >"$work/logs.log" 2>&1 ||
  { cat "$work/logs.log"; fail "the server printed lines that are not JSON"; }
say "$(cat "$work/logs.log")"

say "timings: stages $assemble_time, migrate $migrate_time, launch to ready $ready_time, stop $stop_time; total $(since "$total")"
say "passed"
