#!/usr/bin/env bash
# Node.js 24 LTS for every script, whatever Node the machine has.
#
#   source scripts/lib/node.sh && flotilla_node_use
#   bash scripts/lib/node.sh [command...]   # the command on that Node (npm scripts use this)
#
# The machine's node is used when it is 24.x and meets package.json's engines; otherwise
# the version pinned in .node-version (the one place it is written; CI's setup-node reads
# it too) comes from the npm registry's node-linux-<arch> package, is unpacked once under
# .tools/ (git-ignored) and put first on PATH. Everything started afterwards runs on it:
# npm (its shebang is `/usr/bin/env node`), the build, Jest and the services tests spawn.
# Nothing is downloaded from anywhere but the npm registry.

_FN_ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"

_fn_say() { printf 'node: %s\n' "$*" >&2; }

# _fn_version_ge A B — version A >= version B (both x.y.z, missing parts are 0).
_fn_version_ge() {
  local -a a b
  local i
  IFS=. read -r -a a <<<"$1"
  IFS=. read -r -a b <<<"$2"
  for i in 0 1 2; do
    ((${a[i]:-0} > ${b[i]:-0})) && return 0
    ((${a[i]:-0} < ${b[i]:-0})) && return 1
  done
  return 0
}

# The pinned version (.node-version) and the least one the lock accepts (engines, ">=24.11").
_fn_pinned() { tr -d ' \n\r' <"$_FN_ROOT/.node-version"; }
_fn_engines_min() { sed -n 's/^ *"node": *">=\([0-9.]*\)".*/\1/p' "$_FN_ROOT/package.json" | head -n 1; }

# _fn_fits VERSION — VERSION is on the pinned major line and meets engines.
_fn_fits() {
  local version=$1 pinned
  pinned=$(_fn_pinned)
  [[ ${version%%.*} == "${pinned%%.*}" ]] && _fn_version_ge "$version" "$(_fn_engines_min)"
}

# _fn_install VERSION DIR — the registry's node-<os>-<arch>@VERSION unpacked into DIR.
_fn_install() {
  local version=$1 dir=$2 arch package tmp tarball
  case $(uname -m) in
    x86_64 | amd64) arch=x64 ;;
    aarch64 | arm64) arch=arm64 ;;
    *) arch=unsupported ;;
  esac
  if [[ $(uname -s) != Linux || $arch == unsupported ]]; then
    _fn_say "the registry's Node packages are used on Linux x64 and arm64 only; install Node.js $version yourself (nvm install $version)."
    return 1
  fi
  package="node-linux-$arch@$version"
  if ! command -v npm >/dev/null 2>&1; then
    _fn_say "npm is needed to fetch $package from the npm registry; install Node.js $version (with npm) yourself."
    return 1
  fi
  mkdir -p "$_FN_ROOT/.tools"
  tmp=$(mktemp -d "$_FN_ROOT/.tools/.node-install.XXXXXX")
  _fn_say "Node.js $version: fetching $package from the npm registry (once; kept in ${dir#"$_FN_ROOT"/})"
  # Few, short retries: an unreachable registry fails in about a minute, not ten.
  if ! tarball=$(cd "$tmp" && npm pack "$package" --silent --pack-destination "$tmp" \
    --fetch-retries=1 --fetch-retry-mintimeout=2000 --fetch-retry-maxtimeout=10000 --fetch-timeout=60000); then
    rm -rf "$tmp"
    _fn_say "could not fetch $package from the npm registry ($(npm config get registry 2>/dev/null))."
    _fn_say "Check the network or the registry setting (npm config get registry), or install Node.js $version yourself (nvm install $version)."
    return 1
  fi
  mkdir "$tmp/node"
  # bin/node, and include/ so node-gyp builds a native module without downloading headers.
  if ! tar -xzf "$tmp/$tarball" -C "$tmp/node" --strip-components=1 ||
    [[ $("$tmp/node/bin/node" --version 2>/dev/null) != "v$version" ]]; then
    rm -rf "$tmp"
    _fn_say "$package did not unpack to a working node v$version."
    return 1
  fi
  # Another run may have finished first; its copy is as good as this one.
  mv -T "$tmp/node" "$dir" 2>/dev/null || true
  rm -rf "$tmp"
  [[ -x $dir/bin/node ]]
}

# flotilla_node_use — a fitting node first on PATH (exported), installing the pinned one if needed.
flotilla_node_use() {
  local current pinned dir
  pinned=$(_fn_pinned)
  dir="$_FN_ROOT/.tools/node-v$pinned-linux"
  if command -v node >/dev/null 2>&1; then
    current=$(node -p 'process.versions.node' 2>/dev/null || true)
    [[ -n $current ]] && _fn_fits "$current" && return 0
  fi
  if [[ ! -x $dir/bin/node ]]; then
    [[ -n ${current:-} ]] && _fn_say "this machine's Node.js is $current; Flotilla runs on Node.js ${pinned%%.*} (>= $(_fn_engines_min))."
    _fn_install "$pinned" "$dir" || return 1
  fi
  export PATH="$dir/bin:$PATH"
  # node-gyp finds the headers beside the binary rather than downloading them.
  export npm_config_nodedir="$dir"
  hash -r
}

if [[ ${BASH_SOURCE[0]} == "$0" ]]; then
  set -euo pipefail
  flotilla_node_use
  if (($# == 0)); then exec node --version; fi
  exec "$@"
fi
