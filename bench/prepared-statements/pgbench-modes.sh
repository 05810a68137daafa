#!/bin/bash
# pgbench -M extended vs -M prepared vs -M prepared + plan_cache_mode=force_custom_plan on the ceiling
# scripts of the service's statements (one request per transaction), 1 client, 20 s each, modes interleaved.
# Usage: DATABASE_URL=… bench/prepared-statements/pgbench-modes.sh <work-dir> [rounds]
#   e.g. DATABASE_URL='postgresql:///bench_dataset?host=/tmp/pgq&port=55555&user=appview'
set -u
ROOT=$(cd "$(dirname "$0")/../.." && pwd -P); B=$ROOT/.build/debug/appview-bench
WORK=${1:?work dir}; ROUNDS=${2:-2}; mkdir -p "$WORK"; cd "$WORK"
for c in sparse dense50 dense500 dense2000; do $B print-sql --script getTimeline --viewer-class $c > tl-$c.sql; done
$B print-sql --script getAuthorFeed > af.sql; $B print-sql --script listNotifications > ln.sql
for round in $(seq 1 "$ROUNDS"); do
 for s in tl-sparse tl-dense50 tl-dense500 tl-dense2000 af ln; do
  for mode in extended prepared custom; do
   m=$mode; opts=""
   if [ $mode = custom ]; then m=prepared; opts="-c plan_cache_mode=force_custom_plan"; fi
   out=$(PGOPTIONS="$opts" pgbench -n "$DATABASE_URL" -M $m -c 1 -T 20 -f $s.sql 2>&1)
   lat=$(echo "$out" | grep "latency average" | awk '{print $4}')
   tps=$(echo "$out" | grep "^tps" | awk '{print $3}')
   echo "$round $s $mode lat_ms=$lat tps=$tps load=$(cut -d' ' -f1 /proc/loadavg)"
  done
 done
done
