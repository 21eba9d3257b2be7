#!/bin/bash
# The README's two commands as a newcomer types them on a fresh Debian 12, timed: run inside a
# minimal Debian 12 root (docs/OPERATIONS.md, "Fresh Debian 12"):
#   debootstrap --variant=minbase bookworm ROOT http://deb.debian.org/debian
#   mount -t proc proc ROOT/proc; mount --rbind /sys ROOT/sys; mount --rbind /dev ROOT/dev
#   cp /etc/resolv.conf ROOT/etc/; git clone . ROOT/root/dogsearch
#   cp tools/newcomer_proof.sh ROOT/root/; chroot ROOT /bin/bash /root/newcomer_proof.sh
set -u
cd /root/dogsearch
echo "== tools/run_tests.sh  start $(date -u +%FT%TZ)"
start=$(date +%s)
tools/run_tests.sh > /root/run_tests.log 2>&1
echo "== tools/run_tests.sh  rc=$?  $(( $(date +%s) - start )) s  end $(date -u +%FT%TZ)"
grep -E 'tests passed|tests failed|Skipped|Not Run|Failed' /root/run_tests.log | tail -15
echo "== tools/run_local.sh  start $(date -u +%FT%TZ)"
start=$(date +%s)
tools/run_local.sh > /root/run_local.log 2>&1 &
pid=$!
for i in $(seq 1 900); do grep -q 'dogsearch is running' /root/run_local.log && break; sleep 1; done
echo "== ready after $(( $(date +%s) - start )) s"
grep -E 'SERVING|built in|dogsearch is running|web page|Gallery' /root/run_local.log
echo "== GET / : $(curl -s -o /dev/null -w '%{http_code}' http://127.0.0.1:8080/)  /healthz: $(curl -s http://127.0.0.1:8080/healthz)"
kill -INT $pid 2>/dev/null; kill -TERM $pid; wait $pid; echo "== run_local.sh exit $?"
tail -3 /root/run_local.log
