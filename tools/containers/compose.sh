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
# The services find each other by name (`embedding:50051`). With podman's CNI network backend
# that takes the dnsname plugin: without it the compose network is created without DNS and the
# gateway never reaches its backends, so refuse to bring the stack up rather than half start it.
# DOGSEARCH_CNI_PLUGIN_DIRS: where to look (podman's default plugin folders).
if [[ " $* " == *" up "* ]]; then
  backend="$(podman info --format '{{.Host.NetworkBackend}}' 2>/dev/null || true)"
  dirs="${DOGSEARCH_CNI_PLUGIN_DIRS:-/usr/local/libexec/cni /usr/libexec/cni /usr/local/lib/cni /usr/lib/cni /opt/cni/bin}"
  if [[ "$backend" == cni ]]; then
    found=""
    for d in $dirs; do [[ -x "$d/dnsname" ]] && found="$d/dnsname"; done
    if [[ -z "$found" ]]; then
      echo "compose: podman's CNI networks have no DNS here (no dnsname plugin in: $dirs)," >&2
      echo "compose: so the services could not find each other by name; install it:" >&2
      echo "compose:   apt-get install golang-github-containernetworking-plugin-dnsname" >&2
      echo "compose: (tools/install_deps.sh --containers does), then remove the project's old" >&2
      echo "compose: network (podman network rm <project>_default) so that it is made anew." >&2
      exit 3
    fi
  fi
  # A network made before the plugin was there stays without DNS: podman-compose reuses it.
  project="${COMPOSE_PROJECT_NAME:-deploy}"
  for ((i = 0; i < ${#opts[@]}; i++)); do [[ "${opts[i]}" == -p ]] && project="${opts[i + 1]}"; done
  if [[ "$(podman network inspect --format '{{.DNSEnabled}}' "${project}_default" 2>/dev/null)" == false ]]; then
    echo "compose: the network ${project}_default has no DNS (made before the dnsname plugin was" >&2
    echo "compose: installed?); remove it so that it is made anew: podman network rm ${project}_default" >&2
    exit 3
  fi
fi
exec podman-compose "${opts[@]}" "$@"
