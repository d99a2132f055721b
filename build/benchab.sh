#!/usr/bin/env bash
# `make bench-ab`: one benchmark of two commits in one command. Each commit
# is checked out in a worktree of its own (with ../shared beside it, as the
# tests expect), its test binary built once, and the two binaries run in
# turn, COUNT times each, so that a machine that slows down or speeds up
# during the run weighs on both sides alike. benchstat then prints each
# side's median and the change (the "after" column against the "before").
#
#   build/benchab.sh BEFORE AFTER PACKAGE BENCH [BENCHTIME] [COUNT]
#   make bench-ab BEFORE=56226df AFTER=HEAD PKG=./edge/cmd/comptoir-edge BENCH='BenchmarkKioskScan$' BENCHTIME=100x
set -euo pipefail
if [ $# -lt 4 ]; then
  echo "usage: $0 BEFORE AFTER PACKAGE BENCH [BENCHTIME] [COUNT]" >&2
  exit 2
fi
before=$1 after=$2 pkg=$3 bench=$4 benchtime=${5:-1s} count=${6:-3}
repo=$(cd "$(dirname "$0")/.." && pwd)
shared=$(cd "$repo/../shared" 2>/dev/null && pwd || true)
BENCHSTAT=${BENCHSTAT:-golang.org/x/perf/cmd/benchstat@v0.0.0-20260908200009-22c9c6c9d4da}
out=${BENCH_OUT:-$repo/.run/bench-ab}
mkdir -p "$out"
: >"$out/before.txt"
: >"$out/after.txt"

work=$(mktemp -d)
cleanup() {
  for side in before after; do
    git -C "$repo" worktree remove --force "$work/$side/comptoir" 2>/dev/null || true
  done
  rm -rf "$work"
}
trap cleanup EXIT

for side in before after; do
  ref=${!side}
  mkdir -p "$work/$side"
  git -C "$repo" worktree add --quiet --detach "$work/$side/comptoir" "$ref"
  if [ -n "$shared" ]; then ln -s "$shared" "$work/$side/shared"; fi
  echo "== $side: $(git -C "$repo" log --oneline -1 "$ref")" >&2
  (cd "$work/$side/comptoir" && go test -c -o "$work/$side.test" "$pkg")
done

for i in $(seq "$count"); do
  for side in before after; do
    echo "== run $i/$count $side ($(uptime | sed 's/.*load average/load average/'))" >&2
    part=$(mktemp)
    if ! (cd "$work/$side/comptoir/$pkg" && "$work/$side.test" -test.run='^$' \
      -test.bench="$bench" -test.benchtime="$benchtime" -test.count=1 -test.timeout=60m) >"$part"; then
      cat "$part" >&2
      echo "bench-ab: $side ($pkg $bench) failed" >&2
      exit 1
    fi
    if ! grep -E '^Benchmark' "$part" >&2; then
      echo "bench-ab: $side ($pkg $bench) ran no benchmark" >&2
      exit 1
    fi
    cat "$part" >>"$out/$side.txt"
    rm -f "$part"
  done
done

echo "== medians, before ($before) against after ($after)" >&2
cd "$out"
go run "$BENCHSTAT" before.txt after.txt
