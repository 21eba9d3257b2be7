"""Starts dogsearch's servers on loopback for the client libraries' tests: a trainer (with a
generated data set), an index, an embedding server (the shipped default model) and a gateway
with TLS (development certificates) and a token that follows the trainer.

As a module: Servers(build_dir) and dog_photo(dog, shot). As a program (for the TypeScript
test): `python3 serve.py BUILD_DIR` prints one JSON line {gateway, trainer, ca_cert, photos,
gateway_token, trainer_token} once every server is up, writes sample photos under `photos`, and
stops the servers when its standard input closes. Needs no grpcio.
"""

import json
import random
import shutil
import struct
import subprocess
import sys
import tempfile
import time
import zlib
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
DEFAULT_MODELS = ROOT / "deploy" / "models"


def png(width, height, pixel):
    """A PNG of width x height with pixel(x, y) -> (r, g, b) (plain zlib, no imaging library)."""
    rows = b"".join(b"\x00" + bytes(v for x in range(width) for v in pixel(x, y)) for y in range(height))

    def chunk(kind, data):
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0))
            + chunk(b"IDAT", zlib.compress(rows)) + chunk(b"IEND", b""))


def dog_photo(dog, shot, size=64):
    """A dog's 'face': a 3x3 grid of colours fixed by the dog, shifted and lit by the shot."""
    rng = random.Random(dog)
    grid = [[tuple(rng.randrange(256) for _ in range(3)) for _ in range(3)] for _ in range(3)]
    r2 = random.Random(dog * 1000 + shot)
    dx, dy, light = r2.randrange(size // 8), r2.randrange(size // 8), r2.randrange(-20, 21)
    cell = (size + size // 4) // 3

    def pixel(x, y):
        c = grid[min(2, (y + dy) // cell)][min(2, (x + dx) // cell)]
        return tuple(max(0, min(255, v + light)) for v in c)

    return png(size, size, pixel)


class Servers:
    """The four servers on loopback, in a temporary folder, stopped by close()."""

    def __init__(self, build):
        build = Path(build)
        self.dir = Path(tempfile.mkdtemp(prefix="dogsearch-pyclient-"))
        self.procs = []
        d = self.dir
        subprocess.run([str(ROOT / "tools" / "gen_dev_certs.sh"), str(d / "certs"), "gateway"],
                       check=True, stdout=subprocess.DEVNULL)
        models = d / "models"
        default = sorted(p for p in DEFAULT_MODELS.iterdir() if p.is_dir())[0]
        shutil.copytree(default, models / default.name)
        self.default_version = default.name
        for dog in range(8):
            folder = d / "data" / "dogs" / f"dog{dog}"
            folder.mkdir(parents=True)
            for shot in range(5):
                (folder / f"{shot}.png").write_bytes(dog_photo(dog, shot, 40))
        self.trainer = self.start("trainer", [build / "services/trainer/trainer_server",
                                              "--state_dir", d / "trainer", "--data_root", d / "data",
                                              "--models_root", models, "--threads=1",
                                              "--auth_token=btok"])
        self.index = self.start("index", [build / "services/index/index_server",
                                          "--data_dir", d / "index", "--auth_token=btok"])
        self.embedding = self.start("embedding", [build / "services/embedding/embedding_server",
                                                  "--model_dir", models, "--default_model",
                                                  self.default_version, "--watch_interval_seconds=0",
                                                  "--auth_token=btok", "--threads=1"])
        self.gateway = self.start("gateway", [build / "services/gateway/gateway_server",
                                              "--http_port=-1", "--data_dir", d / "gateway",
                                              f"--embedding_address=127.0.0.1:{self.embedding}",
                                              f"--index_address=127.0.0.1:{self.index}",
                                              f"--trainer_address=127.0.0.1:{self.trainer}",
                                              "--backend_token=btok", "--auth_token=gtok",
                                              "--tls_cert", d / "certs/gateway.crt",
                                              "--tls_key", d / "certs/gateway.key",
                                              "--retire_grace_seconds=1"])

    def start(self, name, argv):
        argv = [str(a) for a in argv] + ["--address=127.0.0.1:0", "--log_level=warning"]
        p = subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
        self.procs.append(p)
        deadline = time.time() + 120
        while time.time() < deadline:
            line = p.stdout.readline()
            if not line:
                raise RuntimeError(f"{name} exited: {p.wait()}")
            if f"{name} listening on port" in line:
                return int(line.split()[-1])
        raise RuntimeError(f"{name} did not start")

    def close(self):
        for p in self.procs:
            p.kill()
            p.wait()
        shutil.rmtree(self.dir, ignore_errors=True)




def main():
    servers = Servers(Path(sys.argv[1]).resolve())
    try:
        photos = servers.dir / "photos"
        for dog in range(6):
            for shot in range(3):
                f = photos / f"dog{dog}" / f"{shot}.png"
                f.parent.mkdir(parents=True, exist_ok=True)
                f.write_bytes(dog_photo(dog, shot))
        print(json.dumps({"gateway": servers.gateway, "trainer": servers.trainer,
                          "ca_cert": str(servers.dir / "certs/ca.crt"), "photos": str(photos),
                          "gateway_token": "gtok", "trainer_token": "btok"}), flush=True)
        sys.stdin.read()  # Until the test closes our standard input (or exits).
    finally:
        servers.close()


if __name__ == "__main__":
    main()
