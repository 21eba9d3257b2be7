#!/usr/bin/env bash
# The main job: the whole dogsearch engine on this machine, one command.
#
#   tools/run_local.sh [--data DIR] [--photos DIR] [--fetch] [--demo_dogs N] [--host H]
#
# Installs missing Debian packages (tools/install_deps.sh), builds the servers and the CLI,
# starts index, embedding, trainer and gateway as local processes on an embedded default
# configuration (everything under --data, default ./data: SQLite gallery, photos, index WAL and
# snapshots, checkpoints; the default model from deploy/models), waits until every service
# reports SERVING over the gRPC health protocol, enrolls a demo gallery from the DogFaceNet
# photos when they are available (--photos DIR, else ../shared/datasets/dogfacenet/after_4_bis,
# else ./data/dogfacenet/after_4_bis; --fetch downloads the public release first), and prints
# the web page's address. Ctrl-C stops everything cleanly. A second run reuses the data (the
# demo import skips what is already enrolled).
#
# Ports (override with the environment): DOGSEARCH_WEB_PORT 8080, DOGSEARCH_GATEWAY_PORT
# 50050, DOGSEARCH_EMBEDDING_PORT 50051, DOGSEARCH_INDEX_PORT 50052, DOGSEARCH_TRAINER_PORT
# 50053. Services listen on 127.0.0.1 unless --host says otherwise. This is a local sandbox:
# plaintext, no tokens. To expose dogsearch to a network, use deploy/docker-compose.yml (mutual
# TLS, tokens; docs/OPERATIONS.md).
set -euo pipefail
cd "$(dirname "$0")/.."
root="$(pwd)"

data="$root/data"
photos=""
fetch=0
demo_dogs=200
host=127.0.0.1
while [[ $# -gt 0 ]]; do
  case "$1" in
    --data) data="$2"; shift 2 ;;
    --photos) photos="$2"; shift 2 ;;
    --fetch) fetch=1; shift ;;
    --demo_dogs) demo_dogs="$2"; shift 2 ;;
    --host) host="$2"; shift 2 ;;
    -h|--help) sed -n '2,22p' "$0"; exit 0 ;;
    *) echo "run_local: unknown argument $1 (see --help)" >&2; exit 2 ;;
  esac
done
web_port="${DOGSEARCH_WEB_PORT:-8080}"
gateway_port="${DOGSEARCH_GATEWAY_PORT:-50050}"
embedding_port="${DOGSEARCH_EMBEDDING_PORT:-50051}"
index_port="${DOGSEARCH_INDEX_PORT:-50052}"
trainer_port="${DOGSEARCH_TRAINER_PORT:-50053}"
log() { echo "run_local: $*"; }

# ---- Install and build ------------------------------------------------------------------------
tools/install_deps.sh --build-only
log "building (first time: several minutes on 2 cores; later runs only rebuild what changed)"
t0=$SECONDS
cmake -S . -B build -G Ninja -DCMAKE_BUILD_TYPE=Release >/dev/null
cmake --build build -j "$(nproc)" --target index_server embedding_server trainer_server \
  gateway_server dogsearch
log "built in $((SECONDS - t0)) s"
bin="$root/build"

# ---- Data layout ------------------------------------------------------------------------------
mkdir -p "$data"/{logs,models,datasets,index,trainer,gateway}
data="$(cd "$data" && pwd)"
default_model="$(tr -d '[:space:]' < deploy/models/DEFAULT)"
if [[ ! -d "$data/models/$default_model" ]]; then
  cp -r "deploy/models/$default_model" "$data/models/$default_model.tmp.$$"
  mv "$data/models/$default_model.tmp.$$" "$data/models/$default_model"
  log "installed the default model $default_model into $data/models"
fi
if [[ $fetch -eq 1 && -z "$photos" ]]; then
  tools/fetch_dogfacenet.sh "$data/dogfacenet"
fi
if [[ -z "$photos" ]]; then
  for candidate in ../shared/datasets/dogfacenet/after_4_bis "$data/dogfacenet/after_4_bis"; do
    if [[ -d "$candidate" ]]; then photos="$candidate"; break; fi
  done
fi
# The trainer reads datasets that are folders inside its data root (links out of it are
# refused): with photos, the data root is their parent folder and the dataset their folder name.
data_root="$data/datasets"
dataset="NAME"
if [[ -n "$photos" ]]; then
  photos="$(cd "$photos" && pwd)"
  data_root="$(dirname "$photos")"
  dataset="$(basename "$photos")"
fi

# ---- Start the services -----------------------------------------------------------------------
pids=()
stop_all() {
  trap - INT TERM HUP EXIT
  if [[ ${#pids[@]} -gt 0 ]]; then
    log "stopping"
    # Gateway first, so nothing is half-sent to a backend; then the backends.
    for (( i=${#pids[@]}-1; i>=0; i-- )); do kill -TERM "${pids[$i]}" 2>/dev/null || true; done
    for p in "${pids[@]}"; do wait "$p" 2>/dev/null || true; done
    log "stopped; data kept in $data"
  fi
}
trap 'stop_all; exit 130' INT TERM HUP
trap stop_all EXIT
start() {  # name, binary, flags...
  local name="$1"; shift
  # In its own session, so that Ctrl-C (SIGINT to the terminal's process group) reaches only
  # this script, which then stops the services in order (gateway first).
  setsid "$@" >> "$data/logs/$name.log" 2>&1 &
  pids+=("$!")
  log "started $name (pid $!, log $data/logs/$name.log)"
}
start index "$bin/services/index/index_server" --address="$host:$index_port" \
  --data_dir="$data/index"
start embedding "$bin/services/embedding/embedding_server" --address="$host:$embedding_port" \
  --model_dir="$data/models" --default_model="$default_model"
start trainer "$bin/services/trainer/trainer_server" --address="$host:$trainer_port" \
  --state_dir="$data/trainer" --data_root="$data_root" --models_root="$data/models"
start gateway "$bin/services/gateway/gateway_server" --address="$host:$gateway_port" \
  --http_address="$host" --http_port="$web_port" --data_dir="$data/gateway" \
  --embedding_address="$host:$embedding_port" --index_address="$host:$index_port" \
  --trainer_address="$host:$trainer_port"

cli=("$bin/tools/cli/dogsearch" --gateway="$host:$gateway_port" --trainer="$host:$trainer_port")
log "waiting for every service to report SERVING"
if ! "${cli[@]}" health --wait_seconds=120 "$host:$index_port" "$host:$embedding_port" \
     "$host:$trainer_port" "$host:$gateway_port"; then
  log "a service did not become ready; see $data/logs/"
  exit 1
fi

# ---- Demo gallery -----------------------------------------------------------------------------
if [[ -n "$photos" ]]; then
  log "enrolling a demo gallery: $demo_dogs dogs from $photos (3 photos each; resumable)"
  "${cli[@]}" import "$photos" --max_dogs="$demo_dogs" --photos_per_dog=3 || \
    log "the demo import did not finish; the engine runs anyway"
else
  log "no DogFaceNet photos found: the gallery starts empty (--fetch downloads them)"
fi
"${cli[@]}" status
cat <<EOF

  dogsearch is running.
    web page:     http://$host:$web_port/
    gRPC API:     $host:$gateway_port (dogsearch.v1.DogSearch)
    CLI:          build/tools/cli/dogsearch search PHOTO.jpg
    retrain:      build/tools/cli/dogsearch train start --dataset=$dataset --time_budget=2700 --auto_promote
                  (datasets: folders of identity folders inside $data_root)
  Ctrl-C stops everything.

EOF
wait -n "${pids[@]}" || true
log "a service exited unexpectedly; see $data/logs/"
exit 1
