#!/usr/bin/env bash
# Makes sure Postgres, Redis and RabbitMQ answer at DATABASE_URL, REDIS_URL and
# AMQP_URL (defaults: the standard ports on 127.0.0.1).
#
#   source scripts/lib/infra.sh && flotilla_infra_ensure   # from another script
#   bash scripts/lib/infra.sh                              # on its own
#
# Silent when all three answer. For each one that does not, and only when it is
# meant to run on this machine at its standard port:
#   1. installed but stopped      -> start it;
#   2. not installed, root + apt  -> apt-get update (once) and install, then start;
#   3. a Docker engine is running -> offer `docker compose -f docker-compose.dev.yml up -d`
#                                    (asked on a terminal; FLOTILLA_INFRA_DOCKER=1 says yes);
#   4. otherwise                  -> say what is missing and how to get it, return 1.
# Every wait is bounded (INFRA_WAIT_SECONDS overrides the per-server defaults).
#
# Written for bash >= 3.2 with nothing but coreutils: probes use bash's /dev/tcp and
# speak just enough of each protocol to tell "accepting" from "port open".

_FI_ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
_FI_APT_UPDATED=0
_FI_STARTED=' '

_fi_say() { printf 'infra: %s\n' "$*" >&2; }

# _fi_timeout SECONDS CMD... — coreutils timeout, or a portable stand-in.
_fi_timeout() {
  local secs=$1
  shift
  if command -v timeout >/dev/null 2>&1; then
    timeout "$secs" "$@"
    return
  fi
  "$@" &
  local pid=$!
  ( sleep "$secs"; kill -TERM "$pid" 2>/dev/null ) >/dev/null 2>&1 &
  local watcher=$!
  local rc=0
  wait "$pid" || rc=$?
  kill "$watcher" 2>/dev/null || true
  return "$rc"
}

_fi_name() {
  case $1 in
    postgres) echo PostgreSQL ;;
    redis) echo Redis ;;
    rabbitmq) echo RabbitMQ ;;
  esac
}
_fi_var() {
  case $1 in
    postgres) echo DATABASE_URL ;;
    redis) echo REDIS_URL ;;
    rabbitmq) echo AMQP_URL ;;
  esac
}
_fi_url() {
  case $1 in
    postgres) echo "${DATABASE_URL:-postgres://postgres@127.0.0.1:5432/postgres}" ;;
    redis) echo "${REDIS_URL:-redis://127.0.0.1:6379}" ;;
    rabbitmq) echo "${AMQP_URL:-amqp://guest:guest@127.0.0.1:5672}" ;;
  esac
}
_fi_default_port() {
  case $1 in
    postgres) echo 5432 ;;
    redis) echo 6379 ;;
    rabbitmq)
      case $(_fi_url rabbitmq) in amqps://*) echo 5671 ;; *) echo 5672 ;; esac ;;
  esac
}
_fi_pkg() {
  case $1 in
    postgres) echo postgresql ;;
    redis) echo redis-server ;;
    rabbitmq) echo rabbitmq-server ;;
  esac
}
_fi_wait_default() {
  case $1 in
    postgres) echo 30 ;;
    redis) echo 15 ;;
    rabbitmq) echo 90 ;;
  esac
}

# _fi_hostport SERVICE -> "host port" parsed from the service's URL.
_fi_hostport() {
  local url rest host port
  url=$(_fi_url "$1")
  rest=${url#*://}
  rest=${rest%%/*}
  rest=${rest%%\?*}
  rest=${rest##*@}
  if [[ $rest == \[* ]]; then
    host=${rest%%]*}
    host=${host#[}
    port=${rest#*]}
    port=${port#:}
  else
    host=${rest%%:*}
    port=${rest#"$host"}
    port=${port#:}
  fi
  [[ -n $host ]] || host=127.0.0.1
  [[ -n $port ]] || port=$(_fi_default_port "$1")
  echo "$host $port"
}

_fi_is_local() {
  case $1 in
    127.* | localhost | ::1 | 0.0.0.0 | "$(hostname 2>/dev/null || echo localhost)") return 0 ;;
    *) return 1 ;;
  esac
}

# _fi_probe SERVICE HOST PORT — 0 when the server accepts clients, not just TCP.
_fi_probe() {
  local svc=$1 host=$2 port=$3 reply
  case $svc in
    postgres)
      if command -v pg_isready >/dev/null 2>&1; then
        # 0 = accepting; 1 = up but rejecting (starting up); 2/3 = no answer.
        PGCONNECT_TIMEOUT=2 _fi_timeout 4 pg_isready -q -h "$host" -p "$port" >/dev/null 2>&1
        return
      fi
      # SSLRequest: any server answers one byte, 'S' or 'N'.
      reply=$(_fi_timeout 3 bash -c 'exec 3<>"/dev/tcp/$0/$1" || exit 1
        printf "\x00\x00\x00\x08\x04\xd2\x16\x2f" >&3; head -c 1 <&3' "$host" "$port" 2>/dev/null) || return 1
      [[ $reply == S || $reply == N ]]
      ;;
    redis)
      reply=$(_fi_timeout 3 bash -c 'exec 3<>"/dev/tcp/$0/$1" || exit 1
        printf "PING\r\n" >&3; IFS= read -r line <&3; printf %s "$line"' "$host" "$port" 2>/dev/null) || return 1
      # +PONG, or an error such as -NOAUTH from a server that wants a password: both are up.
      # -LOADING means it is still reading its data set.
      [[ $reply == +* || ($reply == -* && $reply != -LOADING*) ]]
      ;;
    rabbitmq)
      # AMQP 0-9-1 protocol header; a broker that accepts clients answers with a
      # method frame (type 1, connection.start).
      reply=$(_fi_timeout 3 bash -c 'exec 3<>"/dev/tcp/$0/$1" || exit 1
        printf "AMQP\x00\x00\x09\x01" >&3; head -c 1 <&3 | od -An -tx1' "$host" "$port" 2>/dev/null) || return 1
      [[ ${reply// /} == 01 ]]
      ;;
  esac
}

_fi_up() {
  local hp
  hp=$(_fi_hostport "$1")
  # shellcheck disable=SC2086
  _fi_probe "$1" $hp
}

_fi_pg_version() { ls /etc/postgresql 2>/dev/null | sort -V | tail -n 1; }
# The version for a command shown to a person; before an install there is none yet.
_fi_pg_shown_version() {
  local v
  v=$(_fi_pg_version)
  echo "${v:-\$(ls /etc/postgresql)}"
}

_fi_installed() {
  case $1 in
    postgres) command -v pg_ctlcluster >/dev/null 2>&1 && [[ -n $(_fi_pg_version) ]] ;;
    redis) command -v redis-server >/dev/null 2>&1 ;;
    rabbitmq) command -v rabbitmq-server >/dev/null 2>&1 ;;
  esac
}

_fi_start_cmd() {
  case $1 in
    postgres) echo "pg_ctlcluster --skip-systemctl-redirect $(_fi_pg_shown_version) main start" ;;
    redis) echo "redis-server --daemonize yes --bind 127.0.0.1 -::1 --port 6379 --save \"\" --appendonly no --dir ${TMPDIR:-/tmp}" ;;
    rabbitmq) echo "rabbitmq-server -detached" ;;
  esac
}

_fi_log_file() { echo "${TMPDIR:-/tmp}/flotilla-infra-$1.log"; }

_fi_start() {
  local svc=$1 log ver
  log=$(_fi_log_file "$svc")
  : >"$log"
  _FI_STARTED+="$svc "
  _fi_say "starting $(_fi_name "$svc") ($(_fi_start_cmd "$svc"))"
  case $svc in
    postgres)
      ver=$(_fi_pg_version)
      if [[ ! -d /etc/postgresql/$ver/main ]] && command -v pg_createcluster >/dev/null 2>&1; then
        pg_createcluster "$ver" main >>"$log" 2>&1 || true
      fi
      pg_ctlcluster --skip-systemctl-redirect "$ver" main start >>"$log" 2>&1
      ;;
    redis)
      redis-server --daemonize yes --bind 127.0.0.1 -::1 --port 6379 --save "" --appendonly no \
        --dir "${TMPDIR:-/tmp}" >"$log" 2>&1
      ;;
    rabbitmq)
      # Returns at once; the broker needs 10-20 s before it accepts clients.
      rabbitmq-server -detached >"$log" 2>&1
      ;;
  esac
}

# _fi_wait SERVICE — polls until the server answers or its time is up.
_fi_wait() {
  local svc=$1 secs start
  secs=${INFRA_WAIT_SECONDS:-$(_fi_wait_default "$svc")}
  start=$SECONDS
  until _fi_up "$svc"; do
    if ((SECONDS - start >= secs)); then
      return 1
    fi
    sleep 1
  done
  if ((SECONDS - start > 0)); then _fi_say "$(_fi_name "$svc") is up after $((SECONDS - start)) s"; fi
  return 0
}

_fi_apt_install() {
  export DEBIAN_FRONTEND=noninteractive
  if ((_FI_APT_UPDATED == 0)); then
    _fi_say "apt-get update"
    apt-get update -qq >&2 || return 1
    _FI_APT_UPDATED=1
  fi
  _fi_say "apt-get install $*"
  apt-get install -y -qq --no-install-recommends "$@" >&2
}

# After a fresh install Debian's Postgres wants a password over TCP; a development
# server installed by this script trusts local TCP clients instead, so the default
# postgres://postgres@127.0.0.1 URL works.
_fi_pg_trust_local() {
  local hba
  hba="/etc/postgresql/$(_fi_pg_version)/main/pg_hba.conf"
  [[ -f $hba ]] || return 0
  if ! grep -q '^# flotilla: trust local TCP' "$hba"; then
    _fi_say "configuring trust authentication for local TCP clients in $hba"
    {
      echo '# flotilla: trust local TCP (development server installed by scripts/lib/infra.sh)'
      echo 'host all all 127.0.0.1/32 trust'
      echo 'host all all ::1/128 trust'
      cat "$hba"
    } >"$hba.flotilla" && cat "$hba.flotilla" >"$hba" && rm -f "$hba.flotilla"
    pg_ctlcluster --skip-systemctl-redirect "$(_fi_pg_version)" main reload >/dev/null 2>&1 || true
  fi
}

# Postgres answers; can DATABASE_URL log in? Creates the database when only that is
# missing on a local server. Needs psql; skipped without it.
_fi_pg_login() {
  local url err dbname admin_url
  command -v psql >/dev/null 2>&1 || return 0
  url=$(_fi_url postgres)
  err=$(PGCONNECT_TIMEOUT=5 psql "$url" -Atqc 'select 1' 2>&1 >/dev/null) && return 0
  if [[ $err == *"does not exist"* && $err == *database* ]]; then
    dbname=${url##*/}
    dbname=${dbname%%\?*}
    admin_url="${url%/*}/postgres"
    if PGCONNECT_TIMEOUT=5 psql "$admin_url" -Atqc "CREATE DATABASE \"$dbname\"" >/dev/null 2>&1; then
      _fi_say "created database $dbname"
      return 0
    fi
  fi
  _fi_say "PostgreSQL answers, but DATABASE_URL=$url cannot log in:"
  printf '         %s\n' "$err" >&2
  if [[ $err == *password* || $err == *"no pg_hba.conf entry"* ]]; then
    printf '       put the password in DATABASE_URL (postgres://user:password@host:port/db), or for a\n' >&2
    printf '       development server allow local TCP logins in pg_hba.conf:\n' >&2
    printf '         host all all 127.0.0.1/32 trust\n' >&2
    printf '       then: pg_ctlcluster %s main reload\n' "$(_fi_pg_shown_version)" >&2
  fi
  return 1
}

_fi_docker_engine() {
  command -v docker >/dev/null 2>&1 && _fi_timeout 10 docker info >/dev/null 2>&1 &&
    docker compose version >/dev/null 2>&1
}

# _fi_explain SERVICE — what is missing and how to get it.
_fi_explain() {
  local svc=$1 hp host port name var sudo='' def
  hp=$(_fi_hostport "$svc")
  host=${hp% *}
  port=${hp#* }
  name=$(_fi_name "$svc")
  var=$(_fi_var "$svc")
  def=$(_fi_default_port "$svc")
  [[ $(id -u) == 0 ]] || sudo='sudo '
  printf '\n  %s does not answer at %s:%s (%s=%s).\n' "$name" "$host" "$port" "$var" "$(_fi_url "$svc")" >&2
  if _fi_timeout 2 bash -c 'exec 3<>"/dev/tcp/$0/$1"' "$host" "$port" 2>/dev/null; then
    printf '    Something listens on %s:%s, but it does not answer as a %s (still starting, or another server).\n' "$host" "$port" "$name" >&2
  fi
  if ! _fi_is_local "$host"; then
    printf '    It is not on this machine: start it on %s, or point %s at a server that runs.\n' "$host" "$var" >&2
    return
  fi
  if [[ $port != "$def" ]]; then
    if _fi_probe "$svc" 127.0.0.1 "$def"; then
      printf '    A %s answers on 127.0.0.1:%s: unset %s or point it there.\n' "$name" "$def" "$var" >&2
    fi
    printf '    Port %s is not the standard %s, so this script does not start one there:\n' "$port" "$def" >&2
    printf '    start a %s listening on %s:%s yourself.\n' "$name" "$host" "$port" >&2
    return
  fi
  if [[ $_FI_STARTED == *" $svc "* && -s $(_fi_log_file "$svc") ]]; then
    printf '    Its start said (%s):\n' "$(_fi_log_file "$svc")" >&2
    tail -n 5 "$(_fi_log_file "$svc")" | sed 's/^/      /' >&2
  fi
  if _fi_installed "$svc"; then
    printf '    It is installed; start it:  %s%s\n' "$sudo" "$(_fi_start_cmd "$svc")" >&2
  elif command -v apt-get >/dev/null 2>&1; then
    printf '    Install and start it:  %sapt-get install -y %s && %s%s\n' "$sudo" "$(_fi_pkg "$svc")" "$sudo" "$(_fi_start_cmd "$svc")" >&2
    printf '    (run `npm start` as root on Debian/Ubuntu and it does this for you)\n' >&2
  elif command -v brew >/dev/null 2>&1; then
    case $svc in
      postgres) printf '    Install and start it:  brew install postgresql@16 && brew services start postgresql@16\n' >&2 ;;
      redis) printf '    Install and start it:  brew install redis && brew services start redis\n' >&2 ;;
      rabbitmq) printf '    Install and start it:  brew install rabbitmq && brew services start rabbitmq\n' >&2 ;;
    esac
  else
    printf '    Install %s %s and start it on %s.\n' "$name" \
      "$(case $svc in postgres) echo '(>= 14)' ;; redis) echo '(>= 7)' ;; rabbitmq) echo '(>= 3.12)' ;; esac)" "$port" >&2
  fi
  if command -v docker >/dev/null 2>&1; then
    printf '    Or with a Docker engine:  docker compose -f %s/docker-compose.dev.yml up -d %s\n' "$_FI_ROOT" "$svc" >&2
  fi
}

# flotilla_infra_ensure — returns 0 when all three servers answer (starting or
# installing them where it can), 1 after saying what is still missing.
flotilla_infra_ensure() {
  local svc hp host port
  local down=() startable=() installable=() unresolved=() failed=() fresh_pg=0
  for svc in postgres redis rabbitmq; do
    _fi_up "$svc" || down+=("$svc")
  done
  if ((${#down[@]} == 0)); then
    _fi_pg_login
    return
  fi

  for svc in "${down[@]}"; do
    hp=$(_fi_hostport "$svc")
    host=${hp% *}
    port=${hp#* }
    if ! _fi_is_local "$host" || [[ $port != "$(_fi_default_port "$svc")" ]]; then
      failed+=("$svc")
    elif _fi_installed "$svc"; then
      startable+=("$svc")
    elif [[ $(id -u) == 0 ]] && command -v apt-get >/dev/null 2>&1; then
      installable+=("$svc")
    else
      unresolved+=("$svc")
    fi
  done

  if ((${#installable[@]} > 0)); then
    local pkgs=()
    for svc in "${installable[@]}"; do pkgs+=("$(_fi_pkg "$svc")"); done
    if _fi_apt_install "${pkgs[@]}"; then
      for svc in "${installable[@]}"; do
        [[ $svc == postgres ]] && fresh_pg=1
        if _fi_installed "$svc"; then startable+=("$svc"); else failed+=("$svc"); fi
      done
    else
      _fi_say "apt-get install ${pkgs[*]} failed"
      failed+=("${installable[@]}")
    fi
  fi

  if ((fresh_pg)); then _fi_pg_trust_local; fi

  # Start everything first, then wait: RabbitMQ's boot overlaps the others'.
  local waiting=()
  for svc in ${startable[@]+"${startable[@]}"}; do
    # A package's install scripts may have started it already.
    if _fi_up "$svc"; then continue; fi
    if _fi_start "$svc"; then
      waiting+=("$svc")
    else
      # RabbitMQ refuses a second `-detached` while one is still booting; wait anyway.
      waiting+=("$svc")
    fi
  done

  if ((${#unresolved[@]} > 0)) && _fi_docker_engine; then
    local answer=n
    if [[ ${FLOTILLA_INFRA_DOCKER:-} == 1 ]]; then
      answer=y
    elif [[ -t 0 && -t 2 ]]; then
      printf 'infra: not running here: %s. Start them with `docker compose -f docker-compose.dev.yml up -d %s`? [Y/n] ' \
        "${unresolved[*]}" "${unresolved[*]}" >&2
      read -r answer || answer=n
      [[ -z $answer ]] && answer=y
    fi
    if [[ $answer == [yY]* ]]; then
      if docker compose -f "$_FI_ROOT/docker-compose.dev.yml" up -d "${unresolved[@]}" >&2; then
        waiting+=("${unresolved[@]}")
        unresolved=()
      fi
    fi
  fi
  failed+=(${unresolved[@]+"${unresolved[@]}"})

  for svc in ${waiting[@]+"${waiting[@]}"}; do
    if ! _fi_wait "$svc"; then
      _fi_say "$(_fi_name "$svc") did not answer within ${INFRA_WAIT_SECONDS:-$(_fi_wait_default "$svc")} s"
      failed+=("$svc")
    fi
  done

  if ((${#failed[@]} > 0)); then
    local names=()
    for svc in "${failed[@]}"; do names+=("$(_fi_name "$svc")"); done
    _fi_say "not reachable: ${names[*]}"
    for svc in "${failed[@]}"; do _fi_explain "$svc"; done
    printf '\n' >&2
    return 1
  fi

  # Only reached when something was down; check the login once it is up.
  if ! _fi_up postgres; then return 1; fi
  _fi_pg_login
}

if [[ ${BASH_SOURCE[0]} == "$0" ]]; then
  set -uo pipefail
  flotilla_infra_ensure
  exit $?
fi
