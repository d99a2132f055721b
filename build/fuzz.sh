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
    if ! "$GO" test -run '^$' -fuzz "^$target\$" -fuzztime "$FUZZTIME" "$pkg"; then
      after=$(find "$dir/testdata/fuzz/$target" -type f 2>/dev/null | sort || true)
      echo "fuzz: $target of $pkg failed; new inputs kept:"
      comm -13 <(echo "$before") <(echo "$after") | sed 's/^/  /'
      exit 1
    fi
    n=$((n + 1))
  done
done
echo "fuzz: $n targets, $FUZZTIME each, no crasher"
