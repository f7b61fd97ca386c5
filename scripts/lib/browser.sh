# shellcheck shell=bash
# The browser the console's end-to-end test drives: Debian's Chromium, through
# playwright-core (which never downloads a browser of its own).
#
#   flotilla_browser_ensure   sets CHROMIUM_PATH; installs the `chromium` package with
#                             apt-get when run as root on Debian/Ubuntu, otherwise says
#                             exactly what to install. Returns 1 when there is none.

_fb_say() { printf 'browser: %s\n' "$*" >&2; }

flotilla_browser_ensure() {
  local candidate
  for candidate in "${CHROMIUM_PATH:-}" /usr/bin/chromium /usr/bin/chromium-browser; do
    if [[ -n $candidate && -x $candidate ]]; then
      export CHROMIUM_PATH=$candidate
      return 0
    fi
  done
  if [[ $(id -u) -eq 0 ]] && command -v apt-get >/dev/null 2>&1; then
    _fb_say "installing Chromium for the console's browser test (apt-get install chromium)"
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq >&2 && apt-get install -y -qq --no-install-recommends chromium fonts-dejavu-core >&2 || {
      _fb_say "apt-get could not install chromium"
      return 1
    }
    export CHROMIUM_PATH=/usr/bin/chromium
    return 0
  fi
  _fb_say "no Chromium found. Install it (Debian/Ubuntu: sudo apt-get install chromium), or set CHROMIUM_PATH to a Chromium or Chrome binary."
  return 1
}
