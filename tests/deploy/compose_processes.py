#!/usr/bin/env python3
"""Runs deploy/docker-compose.yml's services as local processes, with exactly the commands,
flags and environment the compose file gives them (no Docker engine needed).

The compose file is resolved by `docker-compose config` (so variable substitution, merge keys
and relative paths are docker-compose's own), then for each service:
  * the binary is the one its image's ENTRYPOINT runs (same names, from the build tree);
  * container paths of its volumes become folders under WORK (named volumes: WORK/volumes/NAME,
    shared between services as in Docker; bind mounts: their host paths);
  * "0.0.0.0:PORT" listens on 127.0.0.1:<free port>; "SERVICE:PORT" targets become
    127.0.0.1:<that service's port>; published HTTP ports get a free port too;
  * the `models` volume starts with deploy/models, as Docker fills an empty volume from the
    image.
Each service's healthcheck command is then run (rewritten the same way) until it passes.
Prints "ready SERVICE HOST:PORT" per service, "web http://..." for the gateway, then "all ready";
SIGTERM/SIGINT stop the services (gateway first) and exit.

Usage: compose_processes.py --compose FILE --build BUILD_DIR --work DIR [--env K=V ...]
"""
import argparse
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import time

import yaml

BINARIES = {  # Dockerfile target -> ENTRYPOINT binary in the build tree.
    "index": "services/index/index_server",
    "embedding": "services/embedding/embedding_server",
    "trainer": "services/trainer/trainer_server",
    "gateway": "services/gateway/gateway_server",
}
START_ORDER = ["index", "embedding", "trainer", "gateway"]


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--compose", required=True)
    ap.add_argument("--build", required=True)
    ap.add_argument("--work", required=True)
    ap.add_argument("--env", action="append", default=[])
    args = ap.parse_args()
    args.build = os.path.abspath(args.build)
    args.work = os.path.abspath(args.work)
    env = dict(os.environ)
    for kv in args.env:
        k, v = kv.split("=", 1)
        env[k] = v
    resolved = subprocess.run(["docker-compose", "-f", args.compose, "config"], env=env,
                              check=True, capture_output=True, text=True).stdout
    config = yaml.safe_load(resolved)
    services = config["services"]
    root = os.path.dirname(os.path.dirname(os.path.abspath(args.compose)))

    ports = {}  # service -> {container port: local port}
    for name, svc in services.items():
        ports[name] = {}
        for a in svc.get("command", []):
            m = re.match(r"--address=0\.0\.0\.0:(\d+)$", a) or re.match(r"--http_port=(\d+)$", a)
            if m:
                ports[name][m.group(1)] = free_port()

    def mounts(svc):
        out = []
        for v in svc.get("volumes", []):
            if isinstance(v, str):
                src, dst = v.split(":")[:2]
                kind = "bind" if src.startswith("/") or src.startswith(".") else "volume"
            else:
                src, dst, kind = v.get("source"), v["target"], v.get("type", "volume")
            host = src if kind == "bind" else os.path.join(args.work, "volumes", src)
            if kind != "bind":
                os.makedirs(host, exist_ok=True)
                if src == "models" and not os.listdir(host):
                    for entry in os.listdir(os.path.join(root, "deploy/models")):
                        s = os.path.join(root, "deploy/models", entry)
                        (shutil.copytree if os.path.isdir(s) else shutil.copy)(
                            s, os.path.join(host, entry))
            out.append((dst, host))
        return sorted(out, key=lambda m: -len(m[0]))

    def rewrite(name, arg, mnt):
        for dst, host in mnt:
            arg = re.sub(r"(^|=)" + re.escape(dst) + r"(?=/|$)", lambda m: m.group(1) + host, arg)
        arg = re.sub(r"0\.0\.0\.0:(\d+)", lambda m: "127.0.0.1:%d" % ports[name][m.group(1)], arg)
        arg = re.sub(r"^--http_address=0\.0\.0\.0$", "--http_address=127.0.0.1", arg)
        m = re.match(r"--http_port=(\d+)$", arg)
        if m:
            arg = "--http_port=%d" % ports[name][m.group(1)]
        for other, mp in ports.items():
            arg = re.sub(re.escape(other) + r":(\d+)",
                         lambda m, mp=mp: "127.0.0.1:%d" % mp[m.group(1)] if m.group(1) in mp
                         else m.group(0), arg)
        arg = re.sub(r"^127\.0\.0\.1:(\d+)$",
                     lambda m: "127.0.0.1:%d" % ports[name].get(m.group(1), int(m.group(1))), arg)
        return arg

    procs = []

    def stop(*_):
        for name, p in reversed(procs):
            if p.poll() is None:
                p.send_signal(signal.SIGTERM)
        for name, p in reversed(procs):
            try:
                p.wait(timeout=30)
            except subprocess.TimeoutExpired:
                p.kill()
        sys.exit(0)

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    cli = os.path.join(args.build, "tools/cli/dogsearch")
    for name in START_ORDER:
        svc = services[name]
        mnt = mounts(svc)
        target = svc["build"]["target"]
        argv = [os.path.join(args.build, BINARIES[target])]
        argv += [rewrite(name, a, mnt) for a in svc.get("command", [])]
        penv = dict(os.environ)
        penv.update({k: str(v) for k, v in (svc.get("environment") or {}).items()})
        log = open(os.path.join(args.work, name + ".log"), "w")
        procs.append((name, subprocess.Popen(argv, env=penv, stdout=log, stderr=log,
                                             cwd=args.work)))
        test = svc["healthcheck"]["test"]
        assert test[0] == "CMD" and test[1] == "dogsearch", test
        health = [cli] + [rewrite(name, a, mnt) for a in test[2:]]
        deadline = time.time() + 120
        while subprocess.run(health, capture_output=True).returncode != 0:
            if time.time() > deadline or procs[-1][1].poll() is not None:
                print("failed %s: %s" % (name, " ".join(health)), flush=True)
                stop()
            time.sleep(0.2)
        main_port = next(p for c, p in ports[name].items() if c != "8080")
        print("ready %s 127.0.0.1:%d" % (name, main_port), flush=True)
        if "8080" in ports[name]:
            scheme = "https" if any(a.startswith("--http_tls_cert=") for a in svc["command"]) \
                else "http"
            print("web %s://127.0.0.1:%d" % (scheme, ports[name]["8080"]), flush=True)
    print("all ready", flush=True)
    while True:
        time.sleep(1)
        for name, p in procs:
            if p.poll() is not None:
                print("exited %s %d" % (name, p.returncode), flush=True)
                stop()


if __name__ == "__main__":
    main()
