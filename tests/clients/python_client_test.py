"""The Python client (clients/python) against real servers started here: index, embedding (the
shipped default model), trainer (a generated data set) and a gateway with TLS and a token that
follows the trainer. Every client method, a training job watched to the end and promoted, a bad
photo, a missing token, TLS with the development certificates.

Usage: python3 python_client_test.py BUILD_DIR   (exit 77 when grpcio is missing: CTest skip)
(tests/clients/run_python_test.sh installs the package with pip first and tests that copy.)
"""

import os
import sys
import time
import unittest
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
if not os.environ.get("DOGSEARCH_CLIENT_INSTALLED"):  # Else: the copy pip installed.
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
sys.path.insert(0, str(Path(__file__).resolve().parent))
from serve import Servers, dog_photo  # noqa: E402


class PythonClientTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.servers = Servers(BUILD)
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
