#!/usr/bin/env bash
# `make bench-insight`: what the returns insight costs at ingest (issue 15),
# in one command: BenchmarkIngestInsight's insight=on and insight=off of one
# store, in ABBA order (on, off, off, on, ROUNDS times), each run started
# after `sync` and a pause, so that the kernel's writeback of the run
# before (gigabytes for Badger) and the machine's slow phases weigh on both
# sides alike. It prints each side's medians and on / off: the cloud's CPU
# an event (the instance's, plus the database server's backends that serve
# it for PostgreSQL) and events/s.
#
#   build/insightab.sh STORE [ROUNDS] [PAUSE_S]
#   make bench-insight STORE=postgres ROUNDS=2
set -euo pipefail
store=${1:?usage: $0 badger|postgres [ROUNDS] [PAUSE_S]} rounds=${2:-2} pause=${3:-12}
repo=$(cd "$(dirname "$0")/.." && pwd)
out=${BENCH_OUT:-$repo/.run/bench-insight}
mkdir -p "$out"
bin=$out/comptoir-cloud.test
(cd "$repo" && ${GO:-go} test -c -o "$bin" ./cloud/cmd/comptoir-cloud)
raw=$out/$store.txt
: >"$raw"
run() {
  sync
  sleep "$pause"
  (cd "$repo/cloud/cmd/comptoir-cloud" && "$bin" -test.run '^$' -test.bench "BenchmarkIngestInsight/store=$store/insight=$1\$" \
    -test.benchtime 1x -test.timeout 30m) | grep '^Benchmark' | tee -a "$raw"
}
for _ in $(seq "$rounds"); do
  run on; run off; run off; run on
done
awk '
  function median(list,   n, a, i, j, t) {
    n = split(list, a, " ")
    for (i = 2; i <= n; i++) for (j = i; j > 1 && a[j-1] + 0 > a[j] + 0; j--) { t = a[j]; a[j] = a[j-1]; a[j-1] = t }
    return n % 2 ? a[(n+1)/2] : (a[n/2] + a[n/2+1]) / 2
  }
  {
    side = ($1 ~ /insight=on/) ? "on" : "off"
    cpu = 0; eps = 0
    for (i = 3; i <= NF; i++) {
      if ($i == "cloud_cpu_us/event" || $i == "db_cpu_us/event") cpu += $(i-1)
      if ($i == "events/s") eps = $(i-1)
    }
    c[side] = c[side] " " cpu; e[side] = e[side] " " eps
  }
  END {
    con = median(substr(c["on"], 2)); coff = median(substr(c["off"], 2))
    eon = median(substr(e["on"], 2)); eoff = median(substr(e["off"], 2))
    printf "cloud CPU an event: on %.2f us, off %.2f us, on/off %.3fx\n", con, coff, con / coff
    printf "events/s: on %.0f, off %.0f, on/off %.3f\n", eon, eoff, eon / eoff
  }' "$raw"
