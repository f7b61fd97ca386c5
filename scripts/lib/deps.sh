#!/usr/bin/env bash
# Node.js 24 (scripts/lib/node.sh) and an installed node_modules that matches package-lock.json.
#
#   source scripts/lib/deps.sh && flotilla_deps_ensure
#
# Runs `npm ci` when node_modules is missing, older than package-lock.json (npm
# writes node_modules/.package-lock.json on every install, so its age is the
# install's age), or was installed under another Node.js ABI (native modules are built or
# picked for the Node that installs them). Quiet when nothing needs doing.

_FD_ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
# shellcheck source=scripts/lib/node.sh
source "$_FD_ROOT/scripts/lib/node.sh"

_fd_say() { printf 'deps: %s\n' "$*" >&2; }

# flotilla_node_check — Node.js 24 first on PATH (installed from the registry if need be), and npm.
flotilla_node_check() {
  flotilla_node_use || return 1
  if ! command -v npm >/dev/null 2>&1; then
    _fd_say "npm is not on PATH; install it with Node.js (e.g. nvm install $(_fn_pinned))."
    return 1
  fi
}

# The Node.js ABI node_modules was installed under, written after every npm ci.
_FD_ABI_MARKER="$_FD_ROOT/node_modules/.flotilla-node-abi"

flotilla_deps_ensure() {
  flotilla_node_check || return 1
  local marker="$_FD_ROOT/node_modules/.package-lock.json"
  if [[ ! -d $_FD_ROOT/node_modules ]]; then
    _fd_say "node_modules is missing: npm ci"
  elif [[ ! -f $marker ]]; then
    _fd_say "node_modules was not installed by npm: npm ci"
  elif [[ $_FD_ROOT/package-lock.json -nt $marker ]]; then
    _fd_say "package-lock.json is newer than node_modules: npm ci"
  elif [[ $(cat "$_FD_ABI_MARKER" 2>/dev/null) != "$(node -p process.versions.modules)" ]]; then
    _fd_say "node_modules was installed under another Node.js than $(node --version): npm ci"
  else
    return 0
  fi
  flotilla_npm_ci
}

# flotilla_npm_ci — `npm ci`, with one workaround: npm 11.16 and later reject a lock
# file that lacks entries for optional platform packages it did not resolve (for
# example @unrs/resolver-binding-* under jest), reporting them as "Missing: <name>@ from
# lock file" with no version (npm/cli#9846). When those are the only complaints, the lock
# is not really out of sync, and `npm install --no-save` installs the locked versions
# without rewriting package-lock.json. Any other mismatch still fails.
flotilla_npm_ci() {
  local log rc=0 missing versioned
  flotilla_node_check || return 1
  log=$(mktemp "${TMPDIR:-/tmp}/flotilla-npm-ci.XXXXXX")
  # Braces and `|| true`: a failing npm must reach the checks below even under set -e.
  { (cd "$_FD_ROOT" && npm ci --no-audit --no-fund) 2>&1 | tee "$log"; rc=${PIPESTATUS[0]}; } || true
  if ((rc == 0)); then
    rm -f "$log"
    _fd_abi_mark
    return 0
  fi
  missing=$(grep -o 'Missing: [^ ]* from lock file' "$log" | awk '{print $2}' || true)
  versioned=$(printf '%s\n' "$missing" | grep -v -e '@$' -e '^$' || true)
  if [[ -n $missing && -z $versioned ]]; then
    _fd_say "npm ci rejected only optional platform packages absent from the lock file (npm/cli#9846);"
    _fd_say "installing the locked versions with npm install --no-save instead"
    rm -f "$log"
    (cd "$_FD_ROOT" && npm install --no-save --no-audit --no-fund) && _fd_abi_mark
    return
  fi
  _fd_say "npm ci failed. If it says package.json and package-lock.json are out of sync"
  _fd_say "(a package missing with its version), run \`npm install\` once and commit package-lock.json."
  rm -f "$log"
  return 1
}

_fd_abi_mark() { node -p process.versions.modules >"$_FD_ABI_MARKER"; }

if [[ ${BASH_SOURCE[0]} == "$0" ]]; then
  set -uo pipefail
  flotilla_deps_ensure
  exit $?
fi
