#!/bin/bash
# Service comparison: appview-bench serve (debug build of this branch) behind nginx, wrk at 1 connection,
# DB_PREPARED_STATEMENTS=$1. PostgreSQL CPU per request = CPU (utime+stime, /proc) of the API's backends
# (application_name appview-api) over the run / requests. Usage: DATABASE_URL=… [WORK=dir] service-modes.sh on|off|force_custom_plan <tag>
set -u
MODE=$1; TAG=$2
ROOT=$(cd "$(dirname "$0")/../.." && pwd -P); B=$ROOT/.build/debug/appview-bench
STATE=${WORK:-/tmp/prepared-bench}/state-$TAG; mkdir -p $STATE; RUN=$STATE/run; rm -rf $RUN; mkdir -p $RUN
: "${DATABASE_URL:?set DATABASE_URL to the bench_dataset database}"
PORT=18297
sock=$STATE/api.sock; rm -f $sock
cd $ROOT
(umask 000; DB_PREPARED_STATEMENTS=$MODE FCGI_LISTEN=$sock API_THREADS=32 exec $B serve) > $STATE/api.log 2>&1 &
API=$!
for _ in $(seq 1 300); do [ -S $sock ] && break; sleep 0.1; done
NGINX_RATE=1000000r/s NGINX_BURST=1000000 scripts/nginx.sh start $STATE $PORT $sock 32 >/dev/null 2>&1
cpu() { # total utime+stime ticks of the API's backends
  t=0; for p in $(psql "$DATABASE_URL" -XAtc "SELECT pid FROM pg_stat_activity WHERE application_name='appview-api' AND datname = current_database()"); do
    s=$(awk '{print $14+$15}' /proc/$p/stat 2>/dev/null || echo 0); t=$((t+s)); done; echo $t; }
# warm-up: opens the pool's connections, fills caches, passes the 5 custom plans
$B service --run-dir $RUN --base-url http://127.0.0.1:$PORT --duration 5 --connections 8 --endpoints getTimeline,getAuthorFeed --classes sparse,dense500,dense2000 >/dev/null 2>&1
rm -f $RUN/results.tsv
for ep in getTimeline getAuthorFeed; do for cl in sparse dense50 dense500 dense2000; do
  [ $ep = getAuthorFeed ] && [ $cl != dense500 ] && continue
  before=$(cpu)
  $B service --run-dir $RUN --base-url http://127.0.0.1:$PORT --duration 15 --connections 1 --endpoints $ep --classes $cl >/dev/null 2>&1
  after=$(cpu)
  line=$(tail -1 $RUN/results.tsv)
  count=$(echo "$line" | cut -f8); p50=$(echo "$line" | cut -f6); p99=$(echo "$line" | cut -f7); rps=$(echo "$line" | cut -f5)
  echo "$TAG $MODE $ep $cl rps=$rps p50=$p50 p99=$p99 n=$count pg_ms_per_req=$(echo "scale=2; ($after-$before)*10/$count" | bc) load=$(cut -d' ' -f1 /proc/loadavg)"
done; done
scripts/nginx.sh stop $STATE >/dev/null 2>&1
kill -TERM $API; wait $API 2>/dev/null
