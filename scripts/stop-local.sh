#!/usr/bin/env bash
# Stops whatever run.sh / test.sh may have left running under .local (after a crash or kill -9):
# appview-api / appview-ingest by their pid files, the nginx instances, the PostgreSQL clusters.
# `make clean-local` calls it before removing .local.
set -uo pipefail
source "$(dirname "$0")/lib.sh"
cd "$ROOT" || exit 1
[ -d .local ] || exit 0
for state in .local/run .local/test; do
  [ -d "$state" ] || continue
  stop_pidfile "$state/appview-ingest.pid" appview-ingest
  stop_pidfile "$state/appview-api.pid" appview-api
  for n in "$state/ratelimit" "$state"; do
    [ -f "$n/nginx/nginx.pid" ] && scripts/nginx.sh stop "$n"
  done
  [ -f "$state/pg/PG_VERSION" ] && scripts/pg-cluster.sh stop "$state"
done
exit 0
