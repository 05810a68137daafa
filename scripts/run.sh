#!/usr/bin/env bash
# `make run`: the whole stack on this machine, in the foreground. Ctrl-C stops everything.
#   deps -> release build -> PostgreSQL (.local/run, port 54329) -> migrate -> demo + corpus import
#   -> appview-api (FastCGI on .local/run/appview-api.sock) -> nginx on 127.0.0.1:8080
#   -> appview-ingest run (when that subcommand exists).
# Environment: HTTP_PORT (8080), API_THREADS (32), REIMPORT=1 to import the data again,
#   SERVICE_DID (default did:web:localhost: local, so `appview-ingest mint-token` works).
set -euo pipefail
source "$(dirname "$0")/lib.sh"
cd "$ROOT"

STATE_REL=.local/run
PG_PORT=54329
HTTP_PORT=${HTTP_PORT:-8080}
API_THREADS=${API_THREADS:-32}

scripts/install-deps.sh

log "building (release): appview-api, appview-ingest"
swift build -c release --product appview-api
swift build -c release --product appview-ingest
BIN=$(swift build -c release --show-bin-path)

mkdir -p "$STATE_REL"
STATE=$(cd "$STATE_REL" && pwd -P)
SOCK=$STATE/appview-api.sock

API_PID=
INGEST_PID=
NGINX_STARTED=0
PG_STARTED=0
cleanup() {
  local rc=$?
  trap - EXIT INT TERM
  log "shutting down"
  stop_pid "$INGEST_PID" 15 appview-ingest
  [ "$NGINX_STARTED" = 1 ] && scripts/nginx.sh stop "$STATE" || true
  stop_pid "$API_PID" 15 appview-api
  rm -f "$STATE/appview-api.pid" "$STATE/appview-ingest.pid" "$SOCK"
  [ "$PG_STARTED" = 1 ] && scripts/pg-cluster.sh stop "$STATE" || true
  exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

DATABASE_URL=$(scripts/pg-cluster.sh start "$STATE" "$PG_PORT")
PG_STARTED=1
export DATABASE_URL
export MIGRATIONS_DIR=$ROOT/migrations
log "DATABASE_URL=$DATABASE_URL"

log "migrating"
"$BIN/appview-ingest" migrate

# ---------------------------------------------------------------- data
imports=()
if corpus=$(find_corpus_file expected_v1.jsonl); then
  imports+=("$corpus")
else
  warn "corpus fixture expected_v1.jsonl not found (Tests/Fixtures or ../shared): not imported"
fi
DEMO=$STATE/demo.jsonl
if has_subcommand "$BIN/appview-ingest" demo-data; then
  if [ ! -s "$DEMO" ]; then
    log "generating demo data into $DEMO"
    "$BIN/appview-ingest" demo-data --out "$DEMO"
  fi
  if [ -s "$DEMO" ]; then imports+=("$DEMO"); else warn "demo-data wrote nothing to $DEMO: skipped"; fi
else
  warn "appview-ingest has no demo-data subcommand yet: skipping demo data"
fi
if [ "${#imports[@]}" -gt 0 ]; then
  stamp=$(sha256sum "${imports[@]}" | sha256sum | cut -c1-64)
  if [ "${REIMPORT:-0}" != 1 ] && [ "$(cat "$STATE/imported.sha256" 2>/dev/null || true)" = "$stamp" ]; then
    log "data already imported (REIMPORT=1 to import again)"
  else
    for f in "${imports[@]}"; do
      log "importing $f"
      "$BIN/appview-ingest" import "$f"
    done
    echo "$stamp" >"$STATE/imported.sha256"
  fi
fi

# ---------------------------------------------------------------- services
# Service auth with a local service DID, so tokens minted by `appview-ingest mint-token` verify.
export SERVICE_DID=${SERVICE_DID:-did:web:localhost}
log "starting appview-api (FCGI_LISTEN=$SOCK, API_THREADS=$API_THREADS)"
start_api "$BIN/appview-api" "$SOCK" "$API_THREADS" - || die "appview-api did not open $SOCK"
echo "$API_PID" >"$STATE/appview-api.pid"

scripts/nginx.sh start "$STATE" "$HTTP_PORT" "$SOCK" "$API_THREADS"
NGINX_STARTED=1

if has_subcommand "$BIN/appview-ingest" run; then
  log "starting appview-ingest run (log: $STATE/appview-ingest.log)"
  "$BIN/appview-ingest" run >>"$STATE/appview-ingest.log" 2>&1 &
  INGEST_PID=$!
  echo "$INGEST_PID" >"$STATE/appview-ingest.pid"
else
  log "note: appview-ingest has no 'run' subcommand yet: no live firehose consumer"
fi

# ---------------------------------------------------------------- examples
examples=$(python3 - "${imports[@]}" <<'PY' || true
import json, sys, collections
posts = collections.defaultdict(list)
for path in sys.argv[1:]:
    with open(path) as f:
        for line in f:
            try:
                e = json.loads(line)
            except ValueError:
                continue
            c = e.get("commit") or {}
            if e.get("kind") == "commit" and c.get("operation") == "create" \
                    and c.get("collection") == "app.bsky.feed.post":
                posts[e["did"]].append(c["rkey"])
if posts:
    ranked = sorted(posts, key=lambda d: -len(posts[d]))
    did = ranked[0]
    other = ranked[1] if len(ranked) > 1 else did
    print(did, other, "at://%s/app.bsky.feed.post/%s" % (did, posts[did][-1]))
PY
)
read -r DID OTHER POST_URI <<<"${examples:-did:plc:example did:plc:example at://did:plc:example/app.bsky.feed.post/x}"
enc() { python3 -c 'import sys, urllib.parse; print(urllib.parse.quote(sys.argv[1], safe=""))' "$1"; }
U=http://127.0.0.1:$HTTP_PORT
cat <<EOF

AppView is up: $U   (Ctrl-C stops api, nginx, ingest and PostgreSQL)
  curl -s '$U/health'
  curl -s '$U/xrpc/app.bsky.actor.getProfile?actor=$DID'
  curl -s '$U/xrpc/app.bsky.actor.getProfiles?actors=$DID&actors=$OTHER'
  curl -s '$U/xrpc/app.bsky.feed.getAuthorFeed?actor=$DID&limit=10'
  curl -s '$U/xrpc/app.bsky.feed.getPosts?uris=$(enc "$POST_URI")'
  curl -s '$U/api/metrics/database'
Viewer (service auth, SERVICE_DID=$SERVICE_DID): a token for the demo account alice.demo, then her timeline:
  export DATABASE_URL='$DATABASE_URL' SERVICE_DID='$SERVICE_DID'
  TOKEN=\$($BIN/appview-ingest mint-token --actor alice.demo)
  curl -s -H "Authorization: Bearer \$TOKEN" '$U/xrpc/app.bsky.feed.getTimeline?limit=5'
  curl -s -H "Authorization: Bearer \$TOKEN" '$U/xrpc/app.bsky.notification.listNotifications?limit=5'
psql: make psql   (or: psql '$DATABASE_URL')
logs: $STATE/nginx/logs/, $STATE/pg.log$( [ -n "$INGEST_PID" ] && echo ", $STATE/appview-ingest.log")

EOF

# Run until the API exits or we are interrupted.
set +e
wait "$API_PID"
rc=$?
set -e
[ "$rc" -ge 128 ] || log "appview-api exited with status $rc"
exit "$rc"
