#!/usr/bin/env bash
# `make fuzz`: runs every fuzz target of the module for FUZZTIME each (10s
# by default), one after another. A crasher that the fuzzer finds is
# written by go test to the package's testdata/fuzz/FuzzName/, where it
# stays: commit it with the fix, and plain `go test` replays it from then on.
# The script fails at the first target that fails and names the new files.
set -euo pipefail
cd "$(dirname "$0")/.."
FUZZTIME=${FUZZTIME:-10s}
GO=${GO:-go}

n=0
for pkg in $("$GO" list ./...); do
  dir=$("$GO" list -f '{{.Dir}}' "$pkg")
  ls "$dir"/*_test.go >/dev/null 2>&1 || continue
  for target in $(grep -ho '^func Fuzz[A-Za-z0-9_]*' "$dir"/*_test.go | sed 's/^func //'); do
    echo "== $pkg $target ($FUZZTIME)"
    before=$(find "$dir/testdata/fuzz/$target" -type f 2>/dev/null | sort || true)
    log=$(mktemp)
    if ! "$GO" test -run '^$' -fuzz "^$target\$" -fuzztime "$FUZZTIME" "$pkg" 2>&1 | tee "$log"; then
      after=$(find "$dir/testdata/fuzz/$target" -type f 2>/dev/null | sort || true)
      new=$(comm -13 <(echo "$before") <(echo "$after"))
      # go test's fuzzing sometimes reports the end of -fuzztime itself as
      # a failure, "context deadline exceeded", with no input kept (a bug
      # of the toolchain's coordinator, seen with slow targets): that is
      # no crasher.
      if [ -z "$new" ] && grep -q '^    context deadline exceeded$' "$log" && [ "$(grep -c '^--- FAIL' "$log")" = 1 ]; then
        echo "fuzz: $target of $pkg: the fuzzing deadline reported as a failure, no input kept: not a crasher"
      else
        echo "fuzz: $target of $pkg failed; new inputs kept:"
        echo "$new" | sed 's/^/  /'
        rm -f "$log"
        exit 1
      fi
    fi
    rm -f "$log"
    n=$((n + 1))
  done
done
echo "fuzz: $n targets, $FUZZTIME each, no crasher"
