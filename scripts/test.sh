#!/usr/bin/env bash
# `make test` (and CI): deps -> debug build with tests -> throwaway PostgreSQL (.local/test,
# port 54330, --fast) -> `swift test` -> HTTP tests through nginx (Tests/http, pytest) when present.
# Everything started here is stopped on exit. Exit status is non-zero when any step failed.
#
# Environment given to `swift test`:
#   TEST_DATABASE_URL  admin URL of the test cluster (database postgres)
#   MIGRATIONS_DIR     <repo>/migrations
# Environment given to the HTTP tests (pytest) in addition:
#   APPVIEW_URL              http://127.0.0.1:18080 (nginx -> appview-api, debug build)
#   APPVIEW_RATELIMITED_URL  http://127.0.0.1:18081 (same API, nginx rendered with a 2r/s burst 2 limit)
#   DATABASE_URL             the database `http_test` the API serves (dropped and migrated fresh)
#   APPVIEW_INGEST           path of the debug appview-ingest (e.g. `import FILE` into DATABASE_URL)
#   FIXTURES_DIR             <repo>/Tests/Fixtures
#   CORPUS_DIR               directory of the firehose corpus (expected_v1.jsonl ...), when found
#   NGINX_ACCESS_LOG         nginx access log of APPVIEW_URL; REPO_ROOT
#   SERVICE_DID              did:web:appview.test, the API's service-auth audience
#   TEST_PLC_PORT            port of the PLC stand-in the HTTP tests start (Tests/http/service_auth.py);
#                            the API runs with PLC_URL=http://127.0.0.1:$TEST_PLC_PORT
# Knobs: TEST_PG_PORT, TEST_HTTP_PORT, TEST_HTTP_RL_PORT, TEST_PLC_PORT (defaults 54330, 18080, 18081, 18082),
#        SWIFT_TEST_ARGS (extra args for swift test, e.g. "--filter StorageTests"), PYTEST_ARGS,
#        HTTP_TESTS_DIR (default Tests/http).
set -uo pipefail
source "$(dirname "$0")/lib.sh"
cd "$ROOT" || exit 1

STATE_REL=.local/test
# Overridable so several checkouts can run their suites at once on one machine.
PG_PORT=${TEST_PG_PORT:-54330}
HTTP_PORT=${TEST_HTTP_PORT:-18080}
HTTP_RL_PORT=${TEST_HTTP_RL_PORT:-18081}
PLC_PORT=${TEST_PLC_PORT:-18082}
API_THREADS=32

results=()
failed=0
record() { # name status(PASS|FAIL|SKIP) [detail]
  results+=("$(printf '%-22s %s %s' "$1" "$2" "${3:-}")")
  [ "$2" = FAIL ] && failed=1
  return 0
}
summary() {
  echo
  echo "==================== make test summary ===================="
  local r
  for r in "${results[@]}"; do echo "  $r"; done
  if [ "$failed" = 0 ]; then echo "  RESULT: OK"; else echo "  RESULT: FAILED"; fi
  echo "==========================================================="
}

API_PID=
NGINX_STARTED=0
PG_STARTED=0
STATE=
cleanup() {
  local rc=$?
  trap - EXIT INT TERM
  [ "$NGINX_STARTED" = 1 ] && { scripts/nginx.sh stop "$STATE/ratelimit"; scripts/nginx.sh stop "$STATE"; }
  stop_pid "$API_PID" 10 appview-api
  [ -n "$STATE" ] && rm -f "$STATE/appview-api.pid" "$STATE/appview-api.sock"
  [ "$PG_STARTED" = 1 ] && scripts/pg-cluster.sh stop "$STATE"
  summary
  if [ "$rc" = 0 ] && [ "$failed" != 0 ]; then rc=1; fi
  exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

# ---------------------------------------------------------------- deps + build
if ! scripts/install-deps.sh </dev/null; then
  record deps FAIL
  exit 1
fi
record deps PASS

if ! scripts/nginx.sh check-deploy; then
  record nginx/appview.conf FAIL "differs from its template: scripts/nginx.sh render-deploy"
else
  record nginx/appview.conf PASS
fi

log "building (debug, with tests)"
t0=$SECONDS
if ! swift build --build-tests; then
  record build FAIL
  exit 1
fi
record build PASS "$((SECONDS - t0))s"
BIN=$(swift build --show-bin-path)

# ---------------------------------------------------------------- test cluster
mkdir -p "$STATE_REL"
STATE=$(cd "$STATE_REL" && pwd -P)
if ! scripts/pg-cluster.sh start "$STATE" "$PG_PORT" --fast >/dev/null; then
  record postgresql FAIL "see $STATE/pg.log"
  exit 1
fi
PG_STARTED=1
export TEST_DATABASE_URL
TEST_DATABASE_URL=$(pg_url "$STATE" "$PG_PORT" postgres)
export MIGRATIONS_DIR=$ROOT/migrations
log "TEST_DATABASE_URL=$TEST_DATABASE_URL"

# ---------------------------------------------------------------- swift test
t0=$SECONDS
# The live Jetstream source runs its WebSocket client on Swift's cooperative pool (2 threads here),
# which the many synchronous database tests keep busy while they run in parallel: its suites run on
# their own afterwards, so their timing reflects the source and not the other suites.
ISOLATED_SUITES=JetstreamSource
if [ -n "${SWIFT_TEST_ARGS:-}" ]; then
  # shellcheck disable=SC2086
  swift test --skip-build ${SWIFT_TEST_ARGS}
  rc=$?
else
  swift test --skip-build --skip "$ISOLATED_SUITES"
  rc=$?
  swift test --skip-build --filter "$ISOLATED_SUITES" || rc=$?
fi
if [ "$rc" = 0 ]; then record "swift test" PASS "$((SECONDS - t0))s"; else record "swift test" FAIL "exit $rc"; fi

# ---------------------------------------------------------------- HTTP tests
HTTP_TESTS_DIR=${HTTP_TESTS_DIR:-Tests/http}
shopt -s nullglob
http_tests=("$HTTP_TESTS_DIR"/test_*.py "$HTTP_TESTS_DIR"/*_test.py)
shopt -u nullglob
if [ "${#http_tests[@]}" -eq 0 ]; then
  record "http tests" SKIP "no $HTTP_TESTS_DIR/test_*.py"
  exit 0
fi

http_setup() {
  local psql
  psql="$(pg_bindir)/psql"
  "$psql" -X -q -v ON_ERROR_STOP=1 "$TEST_DATABASE_URL" \
    -c "DROP DATABASE IF EXISTS http_test WITH (FORCE)" -c "CREATE DATABASE http_test" || return 1
  DATABASE_URL=$(pg_url "$STATE" "$PG_PORT" http_test)
  export DATABASE_URL
  "$BIN/appview-ingest" migrate || { warn "migrate failed"; return 1; }
  # Service auth: DID documents come from the PLC stand-in that the HTTP tests run on PLC_PORT.
  export SERVICE_DID=did:web:appview.test PLC_URL=http://127.0.0.1:$PLC_PORT TEST_PLC_PORT=$PLC_PORT
  # Everything runs on 127.0.0.1 here (the did:web and PDS stand-ins too): allow private addresses.
  export FETCH_ALLOW_PRIVATE_ADDRESSES=1
  log "starting appview-api (debug) on $STATE/appview-api.sock"
  start_api "$BIN/appview-api" "$STATE/appview-api.sock" "$API_THREADS" "$STATE/appview-api.log" \
    || { warn "appview-api did not start:"; tail -n 40 "$STATE/appview-api.log" >&2; return 1; }
  echo "$API_PID" >"$STATE/appview-api.pid"
  NGINX_STARTED=1
  # Two nginx instances share the API's threads: 6 + 2 connections <= 8 threads (see nginx/appview.conf).
  NGINX_MAX_CONNS=6 NGINX_KEEPALIVE=6 \
    scripts/nginx.sh start "$STATE" "$HTTP_PORT" "$STATE/appview-api.sock" "$API_THREADS" || return 1
  NGINX_MAX_CONNS=2 NGINX_KEEPALIVE=2 NGINX_RATE=2r/s NGINX_BURST=2 \
    scripts/nginx.sh start "$STATE/ratelimit" "$HTTP_RL_PORT" "$STATE/appview-api.sock" "$API_THREADS" || return 1
}

if ! http_setup; then
  record "http tests" FAIL "setup (api log: $STATE/appview-api.log)"
  exit 1
fi

export APPVIEW_URL=http://127.0.0.1:$HTTP_PORT
export APPVIEW_RATELIMITED_URL=http://127.0.0.1:$HTTP_RL_PORT
export APPVIEW_INGEST=$BIN/appview-ingest
export FIXTURES_DIR=$ROOT/Tests/Fixtures
export NGINX_ACCESS_LOG=$STATE/nginx/logs/access.log
export REPO_ROOT=$ROOT
if corpus=$(find_corpus_file expected_v1.jsonl); then export CORPUS_DIR; CORPUS_DIR=$(dirname "$corpus"); fi

t0=$SECONDS
# shellcheck disable=SC2086
python3 -m pytest -q -p no:cacheprovider -p no:benchmark "$HTTP_TESTS_DIR" ${PYTEST_ARGS:-}
rc=$?
case "$rc" in
  0) record "http tests" PASS "$((SECONDS - t0))s" ;;
  5) record "http tests" SKIP "pytest collected no tests" ;;
  *) record "http tests" FAIL "pytest exit $rc (api log: $STATE/appview-api.log)" ;;
esac
exit 0
