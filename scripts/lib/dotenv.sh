#!/usr/bin/env bash
# flotilla_load_dotenv [FILE] — exports the KEY=VALUE lines of FILE (default: .env in
# the repository root) for every KEY that is not already set, so a variable given on
# the command line always wins over the file. Blank lines and # comments are skipped;
# one pair of surrounding single or double quotes is removed; nothing is evaluated.

flotilla_load_dotenv() {
  local file=${1:-"$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)/.env"}
  [[ -f $file ]] || return 0
  local line key value
  while IFS= read -r line || [[ -n $line ]]; do
    line=${line%$'\r'}
    [[ $line =~ ^[[:space:]]*(export[[:space:]]+)?([A-Za-z_][A-Za-z0-9_]*)=(.*)$ ]] || continue
    key=${BASH_REMATCH[2]}
    value=${BASH_REMATCH[3]}
    if [[ $value =~ ^\"(.*)\"[[:space:]]*$ || $value =~ ^\'(.*)\'[[:space:]]*$ ]]; then
      value=${BASH_REMATCH[1]}
    else
      value=${value%%[[:space:]]#*}
      value=${value%"${value##*[![:space:]]}"}
    fi
    [[ -n ${!key+set} ]] && continue
    export "$key=$value"
  done <"$file"
}
