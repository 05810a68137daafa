#!/usr/bin/env bash
# Ingest benchmark (not a test): a generated realistic stream replayed through the ingest pipeline
# from a file and from the local Jetstream WebSocket replayer (the live source, JetstreamSource),
# then the same stream through a one-event-per-transaction baseline, in one run.
#
#   1. builds appview-bench in release mode
#   2. starts a dedicated, durable PostgreSQL cluster under .local/bench-ingest (fsync on,
#      synchronous_commit on: every commit reaches the disk, as in production)
#   3. generates the stream (skipped when the file exists with the same parameters)
#   4. pipeline at full speed from the file, then from Tests/replayer/jetstream_replayer.py over
#      ws:// on loopback; both paced at INGEST_BENCH_RATE events/s (latency at a sustained rate);
#      the one-per-transaction baseline (on the first INGEST_BENCH_BASELINE_EVENTS events)
#   5. writes bench/results/<date>-ingest.md and prints it
#
# Knobs (environment):
#   INGEST_BENCH_EVENTS=1000000          events in the stream
#   INGEST_BENCH_RATE=2000               paced run's rate (events/s); 0 skips the paced run
#   INGEST_BENCH_PACED_EVENTS=100000     events of the paced run
#   INGEST_BENCH_BASELINE_EVENTS=50000   events of the baseline run (a prefix of the same stream; all = the whole stream, ~50 min at ~350/s)
#   INGEST_BENCH_WEBSOCKET=1             0 skips the WebSocket runs
#   INGEST_BENCH_REPORT=bench/results/<date>-ingest.md   where the report goes
#   INGEST_BENCH_PG_PORT=54362           port of the .local/bench-ingest cluster
#   PG_EXTRA_OPTS=…                      extra server options of that cluster when the script starts it (scripts/pg-cluster.sh)
#   BENCH_DATABASE_URL=…                 use this server instead (its durability settings are reported)
#   INGEST_BENCH_BINARY=…                a release appview-bench built elsewhere from the same sources (skips the build)
#   INGEST_PARTITIONS, INGEST_BATCH_SIZE, … the pipeline's knobs (see README)
set -euo pipefail

source "$(dirname "$0")/lib.sh"
cd "$ROOT"

EVENTS=${INGEST_BENCH_EVENTS:-1000000}
RATE=${INGEST_BENCH_RATE:-2000}
PACED_EVENTS=${INGEST_BENCH_PACED_EVENTS:-100000}
BASELINE_EVENTS=${INGEST_BENCH_BASELINE_EVENTS:-50000}
PG_PORT=${INGEST_BENCH_PG_PORT:-54362}
WEBSOCKET=${INGEST_BENCH_WEBSOCKET:-1}
STATE=$ROOT/.local/bench-ingest
RUN_DIR=$STATE/runs/$(date -u +%Y%m%dT%H%M%SZ)
REPORT=${INGEST_BENCH_REPORT:-$ROOT/bench/results/$(date -u +%Y-%m-%d)-ingest.md}
BENCH=${INGEST_BENCH_BINARY:-$ROOT/.build/release/appview-bench}
STREAM=$STATE/stream-$EVENTS.jsonl

CLUSTER_STARTED=0
REPLAYER_PID=
cleanup() {
  set +e
  [ -n "$REPLAYER_PID" ] && kill "$REPLAYER_PID" 2>/dev/null
  if [ "$CLUSTER_STARTED" = 1 ] && [ "${BENCH_KEEP_CLUSTER:-0}" != 1 ]; then scripts/pg-cluster.sh stop "$STATE" >/dev/null 2>&1; fi
}
trap cleanup EXIT
trap 'exit 130' INT TERM

if [ -z "${INGEST_BENCH_BINARY:-}" ]; then
  log "building appview-bench (release)"
  swift build -c release --product appview-bench >&2
fi
mkdir -p "$RUN_DIR"

if [ -n "${BENCH_DATABASE_URL:-}" ]; then
  DATABASE_URL=$BENCH_DATABASE_URL
else
  if scripts/pg-cluster.sh status "$STATE" "$PG_PORT" >/dev/null 2>&1; then
    DATABASE_URL=$(scripts/pg-cluster.sh url "$STATE" "$PG_PORT")
  else
    DATABASE_URL=$(scripts/pg-cluster.sh start "$STATE" "$PG_PORT")
    CLUSTER_STARTED=1
  fi
fi
export DATABASE_URL MIGRATIONS_DIR=$ROOT/migrations
SETTINGS=$(psql -X -At "$DATABASE_URL" -c "SELECT string_agg(name || '=' || setting, ' ' ORDER BY name) FROM pg_settings WHERE name IN ('fsync', 'synchronous_commit', 'full_page_writes', 'shared_buffers', 'max_wal_size', 'wal_level', 'checkpoint_timeout', 'wal_compression', 'wal_buffers')")

if [ ! -s "$STREAM" ]; then
  log "generating $EVENTS events"
  "$BENCH" ingest-stream --events "$EVENTS" --seed 1 --out "$STREAM.tmp" >&2
  mv "$STREAM.tmp" "$STREAM"
fi

TSV=$RUN_DIR/results.tsv
LOAD_BEFORE=$(cut -d' ' -f1-3 /proc/loadavg)
log "pipeline, full speed"
"$BENCH" ingest --file "$STREAM" --database bench_ingest_pipeline --out "$TSV" >&2
if [ "$RATE" != 0 ]; then
  log "pipeline, paced at $RATE events/s"
  "$BENCH" ingest --file "$STREAM" --database bench_ingest_paced --rate "$RATE" --limit "$PACED_EVENTS" --out "$TSV" >&2
fi
# The replayer serves the stream on a free port, honouring TCP backpressure; `ingest --jetstream`
# reads it through JetstreamSource and stops after --limit events.
websocket_run() {  # <database> <limit> <rate, 0 = max> [replayer options…]
  local database=$1 limit=$2 rate=$3
  shift 3
  local rate_args=()
  [ "$rate" != 0 ] && rate_args=(--source-rate "$rate" ) && set -- "$@" --rate "$rate"
  local out=$RUN_DIR/replayer-$database.out
  python3 Tests/replayer/jetstream_replayer.py --file "$STREAM" --port 0 --status-file "$RUN_DIR/replayer-$database.json" "$@" \
    >"$out" 2>"$RUN_DIR/replayer-$database.log" &
  REPLAYER_PID=$!
  local port=
  for _ in $(seq 100); do
    port=$(sed -n 's/^LISTENING //p' "$out")
    [ -n "$port" ] && break
    sleep 0.1
  done
  [ -n "$port" ] || die "the replayer did not start: $(cat "$RUN_DIR/replayer-$database.log")"
  "$BENCH" ingest --jetstream "ws://127.0.0.1:$port/subscribe" --limit "$limit" --database "$database" "${rate_args[@]}" --out "$TSV" >&2
  kill "$REPLAYER_PID"
  wait "$REPLAYER_PID" 2>/dev/null || true
  REPLAYER_PID=
}
if [ "$WEBSOCKET" != 0 ]; then
  log "pipeline from the WebSocket replayer, full speed"
  websocket_run bench_ingest_websocket "$(wc -l <"$STREAM")" 0
  if [ "$RATE" != 0 ]; then
    log "pipeline from the WebSocket replayer, paced at $RATE events/s"
    websocket_run bench_ingest_websocket_paced "$PACED_EVENTS" "$RATE"
  fi
fi
log "baseline, one event per transaction"
LIMIT_ARGS=()
[ "$BASELINE_EVENTS" != all ] && LIMIT_ARGS=(--limit "$BASELINE_EVENTS")
"$BENCH" ingest --file "$STREAM" --database bench_ingest_baseline --mode one-per-transaction "${LIMIT_ARGS[@]}" --out "$TSV" >&2

{
  echo "# Ingest benchmark, $(date -u '+%Y-%m-%d %H:%M UTC')"
  echo
  echo "Stream: $EVENTS generated events (\`appview-bench ingest-stream --seed 1\`), replayed from a file and, for"
  echo "the \`websocket\` rows, from the local Jetstream replayer over ws:// on loopback (the live source: JetstreamSource"
  echo "with its bounded buffer, the same pipeline). Latency is from the pipeline taking an event from the source to its commit."
  echo "Rerun: \`INGEST_BENCH_EVENTS=$EVENTS INGEST_BENCH_RATE=$RATE INGEST_BENCH_PACED_EVENTS=$PACED_EVENTS INGEST_BENCH_BASELINE_EVENTS=$BASELINE_EVENTS scripts/bench-ingest.sh\`."
  echo "Machine: $(nproc) cores ($(awk -F': ' '/model name/ {print $2; exit}' /proc/cpuinfo)), PostgreSQL on the same host;"
  echo "load before: $LOAD_BEFORE. Server: $SETTINGS. Commit $(git rev-parse --short HEAD 2>/dev/null || echo unknown)."
  echo
  echo "| mode | rate | events read | applied | seconds | events/s | p50 ms | p99 ms | peak RSS MB | batches | mean batch | deadlocks | retries | errors | unaccounted | config |"
  echo "|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|"
  awk -F'\t' '{printf "| %s | %s | %s | %s | %s | %s | %s | %s | %s | %s | %s | %s | %s | %s | %s | %s |\n", $1, $15, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $16}' "$TSV"
  echo
  echo "Table counts after each run:"
  echo
  awk -F'\t' '{printf "- %s (%s events): %s\n", $1, $2, $17}' "$TSV"
} > "$REPORT"
cat "$REPORT"
