# Shared helpers for scripts/run.sh, test.sh, bench.sh and stop-local.sh (source it).
# shellcheck shell=bash

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd -P)

# Swift toolchain location on the project's machines, when not on PATH already.
if ! command -v swift >/dev/null 2>&1 && [ -x /opt/swift/usr/bin/swift ]; then
  PATH=$PATH:/opt/swift/usr/bin
fi

_script=$(basename "${0:-appview}" .sh)
log() { printf '[%s] %s\n' "$_script" "$*" >&2; }
warn() { printf '[%s] WARNING: %s\n' "$_script" "$*" >&2; }
die() { printf '[%s] ERROR: %s\n' "$_script" "$*" >&2; exit 1; }

# The cluster's admin URL (database postgres) and app URL for a state dir + port.
pg_url() { # state-dir port [db]
  local sock
  sock=$(cd "$1" && pwd -P)/sock
  printf 'postgresql:///%s?host=%s&port=%s&user=appview' "${3:-appview}" "$sock" "$2"
}

pg_bindir() {
  local d
  d=$(pg_config --bindir 2>/dev/null || true)
  if [ -n "$d" ] && [ -x "$d/psql" ]; then echo "$d"; return; fi
  d=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1 || true)
  [ -n "$d" ] && [ -x "$d/psql" ] && { echo "$d"; return; }
  dirname "$(command -v psql)"
}

# The Jetstream corpus fixture: the copy in Tests/Fixtures, else shared/ beside the repository.
find_corpus_file() { # file name, e.g. expected_v1.jsonl
  local c
  for c in "$ROOT/Tests/Fixtures/firehose-2026-07-04/$1" \
           "$ROOT/../shared/corpus/firehose-2026-07-04/$1" \
           "/work/shared/corpus/firehose-2026-07-04/$1"; do
    [ -f "$c" ] && { (cd "$(dirname "$c")" && echo "$(pwd -P)/$(basename "$c")"); return 0; }
  done
  return 1
}

# Is <subcommand> listed in `<exe> --help` (ArgumentParser's SUBCOMMANDS section) and does its
# own --help succeed? A default subcommand could otherwise swallow the name as an argument.
has_subcommand() {
  local help
  help=$("$1" --help 2>&1) || true
  grep -qE "^[[:space:]]+$2([[:space:]]|\$)" <<<"$help" && "$1" "$2" --help >/dev/null 2>&1
}

# Start the API (appview-api, or another binary serving it, e.g. `appview-bench serve`) in the
# background on a unix socket that nginx workers (user appview) can use. Sets API_PID.
# Extra environment (DATABASE_URL, ...) must be exported by the caller; arguments after the
# logfile are passed to the executable.
start_api() { # exe socket threads logfile|- [args...]
  local exe=$1 sock=$2 threads=$3 logfile=$4
  shift 4
  rm -f "$sock"
  if [ "$logfile" = - ]; then
    (umask 000; FCGI_LISTEN="$sock" API_THREADS="$threads" exec "$exe" "$@") &
  else
    (umask 000; FCGI_LISTEN="$sock" API_THREADS="$threads" exec "$exe" "$@") >>"$logfile" 2>&1 &
  fi
  API_PID=$!
  local i
  for ((i = 0; i < 300; i++)); do
    [ -S "$sock" ] && { chmod 666 "$sock" 2>/dev/null || true; return 0; }
    kill -0 "$API_PID" 2>/dev/null || { wait "$API_PID" 2>/dev/null || true; API_PID=; return 1; }
    sleep 0.1
  done
  return 1
}

# Stop a process we started: SIGTERM, wait up to $2 seconds, then SIGKILL.
stop_pid() { # pid [seconds] [name]
  local pid=$1 secs=${2:-10} name=${3:-process} i
  [ -n "$pid" ] || return 0
  kill -0 "$pid" 2>/dev/null || return 0
  log "stopping $name (pid $pid)"
  kill -TERM "$pid" 2>/dev/null || true
  for ((i = 0; i < secs * 10; i++)); do
    kill -0 "$pid" 2>/dev/null || { wait "$pid" 2>/dev/null || true; return 0; }
    sleep 0.1
  done
  warn "$name (pid $pid) did not stop in ${secs}s: SIGKILL"
  kill -KILL "$pid" 2>/dev/null || true
  wait "$pid" 2>/dev/null || true
}

# Stop the process recorded in a pid file (written by run.sh/test.sh), if it is still that program.
stop_pidfile() { # pidfile name
  local pidfile=$1 pid
  [ -f "$pidfile" ] || return 0
  pid=$(cat "$pidfile" 2>/dev/null || true)
  if [ -n "$pid" ] && grep -q "$2" "/proc/$pid/cmdline" 2>/dev/null; then
    stop_pid "$pid" 10 "$2"
  fi
  rm -f "$pidfile"
}
