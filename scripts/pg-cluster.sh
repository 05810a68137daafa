#!/usr/bin/env bash
# Throwaway PostgreSQL cluster under a project state directory, run as the unprivileged user
# `appview` (PostgreSQL refuses to run as root).
#
#   scripts/pg-cluster.sh start  <state-dir> <port> [--fast]   initdb if missing, start, create db `appview`
#   scripts/pg-cluster.sh stop   <state-dir> [<port>]          stop (fast shutdown); no-op when not running
#   scripts/pg-cluster.sh status <state-dir> <port>            exit 0 and print the URL when running, 3 if not
#   scripts/pg-cluster.sh url    <state-dir> <port>            print the URL (running or not)
#
# Layout: data <state-dir>/pg, socket dir <state-dir>/sock, server log <state-dir>/pg.log.
# Listens on the unix socket and on 127.0.0.1:<port>; trust auth (local development only).
# --fast (test cluster only): fsync=off, synchronous_commit=off, full_page_writes=off.
# PG_EXTRA_OPTS (environment): extra server options appended at start, e.g. "-c max_wal_size=1GB".
# stdout carries only the DATABASE_URL, so `url=$(scripts/pg-cluster.sh start ...)` works;
# messages go to stderr.
set -euo pipefail

log() { printf 'pg-cluster: %s\n' "$*" >&2; }
die() { log "ERROR: $*"; exit 1; }
usage() { die "usage: $0 start|stop|status|url <state-dir> <port> [--fast]"; }

fast=0
args=()
for a in "$@"; do
  case "$a" in
    --fast) fast=1 ;;
    *) args+=("$a") ;;
  esac
done
[ "${#args[@]}" -ge 2 ] || usage
cmd=${args[0]}
state_in=${args[1]}
port=${args[2]:-}
case "$cmd" in
  start|status|url) [ -n "$port" ] || usage ;;
  stop) ;;
  *) usage ;;
esac

# ---------------------------------------------------------------- binaries
find_bindir() {
  local d
  d=$(pg_config --bindir 2>/dev/null || true)
  if [ -n "$d" ] && [ -x "$d/pg_ctl" ] && [ -x "$d/initdb" ]; then echo "$d"; return; fi
  d=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1 || true)
  if [ -n "$d" ] && [ -x "$d/pg_ctl" ]; then echo "$d"; return; fi
  d=$(dirname "$(command -v pg_ctl 2>/dev/null || echo /nonexistent/x)")
  if [ -x "$d/pg_ctl" ]; then echo "$d"; return; fi
  die "PostgreSQL server binaries not found (run scripts/install-deps.sh)"
}
BIN=$(find_bindir)

mkdir -p "$state_in"
STATE=$(cd "$state_in" && pwd -P)
PGDATA_DIR=$STATE/pg
SOCK=$STATE/sock
LOGFILE=$STATE/pg.log

url() { printf 'postgresql:///appview?host=%s&port=%s&user=appview\n' "$SOCK" "$1"; }

# ---------------------------------------------------------------- run as appview
PGUSER_OS=appview
if [ "$(id -u)" -eq 0 ]; then
  id -u "$PGUSER_OS" >/dev/null 2>&1 || die "user $PGUSER_OS missing (run scripts/install-deps.sh)"
  as_pg() {
    if command -v runuser >/dev/null 2>&1; then
      runuser -u "$PGUSER_OS" -- "$@"
    else
      # shellcheck disable=SC2016
      su -s /bin/sh "$PGUSER_OS" -c '"$0" "$@"' -- "$@"
    fi
  }
else
  # Not root: run the cluster as the current user (already unprivileged).
  PGUSER_OS=$(id -un)
  as_pg() { "$@"; }
fi

# The cluster user must be able to reach the state dir: chown the state dir, add o+x on the
# project-owned parents (.local), and only warn for directories outside the project.
prepare_dirs() {
  mkdir -p "$PGDATA_DIR" "$SOCK"
  if [ "$(id -u)" -eq 0 ]; then
    chown "$PGUSER_OS:" "$STATE" "$SOCK" "$PGDATA_DIR"
    chmod 700 "$PGDATA_DIR"
    chmod 755 "$STATE" "$SOCK"
    local root d
    root=$(cd "$(dirname "$0")/.." && pwd -P)
    d=$(dirname "$STATE")
    while [ "$d" != "/" ]; do
      if ! as_pg test -x "$d"; then
        case "$d/" in
          "$root"/*)
            log "chmod o+x $d (so $PGUSER_OS can reach $STATE)"
            chmod o+x "$d" ;;
          *)
            log "WARNING: user $PGUSER_OS cannot traverse $d; PostgreSQL will not start. Run: chmod o+x $d (or put the state dir elsewhere)"
            ;;
        esac
      fi
      d=$(dirname "$d")
    done
  fi
}

is_running() { [ -f "$PGDATA_DIR/PG_VERSION" ] && as_pg "$BIN/pg_ctl" -D "$PGDATA_DIR" status >/dev/null 2>&1; }

running_port() { sed -n 4p "$PGDATA_DIR/postmaster.pid" 2>/dev/null || true; }

psql_admin() { "$BIN/psql" -X -q -v ON_ERROR_STOP=1 -h "$SOCK" -p "$1" -U appview -d postgres "${@:2}"; }

case "$cmd" in
  url)
    url "$port" ;;

  status)
    if is_running; then
      log "running (data $PGDATA_DIR, port $(running_port))"
      url "$(running_port)"
    else
      log "not running (data $PGDATA_DIR)"
      exit 3
    fi ;;

  stop)
    if is_running; then
      log "stopping cluster in $PGDATA_DIR"
      as_pg "$BIN/pg_ctl" -D "$PGDATA_DIR" -m fast -w -t 60 stop >/dev/null
    else
      log "not running (data $PGDATA_DIR)"
    fi ;;

  start)
    prepare_dirs
    if [ ! -f "$PGDATA_DIR/PG_VERSION" ]; then
      log "initdb $PGDATA_DIR"
      initdb_opts=(-D "$PGDATA_DIR" -U appview --auth-local=trust --auth-host=trust -E UTF8 --no-locale)
      [ "$fast" = 1 ] && initdb_opts+=(--no-sync)
      as_pg "$BIN/initdb" "${initdb_opts[@]}" >"$STATE/initdb.log" 2>&1 \
        || { cat "$STATE/initdb.log" >&2; die "initdb failed"; }
    fi
    if is_running; then
      rp=$(running_port)
      if [ "$rp" != "$port" ]; then
        die "cluster in $PGDATA_DIR already running on port $rp, not $port (stop it first)"
      fi
      log "already running on port $port"
    else
      # Settings for a development box; --fast trades durability for speed (tests only).
      opts="-k $SOCK -p $port -c listen_addresses=127.0.0.1"
      opts+=" -c shared_buffers=256MB -c max_connections=200 -c max_wal_size=2GB"
      opts+=" -c work_mem=16MB -c maintenance_work_mem=256MB -c effective_cache_size=4GB"
      opts+=" -c random_page_cost=1.1 -c log_min_duration_statement=1000 -c log_line_prefix='%m [%p] %d '"
      if [ "$fast" = 1 ]; then
        opts+=" -c fsync=off -c synchronous_commit=off -c full_page_writes=off"
      else
        # Bulk ingest on a durable cluster (fsync and synchronous_commit stay on): fewer checkpoints,
        # so fewer full-page images in the WAL, and those compressed; room for a batch's WAL in memory.
        # Measured in bench/results/2026-11-23-ingest-throughput.md; README "Recommended PostgreSQL settings".
        opts+=" -c checkpoint_timeout=30min -c max_wal_size=8GB -c wal_compression=lz4 -c wal_buffers=64MB"
      fi
      # PG_EXTRA_OPTS: further or overriding settings (later -c wins), e.g. to measure a setting.
      [ -n "${PG_EXTRA_OPTS:-}" ] && opts+=" $PG_EXTRA_OPTS"
      touch "$LOGFILE"
      [ "$(id -u)" -eq 0 ] && chown "$PGUSER_OS:" "$LOGFILE"
      log "starting on port $port (socket $SOCK$([ "$fast" = 1 ] && echo ', --fast'))"
      if ! as_pg "$BIN/pg_ctl" -D "$PGDATA_DIR" -l "$LOGFILE" -w -t 60 -o "$opts" start >/dev/null; then
        tail -n 30 "$LOGFILE" >&2 || true
        die "pg_ctl start failed (log: $LOGFILE)"
      fi
    fi
    exists=$(psql_admin "$port" -tAc "SELECT 1 FROM pg_database WHERE datname = 'appview'")
    if [ "$exists" != 1 ]; then
      log "creating database appview"
      psql_admin "$port" -c "CREATE DATABASE appview"
    fi
    url "$port" ;;
esac
