#!/usr/bin/env bash
# Read-path benchmark (`make bench`): one command, nothing installed unasked.
#
#   1. checks for swift, pgbench, wrk (says how to install what is missing)
#   2. builds appview-bench in release mode (it also serves the API under test: `appview-bench serve`)
#   3. starts a dedicated PostgreSQL cluster under .local/bench (port 54331)
#   4. migrates and generates the dataset (skipped when it exists with the same parameters)
#   5. times the anchor query shapes (pgbench), the database ceiling of the service's SQL
#      (pgbench, scripts built from the API's SQL constants), and the service through nginx (wrk)
#   6. writes bench/results/<date>-read-path.md and prints it
#
# Knobs (environment):
#   BENCH_SCALE=1            dataset scale (0.04 ≈ 200k feed items, for a quick run)
#   BENCH_DURATION=10        seconds per pgbench / wrk run
#   BENCH_DATABASE_URL=…     use this database instead of the .local/bench cluster
#   BENCH_PG_PORT=54331      port of the .local/bench cluster
#   BENCH_HTTP_PORT=18090    nginx listen port for the service runs
#   BENCH_API_THREADS=32     API_THREADS of the API under test (the API default; pool = min(threads, 16))
#   BENCH_SKIP_SERVICE=1     skip the API/nginx part
#   BENCH_SKIP_ANCHORS=1     skip the anchor shapes
#   BENCH_SKIP_CEILING=1     skip the pgbench ceiling
#   BENCH_KEEP_CLUSTER=1     leave the cluster running afterwards
set -euo pipefail

source "$(dirname "$0")/lib.sh"
cd "$ROOT"

SCALE=${BENCH_SCALE:-1}
DURATION=${BENCH_DURATION:-10}
PG_PORT=${BENCH_PG_PORT:-54331}
HTTP_PORT=${BENCH_HTTP_PORT:-18090}
API_THREADS=${BENCH_API_THREADS:-32}
STATE=$ROOT/.local/bench
STAMP=$(date -u +%Y-%m-%d)
RUN_DIR=$STATE/runs/$(date -u +%Y%m%dT%H%M%SZ)
# Full-scale reports are <date>-read-path.md; smaller runs say their scale in the name.
if [ "$SCALE" = 1 ]; then REPORT=$ROOT/bench/results/$STAMP-read-path.md
else REPORT=$ROOT/bench/results/$STAMP-read-path-scale$SCALE.md; fi
BENCH=$ROOT/.build/release/appview-bench

# ---------------------------------------------------------------- tools
missing=()
command -v swift >/dev/null 2>&1 || missing+=("swift (the Swift toolchain; see README)")
command -v pgbench >/dev/null 2>&1 || missing+=("pgbench (apt-get install postgresql-contrib or postgresql-client)")
command -v wrk >/dev/null 2>&1 || missing+=("wrk (apt-get install wrk)")
[ ${#missing[@]} -eq 0 ] || die "missing: ${missing[*]}"

# ---------------------------------------------------------------- cleanup of what we start
API_PID=
NGINX_STARTED=0
CLUSTER_STARTED=0
cleanup() {
  set +e
  stop_pid "$API_PID" 10 "appview-bench serve"
  [ "$NGINX_STARTED" = 1 ] && scripts/nginx.sh stop "$STATE" >/dev/null 2>&1
  if [ "$CLUSTER_STARTED" = 1 ] && [ "${BENCH_KEEP_CLUSTER:-0}" != 1 ]; then
    scripts/pg-cluster.sh stop "$STATE" >/dev/null 2>&1
  fi
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# ---------------------------------------------------------------- build
log "building appview-bench (release)"
swift build -c release --product appview-bench >&2
mkdir -p "$RUN_DIR"
fact() { "$BENCH" fact --run-dir "$RUN_DIR" "$1" "$2"; }
fact date "$(date -u '+%Y-%m-%d %H:%M UTC')"
fact nproc "$(nproc)"
fact memory "$(awk '/MemTotal/ {printf "%.1f GiB", $2 / 1048576}' /proc/meminfo)"
fact cpu "$(awk -F': ' '/model name/ {print $2; exit}' /proc/cpuinfo)"
fact load_before "$(cut -d' ' -f1-3 /proc/loadavg)"
fact duration "$DURATION"
fact commit "$(git rev-parse --short HEAD 2>/dev/null || echo unknown)"

# ---------------------------------------------------------------- database
if [ -n "${BENCH_DATABASE_URL:-}" ]; then
  DATABASE_URL=$BENCH_DATABASE_URL
  log "using BENCH_DATABASE_URL"
else
  [ -x scripts/pg-cluster.sh ] || die "scripts/pg-cluster.sh missing (or set BENCH_DATABASE_URL)"
  if scripts/pg-cluster.sh status "$STATE" "$PG_PORT" >/dev/null 2>&1; then
    DATABASE_URL=$(scripts/pg-cluster.sh url "$STATE" "$PG_PORT")
  else
    # --fast: fsync off for the bulk load; the read path does not write.
    DATABASE_URL=$(scripts/pg-cluster.sh start "$STATE" "$PG_PORT" --fast)
    CLUSTER_STARTED=1
  fi
fi
export DATABASE_URL

log "dataset (scale $SCALE)"
gen_start=$(date +%s)
"$BENCH" generate --scale "$SCALE" --if-changed
fact generate_seconds "$(( $(date +%s) - gen_start ))"
fact generate_note "0 s means the dataset was already present with the same parameters"

# ---------------------------------------------------------------- anchors
if [ "${BENCH_SKIP_ANCHORS:-0}" = 1 ]; then
  fact anchors_status "BENCH_SKIP_ANCHORS=1"
else
  log "anchors (pgbench, ${DURATION}s per run)"
  "$BENCH" anchors --run-dir "$RUN_DIR" --duration "$DURATION" --clients 1,8
fi

# ---------------------------------------------------------------- ceiling: the service's SQL under pgbench
if [ "${BENCH_SKIP_CEILING:-0}" = 1 ]; then
  fact ceiling_status "BENCH_SKIP_CEILING=1"
else
  log "database ceiling (pgbench of the service's SQL)"
  "$BENCH" ceiling --run-dir "$RUN_DIR" --duration "$DURATION" --clients 1,8,32 \
    || fact ceiling_status "the ceiling runs failed (output above; raw files in $RUN_DIR/pgbench)"
fi

# ---------------------------------------------------------------- service through nginx
service_skip_reason() {
  [ "${BENCH_SKIP_SERVICE:-0}" = 1 ] && { echo "BENCH_SKIP_SERVICE=1"; return; }
  [ -x scripts/nginx.sh ] || { echo "scripts/nginx.sh is not in this tree yet"; return; }
  command -v nginx >/dev/null 2>&1 || [ -x /usr/sbin/nginx ] || { echo "nginx is not installed (apt-get install nginx-light)"; return; }
  echo ""
}
reason=$(service_skip_reason)
if [ -z "$reason" ]; then
  sock=$STATE/appview-api.sock
  # The same API as appview-api (same configuration variables), but the viewer comes from the
  # X-Bench-Viewer header: a separate binary, so production can never honour that header.
  if start_api "$BENCH" "$sock" "$API_THREADS" "$RUN_DIR/api.log" serve; then
    # The per-client rate limit would turn the load generator's requests into 429s.
    NGINX_RATE=1000000r/s NGINX_BURST=1000000 scripts/nginx.sh start "$STATE" "$HTTP_PORT" "$sock" "$API_THREADS" >&2
    NGINX_STARTED=1
    viewer=$(psql "$DATABASE_URL" -XAtc "SELECT did FROM bench_viewers WHERE class = 'dense500' ORDER BY n LIMIT 1")
    code=$(curl -s -o "$RUN_DIR/probe.json" -w '%{http_code}' -H "X-Bench-Viewer: $viewer" \
      "http://127.0.0.1:$HTTP_PORT/xrpc/app.bsky.feed.getTimeline?limit=50" || true)
    if [ "$code" = 200 ]; then
      log "service through nginx (wrk, ${DURATION}s per run)"
      "$BENCH" service --run-dir "$RUN_DIR" --base-url "http://127.0.0.1:$HTTP_PORT" --api-pid "$API_PID" \
        --duration "$DURATION" --connections 1,8,32 --script bench/wrk/viewer-requests.lua \
        || reason="the wrk runs failed (output above; raw files in $RUN_DIR/wrk)"
    else
      reason="probe getTimeline answered HTTP $code: $(head -c 300 "$RUN_DIR/probe.json" 2>/dev/null)"
    fi
  else
    reason="appview-bench serve did not open its socket (log: $RUN_DIR/api.log): $(tail -n 5 "$RUN_DIR/api.log" | tr '\n' ' ')"
  fi
fi
[ -n "$reason" ] && { log "service part skipped: $reason"; fact service_status "$reason"; }

# ---------------------------------------------------------------- report
mkdir -p "$(dirname "$REPORT")"
"$BENCH" report --run-dir "$RUN_DIR" --out "$REPORT"
log "report: $REPORT (raw data: $RUN_DIR)"
