#!/usr/bin/env bash
# npm start: the whole platform on this machine.
#
#   .env (if present) -> Node.js 24 (scripts/lib/node.sh) -> deps (npm ci when needed)
#   -> Postgres, Redis, RabbitMQ up (started or installed where possible)
#   -> build (tsc -b) -> node scripts/run-platform.mjs [service...]
#
# Arguments go to run-platform.mjs: `npm start -- gateway` runs only the gateway.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

# shellcheck source=scripts/lib/dotenv.sh
source scripts/lib/dotenv.sh
# shellcheck source=scripts/lib/deps.sh
source scripts/lib/deps.sh
# shellcheck source=scripts/lib/infra.sh
source scripts/lib/infra.sh

flotilla_load_dotenv
# Node.js 24 first on PATH (fetched from the npm registry once where the machine's is older),
# so npm, the build and every service run on it.
flotilla_node_check
echo "start: node $(node --version) ($(command -v node))"
flotilla_deps_ensure
if ! flotilla_infra_ensure; then
  echo "start: the servers above are needed first; then run npm start again." >&2
  exit 1
fi
if ! node scripts/build.mjs; then
  echo "start: the build failed (TypeScript errors above)." >&2
  exit 1
fi
exec node scripts/run-platform.mjs "$@"
