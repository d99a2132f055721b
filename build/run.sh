#!/usr/bin/env bash
# `make run`: a cloud with --demo and one enrolled terminal with --demo, on
# loopback. Ctrl-C stops both; data stays in $RUN_DIR for the next run.
#
#   build/run.sh              (make run) start both, wait for the terminal
#   build/run.sh cloud-stop   (make cloud-stop) stop the cloud alone
#   build/run.sh cloud-start  (make cloud-start) start it again
#
# The cloud's pid is kept in $RUN_DIR/cloud.pid and its addresses in
# $RUN_DIR/run.env, so that cloud-start, from another shell, starts the
# same cloud, and make run's Ctrl-C stops whichever cloud runs.
set -euo pipefail
RUN_DIR=${RUN_DIR:-.run}
BIN=${BIN:-bin}
TERMINAL=${TERMINAL:-demo-relay-1}
mkdir -p "$RUN_DIR"
if [ "${1:-run}" != run ] && [ -f "$RUN_DIR/run.env" ]; then
  . "$RUN_DIR/run.env" # the addresses make run started with
fi
CLOUD_HTTP=${CLOUD_HTTP:-127.0.0.1:8080}
CLOUD_MQTT=${CLOUD_MQTT:-127.0.0.1:1884}
EDGE_HTTP=${EDGE_HTTP:-127.0.0.1:8081}

taken() { timeout 1 bash -c "exec 3<>/dev/tcp/${1%:*}/${1##*:}" 2>/dev/null; }
alive() { [ -n "${1:-}" ] && kill -0 "$1" 2>/dev/null; }
cloud_pid() { cat "$RUN_DIR/cloud.pid" 2>/dev/null || true; }

# started NAME PID ADDR LOG: waits until ADDR listens; reports at once a
# process that exits instead, with the end of its log.
started() {
  local i
  for i in $(seq 1 300); do
    if ! alive "$2"; then
      echo "make run: the $1 stopped at start; the end of $4:" >&2
      tail -n 20 "$4" >&2
      return 1
    fi
    taken "$3" && return 0
    sleep 0.1
  done
  echo "make run: the $1 does not listen on $3 after 30 s; see $4" >&2
  return 1
}

start_cloud() {
  if alive "$(cloud_pid)"; then
    echo "make run: the cloud already runs (pid $(cloud_pid))" >&2
    return 0
  fi
  if taken "$CLOUD_HTTP"; then
    echo "make run: $CLOUD_HTTP (CLOUD_HTTP) is in use by another program" >&2
    return 1
  fi
  "$BIN/comptoir-cloud" serve --data "$RUN_DIR/cloud" --http "$CLOUD_HTTP" --mqtt-listen "$CLOUD_MQTT" --demo --webhook-allow-private \
    --kek-file "$RUN_DIR/cloud.kek" \
    >>"$RUN_DIR/cloud.log" 2>&1 &
  echo $! >"$RUN_DIR/cloud.pid"
  started cloud $! "$CLOUD_HTTP" "$RUN_DIR/cloud.log" || return 1
  for _ in $(seq 1 100); do [ -s "$RUN_DIR/cloud/demo.json" ] && break; sleep 0.1; done
  echo "make run: cloud on http://$CLOUD_HTTP (pid $!)"
}

stop_cloud() {
  local pid
  pid=$(cloud_pid)
  rm -f "$RUN_DIR/cloud.pid"
  if ! alive "$pid"; then
    echo "make run: the cloud is not running"
    return 0
  fi
  kill "$pid"
  for _ in $(seq 1 200); do alive "$pid" || break; sleep 0.1; done
  echo "make run: cloud stopped; the terminal keeps taking deposits (make cloud-start to start it again)"
}

case "${1:-run}" in
cloud-start) start_cloud; exit ;;
cloud-stop) stop_cloud; exit ;;
run) ;;
*) echo "usage: build/run.sh [run|cloud-start|cloud-stop]" >&2; exit 2 ;;
esac

for pair in "CLOUD_HTTP=$CLOUD_HTTP" "CLOUD_MQTT=$CLOUD_MQTT" "EDGE_HTTP=$EDGE_HTTP"; do
  name=${pair%%=*}; addr=${pair#*=}
  if taken "$addr"; then
    echo "make run: $addr ($name) is already in use by another program." >&2
    echo "          choose another, e.g.: make run $name=127.0.0.1:$(( ${addr##*:} + 100 ))" >&2
    exit 1
  fi
done
printf 'CLOUD_HTTP=%s\nCLOUD_MQTT=%s\n' "$CLOUD_HTTP" "$CLOUD_MQTT" >"$RUN_DIR/run.env"
: >"$RUN_DIR/cloud.log"
: >"$RUN_DIR/edge.log"

edge_pid=
stop_all() {
  trap - INT TERM EXIT
  [ -n "$edge_pid" ] && kill "$edge_pid" 2>/dev/null || true
  local pid
  pid=$(cloud_pid)
  [ -n "$pid" ] && kill "$pid" 2>/dev/null || true
  wait 2>/dev/null || true
  for _ in $(seq 1 200); do alive "$pid" || break; sleep 0.1; done
  rm -f "$RUN_DIR/cloud.pid"
}
# Ctrl-C is the normal way to stop: no error, no "see logs".
trap 'stop_all; echo; echo "make run: stopped; data kept in $RUN_DIR"; exit 0' INT TERM
trap stop_all EXIT

fresh_cloud=true
[ -s "$RUN_DIR/cloud/demo.json" ] && fresh_cloud=false
start_cloud

# The terminal's enrolment must match this cloud: a fresh cloud does not
# know the terminal (enrol it again); a cloud on new addresses knows it, so
# only the addresses in its enrolment change.
enrollment=$RUN_DIR/edge/enrollment.json
if [ -f "$enrollment" ] && $fresh_cloud; then
  echo "make run: the cloud's data is new: enrolling the terminal again"
  mv "$enrollment" "$enrollment.old"
fi
if [ -f "$enrollment" ]; then
  cloud_url=$(sed -n 's/^  "cloud": "\(.*\)",$/\1/p' "$enrollment")
  mqtt_url=$(sed -n 's/^    "url": "\(.*\)",$/\1/p' "$enrollment")
  if [ "$cloud_url" != "http://$CLOUD_HTTP" ] || [ "$mqtt_url" != "tcp://$CLOUD_MQTT" ]; then
    echo "make run: the cloud moved ($cloud_url, $mqtt_url): the terminal now uses http://$CLOUD_HTTP, tcp://$CLOUD_MQTT"
    sed -i -e "s|^  \"cloud\": \".*\",\$|  \"cloud\": \"http://$CLOUD_HTTP\",|" \
      -e "s|^    \"url\": \".*\",\$|    \"url\": \"tcp://$CLOUD_MQTT\",|" "$enrollment"
  fi
fi
key() { sed -n "s/.*\"$1\": *\"\([^\"]*\)\".*/\1/p" "$RUN_DIR/cloud/demo.json"; }
if [ ! -f "$enrollment" ]; then
  # The operator key goes on standard input, not in argv (ps shows argv).
  key operator_key | "$BIN/comptoir-edge" enroll --cloud "http://$CLOUD_HTTP" --operator-key - \
    --terminal "$TERMINAL" --name "Relais Démo — Tabac de la Gare" --data "$RUN_DIR/edge"
fi
"$BIN/comptoir-edge" run --data "$RUN_DIR/edge" --http "$EDGE_HTTP" --demo >>"$RUN_DIR/edge.log" 2>&1 &
edge_pid=$!
started terminal "$edge_pid" "$EDGE_HTTP" "$RUN_DIR/edge.log"

cat <<TXT

  Comptoir is running (logs in $RUN_DIR/*.log; Ctrl-C stops it).

  Kiosk:        http://$EDGE_HTTP/      PINs: clerk 1234, manager 999999
  Cloud API:    http://$CLOUD_HTTP/     keys in $RUN_DIR/cloud/demo.json

  Create a demo return and show its QR (PNG path + drawn here):
    $BIN/comptoir-cloud demo-return --cloud http://$CLOUD_HTTP --data $RUN_DIR/cloud

  Then scan it at the kiosk (upload the PNG, or paste the token), deposit it,
  and follow it at http://$CLOUD_HTTP/track/<tracking>

  The cloud alone, from another shell: make cloud-stop, make cloud-start
  (the terminal keeps taking deposits and sends them when it is back).

  Receive the merchant's signed webhooks as they happen:
    $BIN/comptoir-cloud webhook-listen --cloud http://$CLOUD_HTTP --data $RUN_DIR/cloud

TXT
status=0
wait "$edge_pid" || status=$?
edge_pid=
echo "make run: the terminal stopped (status $status); see $RUN_DIR/edge.log" >&2
exit 1
