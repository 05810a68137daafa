#!/usr/bin/env bash
# Fuzzes the relay frame decoder (DAG-CBOR, CAR, MST, record conversion) with libFuzzer for a
# bounded time, starting from the real corpus frames, and reports inputs tried, errors by kind,
# crashes (must be 0) and peak RSS.
#
# usage: scripts/fuzz-relay.sh [SECONDS]     (default 60; FUZZ_RSS_LIMIT_MB default 1024)
# The target is built with swiftc directly (-sanitize=fuzzer,address) from Sources/IPLD and
# Sources/Ingest/Relay (all but RelayCommitSignature.swift), which therefore stay free of other
# project dependencies.
set -euo pipefail
cd "$(dirname "$0")/.."
SECONDS_TO_RUN=${1:-60}
RSS_LIMIT=${FUZZ_RSS_LIMIT_MB:-1024}
WORK=.local/fuzz-relay
mkdir -p "$WORK/build" "$WORK/corpus" "$WORK/artifacts" "$WORK/relay-src"

# The Relay decoding sources import IPLD as a module; here IPLD is a module built beside them.
# (The signature check, which needs Identity, is left out.)
rm -f "$WORK"/relay-src/*.swift
for file in $(grep -L '^import Identity' Sources/Ingest/Relay/*.swift); do cp "$file" "$WORK/relay-src/"; done
MODULEMAP="-Xcc -fmodule-map-file=$PWD/Sources/COpenSSL/module.modulemap"
echo "building the fuzz target (swiftc -sanitize=fuzzer,address)…"
# (ld.gold warns about every local ASan symbol: the build log keeps them out of sight.)
if ! { swiftc -parse-as-library -emit-library -static -emit-module -module-name IPLD -O -g \
         -sanitize=fuzzer,address $MODULEMAP \
         -emit-module-path "$WORK/build/IPLD.swiftmodule" -o "$WORK/build/libIPLD.a" \
         Sources/IPLD/*.swift Sources/IPLD/Repo/*.swift &&
       swiftc -O -g -sanitize=fuzzer,address -parse-as-library $MODULEMAP -I "$WORK/build" -L "$WORK/build" -lIPLD -lcrypto \
         -module-name RelayFuzz -o "$WORK/build/relay-fuzz" "$WORK"/relay-src/*.swift fuzz/RelayFrameFuzzTarget.swift
     } >"$WORK/build.log" 2>&1; then
  grep -v 'Cannot export local symbol' "$WORK/build.log" | tail -30
  echo "FAILED: fuzz target build"; exit 1
fi

# Seed corpus: every real frame, one file each.
if [ -z "$(ls -A "$WORK/corpus")" ]; then
  zstd -dc Tests/Fixtures/firehose-2026-07-04/frames.bin.zst | python3 -c '
import struct, sys
data = sys.stdin.buffer.read(); i = 0; n = 0
while i + 4 <= len(data):
    (length,) = struct.unpack("<I", data[i:i+4]); i += 4
    open(sys.argv[1] + "/frame-%03d" % n, "wb").write(data[i:i+length]); i += length; n += 1
' "$WORK/corpus"
fi

rm -f "$WORK"/artifacts/*
LOG="$WORK/fuzz.log"
echo "fuzzing for ${SECONDS_TO_RUN}s…"
set +e
ASAN_OPTIONS=detect_leaks=1 "$WORK/build/relay-fuzz" -max_total_time="$SECONDS_TO_RUN" -rss_limit_mb="$RSS_LIMIT" \
  -timeout=10 -max_len=262144 -seed=1 -print_final_stats=1 -artifact_prefix="$WORK/artifacts/" \
  "$WORK/corpus" >"$LOG" 2>&1
rc=$?
set -e
crashes=$(ls "$WORK"/artifacts 2>/dev/null | wc -l)
runs=$(grep -o 'stat::number_of_executed_units: *[0-9]*' "$LOG" | grep -o '[0-9]*$' || true)
rss=$(grep -o 'stat::peak_rss_mb: *[0-9]*' "$LOG" | grep -o '[0-9]*$' || true)
speed=$(grep -o 'stat::average_exec_per_sec: *[0-9]*' "$LOG" | grep -o '[0-9]*$' || true)
echo "---- relay frame fuzzing (libFuzzer, ${SECONDS_TO_RUN}s, ASan)"
grep -E '^fuzz-(report|error)' "$LOG" | sed 's/^/  /' || true
echo "  executions: ${runs:-?}  (${speed:-?}/s)  peak RSS: ${rss:-?} MB  crashes: $crashes  libFuzzer exit: $rc"
if [ "$rc" != 0 ] || [ "$crashes" != 0 ]; then
  echo "FAILED: see $LOG and $WORK/artifacts/"; tail -40 "$LOG"; exit 1
fi
