#!/usr/bin/env bash
# govulncheck (pinned, fetched through the Go module proxy like nfpm) on
# every package. It needs the vulnerability database at vuln.go.dev (or
# GOVULNDB): when that cannot be reached it says so and skips, unless
# COMPTOIR_REQUIRE_INTEGRATION=1, where it fails like any missing
# integration dependency. Findings always fail.
set -uo pipefail
GO=${GO:-go}
GOVULNCHECK_VERSION=${GOVULNCHECK_VERSION:?set by the Makefile}
db=${GOVULNDB:-https://vuln.go.dev}
out=$("$GO" run "golang.org/x/vuln/cmd/govulncheck@$GOVULNCHECK_VERSION" -db "$db" ./... 2>&1)
rc=$?
if [ $rc -ne 0 ] && grep -q 'fetching vulnerabilities' <<<"$out"; then
  echo "govulncheck: vulnerability database $db unreachable:"
  grep 'fetching vulnerabilities' <<<"$out" | head -1
  if [ "${COMPTOIR_REQUIRE_INTEGRATION:-}" = 1 ]; then
    echo "govulncheck: failing (COMPTOIR_REQUIRE_INTEGRATION=1)"; exit 1
  fi
  echo "govulncheck: SKIPPED (set GOVULNDB to a mirror, or run online)"; exit 0
fi
echo "$out"
exit $rc
