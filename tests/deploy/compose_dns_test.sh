#!/usr/bin/env bash
# tools/containers/compose.sh refuses `up` where the services could not find each other by name:
# podman's CNI backend without the dnsname plugin, or a project network made without DNS; with
# the plugin and a DNS-enabled (or absent) network it hands over to podman-compose. podman and
# podman-compose are stand-ins on PATH, so this runs everywhere, container engine or not.
set -euo pipefail
root="$(cd "$(dirname "$0")/../.." && pwd)"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
mkdir -p "$work/bin" "$work/plugins"
# Stand-in podman: the backend in $FAKE_BACKEND; `network inspect` answers $FAKE_NET_DNS for
# $FAKE_NET (and fails for any other network, as a missing one does).
cat >"$work/bin/podman" <<'FAKE'
#!/usr/bin/env bash
case "$1 $2" in
  "info --format") echo "$FAKE_BACKEND" ;;
  "network inspect") [[ "${*: -1}" == "$FAKE_NET" ]] && echo "$FAKE_NET_DNS" || exit 125 ;;
  *) exit 0 ;;
esac
FAKE
printf '#!/usr/bin/env bash\necho "podman-compose ran: $*"\n' >"$work/bin/podman-compose"
chmod +x "$work/bin/podman" "$work/bin/podman-compose"
fail() { echo "FAIL: $*"; cat "$work/out"; exit 1; }
compose() {
  PATH="$work/bin:$PATH" DOGSEARCH_CNI_PLUGIN_DIRS="$work/plugins" \
    "$root/tools/containers/compose.sh" "$@" >"$work/out" 2>&1
}
export FAKE_BACKEND=cni FAKE_NET=none FAKE_NET_DNS=true

# CNI without the plugin: `up` refused with the package to install; other commands still run.
set +e; compose -p demo up -d; code=$?; set -e
[[ $code == 3 ]] || fail "up without the dnsname plugin: exit $code, wanted 3"
grep -q "golang-github-containernetworking-plugin-dnsname" "$work/out" || fail "no package named"
grep -q "podman-compose ran" "$work/out" && fail "podman-compose ran anyway"
compose -p demo down || fail "down refused"
grep -q "podman-compose ran: -f .*docker-compose.yml -p demo down" "$work/out" || fail "down not passed on"

# With the plugin: up runs, with the project and the compose file.
printf '#!/bin/sh\n' >"$work/plugins/dnsname" && chmod +x "$work/plugins/dnsname"
compose -p demo up -d || fail "up with the plugin refused"
grep -q "podman-compose ran: -f .*docker-compose.yml -p demo up -d" "$work/out" || fail "up not passed on"

# A project network left from before the plugin (no DNS): refused, naming the network.
export FAKE_NET=demo_default FAKE_NET_DNS=false
set +e; compose -p demo up -d; code=$?; set -e
[[ $code == 3 ]] || fail "up on a network without DNS: exit $code, wanted 3"
grep -q "podman network rm demo_default" "$work/out" || fail "network not named"
FAKE_NET_DNS=true compose -p demo up -d || fail "up on a DNS-enabled network refused"

# netavark (aardvark-dns) needs no plugin.
rm "$work/plugins/dnsname"
FAKE_BACKEND=netavark FAKE_NET=none compose -p demo up -d || fail "up under netavark refused"
echo "compose_dns_test: all checks passed"
