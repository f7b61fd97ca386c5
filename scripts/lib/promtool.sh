# shellcheck shell=bash
# promtool (and prometheus) from Debian's `prometheus` package: the deploy tests run
# `promtool check rules` and `promtool test rules` on the alert rules, and the live
# Prometheus e2e test starts `prometheus` against the running services.
#
#   flotilla_promtool_ensure   installs the package with apt-get when run as root on
#                              Debian/Ubuntu (without its recommended node exporter),
#                              otherwise says exactly what to install. Returns 1 when
#                              promtool or prometheus is still missing.

_fpt_say() { printf 'promtool: %s\n' "$*" >&2; }

_fpt_present() { command -v promtool >/dev/null 2>&1 && command -v prometheus >/dev/null 2>&1; }

flotilla_promtool_ensure() {
  _fpt_present && return 0
  if [[ $(id -u) -eq 0 ]] && command -v apt-get >/dev/null 2>&1; then
    _fpt_say "installing Debian's prometheus package for the alert-rule tests (apt-get install prometheus)"
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq >&2 && apt-get install -y -qq --no-install-recommends prometheus >&2 || {
      _fpt_say "apt-get could not install prometheus"
      return 1
    }
    # Only the binaries are wanted: under systemd the package also starts a Prometheus
    # service on :9090, which this install did not exist before, so it goes again.
    if [[ -d /run/systemd/system ]] && command -v systemctl >/dev/null 2>&1; then
      systemctl disable --now prometheus >/dev/null 2>&1 || true
    fi
    _fpt_present && return 0
    _fpt_say "still missing after apt-get: promtool or prometheus"
    return 1
  fi
  _fpt_say "missing. Install Debian's prometheus package (sudo apt-get install --no-install-recommends prometheus), or put promtool and prometheus on PATH; the deploy and e2e alert tests need them."
  return 1
}
