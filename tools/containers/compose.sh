#!/usr/bin/env bash
# podman-compose on deploy/docker-compose.yml with the project's podman settings (env.sh).
# Reads deploy/.env like docker-compose does. Examples:
#   tools/containers/compose.sh up -d          tools/containers/compose.sh ps
#   tools/containers/compose.sh logs gateway   tools/containers/compose.sh down
#   tools/containers/compose.sh -f deploy/docker-compose.gpu.yml up -d   (GPU: see OPERATIONS)
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
source "$here/env.sh"
compose_file="$(cd "$here/../../deploy" && pwd)/docker-compose.yml"
opts=(-f "$compose_file")
# Global options (-f FILE, -p NAME, --dry-run, --podman-run-args=...) go before the command.
while [[ $# -gt 0 && "$1" == -* ]]; do
  case "$1" in
    -f|-p|--podman-run-args) opts+=("$1" "$2"); shift 2 ;;
    *) opts+=("$1"); shift ;;
  esac
done
exec podman-compose "${opts[@]}" "$@"
