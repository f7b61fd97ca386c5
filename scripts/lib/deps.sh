#!/usr/bin/env bash
# Node.js >= 20.10 and an installed node_modules that matches package-lock.json.
#
#   source scripts/lib/deps.sh && flotilla_deps_ensure
#
# Runs `npm ci` when node_modules is missing or older than package-lock.json (npm
# writes node_modules/.package-lock.json on every install, so its age is the
# install's age). Quiet when nothing needs doing.

_FD_ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
_FD_NODE_MIN_MAJOR=20
_FD_NODE_MIN_MINOR=10

_fd_say() { printf 'deps: %s\n' "$*" >&2; }

_fd_how_to_get_node() {
  cat >&2 <<HELP
      Flotilla needs Node.js ${_FD_NODE_MIN_MAJOR}.${_FD_NODE_MIN_MINOR} or newer (20 LTS or 22 LTS), with npm.
      - with nvm:  nvm install 22 && nvm use 22
      - with fnm:  fnm install 22 && fnm use 22
      - on Debian/Ubuntu: the distribution's own "nodejs" package is too old on
        Debian 12 (18.x); use nvm, fnm or the official Node.js packages for your system.
      - on macOS:  brew install node@22
HELP
}

# flotilla_node_check — Node.js >= 20.10 and npm on PATH, or says how to get them.
flotilla_node_check() {
  if ! command -v node >/dev/null 2>&1 || ! command -v npm >/dev/null 2>&1; then
    _fd_say "node and npm are not on PATH."
    _fd_how_to_get_node
    return 1
  fi
  local version major minor
  version=$(node -p 'process.versions.node')
  major=${version%%.*}
  minor=${version#*.}
  minor=${minor%%.*}
  if ((major < _FD_NODE_MIN_MAJOR || (major == _FD_NODE_MIN_MAJOR && minor < _FD_NODE_MIN_MINOR))); then
    _fd_say "Node.js $version is too old ($(command -v node))."
    _fd_how_to_get_node
    return 1
  fi
}

flotilla_deps_ensure() {
  flotilla_node_check || return 1
  local marker="$_FD_ROOT/node_modules/.package-lock.json"
  if [[ ! -d $_FD_ROOT/node_modules ]]; then
    _fd_say "node_modules is missing: npm ci"
  elif [[ ! -f $marker ]]; then
    _fd_say "node_modules was not installed by npm: npm ci"
  elif [[ $_FD_ROOT/package-lock.json -nt $marker ]]; then
    _fd_say "package-lock.json is newer than node_modules: npm ci"
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
  log=$(mktemp "${TMPDIR:-/tmp}/flotilla-npm-ci.XXXXXX")
  # Braces and `|| true`: a failing npm must reach the checks below even under set -e.
  { (cd "$_FD_ROOT" && npm ci --no-audit --no-fund) 2>&1 | tee "$log"; rc=${PIPESTATUS[0]}; } || true
  if ((rc == 0)); then
    rm -f "$log"
    return 0
  fi
  missing=$(grep -o 'Missing: [^ ]* from lock file' "$log" | awk '{print $2}' || true)
  versioned=$(printf '%s\n' "$missing" | grep -v -e '@$' -e '^$' || true)
  if [[ -n $missing && -z $versioned ]]; then
    _fd_say "npm ci rejected only optional platform packages absent from the lock file (npm/cli#9846);"
    _fd_say "installing the locked versions with npm install --no-save instead"
    rm -f "$log"
    (cd "$_FD_ROOT" && npm install --no-save --no-audit --no-fund)
    return
  fi
  _fd_say "npm ci failed. If it says package.json and package-lock.json are out of sync"
  _fd_say "(a package missing with its version), run \`npm install\` once and commit package-lock.json."
  rm -f "$log"
  return 1
}

if [[ ${BASH_SOURCE[0]} == "$0" ]]; then
  set -uo pipefail
  flotilla_deps_ensure
  exit $?
fi
