"""The Python client (clients/python) against real servers started here: index, embedding (the
shipped default model), trainer (a generated data set) and a gateway with TLS and a token that
follows the trainer. Every client method, a training job watched to the end and promoted, a bad
photo, a missing token, TLS with the development certificates.

Usage: python3 python_client_test.py BUILD_DIR   (exit 77 when grpcio is missing: CTest skip)
"""

import os
import random
import shutil
import struct
import subprocess
import sys
import tempfile
import time
import unittest
import zlib
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "clients" / "python"))
try:
    import grpc  # noqa: F401
    import dogsearch
    from dogsearch.v1 import dogsearch_pb2 as pb
    from dogsearch.v1 import embedding_pb2
    from dogsearch.v1 import trainer_pb2 as tpb
except ImportError as e:  # pragma: no cover
    print(f"SKIP: needs python3-grpcio and python3-protobuf ({e})")
    sys.exit(77)

BUILD = Path(sys.argv.pop(1) if len(sys.argv) > 1 else ROOT / "build").resolve()
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

    def __init__(self):
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
        self.trainer = self.start("trainer", [BUILD / "services/trainer/trainer_server",
                                              "--state_dir", d / "trainer", "--data_root", d / "data",
                                              "--models_root", models, "--threads=1",
                                              "--auth_token=btok"])
        self.index = self.start("index", [BUILD / "services/index/index_server",
                                          "--data_dir", d / "index", "--auth_token=btok"])
        self.embedding = self.start("embedding", [BUILD / "services/embedding/embedding_server",
                                                  "--model_dir", models, "--default_model",
                                                  self.default_version, "--watch_interval_seconds=0",
                                                  "--auth_token=btok", "--threads=1"])
        self.gateway = self.start("gateway", [BUILD / "services/gateway/gateway_server",
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


class PythonClientTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.servers = Servers()
        s = cls.servers
        cls.client = dogsearch.Client(f"localhost:{s.gateway}", token="gtok",
                                      ca_cert=s.dir / "certs/ca.crt",
                                      trainer_address=f"127.0.0.1:{s.trainer}", trainer_token="btok",
                                      trainer_tls=False)
        for _ in range(300):
            try:
                if cls.client.status().serving_version:
                    break
            except dogsearch.Unavailable:
                pass
            time.sleep(0.1)

    @classmethod
    def tearDownClass(cls):
        cls.client.close()
        cls.servers.close()

    def test_1_gallery_round_trip(self):
        c = self.client
        dog = c.enroll("rex", "Rex", [dog_photo(1, 0), dog_photo(1, 1)], notes="brown")
        self.assertEqual(dog.dog_id, "rex")
        self.assertEqual(len(dog.photos), 2)
        with self.assertRaises(dogsearch.AlreadyExists):
            c.enroll("rex", "Rex", [dog_photo(1, 2)])
        added = c.add_photos("rex", [dog_photo(1, 2), dog_photo(1, 0)])
        self.assertEqual(len(added.added_photo_ids), 1)
        self.assertEqual(len(added.duplicate_photo_ids), 1)
        c.enroll("bella", "Bella", [dog_photo(2, 0)])
        c.enroll("max", "Max", [dog_photo(3, 0)])
        # Paths, bytes and Photo messages are all photos.
        path = self.servers.dir / "q.png"
        path.write_bytes(dog_photo(1, 0))
        for query in (str(path), path, dog_photo(1, 0), embedding_pb2.Photo(data=dog_photo(1, 0))):
            r = c.search(query, k=3)
            self.assertEqual(r.matches[0].dog_id, "rex")
            self.assertLess(r.matches[0].distance, 1e-3)
            self.assertIn(dogsearch.answer_name(r), ("MATCH", "POSSIBLE_MATCH", "NO_MATCH"))
        self.assertEqual(dogsearch.answer_name(c.search(dog_photo(1, 0))), "MATCH")
        same = c.verify(dog_photo(2, 0), dog_photo(2, 0))
        self.assertTrue(same.same_dog)
        self.assertEqual(c.dog("bella").name, "Bella")
        ids = [d.dog_id for d in c.dogs(page_size=2)]  # Two pages.
        self.assertEqual(sorted(ids), ["bella", "max", "rex"])
        rex = c.dog("rex")
        after = c.remove_photo("rex", rex.photos[0].photo_id)
        self.assertEqual(len(after.photos), len(rex.photos) - 1)
        c.delete("max")
        with self.assertRaises(dogsearch.NotFound) as e:
            c.dog("max")
        self.assertEqual(e.exception.code, grpc.StatusCode.NOT_FOUND)
        st = c.status()
        self.assertEqual(st.dogs, 2)

    def test_2_errors_name_the_problem(self):
        c = self.client
        with self.assertRaises(dogsearch.InvalidArgument) as e:
            c.search(b"certainly not a photo")
        self.assertIn("photo", e.exception.message)
        with self.assertRaises(TypeError):
            c.search(12345)
        anonymous = dogsearch.Client(f"localhost:{self.servers.gateway}",
                                     ca_cert=self.servers.dir / "certs/ca.crt")
        with self.assertRaises(dogsearch.Unauthenticated) as e:
            anonymous.enroll("nobody", "Nobody", [dog_photo(4, 0)])
        self.assertIn("token", e.exception.message)
        self.assertGreaterEqual(len(list(anonymous.dogs(page_size=10))), 2)  # Reads are open.
        anonymous.close()
        # Plain text to a TLS port: unavailable, not a hang.
        plain = dogsearch.Client(f"127.0.0.1:{self.servers.gateway}", timeout=3)
        with self.assertRaises(dogsearch.DogSearchError):
            plain.status()
        plain.close()
        with self.assertRaises(dogsearch.InvalidArgument):
            c.upgrade("../etc")

    def test_3_import_folder(self):
        folder = self.servers.dir / "import"
        for dog in (5, 6):
            (folder / f"imp{dog}").mkdir(parents=True)
            for shot in range(3):
                (folder / f"imp{dog}" / f"{shot}.png").write_bytes(dog_photo(dog, shot))
        (folder / "imp6" / "notes.txt").write_text("not a photo")
        import io
        bar = io.StringIO()
        summary = self.client.import_folder(folder, out=bar)
        self.assertEqual((summary.dogs, summary.photos, summary.errors), (2, 6, []))
        self.assertIn("2/2 dogs", bar.getvalue())
        again = self.client.import_folder(folder, progress=False)  # Nothing new.
        self.assertEqual((again.dogs, again.photos, again.skipped), (0, 0, 6))

    def test_4_train_watch_promote(self):
        c = self.client
        job = c.train("dogs", label="py", epochs=2, identities_per_batch=4, photos_per_identity=3,
                      learning_rate=0.003, warmup_steps=2, validation_fraction=0.25,
                      model={"architecture": "dogfacenet_resnet", "input": {"width": 32, "height": 32},
                             "embedding_dim": 16, "stage_widths": [8, 16], "blocks_per_stage": 1})
        self.assertTrue(job.id)
        states = [p.state for p in c.watch(job.id, timeout=600)]
        self.assertEqual(states[-1], tpb.JOB_STATE_SUCCEEDED)
        self.assertIn(job.id, [j.id for j in c.jobs()])
        self.assertEqual(c.job(job.id).label, "py")
        listed = c.checkpoints()
        trained = [x.manifest.version for x in listed.checkpoints if x.job_id == job.id]
        self.assertTrue(trained, f"{listed} {c.job(job.id)}")
        with self.assertRaises(dogsearch.NotFound):
            c.promote("no-such-version")
        c.promote(trained[-1])
        self.assertEqual(c.checkpoints().promoted_version, trained[-1])
        # The gateway follows the trainer: it upgrades itself and says it has converged.
        st = c.status()
        for _ in range(600):
            st = c.status()
            if (st.serving_version == trained[-1]
                    and st.rollout.state == pb.ROLLOUT_STATE_CONVERGED):
                break
            time.sleep(0.1)
        self.assertEqual(st.serving_version, trained[-1])
        self.assertEqual(st.rollout.promoted_version, trained[-1])
        self.assertEqual(c.search(dog_photo(1, 1)).model_version, trained[-1])
        with self.assertRaises(dogsearch.DogSearchError):
            c.cancel(job.id)  # Finished already.


if __name__ == "__main__":
    result = unittest.main(exit=False, verbosity=2).result
    print(f"{result.testsRun - len(result.failures) - len(result.errors)} passed, "
          f"{len(result.failures) + len(result.errors)} failed")
    sys.exit(0 if result.wasSuccessful() else 1)
