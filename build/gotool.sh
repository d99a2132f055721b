#!/usr/bin/env bash
# gotool.sh PKG@VERSION [ARGS...]: runs a pinned Go tool (nfpm, staticcheck)
# built once into the user's cache. It is fetched through the Go module
# proxy; offline, from the module cache used as a proxy, where an earlier
# fetch left it verified (`go run PKG@VERSION` cannot: it also looks up the
# module's latest version for deprecation notices, which needs the proxy).
set -euo pipefail
GO=${GO:-go}
spec=$1
shift
name=${spec%@*}
name=${name##*/}
bin="${XDG_CACHE_HOME:-$HOME/.cache}/comptoir-tools/$(printf '%s' "$spec" | tr '/@' '__')"
if [ ! -x "$bin/$name" ]; then
  if ! err=$(GOBIN="$bin" "$GO" install "$spec" 2>&1); then
    cache="$("$GO" env GOMODCACHE)/cache/download"
    if ! GOBIN="$bin" GOPROXY="file://$cache" GOSUMDB=off "$GO" install "$spec" 2>/dev/null; then
      printf '%s\n' "$err" >&2
      exit 1
    fi
  fi
fi
exec "$bin/$name" "$@"
