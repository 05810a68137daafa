# AppView: see README.md. Everything local lives under .local/ (PostgreSQL clusters, sockets, logs).
SHELL := /bin/bash
RUN_STATE := .local/run
RUN_PG_PORT := 54329

.PHONY: run test build bench psql stop clean-local nginx-conf

## run: the whole stack in the foreground on http://127.0.0.1:8080 (Ctrl-C stops it)
run:
	scripts/run.sh

## test: debug build, swift test against a throwaway cluster, HTTP tests through nginx
test:
	scripts/test.sh

## build: debug build of everything
build:
	swift build

## bench: benchmark (scripts/bench.sh)
bench:
	scripts/bench.sh

## psql: psql on the `make run` database (starts that cluster if it is not running)
psql:
	@scripts/pg-cluster.sh status $(RUN_STATE) $(RUN_PG_PORT) >/dev/null 2>&1 || \
	  { scripts/install-deps.sh >/dev/null && scripts/pg-cluster.sh start $(RUN_STATE) $(RUN_PG_PORT) >/dev/null && \
	    echo "note: started the run cluster; 'make stop' stops it"; }
	psql "$$(scripts/pg-cluster.sh url $(RUN_STATE) $(RUN_PG_PORT))"

## stop: stop anything left running under .local (api, ingest, nginx, clusters)
stop:
	scripts/stop-local.sh

## clean-local: stop everything and delete .local (databases included)
clean-local: stop
	rm -rf .local

## nginx-conf: regenerate nginx/appview.conf from nginx/appview.conf.template
nginx-conf:
	scripts/nginx.sh render-deploy
