#!/usr/bin/env bash
# `make bench`: the benchmarks behind DESIGN.md's targets. Each runs several
# times; benchstat prints medians with their spread. Figures go in closing
# notes as medians and as ratios against a peer run in the same command.
set -euo pipefail
cd "$(dirname "$0")/.."
COUNT=${COUNT:-6}
out=${BENCH_OUT:-.run/bench.txt}
mkdir -p "$(dirname "$out")"
: >"$out"

# benchstat through the Go module proxy, pinned (x/perf has no tags).
BENCHSTAT=${BENCHSTAT:-golang.org/x/perf/cmd/benchstat@v0.0.0-20260908200009-22c9c6c9d4da}

# run fails the script when a benchmark fails or matches nothing.
run() { # package, benchmark regexp, benchtime[, count]
  echo "== $1 $2" >&2
  local part
  part=$(mktemp)
  if ! go test -run='^$' -bench="$2" -benchtime="$3" -count="${4:-$COUNT}" -timeout=90m "$1" >"$part"; then
    cat "$part" >&2
    echo "bench: $1 $2 failed" >&2
    exit 1
  fi
  cat "$part" >>"$out"
  if ! grep -E '^Benchmark' "$part" >&2; then
    echo "bench: $1 $2 ran no benchmark" >&2
    exit 1
  fi
  rm -f "$part"
}

run ./edge/journal/ . 1s
run ./edge/ 'BenchmarkHandover' 20x
run ./edge/cmd/comptoir-edge/ 'BenchmarkDeposit$' 2000x
run ./printer/ '.' 1s
run ./scanner/ 'BenchmarkDecode' 1s
run ./sync/uplink/ 'BenchmarkDrain' 1x
# 100k operations from a real journal, terminal and cloud as processes; peak RSS
run ./build/faulttest/ 'BenchmarkDrain100k' 1x
run ./edge/cmd/comptoir-edge/ 'BenchmarkFootprint' 1x
# Cloud ingest: stores alone (one writer with batches of 256; Badger also as
# the ingest uses it, 1,000 terminals' batches from 64 callers, with CPU
# per event), then whole instances as processes behind a Mosquitto of their
# own with 1,000 loadgen terminals, two loads (full batches of 256; 100
# events in batches of 50), Badger x1, PostgreSQL x1 and x2 (PostgreSQL from
# COMPTOIR_TEST_PG); CPU per event of the instances, broker and loadgen
run ./cloud/badgerstore/ 'BenchmarkStoreEvents' 2s
run ./cloud/badgerstore/ 'BenchmarkStoreFleet' 2x
run ./cloud/pgstore/ 'BenchmarkStoreEvents' 2s
run ./cloud/cmd/comptoir-cloud/ 'BenchmarkIngest(Drain)?$' 1x
# What the returns insight costs at ingest: each store with and without
# it (--bench-no-insight; PostgreSQL also without its indexes), on a day of
# relay points with returns among the parcels (returnsLoad), 3 rounds,
# on and off alternated (-count would repeat each before the next)
for _ in 1 2 3; do run ./cloud/cmd/comptoir-cloud/ 'BenchmarkIngestInsight' 1x 1; done
# Returns insight: three months of a network (1,000,000 events by default,
# BENCH_INSIGHT_EVENTS; 100 relay points, 20 merchants) loaded once per
# store, then each report and stuck list asked 50 times: p50_ms, p99_ms.
# The load takes minutes: BENCH_INSIGHT=0 leaves it out.
if [ "${BENCH_INSIGHT:-1}" != 0 ]; then
  run ./cloud/badgerstore/ 'BenchmarkInsight' 50x 1
  run ./cloud/pgstore/ 'BenchmarkInsight' 50x 1
fi
# A fleet held over TLS on one cloud, embedded broker and Mosquitto (with
# the dynamic security plugin): memory per terminal of the cloud and of
# Mosquitto, connect rate, a restart's reconnect storm on the embedded
# broker (nothing lost), /metrics size; 5,000 terminals (more with
# BENCH_FLEET), 3 runs
run ./cloud/cmd/comptoir-cloud/ 'BenchmarkFleet' 1x 3
# Chromium: the scanner's Enter to the eligibility answer on the kiosk's screen
run ./edge/cmd/comptoir-edge/ 'BenchmarkKioskScan' 100x

echo "== scanner on the corpus (make bench-scan)" >&2
go run ./build/benchscan >&2

echo "== medians (benchstat)" >&2
go run "$BENCHSTAT" "$out"
