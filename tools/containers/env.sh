# Sourced by the container scripts: podman with the project's settings (containers.conf beside
# this file) unless the caller set CONTAINERS_CONF already.
export CONTAINERS_CONF="${CONTAINERS_CONF:-$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)/containers.conf}"
