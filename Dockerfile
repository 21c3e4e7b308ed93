# syntax=docker/dockerfile:1
#
# The NuMos API image: the production build (npm run build → dist/) with production dependencies
# only, run by an unprivileged user on a read-only root file system.
#
#   docker build -t numos .
#   docker run --rm -p 4000:4000 --read-only --cap-drop ALL --security-opt no-new-privileges \
#     -e DATABASE_URL=postgres://… -e METRICS_TOKEN=… numos
#   docker run --rm -e DATABASE_URL=postgres://… numos node dist/src/cli.js migrate   # the release step
#
# No image could be built where this file was written (no Docker engine there): .ci/image-recipe.sh
# runs the same steps without Docker on every CI run (npm ci, build, prune, migrate, the CMD below,
# /ready, a query, SIGTERM), and test/deploy/packaging.test.ts checks this file against the project.

# ---------------------------------------------------------------------------------------- build
# Any Node.js with npm can run `npm ci`: every npm script then runs on the Node.js 24 of the `node`
# dependency (node_modules/.bin comes first on the scripts' PATH), so the compiler runs on the very
# Node.js that runs the server. Same Debian release as the runtime stage (glibc of the prebuilt
# native packages: @node-rs/argon2, the Node.js binary). Pin a digest in your registry for
# reproducible builds.
FROM node:24-bookworm-slim AS build
WORKDIR /app
# Dependencies first, so that this layer is rebuilt only when they change. postinstall generates
# Prisma's client from prisma/schema.prisma (prisma.config.ts supplies a placeholder DATABASE_URL).
# tsconfig.json must be there too: without it Prisma's generator writes `.ts` import extensions,
# which the compiled dist/ cannot load (ERR_MODULE_NOT_FOUND …/internal/class.ts at start).
COPY package.json package-lock.json .npmrc prisma.config.ts tsconfig.json ./
COPY scripts/postinstall.mjs scripts/
COPY prisma/ prisma/
RUN npm ci
COPY . .
# The build (tsc → dist/, with the migrations, GraphiQL's sample operations and the demonstration
# libraries beside it), then only the production dependencies are kept. `node` is one of them: the
# Node.js 24 binary at node_modules/node/bin/node, put there by the package's install script.
RUN npm run build \
 && npm prune --omit=dev \
 && node_modules/node/bin/node --version

# -------------------------------------------------------------------------------------- runtime
# Plain Debian: glibc and libstdc++ are all the Node.js binary and the native packages need. No
# Node.js of the base image: the server runs on node_modules/node/bin/node, the exact version the
# lock file pins (the one the tests and .ci/image-recipe.sh ran), whatever the base image would
# have shipped; a Node.js upgrade is then a reviewed change of package-lock.json, like any other
# dependency. (For security fixes of Debian's libraries, rebuild the image regularly.)
FROM debian:bookworm-slim AS runtime
# A fixed numeric user, so that Kubernetes can check runAsNonRoot (it cannot with a user name).
RUN groupadd --system --gid 10001 numos \
 && useradd --system --uid 10001 --gid numos --no-create-home --home-dir /nonexistent --shell /usr/sbin/nologin numos
WORKDIR /app
# Owned by root and not writable by the server's user: the code cannot be changed at run time.
COPY --from=build /app/package.json ./package.json
COPY --from=build /app/node_modules ./node_modules
COPY --from=build /app/dist ./dist
# `node` in a shell of the container (kubectl exec … node dist/src/cli.js outbox:retry) is the
# project's Node.js too.
ENV PATH=/app/node_modules/node/bin:$PATH \
    NODE_ENV=production
USER 10001:10001
# The API (PORT, 4000 by default) and, when METRICS_PORT is set (as the Kubernetes manifests do),
# /metrics on a port of its own. HOST stays unset: every interface of the container.
EXPOSE 4000 9464
# Read-only root file system: the server writes nothing on disk (logs go to stdout; in production
# PostgreSQL is DATABASE_URL, never the embedded one, so NUMOS_DATA_DIR is not used). Checked by
# tracing the built server's file system calls under load (the report of issue 24); no tmpfs is
# needed. Liveness for plain Docker (Kubernetes ignores HEALTHCHECK and uses its probes):
HEALTHCHECK --interval=30s --timeout=5s --start-period=60s --retries=3 \
  CMD ["/app/node_modules/node/bin/node", "-e", "fetch('http://127.0.0.1:' + (process.env.PORT || 4000) + '/health').then((r) => process.exit(r.ok ? 0 : 1), () => process.exit(1))"]
# Node.js itself, not npm: no npm banner in the logs, and SIGTERM reaches the server directly (it
# drains requests, subscriptions and jobs within NUMOS_SHUTDOWN_GRACE_SECONDS). Node.js as PID 1 is
# fine here: the server starts no child process in production. The same command as `npm run serve`,
# young generation capped (README, "Memory"; more limits through NODE_OPTIONS).
CMD ["/app/node_modules/node/bin/node", "--max-semi-space-size=16", "--import", "./dist/src/observability/register.js", "dist/src/start.js"]
