#!/usr/bin/env bash
# `make run`: a local Kafka, a synthetic environment, a trained and promoted model,
# the service, and the test period streamed through Kafka; then a summary, and the
# service keeps serving until Ctrl-C.
set -euo pipefail
cd "$(dirname "$0")/.."
PY=.venv/bin/python
export AUDITLENS_DATA_DIR="${AUDITLENS_DATA_DIR:-.auditlens}"
export AUDITLENS_API_PORT="${AUDITLENS_API_PORT:-8080}"
# The optimizer of the demo looks every 10 s instead of every minute, and judges drift
# over the last hour: the demo streams days of events within a minute or two.
export AUDITLENS_OPTIMIZER_INTERVAL_S="${AUDITLENS_OPTIMIZER_INTERVAL_S:-10}"
export AUDITLENS_OPTIMIZER_WINDOW="${AUDITLENS_OPTIMIZER_WINDOW:-1h}"
mkdir -p "$AUDITLENS_DATA_DIR"
auditlens() { "$PY" -m service.cli "$@"; }

# Stop the service first and only then the broker, so that the scorer can commit on its
# way out. A signal can cut a `wait` short, so poll until the process is gone.
cleanup() {
  trap - EXIT INT TERM
  if [ -n "${SERVE_PID:-}" ] && kill "$SERVE_PID" 2>/dev/null; then
    for _ in $(seq 1 120); do
      kill -0 "$SERVE_PID" 2>/dev/null || break
      sleep 0.5
    done
  fi
  if [ -n "${LOCAL_KAFKA:-}" ]; then
    "$PY" -m service.localstack.kafka stop --dir "$AUDITLENS_DATA_DIR/kafka"
  fi
}
trap cleanup EXIT INT TERM

if [ -z "${AUDITLENS_KAFKA_BOOTSTRAP_SERVERS:-}" ]; then
  echo "starting a local Kafka broker (log: $AUDITLENS_DATA_DIR/kafka/broker.log)"
  AUDITLENS_KAFKA_BOOTSTRAP_SERVERS=$("$PY" -m service.localstack.kafka start --dir "$AUDITLENS_DATA_DIR/kafka")
  export AUDITLENS_KAFKA_BOOTSTRAP_SERVERS
  LOCAL_KAFKA=1
  # A fresh broker has empty topics: offsets saved with the scorer's state belong to the
  # previous one. Start the history afresh too (the store is idempotent on event keys).
  rm -rf "$AUDITLENS_DATA_DIR/state"
fi
TOPIC=$(echo "${AUDITLENS_TOPICS:-audit.k8s}" | cut -d, -f1)

DEMO="$AUDITLENS_DATA_DIR/demo"
[ -f "$DEMO/labels.csv" ] || auditlens generate --out "$DEMO"
if ! auditlens models list 2>/dev/null | grep -q champion; then
  auditlens train --data "$DEMO/train.jsonl" --promote
fi
KEY=$(auditlens keys create --role reader | tail -n 1)
CONSOLE_KEY=$(auditlens keys create --role analyst --name console | tail -n 1)

# Not through the auditlens function: $! must be the service itself, not a subshell.
"$PY" -m service.cli serve >"$AUDITLENS_DATA_DIR/serve.log" 2>&1 &
SERVE_PID=$!
auditlens replay --data "$DEMO/test.jsonl" --topic "$TOPIC"
"$PY" deploy/summary.py --key "$KEY" --labels "$DEMO/labels.csv" --await-optimizer 300
echo
echo "== live drift of the champion: auditlens drift --window 1h =="
auditlens drift --window 1h --top 10
echo
echo "== every version against its goals: auditlens report =="
auditlens report --svg "$AUDITLENS_DATA_DIR/report.svg"
echo
echo "analyst console: http://127.0.0.1:$AUDITLENS_API_PORT/ui/"
echo "  sign in with the analyst key $CONSOLE_KEY"
echo "serving until Ctrl-C (log: $AUDITLENS_DATA_DIR/serve.log)"
wait "$SERVE_PID"
