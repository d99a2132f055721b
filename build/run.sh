#!/usr/bin/env bash
# `make run`: a cloud with --demo and one enrolled terminal with --demo, on
# loopback. Ctrl-C stops both; data stays in $RUN_DIR for the next run.
set -euo pipefail
RUN_DIR=${RUN_DIR:-.run}
BIN=${BIN:-bin}
CLOUD_HTTP=${CLOUD_HTTP:-127.0.0.1:8080}
CLOUD_MQTT=${CLOUD_MQTT:-127.0.0.1:1884}
EDGE_HTTP=${EDGE_HTTP:-127.0.0.1:8081}
TERMINAL=${TERMINAL:-demo-relay-1}

taken() { timeout 1 bash -c "exec 3<>/dev/tcp/${1%:*}/${1##*:}" 2>/dev/null; }
for pair in "CLOUD_HTTP=$CLOUD_HTTP" "CLOUD_MQTT=$CLOUD_MQTT" "EDGE_HTTP=$EDGE_HTTP"; do
  name=${pair%%=*}; addr=${pair#*=}
  if taken "$addr"; then
    echo "make run: $addr ($name) is already in use by another program." >&2
    echo "          choose another, e.g.: make run $name=127.0.0.1:$(( ${addr##*:} + 100 ))" >&2
    exit 1
  fi
done

mkdir -p "$RUN_DIR"
pids=()
cleanup() { trap - INT TERM EXIT; kill "${pids[@]}" 2>/dev/null || true; wait 2>/dev/null || true; }
trap cleanup INT TERM EXIT

"$BIN/comptoir-cloud" serve --data "$RUN_DIR/cloud" --http "$CLOUD_HTTP" --mqtt-listen "$CLOUD_MQTT" --demo \
  >"$RUN_DIR/cloud.log" 2>&1 &
pids+=($!)
for _ in $(seq 1 100); do taken "$CLOUD_HTTP" && [ -s "$RUN_DIR/cloud/demo.json" ] && break; sleep 0.1; done
if ! taken "$CLOUD_HTTP"; then echo "make run: the cloud did not start; see $RUN_DIR/cloud.log" >&2; tail -n 20 "$RUN_DIR/cloud.log" >&2; exit 1; fi

key() { sed -n "s/.*\"$1\": *\"\([^\"]*\)\".*/\1/p" "$RUN_DIR/cloud/demo.json"; }
if [ ! -f "$RUN_DIR/edge/enrollment.json" ]; then
  # The operator key goes on standard input, not in argv (ps shows argv).
  key operator_key | "$BIN/comptoir-edge" enroll --cloud "http://$CLOUD_HTTP" --operator-key - \
    --terminal "$TERMINAL" --name "Relais Démo — Tabac de la Gare" --data "$RUN_DIR/edge"
fi
"$BIN/comptoir-edge" run --data "$RUN_DIR/edge" --http "$EDGE_HTTP" --demo >"$RUN_DIR/edge.log" 2>&1 &
pids+=($!)
for _ in $(seq 1 100); do taken "$EDGE_HTTP" && break; sleep 0.1; done
if ! taken "$EDGE_HTTP"; then echo "make run: the terminal did not start; see $RUN_DIR/edge.log" >&2; tail -n 20 "$RUN_DIR/edge.log" >&2; exit 1; fi

cat <<TXT

  Comptoir is running (logs in $RUN_DIR/*.log; Ctrl-C stops it).

  Kiosk:        http://$EDGE_HTTP/      PINs: clerk 1234, manager 999999
  Cloud API:    http://$CLOUD_HTTP/     keys in $RUN_DIR/cloud/demo.json

  Create a demo return and show its QR (PNG path + drawn here):
    $BIN/comptoir-cloud demo-return --cloud http://$CLOUD_HTTP --data $RUN_DIR/cloud

  Then scan it at the kiosk (upload the PNG, or paste the token), deposit it,
  and follow it at http://$CLOUD_HTTP/track/<tracking>

TXT
wait -n "${pids[@]}"
echo "make run: a process stopped; see $RUN_DIR/cloud.log and $RUN_DIR/edge.log" >&2
