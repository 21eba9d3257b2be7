#!/usr/bin/env bash
# The README's main-job command as a user runs it: tools/run_local.sh starts the four services,
# they report SERVING, the web page answers, a demo gallery is enrolled when the DogFaceNet
# photos are present; SIGTERM (what Ctrl-C's trap also does) stops every service; a second run
# reuses the data. Free ports and a temporary data folder, so it can run beside other tests.
set -euo pipefail
root="$(cd "$(dirname "$0")/../.." && pwd)"
work="$(mktemp -d)"
trap 'pkill -TERM -f "$work/data" 2>/dev/null || true; rm -rf "$work"' EXIT
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
export DOGSEARCH_WEB_PORT=$(free_port) DOGSEARCH_GATEWAY_PORT=$(free_port)
export DOGSEARCH_EMBEDDING_PORT=$(free_port) DOGSEARCH_INDEX_PORT=$(free_port)
export DOGSEARCH_TRAINER_PORT=$(free_port)

run_once() {  # $1: log file. Starts run_local.sh, waits until it is running.
  setsid "$root/tools/run_local.sh" --data "$work/data" --demo_dogs 5 > "$1" 2>&1 &
  pid=$!
  for _ in $(seq 1 900); do
    grep -q 'dogsearch is running' "$1" && return 0
    kill -0 "$pid" 2>/dev/null || { echo "run_local.sh exited early:"; cat "$1"; exit 1; }
    sleep 1
  done
  echo "run_local.sh did not come up:"; cat "$1"; exit 1
}
stop() {
  kill -TERM "$pid"
  local rc=0; wait "$pid" || rc=$?
  [ "$rc" -eq 130 ] || { echo "run_local.sh exit $rc, expected 130"; exit 1; }
  if pgrep -f "$work/data" >/dev/null; then echo "services still running after stop:"; pgrep -fa "$work/data"; exit 1; fi
  grep -q 'run_local: stopped; data kept' "$1" || { echo "no clean-stop message"; exit 1; }
}

run_once "$work/first.log"
[ "$(grep -cE '^[0-9.:]+ +SERVING$' "$work/first.log")" = 4 ] || { echo "not all four SERVING"; cat "$work/first.log"; exit 1; }
code=$(curl -s -o "$work/page.html" -w '%{http_code}' "http://127.0.0.1:$DOGSEARCH_WEB_PORT/")
[ "$code" = 200 ] && grep -q '<title>dogsearch' "$work/page.html" || { echo "web page: HTTP $code"; exit 1; }
[ "$(curl -s "http://127.0.0.1:$DOGSEARCH_WEB_PORT/healthz")" = ok ] || { echo "healthz not ok"; exit 1; }
dogs_first=$(grep -o 'Gallery: [0-9]* dogs' "$work/first.log")
stop "$work/first.log"

run_once "$work/second.log"
grep -q "$dogs_first" "$work/second.log" || { echo "second run lost the gallery ($dogs_first)"; cat "$work/second.log"; exit 1; }
if grep -q 'enrolling a demo gallery' "$work/first.log"; then
  grep -q '5 already up to date' "$work/second.log" || { echo "second import redid work"; exit 1; }
fi
stop "$work/second.log"
echo "run_local.sh: up, SERVING, web page, clean stop, data reused ($dogs_first)"
