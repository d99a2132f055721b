#!/usr/bin/env bash
# govulncheck (pinned, built by gotool.sh like nfpm and staticcheck) on
# every package. It needs the vulnerability database at vuln.go.dev (or
# GOVULNDB): when that cannot be reached it says so and skips, unless
# COMPTOIR_REQUIRE_INTEGRATION=1, where it fails like any missing
# integration dependency. Findings always fail.
set -uo pipefail
GO=${GO:-go}
GOVULNCHECK_VERSION=${GOVULNCHECK_VERSION:?set by the Makefile}
db=${GOVULNDB:-https://vuln.go.dev}
out=$(GO="$GO" "$(dirname "$0")/gotool.sh" "golang.org/x/vuln/cmd/govulncheck@$GOVULNCHECK_VERSION" -db "$db" ./... 2>&1)
rc=$?
# Offline, the tool itself may not be had either (not in the module cache).
if [ $rc -ne 0 ] && ! grep -q 'Scanning\|Vulnerability #\|fetching vulnerabilities' <<<"$out" && grep -q 'dial tcp\|lookup .* on\|proxy' <<<"$out"; then
  echo "govulncheck: cannot be fetched (offline?):"
  tail -1 <<<"$out"
  if [ "${COMPTOIR_REQUIRE_INTEGRATION:-}" = 1 ]; then
    echo "govulncheck: failing (COMPTOIR_REQUIRE_INTEGRATION=1)"; exit 1
  fi
  echo "govulncheck: SKIPPED"; exit 0
fi
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
