#!/usr/bin/env bash
# nginx in front of appview-api, for local runs and tests, plus rendering of the operator config.
#
#   scripts/nginx.sh start <state-dir> <listen-port> <fcgi-socket> <api-threads>
#       Renders nginx/nginx.test.conf.template + nginx/appview.conf.template into
#       <state-dir>/nginx/conf/, checks them (nginx -t) and starts nginx with prefix
#       <state-dir>/nginx (pid, logs, temp files there). If it already runs: reloads.
#   scripts/nginx.sh stop <state-dir>
#   scripts/nginx.sh render <out-file> <listen> <fcgi-socket> <api-threads> [<nginx-workers>]
#       Renders the operator's server/upstream config with your own values.
#   scripts/nginx.sh render-deploy     regenerates nginx/appview.conf (the defaults below)
#   scripts/nginx.sh check-deploy      fails when nginx/appview.conf is not the rendering of
#                                      the template (someone edited one and not the other)
#
# Environment knobs (start and render):
#   NGINX_LISTEN_ADDR  address for `start` (default 127.0.0.1)
#   NGINX_WORKERS      worker_processes (default 1 for start; it sets max_conns/keepalive)
#   NGINX_RATE         per-client limit_req rate (default 200r/s)
#   NGINX_BURST        limit_req burst (default 400)
#   NGINX_MAX_CONNS, NGINX_KEEPALIVE   override the computed upstream values
#   NGINX_USER         worker user when started as root (default appview)
set -euo pipefail

log() { printf 'nginx.sh: %s\n' "$*" >&2; }
die() { log "ERROR: $*"; exit 1; }

ROOT=$(cd "$(dirname "$0")/.." && pwd -P)
TEMPLATE=$ROOT/nginx/appview.conf.template
MAIN_TEMPLATE=$ROOT/nginx/nginx.test.conf.template
DEPLOY_CONF=$ROOT/nginx/appview.conf

# Operator defaults for nginx/appview.conf.
DEPLOY_LISTEN=80
DEPLOY_SOCKET=/run/appview/appview-api.sock
DEPLOY_THREADS=32
DEPLOY_WORKERS=2
DEPLOY_ACCESS_LOG=/var/log/nginx/appview.access.log
DEPLOY_FASTCGI_PARAMS=/etc/nginx/fastcgi_params

NGINX_BIN=$(command -v nginx 2>/dev/null || true)
[ -n "$NGINX_BIN" ] || NGINX_BIN=/usr/sbin/nginx

find_fastcgi_params() {
  local f
  for f in /etc/nginx/fastcgi_params /usr/local/etc/nginx/fastcgi_params /opt/homebrew/etc/nginx/fastcgi_params; do
    [ -f "$f" ] && { echo "$f"; return; }
  done
  die "fastcgi_params not found (is nginx installed?)"
}

# Upstream sizing: a kept-alive FastCGI connection pins one API thread, and each nginx worker
# caches its own idle connections, so max_conns + (workers - 1) * keepalive <= threads.
compute_upstream() { # threads workers -> sets MAX_CONNS KEEPALIVE
  local t=$1 w=$2
  [[ "$t" =~ ^[1-9][0-9]*$ ]] || die "api-threads must be a positive integer, got '$t'"
  [[ "$w" =~ ^[1-9][0-9]*$ ]] || die "nginx workers must be a positive integer, got '$w'"
  if [ "$w" -eq 1 ]; then
    KEEPALIVE=$t
    MAX_CONNS=$t
  else
    KEEPALIVE=$(( t / (2 * w) ))
    [ "$KEEPALIVE" -ge 1 ] || KEEPALIVE=1
    MAX_CONNS=$(( t - (w - 1) * KEEPALIVE ))
  fi
  KEEPALIVE=${NGINX_KEEPALIVE:-$KEEPALIVE}
  MAX_CONNS=${NGINX_MAX_CONNS:-$MAX_CONNS}
  [ "$MAX_CONNS" -ge 1 ] || die "api-threads $t too small for $w nginx workers"
  [ "$KEEPALIVE" -le "$t" ] || die "keepalive $KEEPALIVE > api-threads $t"
  if [ $(( MAX_CONNS + (w - 1) * KEEPALIVE )) -gt "$t" ]; then
    log "WARNING: max_conns $MAX_CONNS + ($w-1)*keepalive $KEEPALIVE > api-threads $t: requests may stall on pinned connections"
  fi
}

sed_escape() { printf '%s' "$1" | sed -e 's/[\\|&]/\\&/g'; }

# render_appview OUT LISTEN SOCKET THREADS WORKERS ACCESS_LOG FASTCGI_PARAMS NOTE
render_appview() {
  local out=$1 listen=$2 sock=$3 threads=$4 workers=$5 access_log=$6 params=$7 note=$8
  compute_upstream "$threads" "$workers"
  local rate=${NGINX_RATE:-200r/s} burst=${NGINX_BURST:-400} tmp
  tmp=$(mktemp "${out}.XXXXXX")
  sed -e "s|@LISTEN@|$(sed_escape "$listen")|g" \
      -e "s|@FCGI_SOCKET@|$(sed_escape "$sock")|g" \
      -e "s|@MAX_CONNS@|$MAX_CONNS|g" \
      -e "s|@KEEPALIVE@|$KEEPALIVE|g" \
      -e "s|@API_THREADS@|$threads|g" \
      -e "s|@RATE@|$(sed_escape "$rate")|g" \
      -e "s|@BURST@|$(sed_escape "$burst")|g" \
      -e "s|@ACCESS_LOG@|$(sed_escape "$access_log")|g" \
      -e "s|@FASTCGI_PARAMS@|$(sed_escape "$params")|g" \
      -e "s|@GENERATED_NOTE@|$(sed_escape "$note")|g" \
      "$TEMPLATE" >"$tmp"
  if grep -qE '@[A-Z_]+@' "$tmp"; then
    rm -f "$tmp"
    die "unsubstituted placeholder in $TEMPLATE: $(grep -oE '@[A-Z_]+@' "$TEMPLATE" | sort -u | tr '\n' ' ')"
  fi
  mv "$tmp" "$out"
}

render_deploy_to() {
  render_appview "$1" "$DEPLOY_LISTEN" "$DEPLOY_SOCKET" "$DEPLOY_THREADS" "$DEPLOY_WORKERS" \
    "$DEPLOY_ACCESS_LOG" "$DEPLOY_FASTCGI_PARAMS" \
    "Rendered from nginx/appview.conf.template (API_THREADS=$DEPLOY_THREADS, worker_processes=$DEPLOY_WORKERS) by scripts/nginx.sh render-deploy."
}

nginx_pid() { # prefix -> pid of a live master, or nothing
  local pidfile=$1/nginx.pid pid
  [ -f "$pidfile" ] || return 0
  pid=$(cat "$pidfile" 2>/dev/null || true)
  if [ -n "$pid" ] && kill -0 "$pid" 2>/dev/null; then echo "$pid"; fi
}

wait_listening() { # host port seconds
  local i
  for ((i = 0; i < $3 * 10; i++)); do
    if (exec 3<>"/dev/tcp/$1/$2") 2>/dev/null; then return 0; fi
    sleep 0.1
  done
  return 1
}

cmd=${1:-}
case "$cmd" in
  start)
    [ $# -ge 5 ] || die "usage: $0 start <state-dir> <listen-port> <fcgi-socket> <api-threads>"
    mkdir -p "$2"
    state=$(cd "$2" && pwd -P)
    port=$3
    sock=$4
    threads=$5
    [[ "$port" =~ ^[0-9]+$ ]] || die "listen-port must be a number, got '$port'"
    case "$sock" in /*) ;; *) sock="$(pwd -P)/$sock" ;; esac
    addr=${NGINX_LISTEN_ADDR:-127.0.0.1}
    workers=${NGINX_WORKERS:-1}
    prefix=$state/nginx
    mkdir -p "$prefix/conf" "$prefix/logs" "$prefix/tmp"

    user_line="# not started as root: workers run as the invoking user"
    if [ "$(id -u)" -eq 0 ]; then
      nuser=${NGINX_USER:-appview}
      id -u "$nuser" >/dev/null 2>&1 || die "user $nuser missing (run scripts/install-deps.sh)"
      user_line="user $nuser;"
    fi

    render_appview "$prefix/conf/appview.conf" "$addr:$port" "$sock" "$threads" "$workers" \
      "$prefix/logs/access.log" "$(find_fastcgi_params)" \
      "Rendered by scripts/nginx.sh start for $addr:$port (API_THREADS=$threads, worker_processes=$workers)."
    sed -e "s|@PREFIX@|$(sed_escape "$prefix")|g" \
        -e "s|@NGINX_WORKERS@|$workers|g" \
        -e "s|@USER_LINE@|$(sed_escape "$user_line")|g" \
        "$MAIN_TEMPLATE" >"$prefix/conf/nginx.conf"
    ! grep -qE '@[A-Z_]+@' "$prefix/conf/nginx.conf" || die "unsubstituted placeholder in $MAIN_TEMPLATE"

    conf=$prefix/conf/nginx.conf
    if ! "$NGINX_BIN" -t -q -p "$prefix/" -c "$conf"; then
      die "nginx -t failed for $conf"
    fi
    pid=$(nginx_pid "$prefix")
    if [ -n "$pid" ]; then
      log "already running (pid $pid): reloading $conf"
      "$NGINX_BIN" -p "$prefix/" -c "$conf" -s reload
    else
      log "starting on $addr:$port -> unix:$sock (threads $threads, max_conns $MAX_CONNS, keepalive $KEEPALIVE)"
      "$NGINX_BIN" -p "$prefix/" -c "$conf"
    fi
    wait_listening "$addr" "$port" 10 || { tail -n 20 "$prefix/logs/error.log" >&2 || true; die "nginx is not listening on $addr:$port"; }
    log "ready: http://$addr:$port (logs $prefix/logs)"
    ;;

  stop)
    [ $# -ge 2 ] || die "usage: $0 stop <state-dir>"
    [ -d "$2" ] || { log "no state dir $2"; exit 0; }
    prefix=$(cd "$2" && pwd -P)/nginx
    pid=$(nginx_pid "$prefix")
    if [ -z "$pid" ]; then
      log "not running ($prefix)"
      rm -f "$prefix/nginx.pid"
      exit 0
    fi
    log "stopping (pid $pid)"
    kill -QUIT "$pid" 2>/dev/null || true
    for ((i = 0; i < 100; i++)); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
    if kill -0 "$pid" 2>/dev/null; then
      log "graceful stop timed out: SIGTERM"
      kill -TERM "$pid" 2>/dev/null || true
      for ((i = 0; i < 50; i++)); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
    fi
    rm -f "$prefix/nginx.pid"
    ;;

  render)
    [ $# -ge 5 ] || die "usage: $0 render <out-file> <listen> <fcgi-socket> <api-threads> [<nginx-workers>]"
    render_appview "$2" "$3" "$4" "$5" "${6:-${NGINX_WORKERS:-1}}" \
      "${ACCESS_LOG:-$DEPLOY_ACCESS_LOG}" "$(find_fastcgi_params)" \
      "Rendered from nginx/appview.conf.template by scripts/nginx.sh render (API_THREADS=$5, worker_processes=${6:-${NGINX_WORKERS:-1}})."
    log "wrote $2 (max_conns $MAX_CONNS, keepalive $KEEPALIVE)"
    ;;

  render-deploy)
    unset NGINX_RATE NGINX_BURST NGINX_MAX_CONNS NGINX_KEEPALIVE
    render_deploy_to "$DEPLOY_CONF"
    log "wrote $DEPLOY_CONF"
    ;;

  check-deploy)
    unset NGINX_RATE NGINX_BURST NGINX_MAX_CONNS NGINX_KEEPALIVE
    tmp=$(mktemp)
    render_deploy_to "$tmp"
    if ! diff -u "$DEPLOY_CONF" "$tmp" >&2; then
      rm -f "$tmp"
      die "nginx/appview.conf differs from the rendering of nginx/appview.conf.template: run scripts/nginx.sh render-deploy"
    fi
    rm -f "$tmp"
    log "nginx/appview.conf matches its template"
    ;;

  *)
    die "usage: $0 start|stop|render|render-deploy|check-deploy ..."
    ;;
esac
