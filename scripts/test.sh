#!/usr/bin/env bash
# npm test: the whole suite, in the order a failure is cheapest to find.
#
#   Node.js 24 -> deps -> Postgres/Redis/RabbitMQ up -> build (tsc -b, Vite) -> lint -> imaging tools -> unit -> integration
#   -> deploy (charts, manifests, compose, workflows) -> browser (Chromium for the console test) -> e2e
#
# Stops at the first failing step and names it. Integration and end-to-end tests run
# against the real servers at DATABASE_URL / REDIS_URL / AMQP_URL; each run picks its own
# NAMESPACE, so runs never collide. A Jest project with no test files at all is skipped
# with a notice; one whose files exist but that runs none fails (Jest's own check).
# Ends with one line "tests: N passed, N failed" summed over the Jest projects.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

# shellcheck source=scripts/lib/dotenv.sh
source scripts/lib/dotenv.sh
# shellcheck source=scripts/lib/deps.sh
source scripts/lib/deps.sh
# shellcheck source=scripts/lib/infra.sh
source scripts/lib/infra.sh
# shellcheck source=scripts/lib/browser.sh
source scripts/lib/browser.sh
# shellcheck source=scripts/lib/imaging-tools.sh
source scripts/lib/imaging-tools.sh
# shellcheck source=scripts/lib/promtool.sh
source scripts/lib/promtool.sh

if [[ -t 1 && -z ${NO_COLOR:-} ]]; then
  _B=$'\e[1m' _R=$'\e[31m' _G=$'\e[32m' _Y=$'\e[33m' _0=$'\e[0m'
else
  _B='' _R='' _G='' _Y='' _0=''
fi

RESULTS_DIR=$(mktemp -d "${TMPDIR:-/tmp}/flotilla-test.XXXXXX")
trap 'rm -rf "$RESULTS_DIR"' EXIT

step() {
  local name=$1
  shift
  local start=$SECONDS rc=0
  printf '\n%s==> %s%s  (%s)\n' "$_B" "$name" "$_0" "$*"
  "$@" || rc=$?
  if ((rc != 0)); then
    printf '\n%s✗ %s failed%s (exit %d after %d s): %s\n' "$_R$_B" "$name" "$_0" "$rc" $((SECONDS - start)) "$*" >&2
    case $name in
      lint) printf '  Fix the errors above (npx eslint --fix <file> fixes some), then run npm test again.\n' >&2 ;;
      build) printf '  TypeScript errors above; `npm run build` repeats just this step.\n' >&2 ;;
      unit | integration | e2e) printf '  Repeat just this step: npm run test:%s\n' "$([[ $name == unit ]] && echo unit || { [[ $name == integration ]] && echo int || echo e2e; })" >&2 ;;
    esac
    summary
    exit "$rc"
  fi
  printf '%s✓ %s%s (%d s)\n' "$_G" "$name" "$_0" $((SECONDS - start))
}

# count_files DIR... -- PATTERN: how many files the Jest project would find.
count_files() {
  local dirs=() pattern
  while [[ $1 != -- ]]; do
    dirs+=("$1")
    shift
  done
  shift
  pattern=$1
  find "${dirs[@]}" \( -name node_modules -o -name dist \) -prune -o -type f -path "$pattern" -print 2>/dev/null | wc -l
}

# jest_step NAME NPM_SCRIPT FILE_COUNT GLOB [JEST_ARGS...]
jest_step() {
  local name=$1 script=$2 count=$3 glob=$4
  shift 4
  if ((count == 0)); then
    printf '\n%s==> %s: skipped%s — no test files yet (%s)\n' "$_Y$_B" "$name" "$_0" "$glob"
    return
  fi
  step "$name" npm run --silent "$script" -- --ci --json --outputFile="$RESULTS_DIR/$name.json" "$@"
}

# Sums the Jest JSON reports into the one closing line.
summary() {
  node -e '
    const fs = require("node:fs");
    let passed = 0, failed = 0, skipped = 0;
    for (const f of fs.readdirSync(process.argv[1])) {
      const r = JSON.parse(fs.readFileSync(`${process.argv[1]}/${f}`, "utf8"));
      passed += r.numPassedTests; failed += r.numFailedTests; skipped += r.numPendingTests + (r.numTodoTests ?? 0);
    }
    console.log(`\ntests: ${passed} passed, ${failed} failed` + (skipped ? `, ${skipped} skipped` : ""));
  ' "$RESULTS_DIR" 2>/dev/null || true
}

start=$SECONDS
flotilla_load_dotenv
# `npm test` started this script under the machine's Node (maybe 20). Before npm ci, Node.js 24
# goes first on PATH (scripts/lib/node.sh), so every npm run below (npm's shebang is
# `/usr/bin/env node`), Jest and the services the tests spawn (process.execPath) run on 24.
flotilla_node_check
printf 'node %s (%s)\n' "$(node --version)" "$(command -v node)"
step deps flotilla_deps_ensure
step servers flotilla_infra_ensure
step build node scripts/build.mjs
step lint npm run --silent lint
# dcmtk, ImageMagick, nifti_tool, plastimatch: the validator's unit tests write fixtures with them.
step imaging-tools flotilla_imaging_tools_ensure

jest_step unit test:unit "$(count_files libs services -- '*/src/*.spec.ts')" '{libs,services}/*/src/**/*.spec.ts'
# Tests against real servers: a connection a test forgot to close must not hang the run
# (and CI) after every test has finished; Jest names the leak ("Force exiting Jest").
# `npm run test:int` on its own keeps Jest's default and waits, to find such leaks.
jest_step integration test:int "$(count_files libs services -- '*/test/*.int-spec.ts')" '{libs,services}/*/test/**/*.int-spec.ts' --forceExit
# promtool (Debian's prometheus package): the deploy tests check and unit-test the alert rules with it.
step promtool flotilla_promtool_ensure
jest_step deploy test:deploy "$( [[ -d deploy/test ]] && count_files deploy/test -- '*.spec.ts' || echo 0)" 'deploy/test/**/*.spec.ts'
step browser flotilla_browser_ensure
jest_step e2e test:e2e "$( [[ -d e2e ]] && count_files e2e -- '*.e2e-spec.ts' || echo 0)" 'e2e/**/*.e2e-spec.ts' --forceExit

printf '\n%s✓ npm test passed%s in %d s\n' "$_G$_B" "$_0" $((SECONDS - start))
summary
